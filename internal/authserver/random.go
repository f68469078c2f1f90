package authserver

import "crypto/rand"

// randomID is 128 random bits, URL-safe: token IDs and the like.
func randomID() string {
	return b64(randomBytes(16))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics if the OS can't supply)
	return b
}
