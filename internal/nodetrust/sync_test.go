package nodetrust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const owner = "registry-auth-system/registry-auth-operator-node-trust"

func testCA(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSyncWritesUpdatesAndRemoves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs.d")
	ca1, ca2 := testCA(t, "one"), testCA(t, "two")

	res, err := Sync(dir, owner, map[string][]byte{"198.18.4.17:5000": ca1, "demo.registry.svc:5000": ca2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 2 {
		t.Fatalf("written = %v, want both entries", res.Written)
	}
	if got := readFile(t, filepath.Join(dir, "198.18.4.17:5000", "ca.crt")); got != string(ca1) {
		t.Fatalf("ca.crt = %q", got)
	}

	// Same input: nothing to do.
	res, _ = Sync(dir, owner, map[string][]byte{"198.18.4.17:5000": ca1, "demo.registry.svc:5000": ca2})
	if len(res.Written)+len(res.Removed) != 0 {
		t.Fatalf("steady state changed something: %+v", res)
	}

	// New CA for one host, the other host gone.
	res, err = Sync(dir, owner, map[string][]byte{"198.18.4.17:5000": ca2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 1 || len(res.Removed) != 1 || res.Removed[0] != "demo.registry.svc:5000" {
		t.Fatalf("result = %+v", res)
	}
	if got := readFile(t, filepath.Join(dir, "198.18.4.17:5000", "ca.crt")); got != string(ca2) {
		t.Fatal("ca.crt not replaced")
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.registry.svc:5000")); !os.IsNotExist(err) {
		t.Fatalf("stale directory kept: %v", err)
	}
}

func TestSyncNeverTouchesForeignDirectories(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "10.0.0.1:5000")
	_ = os.MkdirAll(foreign, 0o755)
	_ = os.WriteFile(filepath.Join(foreign, "ca.crt"), []byte("admin's own"), 0o644)
	other := filepath.Join(dir, "10.0.0.2:5000")
	_ = os.MkdirAll(other, 0o755)
	_ = os.WriteFile(filepath.Join(other, markerFile), []byte("other-ns/other-cm"), 0o644)

	res, err := Sync(dir, owner, map[string][]byte{"10.0.0.1:5000": testCA(t, "x"), "10.0.0.2:5000": testCA(t, "y")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 2 || len(res.Written) != 0 {
		t.Fatalf("result = %+v, want both skipped", res)
	}
	if readFile(t, filepath.Join(foreign, "ca.crt")) != "admin's own" {
		t.Fatal("foreign ca.crt overwritten")
	}
	// Empty input removes only what this owner manages.
	if _, err := Sync(dir, owner, nil); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{foreign, other} {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("%s removed: %v", d, err)
		}
	}
}

func TestSyncKeepsFilesItDidNotWrite(t *testing.T) {
	dir := t.TempDir()
	if _, err := Sync(dir, owner, map[string][]byte{"198.18.4.17:5000": testCA(t, "a")}); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dir, "198.18.4.17:5000", "hosts.toml")
	_ = os.WriteFile(extra, []byte("# admin's"), 0o644)
	if _, err := Sync(dir, owner, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(extra); err != nil {
		t.Fatalf("hosts.toml removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "198.18.4.17:5000", "ca.crt")); !os.IsNotExist(err) {
		t.Fatal("ca.crt kept after its entry went away")
	}
}

func TestSyncRejectsBadEntries(t *testing.T) {
	dir := t.TempDir()
	ca := testCA(t, "a")
	key := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}})
	bad := map[string][]byte{
		"../../etc:5000":      ca,
		"host":                ca,
		"host:0":              ca,
		"host:99999":          ca,
		"-bad.example:5000":   ca,
		"a/b:5000":            ca,
		"ok.example:5000":     []byte("not pem"),
		"key.example:5000":    append(append([]byte{}, ca...), key...),
		"empty.example:5000":  nil,
		"good.example:5000":   ca,
		"[fd00::1]:5000":      ca,
		"198.18.4.17:5000":    ca,
		"UPPER.example.:5000": ca,
	}
	res, err := Sync(dir, owner, bad)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"good.example:5000", "[fd00::1]:5000", "198.18.4.17:5000"} {
		if _, err := os.Stat(filepath.Join(dir, k, "ca.crt")); err != nil {
			t.Errorf("%s not written: %v", k, err)
		}
	}
	if len(res.Written) != 3 {
		t.Errorf("written = %v", res.Written)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("host dir holds %d entries, want 3", len(ents))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "etc:5000")); !os.IsNotExist(err) {
		t.Error("path traversal wrote outside the host dir")
	}
}
