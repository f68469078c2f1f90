package authserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkServeToken is the token handler alone (no network, no TLS) for a
// cached credential and one scope: the server's share of a token's cost.
func BenchmarkServeToken(b *testing.B) {
	ts := newTestServer(b, classic)
	h := ts.Handler()
	req := httptest.NewRequest(http.MethodGet, "https://localhost/auth/token?service=registry.test&scope=repository:a/b:pull", nil)
	req.SetBasicAuth("admin", "badmin")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
