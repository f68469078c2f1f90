package authconfig

import (
	"reflect"
	"testing"
)

func TestValidatePattern(t *testing.T) {
	ok := []string{"admin", "*", "${account}/*", "/^${account}$/", "/.+/", "library/*", "${labels:group}/*", "/[a-z]{2}/"}
	for _, p := range ok {
		if err := ValidatePattern(p); err != nil {
			t.Errorf("ValidatePattern(%q) = %v", p, err)
		}
	}
	bad := []string{"/(/", "[", "/a**/"}
	for _, p := range bad {
		if err := ValidatePattern(p); err == nil {
			t.Errorf("ValidatePattern(%q) accepted", p)
		}
	}
}

func TestUnknownPlaceholders(t *testing.T) {
	got := UnknownPlaceholders("${account}/${labels:team}/${account:1}/${email}/${labels:}")
	want := []string{"${account:1}", "${email}", "${labels:}"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestParseIPPattern(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3":            "10.1.2.3/32",
		"10.1.2.3/8":          "10.0.0.0/8",
		"::1":                 "::1/128",
		"::ffff:10.0.0.1":     "10.0.0.1/32",
		"::ffff:10.0.0.0/104": "10.0.0.0/8",
	} {
		p, err := ParseIPPattern(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseIPPattern(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	if _, err := ParseIPPattern("host.example"); err == nil {
		t.Error("accepted a host name")
	}
}
