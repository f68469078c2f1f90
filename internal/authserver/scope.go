package authserver

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Scope is one requested resource and the actions asked for on it, in the
// grammar of the distribution token spec:
//
//	scope        := resourcetype ":" resourcename ":" action [ "," action ]*
//	resourcetype := /[a-z0-9]+/ [ "(" /[a-z0-9]+/ ")" ]
//	resourcename := [ hostname "/" ] component [ "/" component ]*
//
// A name may carry a "host:port/" prefix, so the type ends at the first
// colon and the actions start after the last one.
type Scope struct {
	Type    string   // e.g. "repository", "registry"
	Class   string   // e.g. "plugin" in "repository(plugin)"; usually empty
	Name    string   // e.g. "library/alpine", "localhost:5000/x", "catalog"
	Actions []string // e.g. ["pull", "push"], ["*"]
}

const (
	maxScopes      = 64
	maxScopeLen    = 1024
	maxNameLen     = 512
	maxActionCount = 16
)

// String renders s back into the grammar above.
func (s Scope) String() string {
	t := s.Type
	if s.Class != "" {
		t += "(" + s.Class + ")"
	}
	return t + ":" + s.Name + ":" + strings.Join(s.Actions, ",")
}

// ParseScopes parses every scope parameter (each may hold several scopes
// separated by spaces, as OAuth2 clients send them). Scopes naming the same
// resource are merged, keeping the order of first appearance.
func ParseScopes(params []string) ([]Scope, error) {
	var out []Scope
	index := map[[3]string]int{}
	for _, p := range params {
		for raw := range strings.FieldsSeq(p) {
			s, err := parseScope(raw)
			if err != nil {
				return nil, err
			}
			key := [3]string{s.Type, s.Class, s.Name}
			if i, seen := index[key]; seen {
				out[i].Actions = unionActions(out[i].Actions, s.Actions)
				continue
			}
			if len(out) == maxScopes {
				return nil, fmt.Errorf("too many scopes (at most %d)", maxScopes)
			}
			index[key] = len(out)
			out = append(out, s)
		}
	}
	return out, nil
}

func parseScope(raw string) (Scope, error) {
	bad := func(why string) (Scope, error) {
		return Scope{}, fmt.Errorf("invalid scope %q: %s", truncate(raw, 80), why)
	}
	if len(raw) > maxScopeLen {
		return bad("too long")
	}
	typ, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return bad(`want "type:name:actions"`)
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return bad(`want "type:name:actions"`)
	}
	name, acts := rest[:i], rest[i+1:]
	var s Scope
	var err error
	if s.Type, s.Class, err = parseResourceType(typ); err != nil {
		return bad(err.Error())
	}
	if err := checkName(name); err != nil {
		return bad(err.Error())
	}
	s.Name = name
	if s.Actions, err = parseActions(acts); err != nil {
		return bad(err.Error())
	}
	return s, nil
}

func parseResourceType(t string) (typ, class string, err error) {
	typ, class, hasClass := strings.Cut(t, "(")
	if hasClass {
		var closed bool
		class, closed = strings.CutSuffix(class, ")")
		if !closed || !isLowerAlnum(class) {
			return "", "", errors.New("resource class must be lowercase letters and digits in parentheses")
		}
	}
	if !isLowerAlnum(typ) {
		return "", "", errors.New("resource type must be lowercase letters and digits")
	}
	return typ, class, nil
}

// checkName accepts any printable name without spaces: the registry, not the
// token server, decides which names exist; the ACL decides which are allowed.
func checkName(n string) error {
	if n == "" {
		return errors.New("empty resource name")
	}
	if len(n) > maxNameLen {
		return errors.New("resource name too long")
	}
	for _, r := range n {
		if r <= ' ' || r == 0x7f || r > 0x7e {
			return errors.New("resource name has a space, control or non-ASCII character")
		}
	}
	return nil
}

func parseActions(s string) ([]string, error) {
	var acts []string
	for a := range strings.SplitSeq(s, ",") {
		if a == "" {
			continue // "pull,," and an empty list are tolerated
		}
		if a != "*" && !isLowerAlpha(a) {
			return nil, fmt.Errorf("action %q must be lowercase letters or *", truncate(a, 20))
		}
		acts = unionActions(acts, []string{a})
		if len(acts) > maxActionCount {
			return nil, errors.New("too many actions")
		}
	}
	return acts, nil
}

func unionActions(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}

func isLowerAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func isLowerAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
