package authserver

import (
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failLimiter throttles failed logins per client address and per (user,
// client) pair. It is consulted before anything else answers a token request
// (the credential cache included), so a client whose bucket is empty learns
// nothing from any further request: not even a right password gets a 200.
//
// There is deliberately no bucket per user alone: that would let anyone who
// can reach the server lock a user out (a stale CI job retrying an old
// password, or a stranger sending account=admin), and a user that gets 429
// where an unknown name gets 401 gives away which names exist. Failures for
// known and unknown names are counted the same way for the same reason.
// The price: an attacker with many addresses gets a few guesses from each.
// Passwords must be strong enough for that (docs/security.md).
type failLimiter struct {
	mu         sync.Mutex
	byClient   map[netip.Prefix]*rate.Limiter
	byUser     map[userClient]*rate.Limiter
	client     limit
	userClient limit
	max        int
}

// userClient keys a (user, client) bucket. The name is hashed so a bucket
// costs the same however long the name someone sends.
type userClient struct {
	user   [sha256.Size]byte
	client netip.Prefix
}

type limit struct {
	every time.Duration // one more failure allowed per this interval
	burst int
}

// Default limits. A client may fail 10 times in a burst, then once every 2 s;
// one user name from one client 5 times, then once every 10 s: a client
// guessing one account is stopped before the client's own limit, so other
// accounts used from the same address (a shared NAT, a CI runner) still log in.
var (
	defaultClientLimit     = limit{every: 2 * time.Second, burst: 10}
	defaultUserClientLimit = limit{every: 10 * time.Second, burst: 5}
)

func newFailLimiter(client, perUser limit, max int) *failLimiter {
	return &failLimiter{
		byClient: map[netip.Prefix]*rate.Limiter{}, byUser: map[userClient]*rate.Limiter{},
		client: client, userClient: perUser, max: max,
	}
}

// clientKey groups IPv6 clients by /64, which one host usually controls whole.
func clientKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

func userClientKey(user string, ip netip.Addr) userClient {
	return userClient{user: sha256.Sum256([]byte(user)), client: clientKey(ip)}
}

// blocked returns how long to wait, and which limit applies ("client" or
// "user_client"), when either of this request's buckets is empty.
func (l *failLimiter) blocked(ip netip.Addr, user string, now time.Time) (time.Duration, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lim := l.byClient[clientKey(ip)]; lim != nil {
		if wait := waitFor(lim, now); wait > 0 {
			return wait, "client"
		}
	}
	if lim := l.byUser[userClientKey(user, ip)]; lim != nil {
		if wait := waitFor(lim, now); wait > 0 {
			return wait, "user_client"
		}
	}
	return 0, ""
}

func waitFor(lim *rate.Limiter, now time.Time) time.Duration {
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(lim.Limit()) * float64(time.Second))
}

// failed spends one token from the client's bucket and one from the (user,
// client) bucket, whether or not the user exists.
func (l *failLimiter) failed(ip netip.Addr, user string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := clientKey(ip)
	if l.byClient[k] == nil {
		prune(l.byClient, l.max, now)
		l.byClient[k] = rate.NewLimiter(rate.Every(l.client.every), l.client.burst)
	}
	l.byClient[k].AllowN(now, 1)
	uk := userClientKey(user, ip)
	if l.byUser[uk] == nil {
		prune(l.byUser, l.max, now)
		l.byUser[uk] = rate.NewLimiter(rate.Every(l.userClient.every), l.userClient.burst)
	}
	l.byUser[uk].AllowN(now, 1)
}

// prune forgets buckets that have refilled (they behave like new ones) once
// there are max of them, and all of them if that is not enough: memory stays
// bounded however many addresses and names an attacker has.
func prune[K comparable](m map[K]*rate.Limiter, max int, now time.Time) {
	if len(m) < max {
		return
	}
	for k, lim := range m {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(m, k)
		}
	}
	if len(m) >= max {
		clear(m)
	}
}
