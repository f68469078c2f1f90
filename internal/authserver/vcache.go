package authserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"sync"
	"time"
)

// verifyCache remembers credentials that passed bcrypt recently, so a client
// fetching a token per repository and action pays for bcrypt once. Keys are
// an HMAC of user and password under a random per-process key: the cache
// holds no password and nothing an attacker with a memory dump could test
// guesses against offline without that key. Each entry also records the hash
// it was verified against, so it can never vouch for a changed password; the
// whole cache is dropped on every reload besides.
type verifyCache struct {
	key []byte
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[[32]byte]cacheEntry
}

type cacheEntry struct {
	hash    []byte
	expires time.Time
}

func newVerifyCache(ttl time.Duration, max int) *verifyCache {
	return &verifyCache{key: randomBytes(32), ttl: ttl, max: max, entries: make(map[[32]byte]cacheEntry)}
}

func (c *verifyCache) keyFor(user, password string) [32]byte {
	m := hmac.New(sha256.New, c.key)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(user))) // length prefix: ("ab","c") != ("a","bc")
	m.Write(n[:])
	m.Write([]byte(user))
	m.Write([]byte(password))
	var k [32]byte
	m.Sum(k[:0])
	return k
}

// verified reports whether user/password was verified against hash within the TTL.
func (c *verifyCache) verified(user, password string, hash []byte, now time.Time) bool {
	if c.ttl <= 0 {
		return false
	}
	k := c.keyFor(user, password)
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	return ok && now.Before(e.expires) && subtle.ConstantTimeCompare(e.hash, hash) == 1
}

func (c *verifyCache) add(user, password string, hash []byte, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	k := c.keyFor(user, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[k] = cacheEntry{hash: hash, expires: now.Add(c.ttl)}
}

// evict drops expired entries and, if still full, half of the rest.
func (c *verifyCache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max/2 {
			break
		}
		delete(c.entries, k)
	}
}

func (c *verifyCache) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

func (c *verifyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
