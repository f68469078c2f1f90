package passwords

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestResolveKeepsMatchingHash(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost, Key: testKey}
	first, err := h.Resolve([]byte("badmin"), Rendered{})
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(first.Hash), []byte("badmin")) != nil {
		t.Fatalf("hash %q does not verify the password", first.Hash)
	}
	if first.Fingerprint == "" || strings.Contains(first.Fingerprint, "badmin") {
		t.Fatalf("fingerprint %q", first.Fingerprint)
	}
	// A fresh hasher with the same key (an operator restart) keeps the
	// rendered hash and fingerprint.
	again, err := (&Hasher{Cost: bcrypt.MinCost, Key: testKey}).Resolve([]byte("badmin\n"), first)
	if err != nil || again != first {
		t.Fatalf("matching hash not kept: got %+v, %v; want %+v", again, err, first)
	}
}

// TestFingerprintIsTrustedWithoutBcrypt: a fingerprint made with the key
// answers the check by itself. The stored hash here verifies another
// password, so only the fingerprint can have said "match": that is the
// bcrypt comparison a restart no longer pays.
func TestFingerprintIsTrustedWithoutBcrypt(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost, Key: testKey}
	other, _ := bcrypt.GenerateFromPassword([]byte("other"), bcrypt.MinCost)
	existing := Rendered{Hash: string(other), Fingerprint: h.fingerprint(string(other), []byte("pw"))}
	got, err := h.Resolve([]byte("pw"), existing)
	if err != nil || got != existing {
		t.Fatalf("fingerprint not trusted: %+v %v", got, err)
	}
}

func TestResolveRehashesChangedPassword(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost, Key: testKey}
	old, _ := h.Resolve([]byte("old"), Rendered{})
	got, err := h.Resolve([]byte("new"), old)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash == old.Hash || bcrypt.CompareHashAndPassword([]byte(got.Hash), []byte("new")) != nil {
		t.Fatalf("changed password not re-hashed: %+v", got)
	}
	if got.Fingerprint == old.Fingerprint {
		t.Fatal("fingerprint not renewed with the hash")
	}
}

// TestOtherKeyFallsBackToBcrypt: after a key change (its Secret deleted) a
// fingerprint proves nothing either way; bcrypt decides and the hash stays.
func TestOtherKeyFallsBackToBcrypt(t *testing.T) {
	first, _ := (&Hasher{Cost: bcrypt.MinCost, Key: testKey}).Resolve([]byte("pw"), Rendered{})
	h2 := &Hasher{Cost: bcrypt.MinCost, Key: []byte("another key, another key, another")}
	got, err := h2.Resolve([]byte("pw"), first)
	if err != nil || got.Hash != first.Hash || got.Fingerprint == first.Fingerprint {
		t.Fatalf("got %+v %v, want hash kept with a fingerprint of the new key", got, err)
	}
	// A forged fingerprint (no key) is a mismatch: re-hashed, not trusted.
	forged := Rendered{Hash: first.Hash, Fingerprint: "v1." + h2.keyID() + ".AAAA"}
	if got, _ := h2.Resolve([]byte("pw"), forged); got.Hash == first.Hash {
		t.Fatal("a forged fingerprint kept the hash")
	}
}

func TestNoKeyNoFingerprint(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost}
	first, _ := h.Resolve([]byte("pw"), Rendered{})
	if first.Fingerprint != "" {
		t.Fatalf("fingerprint without a key: %q", first.Fingerprint)
	}
	if got, _ := h.Resolve([]byte("pw"), first); got != first {
		t.Fatalf("bcrypt check lost the hash: %+v", got)
	}
}

// TestEqualPasswordsHaveUnequalFingerprints: the salt is part of what is
// fingerprinted, so the auth Secret does not show which users share a password.
func TestEqualPasswordsHaveUnequalFingerprints(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost, Key: testKey}
	a, _ := h.Resolve([]byte("same"), Rendered{})
	b, _ := h.Resolve([]byte("same"), Rendered{})
	if a.Fingerprint == b.Fingerprint {
		t.Fatal("equal passwords, equal fingerprints")
	}
}

func TestResolveAcceptsHashesAndRejectsBadInput(t *testing.T) {
	h := &Hasher{Cost: bcrypt.MinCost, Key: testKey}
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	got, err := h.Resolve(hash, Rendered{})
	if err != nil || got.Hash != string(hash) || got.Fingerprint != "" {
		t.Fatalf("bcrypt hash not used as is: %+v %v", got, err)
	}
	// One cost for every user: a hash of another cost is refused, with
	// what to do instead.
	other, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost+1)
	if _, err := h.Resolve(other, Rendered{}); !errors.Is(err, ErrCost) || !strings.Contains(err.Error(), "htpasswd -nbBC 4") {
		t.Fatalf("hash at another cost: got %v", err)
	}
	if _, err := h.Resolve([]byte("\n"), Rendered{}); err != ErrEmpty {
		t.Fatalf("empty password: got %v", err)
	}
	long := make([]byte, 73)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := h.Resolve(long, Rendered{}); err != ErrTooLong {
		t.Fatalf("73-byte password: got %v", err)
	}
}
