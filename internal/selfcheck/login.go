package selfcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Login is one credential to try against one server of a registry.
type Login struct {
	// URL is the registry's base URL as clients use it; certificates are
	// checked against its host (and the realm's), as a client checks them.
	URL string
	// PodIP: every connection goes to this address instead (same port), so
	// the answer is that one server's, not whichever the Service picked.
	PodIP string
	Roots *x509.CertPool
	// Username, Password and the scope asked for (e.g. "repository:a/b:pull";
	// "": none, as docker login asks).
	Username, Password, Scope string
}

// Login asks the server for a token the way a client does (challenge, then
// realm with Basic credentials). accepted is true on 200 and false on 401 or
// 403 (the server does not know the credential); any other outcome is an
// error: the caller learns nothing about the credential from it.
func (h HTTP) Login(ctx context.Context, l Login) (accepted bool, err error) {
	timeout := h.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if net.ParseIP(l.PodIP) == nil {
		return false, fmt.Errorf("pod IP %q is not an address", l.PodIP)
	}
	dialer := &net.Dialer{}
	c := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: l.Roots, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				return dialer.DialContext(ctx, network, net.JoinHostPort(l.PodIP, port))
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	base := strings.TrimSuffix(l.URL, "/")
	resp, _, err := do(ctx, c, http.MethodGet, base+"/v2/", nil)
	if err != nil {
		return false, err
	}
	realm, service, ok := parseChallenge(resp.Header.Get("WWW-Authenticate"))
	if resp.StatusCode != http.StatusUnauthorized || !ok {
		return false, fmt.Errorf("GET /v2/ answered %d without a token challenge", resp.StatusCode)
	}
	if u, err := url.Parse(realm); err == nil && !u.IsAbs() {
		if b, err := url.Parse(base + "/"); err == nil {
			realm = b.ResolveReference(u).String()
		}
	}
	q := url.Values{"service": {service}}
	if l.Scope != "" {
		q.Set("scope", l.Scope)
	}
	resp, _, err = do(ctx, c, http.MethodGet, realm+"?"+q.Encode(), func(r *http.Request) { r.SetBasicAuth(l.Username, l.Password) })
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return false, nil
	}
	return false, fmt.Errorf("token request answered %d", resp.StatusCode)
}
