package authserver

import (
	"crypto/x509"
	"net"
	"net/http"
	"strings"
)

// onlyServedNames answers 421 Misdirected Request to a request whose Host is
// not a name the serving certificate covers. The registry builds the realm
// of its challenges from Host (autoredirect), so without this check any
// Host a client sends would come back as the realm it is told to send its
// password to. A client that reached us under a name the certificate does
// not cover has not verified whom it talks to anyway. The certificate is
// read per request, so the allowed names follow a live renewal that adds or
// drops SANs.
func (s *Server) onlyServedNames(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !covers(s.state.Load().servingLeaf, r.Host) {
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusMisdirectedRequest, "invalid_request",
				"this server has no certificate for the host "+quoteHost(r.Host)+"; use a name its certificate covers")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// covers reports whether leaf is valid for the host part of hostport.
func covers(leaf *x509.Certificate, hostport string) bool {
	if leaf == nil || hostport == "" {
		return false
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" {
		return false
	}
	return leaf.VerifyHostname(host) == nil
}

func quoteHost(h string) string {
	if len(h) > 64 {
		h = h[:64] + "…"
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return '?'
		}
		return r
	}, h) + "\""
}
