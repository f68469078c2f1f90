package dataplane

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

// TestAttackNoGuessingOracle: once the attacker is rate limited, every
// answer is 429, the right password included, even though the victim's
// regular logins keep it in the credential cache; the victim is unaffected.
func TestAttackNoGuessingOracle(t *testing.T) {
	s := newStack(t, frontDoor)
	attacker, victim := s.from(attackerAddr), s.from(victimAddr)
	if code := s.login(t, victim, "admin", "badmin"); code != http.StatusOK {
		t.Fatalf("victim's first login: %d", code)
	}
	limited := false
	for i := range 40 {
		code := s.login(t, attacker, "admin", fmt.Sprintf("guess-%d", i))
		if code == http.StatusTooManyRequests {
			limited = true
			break
		}
		if code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if !limited {
		t.Fatal("40 wrong guesses were never rate limited")
	}
	for _, pw := range []string{"guess-x", "badmin", "guess-y", "badmin"} {
		if code := s.login(t, attacker, "admin", pw); code != http.StatusTooManyRequests {
			t.Errorf("limited attacker trying %q: %d, want 429 (the answer must not depend on the password)", pw, code)
		}
	}
	if code := s.login(t, victim, "admin", "badmin"); code != http.StatusOK {
		t.Errorf("victim during the attack: %d", code)
	}
}

// TestAttackNoLockoutNoEnumeration: failures spread over many addresses
// (wrong passwords, and ?account=NAME with no credentials) neither lock a
// user out for a client that did not fail, nor answer a known name
// differently from an unknown one.
func TestAttackNoLockoutNoEnumeration(t *testing.T) {
	s := newStack(t, frontDoor)
	statuses := map[string][]int{}
	for ui, user := range []string{"alice", "ghost"} {
		for a := range 6 {
			c := s.from(fmtAddr(10+ui, 10+a))
			for i := range 6 {
				code := s.claim(t, c, user)
				if i%2 == 0 {
					code = s.login(t, c, user, "wrong")
				}
				statuses[user] = append(statuses[user], code)
			}
		}
	}
	if !slices.Equal(statuses["alice"], statuses["ghost"]) {
		t.Errorf("a known and an unknown name get different answers:\n alice %v\n ghost %v", statuses["alice"], statuses["ghost"])
	}
	if !slices.Contains(statuses["ghost"], http.StatusTooManyRequests) {
		t.Errorf("36 failures from 6 addresses were never limited: %v", statuses["ghost"])
	}
	victim := s.from(victimAddr)
	if code := s.login(t, victim, "alice", "alice-pass"); code != http.StatusOK {
		t.Errorf("alice from a clean address after 36 failures elsewhere: %d, want 200", code)
	}
}

// TestAttackTimingOneCost: a wrong password costs the same time for a known
// user, an unknown name, and a user whose hash has another bcrypt cost
// (refused: it cannot log in). The stack's policy is cost 5 (authtest's);
// "slow" is hashed at 10, so a server that checks unknown names against the
// highest cost in the config answers them ~30 times slower than a known
// cost-5 user. The bound (3×) is loose: it is there to catch that order of
// magnitude, not noise.
func TestAttackTimingOneCost(t *testing.T) {
	s := newStack(t, frontDoor, func(t testing.TB, s *stack) {
		s.env.Config.Users["slow"] = &authconfig.User{Password: authtest.Hash("slow-pass", 10)}
		if err := s.env.WriteConfig(); err != nil {
			t.Fatal(err)
		}
	})
	if n := s.metric(t, "registry_auth_config_users_refused"); n != 1 {
		t.Errorf("config_users_refused = %v, want 1", n)
	}
	if code := s.login(t, s.from(victimAddr), "slow", "slow-pass"); code != http.StatusUnauthorized {
		t.Errorf("a user hashed at another cost logs in: %d", code)
	}
	times := map[string][]time.Duration{}
	names := []string{"alice", "ghost", "slow"}
	for i := range 15 {
		for ni, name := range names {
			c := s.from(fmtAddr(20+ni, 10+i)) // a fresh address: never limited
			warm, _ := c.Get("https://" + s.host + "/v2/")
			if warm != nil {
				warm.Body.Close() // the TLS handshake is not part of the timing
			}
			start := time.Now()
			if code := s.login(t, c, name, "wrong"); code != http.StatusUnauthorized {
				t.Fatalf("%s: %d", name, code)
			}
			times[name] = append(times[name], time.Since(start))
		}
	}
	med := map[string]time.Duration{}
	for _, n := range names {
		sort.Slice(times[n], func(i, j int) bool { return times[n][i] < times[n][j] })
		med[n] = times[n][len(times[n])/2]
	}
	t.Logf("median time of a wrong password: %v", med)
	lo, hi := slices.Min([]time.Duration{med["alice"], med["ghost"], med["slow"]}), slices.Max([]time.Duration{med["alice"], med["ghost"], med["slow"]})
	if hi > 3*lo {
		t.Errorf("wrong-password timing tells names apart: medians %v", med)
	}
}

// TestAttackTrustedProxies: X-Forwarded-For is believed from the configured
// proxy only. Clients behind the proxy are limited one by one; a direct
// client cannot dodge its limit by inventing X-Forwarded-For values.
func TestAttackTrustedProxies(t *testing.T) {
	const proxyAddr = "127.0.0.9"
	s := newStack(t, frontDoor, withArgs("--trusted-proxies="+proxyAddr+"/32"))
	proxy := s.from(proxyAddr)
	via := func(client, user, password string) int {
		return s.tokenRequest(t, proxy, map[string][]string{}, func(r *http.Request) {
			r.SetBasicAuth(user, password)
			r.Header.Set("X-Forwarded-For", "203.0.113.250, "+client) // the left part is the client's own claim
		})
	}
	limited := false
	for i := range 20 {
		if code := via("10.0.0.66", "alice", fmt.Sprint("guess-", i)); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("an attacker behind the trusted proxy was never limited")
	}
	if code := via("10.0.0.77", "alice", "alice-pass"); code != http.StatusOK {
		t.Errorf("victim behind the same proxy: %d, want 200", code)
	}

	direct := s.from(attackerAddr)
	limited = false
	for i := range 20 {
		code := s.tokenRequest(t, direct, map[string][]string{}, func(r *http.Request) {
			r.SetBasicAuth("carol", fmt.Sprint("guess-", i))
			r.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		})
		if code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("a direct client escaped the limiter by sending its own X-Forwarded-For")
	}
}
