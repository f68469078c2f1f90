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
	// A limited client learns nothing: the right password gets 429 too,
	// though it is in the credential cache.
	if w := ts.get(scopeQuery(), "admin", "badmin"); w.Code != http.StatusTooManyRequests {
		t.Errorf("cached right password from a limited client: %d, want 429", w.Code)
	}
	if metricValue(t, ts, "limited", "user_client") < 2 {
		t.Error("rate_limited_total{limit=user_client} not counted")
	}
}

func TestFailLimiterBuckets(t *testing.T) {
	l := newFailLimiter(limit{every: time.Hour, burst: 6}, limit{every: time.Hour, burst: 3}, 4)
	now := time.Now()
	a := netip.MustParseAddr("10.0.0.1")
	// Failures from many clients never block a clean one: no per-user bucket.
	for i := range 3 {
		for range 3 {
			l.failed(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), "admin", now)
		}
	}
	if wait, _ := l.blocked(netip.MustParseAddr("10.9.9.9"), "admin", now); wait != 0 {
		t.Error("admin is blocked from a client that never failed")
	}
	// Per (user, client): after 3 failures, that user from that client.
	for range 3 {
		l.failed(a, "admin", now)
	}
	if wait, which := l.blocked(a, "admin", now); wait <= 0 || which != "user_client" {
		t.Errorf("admin from a: wait %v by %q", wait, which)
	}
	if wait, _ := l.blocked(a, "test", now); wait != 0 {
		t.Error("another user from a is blocked before the client limit")
	}
	// Unknown names count the same (no enumeration by status sequence);
	// the client limit then stops every name from a.
	for range 3 {
		l.failed(a, "ghost", now)
	}
	if wait, which := l.blocked(a, "test", now); wait <= 0 || which != "client" {
		t.Errorf("a after 6 failures: wait %v by %q", wait, which)
	}
	// IPv6 clients are grouped by /64.
	l6 := newFailLimiter(limit{every: time.Hour, burst: 2}, limit{every: time.Hour, burst: 100}, 100)
	l6.failed(netip.MustParseAddr("2001:db8::1"), "x", now)
	l6.failed(netip.MustParseAddr("2001:db8::2"), "y", now)
	if wait, which := l6.blocked(netip.MustParseAddr("2001:db8::ffff"), "z", now); wait <= 0 || which != "client" {
		t.Errorf("same /64: wait %v by %q", wait, which)
	}
	// Many addresses and names: memory stays bounded.
	for i := range 50 {
		l.failed(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), strconv.Itoa(i), now)
	}
	if n, m := len(l.byClient), len(l.byUser); n > 4 || m > 4 {
		t.Errorf("%d client and %d user buckets, max 4", n, m)
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
