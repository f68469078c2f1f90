package authserver

import (
	"net/netip"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// authnResult is the outcome of checking credentials.
type authnResult int

const (
	authnOK authnResult = iota
	authnBadCredentials
	authnRateLimited
)

// authenticate checks user/password against st. The anonymous user ("" with
// no password) is let in only when the config has a "" user without a
// password, as in docker_auth; the ACL then decides what it may do.
func (s *Server) authenticate(st *state, user, password string, ip netip.Addr) (*account, authnResult, time.Duration) {
	now := time.Now()
	acct := st.users[user]
	if acct == nil && user == "" && password == "" {
		// Anonymous, and the config does not let anonymous in: no bcrypt to
		// spend, and no failure to count (nothing was guessed).
		return nil, authnBadCredentials, 0
	}
	if acct != nil && len(acct.hash) == 0 {
		// Only the anonymous entry may have no hash (authconfig enforces it).
		if password == "" {
			return acct, authnOK, 0
		}
		return nil, authnBadCredentials, 0
	}
	if acct != nil && s.cache.verified(user, password, acct.hash, now) {
		s.metrics.cacheLookups.WithLabelValues("hit").Inc()
		return acct, authnOK, 0
	}
	s.metrics.cacheLookups.WithLabelValues("miss").Inc()
	if wait, which := s.limiter.blocked(ip, user, now); wait > 0 {
		s.metrics.rateLimited.WithLabelValues(which).Inc()
		return nil, authnRateLimited, wait
	}
	hash := st.dummyHash
	if acct != nil {
		hash = acct.hash
	}
	// bcrypt runs for unknown users too, so timing does not tell which exist.
	ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if acct == nil || !ok {
		s.limiter.failed(ip, user, acct != nil, time.Now())
		return nil, authnBadCredentials, 0
	}
	s.cache.add(user, password, acct.hash, now)
	return acct, authnOK, 0
}
