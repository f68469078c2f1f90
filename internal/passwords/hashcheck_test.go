package passwords

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestCheckHash(t *testing.T) {
	good, err := bcrypt.GenerateFromPassword([]byte("badmin"), 5)
	if err != nil {
		t.Fatal(err)
	}
	high, _ := bcrypt.GenerateFromPassword([]byte("x"), 4)
	highCost := "$2a$15$" + string(high[7:])
	cases := []struct {
		name, hash, want string
	}{
		{"real hash", string(good), ""},
		{"real hash with a newline", string(good) + "\n", ""},
		{"$2y$ (htpasswd)", "$2y$" + string(good[4:]), ""},
		{"garbage after a valid prefix", "$2a$10$" + strings.Repeat("!", 53), "salt is not in bcrypt's base64 alphabet"},
		{"truncated", string(good[:50]), "50 bytes"},
		{"cost too high", highCost, "cost 15 is outside"},
		{"cost too low", "$2a$03$" + string(good[7:]), "cost 3 is outside"},
		{"cost not a number", "$2a$1x$" + string(good[7:]), "not a number"},
		{"digest with stray bits", string(good[:59]) + "z", "digest"},
		{"not a hash at all", "plaintext", "must start with"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckHash([]byte(c.hash))
			if c.want == "" {
				if err != nil {
					t.Fatalf("valid hash refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}
