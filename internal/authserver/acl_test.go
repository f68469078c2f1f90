package authserver

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"sigs.k8s.io/yaml"
)

func mustACL(t testing.TB, y string) *ACL {
	t.Helper()
	var entries []authconfig.ACLEntry
	if err := yaml.Unmarshal([]byte(y), &entries); err != nil {
		t.Fatal(err)
	}
	a, err := CompileACL(entries)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type aclCase struct {
	account, typ, name, service, ip string
	labels                          map[string][]string
	asked                           string
	granted                         string
	rule                            int
}

func runACLCases(t *testing.T, a *ACL, cases []aclCase) {
	t.Helper()
	for _, c := range cases {
		req := &AccessRequest{Account: c.account, Type: c.typ, Name: c.name, Service: c.service, Labels: c.labels}
		if req.Type == "" {
			req.Type = "repository"
		}
		if c.ip != "" {
			req.IP = netip.MustParseAddr(c.ip)
		}
		if c.asked != "" {
			req.Actions = strings.Split(c.asked, ",")
		}
		got, rule := a.Authorize(req)
		if strings.Join(got, ",") != c.granted || rule != c.rule {
			t.Errorf("%+v: granted %q by rule %d, want %q by rule %d", c, got, rule, c.granted, c.rule)
		}
	}
}

// The classic docker_auth example: admin may do anything, test may pull.
func TestACLClassic(t *testing.T) {
	a := mustACL(t, `
- match: {account: "admin"}
  actions: ["*"]
- match: {account: "test"}
  actions: ["pull"]
`)
	runACLCases(t, a, []aclCase{
		{account: "admin", name: "x/y", asked: "pull,push", granted: "pull,push", rule: 0},
		{account: "admin", typ: "registry", name: "catalog", asked: "*", granted: "*", rule: 0},
		{account: "test", name: "x/y", asked: "pull,push", granted: "pull", rule: 1},
		{account: "test", name: "x/y", asked: "push", granted: "", rule: 1},
		{account: "test", typ: "registry", name: "catalog", asked: "*", granted: "", rule: 1},
		{account: "", name: "x/y", asked: "pull", granted: "", rule: NoRule},
		{account: "admins", name: "x/y", asked: "pull", granted: "", rule: NoRule},
	})
}

func TestACLPlaceholdersAndRegex(t *testing.T) {
	a := mustACL(t, `
- match: {account: "/.+/", name: "${account}/*"}
  actions: [pull, push]
- match: {account: "/^ci-(.+)$/", name: "/^${service}-mirror/.*/"}
  actions: [pull]
- match: {name: "shared/${labels:team}/*"}
  actions: [pull, push]
- match: {labels: {group: "admins"}}
  actions: ["*"]
- match: {account: "", name: "public/*"}
  actions: [pull]
- match: {account: "blocked"}
  actions: []
- match: {account: "blocked*"}
  actions: ["*"]
`)
	teams := map[string][]string{"team": {"red", "blue"}}
	admins := map[string][]string{"group": {"devs", "admins"}}
	runACLCases(t, a, []aclCase{
		// ${account}/* : own namespace only, one level deep (glob * stops at /).
		{account: "alice", name: "alice/app", asked: "push,pull", granted: "push,pull", rule: 0},
		{account: "alice", name: "bob/app", asked: "push", granted: "", rule: NoRule},
		{account: "alice", name: "alice/a/b", asked: "pull", granted: "", rule: NoRule},
		// A value is matched literally: a user named "a*" gets no wildcard.
		{account: "a*", name: "abc/app", asked: "pull", granted: "", rule: NoRule},
		{account: "a*", name: "a*/app", asked: "pull", granted: "pull", rule: 0},
		// Regex with ${service}: escaped, so "." in the service is literal.
		{account: "ci-x", name: "reg.local-mirror/img", service: "reg.local", asked: "pull,push", granted: "pull", rule: 1},
		{account: "ci-x", name: "regxlocal-mirror/img", service: "reg.local", asked: "pull", granted: "", rule: NoRule},
		{account: "ci-x", name: "reg.local-mirror", service: "reg.local", asked: "pull", granted: "", rule: NoRule},
		// Label placeholders: any of the user's values.
		{account: "carol", name: "shared/blue/app", labels: teams, asked: "pull,push", granted: "pull,push", rule: 2},
		{account: "carol", name: "shared/green/app", labels: teams, asked: "pull", granted: "", rule: NoRule},
		{account: "dave", name: "shared/blue/app", asked: "pull", granted: "", rule: NoRule},
		// Label match conditions.
		{account: "erin", name: "any/thing", labels: admins, asked: "delete", granted: "delete", rule: 3},
		// Anonymous.
		{account: "", name: "public/x", asked: "pull,push", granted: "pull", rule: 4},
		// An empty action list matches and denies: first match wins.
		{account: "blocked", name: "x", asked: "pull", granted: "", rule: 5},
		{account: "blockedtoo", name: "x", asked: "pull", granted: "pull", rule: 6},
	})
}

func TestACLRegexIsUnanchoredLikeDockerAuth(t *testing.T) {
	a := mustACL(t, `
- match: {name: "/prod/"}
  actions: [pull]
`)
	runACLCases(t, a, []aclCase{
		{name: "team/production-app", asked: "pull", granted: "pull", rule: 0},
		{name: "team/staging", asked: "pull", granted: "", rule: NoRule},
	})
}

func TestACLTypeServiceIP(t *testing.T) {
	a := mustACL(t, `
- match: {type: "registry", name: "catalog"}
  actions: ["*"]
- match: {service: "other.svc"}
  actions: []
- match: {ip: "10.1.0.0/16"}
  actions: [pull]
- match: {ip: "::1"}
  actions: [pull, push]
`)
	runACLCases(t, a, []aclCase{
		{typ: "registry", name: "catalog", asked: "*", granted: "*", rule: 0},
		{name: "x", service: "other.svc", ip: "10.1.2.3", asked: "pull", granted: "", rule: 1},
		{name: "x", service: "mine", ip: "10.1.2.3", asked: "pull,push", granted: "pull", rule: 2},
		{name: "x", service: "mine", ip: "::ffff:10.1.2.3", asked: "pull", granted: "pull", rule: 2},
		{name: "x", service: "mine", ip: "10.2.0.1", asked: "pull", granted: "", rule: NoRule},
		{name: "x", service: "mine", ip: "::1", asked: "push", granted: "push", rule: 3},
		{name: "x", service: "mine", asked: "pull", granted: "", rule: NoRule},
	})
}

func TestACLLabelCombinationsBounded(t *testing.T) {
	a := mustACL(t, `
- match: {name: "${labels:a}/${labels:b}/${labels:c}"}
  actions: [pull]
`)
	vals := func(n int, p string) []string {
		var out []string
		for i := range n {
			out = append(out, p+strings.Repeat("x", i))
		}
		return out
	}
	small := map[string][]string{"a": vals(3, "a"), "b": vals(3, "b"), "c": vals(3, "c")}
	huge := map[string][]string{"a": vals(20, "a"), "b": vals(20, "b"), "c": vals(20, "c")}
	runACLCases(t, a, []aclCase{
		{name: "axx/bx/c", labels: small, asked: "pull", granted: "pull", rule: 0},
		{name: "a/b/c", labels: huge, asked: "pull", granted: "", rule: NoRule},
	})
}

func TestAuthorizeDoesNotAliasRequest(t *testing.T) {
	a := mustACL(t, `[{match: {}, actions: ["*"]}]`)
	asked := []string{"pull"}
	got, _ := a.Authorize(&AccessRequest{Type: "repository", Name: "x", Actions: asked})
	got[0] = "changed"
	if !reflect.DeepEqual(asked, []string{"pull"}) {
		t.Error("granted actions alias the request")
	}
}

// FuzzACLMatch checks that placeholder values never act as patterns: a rule
// naming ${account} (glob) or ^${account}$ (regex) matches exactly the
// requesting account, whatever characters it has. Glob and regex rules are
// in separate ACLs so that each is reached (first match wins: a rule that
// always matches would hide every rule after it), and each property says
// when the rule must match AND when it must not.
func FuzzACLMatch(f *testing.F) {
	for _, s := range [][3]string{
		{"alice", "alice", "alice"}, {"a*", "abc", "a*"}, {"q", "axb", "a.b"}, {"axb", "a.b", "z"},
		{"[x]", "x", "[x]"}, {`a\`, `a\`, "t"}, {"", "", ""}, {"?", "z", "?"}, {"a+", "a+", "a+"}, {"x", "(", "("},
	} {
		f.Add(s[0], s[1], s[2])
	}
	globs := mustACL(f, `
- match: {account: "${name}"}
  actions: [delete]
- match: {account: "${account}", name: "${name}"}
  actions: [pull]
`)
	regexes := mustACL(f, `
- match: {account: "/^${account}$/", name: "/^${labels:team}$/"}
  actions: [push]
- match: {account: "/^${name}$/"}
  actions: [delete]
`)
	f.Fuzz(func(t *testing.T, account, name, team string) {
		req := &AccessRequest{Account: account, Type: "repository", Name: name, Labels: map[string][]string{"team": {team}}, Actions: []string{"pull", "push", "delete"}}
		// Globs: rule 0 iff account == name; otherwise rule 1, which a
		// value filled into its own field always matches.
		want := 1
		if account == name {
			want = 0
		}
		if _, rule := globs.Authorize(req); rule != want {
			t.Fatalf("glob: account %q name %q: rule %d, want %d", account, name, rule, want)
		}
		// Regexes: rule 0 iff name == team (^${account}$ always matches
		// its own account); else rule 1 iff account == name; else none.
		want = NoRule
		switch {
		case name == team:
			want = 0
		case account == name:
			want = 1
		}
		if _, rule := regexes.Authorize(req); rule != want {
			t.Fatalf("regex: account %q name %q team %q: rule %d, want %d", account, name, team, rule, want)
		}
	})
}

// TestAttackPlaceholderValueNotReexpanded: placeholders are filled in one
// pass. An account (mapped from a workload token's claim, so chosen by
// whoever controls that claim) containing "${labels:KEY}" used to be filled
// first and then have its text expanded again as a label placeholder, so
// the caller matched names built from its label instead of its own literal
// account: here the space of the account "gh:blue".
func TestAttackPlaceholderValueNotReexpanded(t *testing.T) {
	a := mustACL(t, `
- match: {name: "${account}/${labels:team}/*"}
  actions: [push]
- match: {name: "/^${account}-${labels:team}$/"}
  actions: [push]
`)
	team := map[string][]string{"team": {"blue"}}
	runACLCases(t, a, []aclCase{
		{account: "gh:${labels:team}", labels: team, name: "gh:blue/blue/app", asked: "push", rule: NoRule},
		{account: "gh:${labels:team}", labels: team, name: "gh:${labels:team}/blue/app", asked: "push", granted: "push", rule: 0},
		{account: "gh:blue", labels: team, name: "gh:blue/blue/app", asked: "push", granted: "push", rule: 0},
		{account: "gh:${labels:team}", labels: team, name: "gh:blue-blue", asked: "push", rule: NoRule},
		{account: "gh:${labels:team}", labels: team, name: "gh:${labels:team}-blue", asked: "push", granted: "push", rule: 1},
	})
}
