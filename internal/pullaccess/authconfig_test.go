package pullaccess

import (
	"slices"
	"testing"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver"
)

// TestRobotsGetOnlyWhatTheSpecGrants runs the rendered rules through the
// auth server's own ACL engine, behind a spec ACL that would give every
// account push on "${account}/*" and pull everywhere.
func TestRobotsGetOnlyWhatTheSpecGrants(t *testing.T) {
	all, own := "/.+/", "${account}/*"
	cfg := &authconfig.Config{ACL: []authconfig.ACLEntry{
		{Match: authconfig.MatchConditions{Account: &all, Name: &own}, Actions: []string{"pull", "push"}},
		{Match: authconfig.MatchConditions{Account: &all}, Actions: []string{"*"}},
	}}
	spec := &v1alpha1.PullSecretsSpec{Repositories: []v1alpha1.PullRepository{
		{Name: "${namespace}/*"}, {Name: "shared/base", Actions: []string{"pull"}}, {Name: "ci-${namespace}/*", Actions: []string{"pull", "push"}},
	}}
	st := &State{Robots: map[string]*Robot{"team-a": {Current: &Credential{Generation: 1, Hash: "$2a$10$x"}}}}
	AddRobots(cfg, spec, st)
	if u := cfg.Users[RobotUser("team-a", 1)]; u == nil || !slices.Equal(u.Labels[LabelNamespace], []string{"team-a"}) {
		t.Fatalf("robot user: %+v", cfg.Users)
	}
	acl, err := authserver.CompileACL(cfg.ACL)
	if err != nil {
		t.Fatal(err)
	}
	robot := RobotUser("team-a", 1)
	for _, c := range []struct {
		account, repo string
		asked, want   []string
	}{
		{robot, "team-a/app", []string{"pull", "push"}, []string{"pull"}},
		{robot, "team-b/app", []string{"pull"}, nil},         // another namespace's repositories
		{robot, robot + "/x", []string{"pull", "push"}, nil}, // the users' ${account}/* rule
		{robot, "shared/base", []string{"pull", "push"}, []string{"pull"}},
		{robot, "ci-team-a/app", []string{"pull", "push"}, []string{"pull", "push"}}, // declared push
		{robot, "ci-team-b/app", []string{"pull", "push"}, nil},
		{"alice", "alice/app", []string{"push"}, []string{"push"}}, // users' rules untouched
	} {
		var labels map[string][]string
		if u := cfg.Users[c.account]; u != nil {
			labels = u.Labels
		}
		got, _ := acl.Authorize(&authserver.AccessRequest{
			Account: c.account, Type: "repository", Name: c.repo, Actions: c.asked, Labels: labels,
		})
		if !slices.Equal(got, c.want) {
			t.Errorf("%s on %s asking %v: granted %v, want %v", c.account, c.repo, c.asked, got, c.want)
		}
	}
	got, _ := acl.Authorize(&authserver.AccessRequest{Account: robot, Type: "registry", Name: "catalog", Actions: []string{"*"},
		Labels: map[string][]string{LabelNamespace: {"team-a"}}})
	if len(got) != 0 {
		t.Errorf("robot got %v on the catalog", got)
	}
}

func TestPasswordIn(t *testing.T) {
	hosts := []string{"10.0.0.1:5000", "reg.ns.svc:5000"}
	doc := DockerConfig(hosts, "robot$a.1", "secret")
	if PasswordIn(doc, "robot$a.1") != "secret" {
		t.Error("own document not read back")
	}
	if PasswordIn(doc, "robot$a.2") != "" {
		t.Error("another generation's user accepted")
	}
	if PasswordIn([]byte(`{"auths":{"h":{"username":"robot$a.1","password":"x","auth":"bad"}}}`), "robot$a.1") != "" {
		t.Error("inconsistent auth field accepted")
	}
}
