package passwords

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestResolveKeepsMatchingHash(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost}
	src := Source{SecretUID: "u1", ResourceVersion: "1", Key: "password"}
	first, err := h.Resolve(src, []byte("badmin"), "")
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(first), []byte("badmin")) != nil {
		t.Fatalf("hash %q does not verify the password", first)
	}
	// A fresh hasher (an operator restart) still keeps the rendered hash.
	again, err := (&Hasher{Cost: bcrypt.MinCost}).Resolve(src, []byte("badmin\n"), first)
	if err != nil || again != first {
		t.Fatalf("matching hash not kept: got %q, %v; want %q", again, err, first)
	}
}

func TestResolveRehashesChangedPassword(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost}
	src := Source{SecretUID: "u1", ResourceVersion: "1", Key: "password"}
	old, _ := h.Resolve(src, []byte("old"), "")
	src.ResourceVersion = "2"
	got, err := h.Resolve(src, []byte("new"), old)
	if err != nil {
		t.Fatal(err)
	}
	if got == old || bcrypt.CompareHashAndPassword([]byte(got), []byte("new")) != nil {
		t.Fatalf("changed password not re-hashed: %q", got)
	}
}

func TestResolveCachedVerificationIsPerSource(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost}
	src := Source{SecretUID: "u1", ResourceVersion: "1", Key: "password"}
	hash, _ := h.Resolve(src, []byte("one"), "")
	// Same Secret version: answered from the cache (no bcrypt), same hash.
	if got, _ := h.Resolve(src, []byte("one"), hash); got != hash {
		t.Fatalf("cached verification lost: %q", got)
	}
	// A new version with another value must not ride on the cache.
	src.ResourceVersion = "2"
	if got, _ := h.Resolve(src, []byte("two"), hash); got == hash {
		t.Fatal("a changed Secret kept the old hash")
	}
}

func TestResolveAcceptsHashesAndRejectsBadInput(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost}
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	got, err := h.Resolve(Source{}, hash, "")
	if err != nil || got != string(hash) {
		t.Fatalf("bcrypt hash not used as is: %q %v", got, err)
	}
	// One cost for every user: a hash of another cost is refused, with
	// what to do instead.
	other, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost+1)
	if _, err := h.Resolve(Source{}, other, ""); !errors.Is(err, ErrCost) || !strings.Contains(err.Error(), "htpasswd -nbBC 4") {
		t.Fatalf("hash at another cost: got %v", err)
	}
	if _, err := h.Resolve(Source{}, []byte("\n"), ""); err != ErrEmpty {
		t.Fatalf("empty password: got %v", err)
	}
	long := make([]byte, 73)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := h.Resolve(Source{}, long, ""); err != ErrTooLong {
		t.Fatalf("73-byte password: got %v", err)
	}
}
