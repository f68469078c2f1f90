package authconfig

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

func TestRefreshKeyFormats(t *testing.T) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	for name, contents := range map[string][]byte{
		"base64 with newline": []byte(base64.StdEncoding.EncodeToString(raw) + "\n"),
		"base64 unpadded":     []byte(base64.RawStdEncoding.EncodeToString(raw)),
		"base64url":           []byte(base64.URLEncoding.EncodeToString(raw)),
	} {
		got, err := ParseRefreshKey(contents)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%s: got %x, %v; want %x", name, got, err, raw)
		}
	}
	// Raw bytes that are not base64 are used as they are.
	rawFile := append([]byte{0xff, 0x00}, raw...)
	path := filepath.Join(t.TempDir(), RefreshKeyFile)
	if err := os.WriteFile(path, rawFile, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRefreshKey(path)
	if err != nil || !bytes.Equal(got, rawFile) {
		t.Errorf("raw: got %x, %v", got, err)
	}
	// Too little key material is refused, whichever way it is written.
	for _, short := range [][]byte{[]byte("c2hvcnQ="), []byte("short"), nil} {
		if _, err := ParseRefreshKey(short); err == nil {
			t.Errorf("ParseRefreshKey(%q) accepted a short key", short)
		}
	}
}
