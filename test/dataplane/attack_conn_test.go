package dataplane

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAttackStalledTokenBody: a POST /auth/token whose Content-Length
// promises more than is sent is answered and closed within the token
// endpoint's read deadline (10 s) instead of being held open forever.
func TestAttackStalledTokenBody(t *testing.T) {
	s := newStack(t, frontDoor)
	c := s.dialFrom(t, attackerAddr)
	fmt.Fprintf(c, "POST /auth/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\ngrant_type=pass", s.host)
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(25 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body within 25 s: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled body: %s, want 408", resp.Status)
	}
	if !readClosed(c, 5*time.Second) {
		t.Error("the connection stayed open after the stalled body was answered")
	}
	t.Logf("stalled token body answered after %v", time.Since(start).Round(100*time.Millisecond))
	if code := s.login(t, s.from(victimAddr), "admin", "badmin"); code != http.StatusOK {
		t.Errorf("victim: %d", code)
	}
}

// TestAttackStalledUpload: a blob upload that stalls past the proxy idle
// timeout gets a whole 408 answer over an intact TLS stream, and the
// connection is closed.
func TestAttackStalledUpload(t *testing.T) {
	s := newStack(t, frontDoor, withArgs("--proxy-idle-timeout=2s"))
	location, bearer := s.startUpload(t, "library/stall")
	c := s.dialFrom(t, attackerAddr)
	fmt.Fprintf(c, "PATCH %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n", location, s.host, bearer)
	if _, err := c.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("stalled upload: no clean answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled upload: %s, want 408", resp.Status)
	}
	if strings.Contains(tail(s.auth.log, 50), "registry unreachable") {
		t.Error("a client's stall was logged as the registry's fault")
	}
}

// TestAttackMalformedChunkedBody: a malformed chunk in a client's upload is
// the client's error (400), not the registry's (502).
func TestAttackMalformedChunkedBody(t *testing.T) {
	s := newStack(t, frontDoor)
	location, bearer := s.startUpload(t, "library/chunky")
	c := s.dialFrom(t, attackerAddr)
	fmt.Fprintf(c, "PATCH %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n", location, s.host, bearer)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed chunked body: %s, want 400", resp.Status)
	}
	if strings.Contains(tail(s.auth.log, 50), "registry unreachable") {
		t.Error("a client's malformed body was logged as the registry's fault")
	}
}

// TestAttackConnectionCap: one address holding its cap of idle connections
// gets no more, and other clients are served; once it lets go it is
// served again.
func TestAttackConnectionCap(t *testing.T) {
	const max = 16
	s := newStack(t, frontDoor, withArgs(fmt.Sprint("--max-conns-per-client=", max)))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(attackerAddr)}, Timeout: 5 * time.Second}
	var held []net.Conn
	for range max {
		c, err := d.Dial("tcp", s.host)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// Accept runs asynchronously: the cap may take a moment to see all of them.
	time.Sleep(300 * time.Millisecond)
	extra, err := d.Dial("tcp", s.host)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if !readClosed(extra, 3*time.Second) {
		t.Errorf("connection %d from one address was kept open (cap %d)", max+1, max)
	}
	if code := s.login(t, s.from(victimAddr), "admin", "badmin"); code != http.StatusOK {
		t.Errorf("victim while the attacker holds its cap: %d", code)
	}
	if n := s.metric(t, "registry_auth_connections_refused_total"); n < 1 {
		t.Errorf("connections_refused_total = %v", n)
	}
	for _, c := range held {
		c.Close()
	}
	waitFor(t, "the attacker's address to be served again", func() bool {
		c := &http.Client{Timeout: 3 * time.Second, Transport: s.from(attackerAddr).Transport}
		r, err := c.Get("https://" + s.host + "/v2/")
		if err != nil {
			return false
		}
		r.Body.Close()
		return true
	})
}
