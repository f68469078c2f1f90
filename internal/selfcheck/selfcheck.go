// Package selfcheck proves that a registry works the way a client uses it:
// through its public address, it follows the token challenge, obtains a
// token for a dedicated probe identity, calls GET /v2/ with it, and starts a
// blob upload and cancels it (the registry writes to its storage to start
// one, so an unwritable volume shows here). It knows no cluster objects.
package selfcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Reasons a check fails, for a condition.
const (
	ReasonUnreachable        = "Unreachable"
	ReasonNoChallenge        = "NoTokenChallenge"
	ReasonTokenRefused       = "TokenRefused"
	ReasonAPIRefused         = "APIRefused"
	ReasonStorageNotWritable = "StorageNotWritable"
	ReasonVerified           = "Verified"
)

// Target is one registry to check.
type Target struct {
	// URL is the registry's base URL as clients use it (https://host:port).
	URL string
	// Roots are the CAs a client trusts for it (the published bundle).
	Roots *x509.CertPool
	// Username and Password of the probe identity.
	Username, Password string
	// Repository the probe identity may push to, and nothing else.
	Repository string
}

// Result is the outcome of one check.
type Result struct {
	OK      bool
	Reason  string
	Message string
	// Took is how long the whole check took (not for conditions: it varies).
	Took time.Duration
}

// Checker runs checks. The operator uses HTTP; envtest injects a stand-in.
type Checker interface {
	Check(ctx context.Context, t Target) Result
}

// HTTP checks over the network with a bounded time per check.
type HTTP struct {
	// Timeout bounds one whole check (default 10 s).
	Timeout time.Duration
}

// maxBody bounds what is read of any answer.
const maxBody = 64 << 10

// Check runs the four steps and stops at the first that fails.
func (h HTTP) Check(ctx context.Context, t Target) Result {
	start := time.Now()
	timeout := h.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: t.Roots, MinVersion: tls.VersionTLS12}, DisableKeepAlives: true},
		// Redirects are followed only within the registry (a blob upload
		// location may be relative).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	r := run(ctx, c, t)
	r.Took = time.Since(start)
	return r
}

func run(ctx context.Context, c *http.Client, t Target) Result {
	base := strings.TrimSuffix(t.URL, "/")
	// 1. The challenge: what any client sees first.
	resp, body, err := do(ctx, c, http.MethodGet, base+"/v2/", nil)
	if err != nil {
		return fail(ReasonUnreachable, "GET %s/v2/: %v", base, err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return fail(ReasonNoChallenge, "GET /v2/ without credentials answered %d, want 401 with a token challenge: %s", resp.StatusCode, body)
	}
	realm, service, ok := parseChallenge(resp.Header.Get("WWW-Authenticate"))
	if !ok {
		return fail(ReasonNoChallenge, "GET /v2/ answered 401 without a Bearer challenge (WWW-Authenticate: %q)", resp.Header.Get("WWW-Authenticate"))
	}
	// A relative realm is relative to the registry (another host, e.g. the
	// docker_auth layout's port 5001, is used as given, as clients do).
	if u, err := url.Parse(realm); err == nil && !u.IsAbs() {
		if b, err := url.Parse(base + "/"); err == nil {
			realm = b.ResolveReference(u).String()
		}
	}
	// 2. A token for the probe identity, asking only for what it may do:
	// push to start an upload, delete to cancel it, on its own repository.
	q := url.Values{"service": {service}, "scope": {"repository:" + t.Repository + ":push,pull,delete"}}
	req := realm + "?" + q.Encode()
	resp, body, err = do(ctx, c, http.MethodGet, req, func(r *http.Request) { r.SetBasicAuth(t.Username, t.Password) })
	if err != nil {
		return fail(ReasonUnreachable, "token request to %s: %v", realm, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(ReasonTokenRefused, "token request to %s answered %d: %s", realm, resp.StatusCode, body)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || (tok.Token == "" && tok.AccessToken == "") {
		return fail(ReasonTokenRefused, "token response from %s holds no token", realm)
	}
	bearer := "Bearer " + tok.Token
	if tok.Token == "" {
		bearer = "Bearer " + tok.AccessToken
	}
	auth := func(r *http.Request) { r.Header.Set("Authorization", bearer) }
	// 3. The API with the token.
	resp, body, err = do(ctx, c, http.MethodGet, base+"/v2/", auth)
	if err != nil {
		return fail(ReasonUnreachable, "GET /v2/ with a token: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(ReasonAPIRefused, "GET /v2/ with a token answered %d (the registry does not accept the auth server's tokens): %s", resp.StatusCode, body)
	}
	// 4. A blob upload started (the registry creates its upload directory)
	// and cancelled (nothing is left behind).
	resp, body, err = do(ctx, c, http.MethodPost, base+"/v2/"+t.Repository+"/blobs/uploads/", auth)
	if err != nil {
		return fail(ReasonUnreachable, "starting a blob upload: %v", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		if resp.StatusCode >= 500 {
			return fail(ReasonStorageNotWritable, "the registry cannot start a blob upload in %s (%d): %s", t.Repository, resp.StatusCode, body)
		}
		return fail(ReasonAPIRefused, "starting a blob upload in %s answered %d: %s", t.Repository, resp.StatusCode, body)
	}
	loc, err := resolve(base, resp.Header.Get("Location"))
	if err != nil {
		return fail(ReasonAPIRefused, "blob upload: %v", err)
	}
	resp, body, err = do(ctx, c, http.MethodDelete, loc, auth)
	if err != nil {
		return fail(ReasonUnreachable, "cancelling the blob upload: %v", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fail(ReasonAPIRefused, "cancelling the blob upload in %s answered %d (the probe identity needs delete there): %s", t.Repository, resp.StatusCode, body)
	case resp.StatusCode != http.StatusNoContent:
		return fail(ReasonStorageNotWritable, "cancelling the blob upload answered %d: %s", resp.StatusCode, body)
	}
	return Result{OK: true, Reason: ReasonVerified,
		Message: "a client's round trip works: token challenge, token, GET /v2/, blob upload started and cancelled"}
}

func fail(reason, format string, args ...any) Result {
	return Result{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// do sends one request; body is the answer's first bytes, trimmed.
func do(ctx context.Context, c *http.Client, method, u string, mod func(*http.Request)) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, "", err
	}
	if mod != nil {
		mod(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp, strings.TrimSpace(string(b)), nil
}

// resolve makes a Location header absolute against base, and refuses one
// that leaves the registry (the token must not go elsewhere).
func resolve(base, loc string) (string, error) {
	if loc == "" {
		return "", fmt.Errorf("no Location header")
	}
	b, err := url.Parse(base + "/")
	if err != nil {
		return "", err
	}
	l, err := b.Parse(loc)
	if err != nil {
		return "", err
	}
	if l.Host != b.Host {
		return "", fmt.Errorf("upload location %q is on another host", loc)
	}
	return l.String(), nil
}

// parseChallenge reads realm and service from a Bearer challenge.
func parseChallenge(h string) (realm, service string, ok bool) {
	scheme, params, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", "", false
	}
	for _, p := range splitParams(params) {
		k, v, _ := strings.Cut(p, "=")
		v = strings.Trim(v, `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "realm":
			realm = v
		case "service":
			service = v
		}
	}
	return realm, service, realm != ""
}

// splitParams splits a challenge's parameters at commas outside quotes.
func splitParams(s string) []string {
	var out []string
	quoted, start := false, 0
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
