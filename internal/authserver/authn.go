package authserver

import (
	"net/netip"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// authenticate checks user/password against st. The caller has already
// asked the limiter (a limited client never gets here). The anonymous user
// ("" with no password) is let in only when the config has a "" user without
// a password, as in docker_auth; the ACL then decides what it may do.
//
// Every named attempt that fails costs one bcrypt at the policy cost and one
// token from the limiter, whether the name exists, exists with a hash of
// another cost (refused at load), or not: the status sequence and the timing
// are the same for all three.
func (s *Server) authenticate(st *state, user, password string, ip netip.Addr) (*account, bool) {
	now := time.Now()
	acct := st.users[user]
	if acct == nil && user == "" && password == "" {
		// Anonymous, and the config does not let anonymous in: no bcrypt to
		// spend, and no failure to count (nothing was guessed).
		return nil, false
	}
	if acct != nil && len(acct.hash) == 0 {
		// Only the anonymous entry may have no hash (authconfig enforces it).
		return acct, password == ""
	}
	if acct != nil && s.cache.verified(user, password, acct.hash, now) {
		s.metrics.cacheLookups.WithLabelValues("hit").Inc()
		return acct, true
	}
	s.metrics.cacheLookups.WithLabelValues("miss").Inc()
	hash := st.dummyHash
	if acct != nil {
		hash = acct.hash
	}
	// bcrypt runs for unknown users too, at the same cost, so timing does
	// not tell which exist.
	ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if acct == nil || !ok {
		s.limiter.failed(ip, user, time.Now())
		return nil, false
	}
	s.cache.add(user, password, acct.hash, now)
	return acct, true
}
