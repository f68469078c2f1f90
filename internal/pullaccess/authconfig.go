package pullaccess

import (
	"maps"
	"slices"
	"strings"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// robotAccounts matches every robot and nothing else: user names cannot
// contain "$".
const robotAccounts = RobotPrefix + "*"

// AddRobots puts the robots of st into cfg: one user per live generation,
// labelled with its namespace, and ACL rules placed before all others, so
// robots get exactly spec.repositories and no rule written for users (such
// as "${account}/*" with push) ever applies to them.
func AddRobots(cfg *authconfig.Config, spec *v1alpha1.PullSecretsSpec, st *State) {
	if spec == nil || st == nil {
		return
	}
	if cfg.Users == nil {
		cfg.Users = map[string]*authconfig.User{}
	}
	for _, ns := range slices.Sorted(maps.Keys(st.Robots)) {
		for _, c := range st.Robots[ns].credentials() {
			cfg.Users[RobotUser(ns, c.Generation)] = &authconfig.User{
				Password: c.Hash,
				Labels:   map[string][]string{LabelNamespace: {ns}},
			}
		}
	}
	rules := make([]authconfig.ACLEntry, 0, len(spec.Repositories)+1)
	for _, repo := range spec.Repositories {
		actions := slices.Clone(repo.Actions)
		if len(actions) == 0 {
			actions = []string{"pull"}
		}
		rules = append(rules, authconfig.ACLEntry{
			Match: authconfig.MatchConditions{
				Account: ptr(robotAccounts),
				Type:    ptr("repository"),
				Name:    ptr(RepositoryPattern(repo.Name)),
			},
			Actions: actions,
			Comment: "pull access: robots on " + repo.Name,
		})
	}
	rules = append(rules, authconfig.ACLEntry{
		Match:   authconfig.MatchConditions{Account: ptr(robotAccounts)},
		Actions: []string{},
		Comment: "pull access: robots get nothing else",
	})
	cfg.ACL = append(rules, cfg.ACL...)
}

// RepositoryPattern turns ${namespace} into the robot's namespace label: the
// value comes from the rendered config, never from the request, so a robot
// cannot name another namespace.
func RepositoryPattern(name string) string {
	return strings.ReplaceAll(name, "${namespace}", authconfig.LabelsPrefix+LabelNamespace+"}")
}

func ptr(s string) *string { return &s }
