package authserver

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// serveToken answers GET and POST on /auth and /auth/token.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	defer func() {
		s.metrics.requestSeconds.WithLabelValues(methodLabel(r.Method), codeLabel(rec.code)).Observe(time.Since(start).Seconds())
	}()
	w = rec
	st := s.state.Load()
	d := &decision{client: s.clientIP(r)}
	deny := func(reason string) {
		d.result, d.reason = "denied", reason
		s.metrics.denied.WithLabelValues(reason).Inc()
		s.auditDecision(r.Context(), d)
	}

	tr, err := parseTokenRequest(w, r)
	if err != nil {
		switch {
		case errors.Is(err, errMethod):
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, "invalid_request", err.Error())
		case errors.Is(err, errBodyTimeout):
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestTimeout, "invalid_request", err.Error())
		case errors.Is(err, errTooLarge):
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", err.Error())
		case errors.Is(err, errUnsupportedGrant):
			writeError(w, http.StatusBadRequest, "unsupported_grant_type", err.Error())
		default:
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		}
		deny("malformed_request")
		return
	}
	d.grant, d.user, d.clientID, d.service, d.requested = tr.grant, tr.user, tr.clientID, tr.service, tr.scopes

	now := time.Now()
	// The limiter comes first, before the credential cache or a refresh
	// token is looked at: a limited client learns nothing, whatever it sends.
	if wait, which := s.limiter.blocked(d.client, tr.user, now); wait > 0 {
		s.metrics.rateLimited.WithLabelValues(which).Inc()
		writeRateLimited(w, wait)
		deny("rate_limited")
		return
	}
	var acct *account
	if tr.grant == "refresh_token" {
		acct, err = s.redeemRefresh(st, tr.refreshToken, tr.service, tr.user, now)
		if err != nil {
			// Not counted as a failure: a refresh token cannot be guessed
			// (256-bit MAC), and a client retrying one revoked by a
			// password change must not lock itself out of logging in again.
			reason := "refresh_invalid"
			if errors.Is(err, errRefreshRevoked) {
				reason = "refresh_revoked"
			}
			writeUnauthorized(w, st.issuer, err.Error())
			deny(reason)
			return
		}
		d.user = acct.name
	} else {
		var ok bool
		if acct, ok = s.login(r.Context(), st, tr, d); !ok {
			msg := "invalid username or password"
			if tr.grant == "anonymous" {
				msg = "authentication required: anonymous access is not enabled"
			}
			writeUnauthorized(w, st.issuer, msg)
			deny("bad_credentials")
			return
		}
	}

	access := s.authorize(st, acct, tr, d.client)
	d.granted = access
	ttl := tokenTTL(st, acct, now)
	token, err := st.signer.sign(st.issuer, acct.name, tr.service, ttl, now, access)
	if err != nil {
		s.log.Error("signing a token failed", "error", err)
		writeError(w, http.StatusInternalServerError, "server_error", "could not sign the token")
		deny("internal")
		return
	}
	resp := tokenResponse{Token: token, AccessToken: token, ExpiresIn: int64(ttl / time.Second), IssuedAt: now.UTC().Format(time.RFC3339)}
	// No refresh token for a workload identity: it would outlive the
	// workload token (acct.expiry), and nothing could revoke it.
	if tr.offline && acct.name != "" && acct.expiry.IsZero() {
		if resp.RefreshToken, err = s.issueRefresh(st, acct, tr.service, now); err != nil {
			s.log.Error("signing a refresh token failed", "error", err)
		}
		d.refresh = resp.RefreshToken != ""
	}
	if r.Method == http.MethodPost {
		resp.Scope = grantedScopeString(access)
	}
	writeJSON(w, http.StatusOK, resp)
	s.metrics.tokensIssued.WithLabelValues(tr.grant).Inc()
	d.result = "issued"
	s.auditDecision(r.Context(), d)
}

// authorize runs every requested scope through the ACL. A scope granted
// nothing is left out of the token (the registry then answers 401/403) and
// counted as denied.
func (s *Server) authorize(st *state, a *account, tr *tokenRequest, ip netip.Addr) []ResourceActions {
	var out []ResourceActions
	for _, sc := range tr.scopes {
		granted, _ := st.acl.Authorize(&AccessRequest{
			Account: a.name, Type: sc.Type, Name: sc.Name, Service: tr.service,
			IP: ip, Labels: a.labels, Actions: sc.Actions,
		})
		if len(granted) == 0 {
			if len(sc.Actions) > 0 {
				s.metrics.denied.WithLabelValues("scope_denied").Inc()
			}
			continue
		}
		out = append(out, ResourceActions{Type: sc.Type, Class: sc.Class, Name: sc.Name, Actions: granted})
	}
	return out
}

func grantedScopeString(access []ResourceActions) string {
	parts := make([]string, len(access))
	for i, a := range access {
		parts[i] = Scope{Type: a.Type, Class: a.Class, Name: a.Name, Actions: a.Actions}.String()
	}
	return strings.Join(parts, " ")
}

// statusWriter remembers the status code for metrics. Unwrap lets
// http.ResponseController reach the real writer (flush, deadlines).
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
