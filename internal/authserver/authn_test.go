package authserver

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestCredentialCache(t *testing.T) {
	ts := newTestServer(t, classic)
	for range 5 {
		decodeToken(t, ts.get(scopeQuery("repository:a:pull"), "admin", "badmin"))
	}
	if hit, miss := metricValue(t, ts, "cache", "hit"), metricValue(t, ts, "cache", "miss"); hit != 4 || miss != 1 {
		t.Errorf("cache hits %v misses %v, want 4 and 1 (bcrypt once)", hit, miss)
	}
	// A wrong password is never answered from the cache.
	if w := ts.get(scopeQuery(), "admin", "badmin2"); w.Code != 401 {
		t.Errorf("wrong password: %d", w.Code)
	}
	// A reload drops the cache: the next check runs bcrypt again.
	if err := ts.Reload(); err != nil {
		t.Fatal(err)
	}
	if n := ts.cache.len(); n != 0 {
		t.Errorf("cache has %d entries after reload", n)
	}
	decodeToken(t, ts.get(scopeQuery(), "admin", "badmin"))
	if miss := metricValue(t, ts, "cache", "miss"); miss != 3 {
		t.Errorf("misses %v, want 3", miss)
	}
}

func TestVerifyCacheEntries(t *testing.T) {
	c := newVerifyCache(time.Minute, 4)
	now := time.Now()
	h := []byte("hash-1")
	c.add("ab", "c", h, now)
	if !c.verified("ab", "c", h, now) {
		t.Fatal("entry not found")
	}
	if c.verified("a", "bc", h, now) {
		t.Error("user/password boundary is ambiguous")
	}
	if c.verified("ab", "c", []byte("hash-2"), now) {
		t.Error("an entry vouched for a different hash (changed password)")
	}
	if c.verified("ab", "c", h, now.Add(2*time.Minute)) {
		t.Error("expired entry used")
	}
	for i := range 10 {
		c.add("u"+strconv.Itoa(i), "p", h, now)
	}
	if n := c.len(); n > 4 {
		t.Errorf("cache grew to %d entries, max 4", n)
	}
	off := newVerifyCache(0, 4)
	off.add("a", "b", h, now)
	if off.verified("a", "b", h, now) {
		t.Error("TTL 0 must disable the cache")
	}
}

func TestRateLimitFailures(t *testing.T) {
	ts := newTestServer(t, classic)
	// Prime the cache for admin, then fail as admin from the same client.
	decodeToken(t, ts.get(scopeQuery(), "admin", "badmin"))
	var limited *httptest.ResponseRecorder
	for i := range 30 {
		w := ts.get(scopeQuery(), "admin", "nope"+strconv.Itoa(i))
		if w.Code == http.StatusTooManyRequests {
			limited = w
			break
		}
		if w.Code != 401 {
			t.Fatalf("attempt %d: %d", i, w.Code)
		}
	}
	if limited == nil {
		t.Fatal("30 failures in a row were never rate limited")
	}
	if ra, err := strconv.Atoi(limited.Header().Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q", limited.Header().Get("Retry-After"))
	}
	// Cached (known good) credentials still work; uncached ones are turned
	// away before bcrypt, even when right.
	decodeToken(t, ts.get(scopeQuery(), "admin", "badmin"))
	if w := ts.get(scopeQuery(), "test", "123"); w.Code != http.StatusTooManyRequests {
		t.Errorf("uncached login from a limited client: %d", w.Code)
	}
	if metricValue(t, ts, "limited", "client") < 2 {
		t.Error("rate_limited_total{limit=client} not counted")
	}
}

func TestFailLimiterPerUserAndPrune(t *testing.T) {
	l := newFailLimiter(limit{every: time.Hour, burst: 100}, limit{every: time.Hour, burst: 3}, 4)
	now := time.Now()
	for i := range 3 {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		l.failed(ip, "admin", true, now)
		l.failed(ip, "ghost", false, now)
	}
	if wait, which := l.blocked(netip.MustParseAddr("10.9.9.9"), "admin", now); wait <= 0 || which != "user" {
		t.Errorf("admin after 3 failures from 3 clients: wait %v by %q", wait, which)
	}
	if wait, _ := l.blocked(netip.MustParseAddr("10.9.9.9"), "ghost", now); wait != 0 {
		t.Error("a name with no account got a bucket")
	}
	// IPv6 clients are grouped by /64.
	l6 := newFailLimiter(limit{every: time.Hour, burst: 2}, limit{every: time.Hour, burst: 100}, 100)
	l6.failed(netip.MustParseAddr("2001:db8::1"), "x", false, now)
	l6.failed(netip.MustParseAddr("2001:db8::2"), "x", false, now)
	if wait, which := l6.blocked(netip.MustParseAddr("2001:db8::ffff"), "x", now); wait <= 0 || which != "client" {
		t.Errorf("same /64: wait %v by %q", wait, which)
	}
	// Many addresses: memory stays bounded.
	for i := range 50 {
		l.failed(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), "", false, now)
	}
	if n := len(l.byIP); n > 4 {
		t.Errorf("%d client buckets, max 4", n)
	}
}

// Anonymous requests, when anonymous access is off, are refused without
// bcrypt and without counting as a failed guess.
func TestAnonymousRefusedCheaply(t *testing.T) {
	ts := newTestServer(t, classic)
	for range 40 {
		if w := ts.get(scopeQuery("repository:a:pull"), "", ""); w.Code != 401 {
			t.Fatalf("anonymous: %d", w.Code)
		}
	}
	if miss := metricValue(t, ts, "cache", "miss"); miss != 0 {
		t.Errorf("anonymous requests ran bcrypt %v times", miss)
	}
	decodeToken(t, ts.get(scopeQuery(), "test", "123")) // not rate limited
}
