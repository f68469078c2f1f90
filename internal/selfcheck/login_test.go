package selfcheck

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestLoginGoesToThePodAndChecksTheCredential: the URL names a host that
// is not the server's address (as the Service name is not a pod's); every
// connection still reaches the given pod IP, the certificate is checked
// against the URL's host, and the answer tells accepted from refused.
func TestLoginGoesToThePodAndChecksTheCredential(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/":
			w.Header().Set("WWW-Authenticate", `Bearer realm="/auth/token",service="reg"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/auth/token":
			u, p, ok := r.BasicAuth()
			if !ok || u != "robot$team.2" || p != "right" || r.URL.Query().Get("service") != "reg" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"token":"t"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	// example.com is in httptest's certificate; it is not this server's address.
	l := Login{URL: "https://example.com:" + port, PodIP: "127.0.0.1", Roots: roots, Username: "robot$team.2"}

	for _, tc := range []struct {
		password string
		want     bool
	}{{"right", true}, {"wrong", false}} {
		l.Password = tc.password
		got, err := HTTP{}.Login(context.Background(), l)
		if err != nil || got != tc.want {
			t.Errorf("password %q: accepted %v, %v; want %v", tc.password, got, err, tc.want)
		}
	}
	// Another CA: no answer counts, not even a refusal.
	l.Roots, l.Password = x509.NewCertPool(), "right"
	if ok, err := (HTTP{}).Login(context.Background(), l); err == nil || ok {
		t.Errorf("untrusted server: %v, %v; want an error", ok, err)
	}
}
