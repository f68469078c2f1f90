package authserver

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseScopes(t *testing.T) {
	cases := []struct {
		in   []string
		want []Scope
	}{
		{[]string{"repository:library/alpine:pull"}, []Scope{{Type: "repository", Name: "library/alpine", Actions: []string{"pull"}}}},
		{[]string{"repository:samalba/my-app:pull,push"}, []Scope{{Type: "repository", Name: "samalba/my-app", Actions: []string{"pull", "push"}}}},
		{[]string{"repository:localhost:5000/foo/bar:pull"}, []Scope{{Type: "repository", Name: "localhost:5000/foo/bar", Actions: []string{"pull"}}}},
		{[]string{"repository(plugin):vieux/sshfs:pull"}, []Scope{{Type: "repository", Class: "plugin", Name: "vieux/sshfs", Actions: []string{"pull"}}}},
		{[]string{"registry:catalog:*"}, []Scope{{Type: "registry", Name: "catalog", Actions: []string{"*"}}}},
		{[]string{"repository:a:"}, []Scope{{Type: "repository", Name: "a"}}},
		// OAuth2 clients put several scopes in one parameter.
		{[]string{"repository:a:pull repository:b:push"}, []Scope{
			{Type: "repository", Name: "a", Actions: []string{"pull"}},
			{Type: "repository", Name: "b", Actions: []string{"push"}},
		}},
		// The same resource twice is merged; duplicates and empty actions dropped.
		{[]string{"repository:a:pull", "repository:a:push,pull,,", "repository:b:pull"}, []Scope{
			{Type: "repository", Name: "a", Actions: []string{"pull", "push"}},
			{Type: "repository", Name: "b", Actions: []string{"pull"}},
		}},
		{nil, nil},
		{[]string{"", "  "}, nil},
	}
	for _, tc := range cases {
		got, err := ParseScopes(tc.in)
		if err != nil {
			t.Errorf("ParseScopes(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseScopes(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseScopesRejects(t *testing.T) {
	for _, in := range []string{
		"repository",
		"repository:name",
		"Repository:a:pull",
		"repo-sitory:a:pull",
		"repository(:a:pull",
		"repository(Plugin):a:pull",
		"repository():a:pull",
		"repository::pull",
		"repository:a:PULL",
		"repository:a:pull;push",
		"repository:a\x00b:pull",
		"repository:" + strings.Repeat("a", 600) + ":pull",
		strings.Repeat("repository:a:pull", 100),
	} {
		if got, err := ParseScopes([]string{in}); err == nil {
			t.Errorf("ParseScopes(%q) = %+v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "invalid scope") {
			t.Errorf("ParseScopes(%q) error %q does not say what is wrong", in, err)
		}
	}
	many := strings.Repeat("repository:x:pull ", 10)
	var params []string
	for i := range 70 {
		params = append(params, "repository:r"+strings.Repeat("x", i)+":pull")
	}
	if _, err := ParseScopes(params); err == nil || !strings.Contains(err.Error(), "too many scopes") {
		t.Errorf("70 scopes: err = %v", err)
	}
	if s, err := ParseScopes([]string{many}); err != nil || len(s) != 1 {
		t.Errorf("a repeated scope must merge: %v %v", s, err)
	}
}

func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{
		"repository:library/alpine:pull",
		"repository:localhost:5000/foo:pull,push",
		"repository(plugin):a/b:pull",
		"registry:catalog:*",
		"repository:a:pull repository:b:push",
		"a:b:",
		":::",
	} {
		f.Add(s, "repository:x:pull")
	}
	f.Fuzz(func(t *testing.T, p1, p2 string) {
		scopes, err := ParseScopes([]string{p1, p2})
		if err != nil {
			return
		}
		// Whatever parses renders back to text that parses to the same scopes.
		var texts []string
		for _, s := range scopes {
			if !isLowerAlnum(s.Type) || s.Name == "" || strings.ContainsAny(s.Name, " \t\n") {
				t.Fatalf("parsed an invalid scope %+v from %q %q", s, p1, p2)
			}
			texts = append(texts, s.String())
		}
		again, err := ParseScopes(texts)
		if err != nil {
			t.Fatalf("re-parsing %q: %v", texts, err)
		}
		if !reflect.DeepEqual(again, scopes) {
			t.Fatalf("round trip changed scopes:\n%+v\n%+v", scopes, again)
		}
	})
}
