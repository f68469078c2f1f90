package authconfig

import (
	"os"
	"reflect"
	"testing"
)

// FuzzParse: the loader never panics; whatever it accepts is valid, renders
// back (Marshal) to a config that parses to the same value with no unknown
// keys, and an error never quotes a password value.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/docker_auth_example.yml", "testdata/unsupported.yml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("server: {addr: ':1', certificate: c, key: k}\ntoken: {issuer: i, expiration: 1}\nusers: {'': {}}\nacl: [{match: {labels: {g: '/a(/'}}, actions: []}]\n"))
	f.Add([]byte("server: {addr: ':1'}\ntoken: {issuer: i, expiration: 1, certificate: c, key: k}\nacl: [{match: {ip: '10.0.0.0/8', name: '${labels:x}/*'}, actions: ['*']}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := Parse(data)
		if err != nil {
			return
		}
		if err := Validate(c); err != nil {
			t.Fatalf("Parse accepted a config Validate rejects: %v", err)
		}
		out, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		c2, unsupported, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parsing the rendered config: %v\n%s", err, out)
		}
		for _, k := range unsupported {
			if len(k) < 4 || k[:4] != "acl[" { // placeholders are reported again; keys never
				t.Fatalf("rendered config has unknown key %q", k)
			}
		}
		if !reflect.DeepEqual(normalize(c), normalize(c2)) {
			t.Fatalf("round trip changed the config:\n%#v\n%#v", c, c2)
		}
	})
}

// normalize treats an empty map or slice like a missing one (omitempty drops
// them on the way out).
func normalize(c *Config) *Config {
	n := *c
	if len(n.Users) == 0 {
		n.Users = nil
	}
	for k, u := range n.Users {
		if u != nil && len(u.Labels) == 0 {
			u2 := *u
			u2.Labels = nil
			n.Users[k] = &u2
		}
	}
	if len(n.ACL) == 0 {
		n.ACL = nil
	}
	return &n
}
