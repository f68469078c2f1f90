package authserver

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failLimiter throttles failed logins per client address and per user name.
// Only failures spend from a bucket, and a client whose bucket is empty is
// turned away before bcrypt runs, so guessing costs the attacker time and
// costs this server almost nothing. Credentials that are in the verify cache
// skip it, so a user whose name is being guessed by someone else can still
// get tokens once verified.
type failLimiter struct {
	mu     sync.Mutex
	byIP   map[netip.Prefix]*rate.Limiter
	byUser map[string]*rate.Limiter
	ip     limit
	user   limit
	max    int
}

type limit struct {
	every time.Duration // one more failure allowed per this interval
	burst int
}

func newFailLimiter(ip, user limit, max int) *failLimiter {
	return &failLimiter{byIP: map[netip.Prefix]*rate.Limiter{}, byUser: map[string]*rate.Limiter{}, ip: ip, user: user, max: max}
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

// blocked returns how long to wait, and which limit applies ("client" or
// "user"), when either bucket is empty.
func (l *failLimiter) blocked(ip netip.Addr, user string, now time.Time) (time.Duration, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lim := l.byIP[clientKey(ip)]; lim != nil {
		if wait := waitFor(lim, now); wait > 0 {
			return wait, "client"
		}
	}
	if lim := l.byUser[user]; lim != nil {
		if wait := waitFor(lim, now); wait > 0 {
			return wait, "user"
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

// failed spends one token from the client's bucket and, for a user that
// exists (knownUser), from the user's. Names that match no account get no
// bucket: they cannot be locked out, and made-up names cannot grow the map.
func (l *failLimiter) failed(ip netip.Addr, user string, knownUser bool, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := clientKey(ip)
	if l.byIP[k] == nil {
		l.prune(now)
		l.byIP[k] = rate.NewLimiter(rate.Every(l.ip.every), l.ip.burst)
	}
	l.byIP[k].AllowN(now, 1)
	if !knownUser {
		return
	}
	if l.byUser[user] == nil {
		l.byUser[user] = rate.NewLimiter(rate.Every(l.user.every), l.user.burst)
	}
	l.byUser[user].AllowN(now, 1)
}

// prune forgets client buckets that have refilled (they behave like new
// ones) once there are max of them, and all of them if that is not enough:
// memory stays bounded however many addresses an attacker has.
func (l *failLimiter) prune(now time.Time) {
	if len(l.byIP) < l.max {
		return
	}
	for k, lim := range l.byIP {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(l.byIP, k)
		}
	}
	if len(l.byIP) >= l.max {
		clear(l.byIP)
	}
}
