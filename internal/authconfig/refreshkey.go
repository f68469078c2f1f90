package authconfig

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
)

// MinRefreshKeyLen is the least key material (bytes) accepted for signing
// refresh tokens.
const MinRefreshKeyLen = 32

// ReadRefreshKey reads the RefreshKeyFile. Its contents are opaque random
// bytes: either base64 text (standard or URL alphabet, padded or not, a
// trailing newline allowed) that decodes to at least 32 bytes, or at least 32
// raw bytes. The operator writes 32 random bytes, base64-encoded. Every
// replica reads the same file, so a refresh token issued by one is accepted
// by all.
func ReadRefreshKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading refresh key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("reading refresh key %s: %w", path, err)
	}
	key, err := ParseRefreshKey(data)
	if err != nil {
		return nil, fmt.Errorf("refresh key %s: %w", path, err)
	}
	return key, nil
}

// ParseRefreshKey is ReadRefreshKey on the file's contents.
func ParseRefreshKey(data []byte) ([]byte, error) {
	text := bytes.TrimSpace(data)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(string(text)); err == nil && len(k) >= MinRefreshKeyLen {
			return k, nil
		}
	}
	if len(data) >= MinRefreshKeyLen {
		return data, nil
	}
	return nil, fmt.Errorf("too short: need at least %d random bytes (raw or base64)", MinRefreshKeyLen)
}
