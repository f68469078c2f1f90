package authserver

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	trusted, err := ParseCIDRs("10.0.0.0/8, 192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{opts: Options{TrustedProxies: trusted}}
	for _, c := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"198.51.100.1:1", []string{"203.0.113.9"}, "198.51.100.1"},               // not a proxy: header ignored
		{"192.0.2.7:1", []string{"203.0.113.9"}, "203.0.113.9"},                   // trusted proxy
		{"10.1.1.1:1", []string{"6.6.6.6, 203.0.113.9, 10.2.2.2"}, "203.0.113.9"}, // skip trusted hops, from the right
		{"10.1.1.1:1", []string{"6.6.6.6", "203.0.113.9"}, "203.0.113.9"},         // several headers
		{"10.1.1.1:1", []string{"203.0.113.9, garbage"}, "10.1.1.1"},              // garbage: stop at what was vouched for
		{"10.1.1.1:1", nil, "10.1.1.1"},                                           // no header
		{"[::ffff:192.0.2.7]:1", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},   // mapped forms
		{"10.1.1.1:1", []string{"10.3.3.3, 10.4.4.4"}, "10.3.3.3"},                // all trusted: the leftmost
	} {
		r := httptest.NewRequest("GET", "https://localhost/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientIP(r); got != netip.MustParseAddr(c.want) {
			t.Errorf("peer %s XFF %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	if _, err := ParseCIDRs("10.0.0.0/33"); err == nil {
		t.Error("a bad CIDR was accepted")
	}
}

func TestCoversServedNamesOnly(t *testing.T) {
	ts := newTestServer(t, classic)
	leaf := ts.state.Load().servingLeaf
	for host, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "LOCALHOST.:5000": true, "127.0.0.1:443": true,
		"evil.example": false, "": false, "[::1]:5000": false, "localhost.evil": false,
	} {
		if got := covers(leaf, host); got != want {
			t.Errorf("covers(%q) = %v, want %v", host, got, want)
		}
	}
}
