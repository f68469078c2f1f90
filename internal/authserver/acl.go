package authserver

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// ACL is a compiled list of docker_auth rules: the first rule whose match
// conditions all hold decides; "*" alone grants whatever was asked; any other
// list grants the intersection with what was asked; no matching rule denies.
type ACL struct {
	rules []rule
}

type rule struct {
	account, typ, name, service *pattern
	ip                          *netip.Prefix
	labelKeys                   []string // sorted, for a deterministic order
	labels                      map[string]*pattern
	actions                     []string
	all                         bool // actions == ["*"]
}

// AccessRequest is what one scope asks, with who asks it.
type AccessRequest struct {
	Account string
	Type    string
	Name    string
	Service string
	IP      netip.Addr
	Labels  map[string][]string
	Actions []string
}

// NoRule is the rule index Authorize returns when no rule matched.
const NoRule = -1

// CompileACL compiles validated entries (authconfig.Validate has checked that
// every pattern compiles; a failure here is still reported, never ignored).
func CompileACL(entries []authconfig.ACLEntry) (*ACL, error) {
	a := &ACL{rules: make([]rule, 0, len(entries))}
	for i, e := range entries {
		r, err := compileRule(e)
		if err != nil {
			return nil, fmt.Errorf("acl[%d]: %w", i, err)
		}
		a.rules = append(a.rules, r)
	}
	return a, nil
}

func compileRule(e authconfig.ACLEntry) (rule, error) {
	var r rule
	var err error
	m := e.Match
	for _, f := range []struct {
		dst **pattern
		src *string
	}{{&r.account, m.Account}, {&r.typ, m.Type}, {&r.name, m.Name}, {&r.service, m.Service}} {
		if f.src == nil {
			continue
		}
		if *f.dst, err = compilePattern(*f.src); err != nil {
			return rule{}, err
		}
	}
	if m.IP != nil {
		p, err := authconfig.ParseIPPattern(*m.IP)
		if err != nil {
			return rule{}, fmt.Errorf("ip %q: %w", *m.IP, err)
		}
		r.ip = &p
	}
	if len(m.Labels) > 0 {
		r.labels = make(map[string]*pattern, len(m.Labels))
		for k, v := range m.Labels {
			if r.labels[k], err = compilePattern(v); err != nil {
				return rule{}, err
			}
			r.labelKeys = append(r.labelKeys, k)
		}
		sort.Strings(r.labelKeys)
	}
	r.actions = slices.Clone(e.Actions)
	r.all = len(r.actions) == 1 && r.actions[0] == "*"
	return r, nil
}

// Authorize returns the actions granted for req and the index of the rule
// that decided (NoRule when none matched, which denies everything).
func (a *ACL) Authorize(req *AccessRequest) (granted []string, ruleIndex int) {
	v := newVars(req)
	for i := range a.rules {
		r := &a.rules[i]
		if !r.matches(req, v) {
			continue
		}
		if r.all {
			return slices.Clone(req.Actions), i
		}
		for _, act := range req.Actions {
			if slices.Contains(r.actions, act) {
				granted = append(granted, act)
			}
		}
		return granted, i
	}
	return nil, NoRule
}

func (r *rule) matches(req *AccessRequest, v *vars) bool {
	if !r.account.match(req.Account, v) || !r.typ.match(req.Type, v) ||
		!r.name.match(req.Name, v) || !r.service.match(req.Service, v) {
		return false
	}
	if r.ip != nil && (!req.IP.IsValid() || !r.ip.Contains(req.IP.Unmap())) {
		return false
	}
	for _, k := range r.labelKeys {
		if !slices.ContainsFunc(req.Labels[k], func(val string) bool { return r.labels[k].match(val, v) }) {
			return false
		}
	}
	return true
}
