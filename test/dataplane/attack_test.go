package dataplane

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// The attack tests play an attacker and a victim against the real registry
// behind the front door, each from its own loopback address: on Linux all of
// 127.0.0.0/8 is local, so a client that binds its source address to
// 127.0.0.2 is, for the server, another host than one on 127.0.0.3.

const (
	attackerAddr = "127.0.0.2"
	victimAddr   = "127.0.0.3"
)

// from returns an HTTPS client whose connections leave from src.
func (s *stack) from(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: d.DialContext, TLSClientConfig: s.tls.Clone(),
	}}
}

// dialFrom opens a raw TLS connection to the front door from src.
func (s *stack) dialFrom(t *testing.T, src string) *tls.Conn {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", s.host, s.tls.Clone())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// login asks for a pull token as user with password; it returns the status.
func (s *stack) login(t *testing.T, c *http.Client, user, password string) int {
	t.Helper()
	return s.tokenRequest(t, c, url.Values{}, func(r *http.Request) { r.SetBasicAuth(user, password) })
}

// claim asks for a token for account with no credentials at all
// (?account=NAME), which must count as a failed login for that name.
func (s *stack) claim(t *testing.T, c *http.Client, user string) int {
	t.Helper()
	return s.tokenRequest(t, c, url.Values{"account": {user}}, nil)
}

func (s *stack) tokenRequest(t *testing.T, c *http.Client, q url.Values, mod func(*http.Request)) int {
	t.Helper()
	q.Set("service", service)
	q.Set("scope", "repository:library/app:pull")
	req, _ := http.NewRequest(http.MethodGet, s.authBase+"/auth/token?"+q.Encode(), nil)
	if mod != nil {
		mod(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// bearer fetches a token for admin with scope and returns the header value.
func (s *stack) bearer(t *testing.T, scope string) string {
	t.Helper()
	q := url.Values{"service": {service}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodGet, s.authBase+"/auth/token?"+q.Encode(), nil)
	req.SetBasicAuth("admin", "badmin")
	resp, err := s.from(victimAddr).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Token == "" {
		t.Fatalf("token for %s: %d %v", scope, resp.StatusCode, err)
	}
	return "Bearer " + body.Token
}

// startUpload opens a blob upload as admin and returns its relative
// Location and the bearer header to continue it with.
func (s *stack) startUpload(t *testing.T, repo string) (location, bearer string) {
	t.Helper()
	bearer = s.bearer(t, "repository:"+repo+":pull,push")
	req, _ := http.NewRequest(http.MethodPost, "https://"+s.host+"/v2/"+repo+"/blobs/uploads/", nil)
	req.Header.Set("Authorization", bearer)
	resp, err := s.from(victimAddr).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("starting an upload: %s", resp.Status)
	}
	return resp.Header.Get("Location"), bearer
}

// withArgs adds auth-server flags to a stack.
func withArgs(args ...string) func(testing.TB, *stack) {
	return func(_ testing.TB, s *stack) { s.extra = append(s.extra, args...) }
}

// readClosed reports whether the server closed c (read returns EOF or a
// reset) within d, as opposed to c staying open.
func readClosed(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue // an answer before the close is fine
		}
		var ne net.Error
		return !errors.As(err, &ne) || !ne.Timeout()
	}
}

// fmtAddr is a loopback address: one more distinct client.
func fmtAddr(a, b int) string { return fmt.Sprintf("127.0.%d.%d", a, b) }
