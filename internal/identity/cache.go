package identity

import (
	"crypto/sha256"
	"sync"
	"time"

	"k8s.io/utils/lru"
)

// reviewCache remembers admitted tokens: bounded in size (least recently
// used goes first) and in time (an entry never outlives min(ttl, the
// token's exp)). Keys are SHA-256 digests, so the tokens themselves are not
// kept in memory. Only successes are cached: a refusal is never remembered,
// so nothing an attacker sends can make a good token fail later.
type reviewCache struct {
	mu  sync.Mutex
	lru *lru.Cache
	ttl time.Duration
}

type cached struct {
	p     *Principal
	until time.Time
}

func newReviewCache(size int, ttl time.Duration) *reviewCache {
	return &reviewCache{lru: lru.New(size), ttl: ttl}
}

func (c *reviewCache) get(token string, now time.Time) *Principal {
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.lru.Get(k)
	if !ok {
		return nil
	}
	e := v.(cached)
	if !now.Before(e.until) {
		c.lru.Remove(k)
		return nil
	}
	return e.p
}

func (c *reviewCache) add(token string, p *Principal, now time.Time) {
	until := now.Add(c.ttl)
	if p.Expiry.Before(until) {
		until = p.Expiry
	}
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Add(sha256.Sum256([]byte(token)), cached{p: p, until: until})
}

func (c *reviewCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *reviewCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Clear()
}
