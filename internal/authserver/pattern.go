package authserver

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// pattern is one compiled match field: a glob (path.Match: "*" stops at "/")
// or, written as /re/, an unanchored regular expression, as in docker_auth.
// Placeholders are filled with the request's values, escaped so that a value
// is only ever matched literally.
type pattern struct {
	regex     bool
	src       string         // glob or regex source, placeholders unfilled
	static    *regexp.Regexp // compiled once when src has no placeholders
	fixed     bool           // src uses ${account}, ${name}, ${type} or ${service}
	labelKeys []string       // KEYs of the ${labels:KEY} placeholders in src
}

// maxLabelCombinations bounds the work one pattern may cause: a pattern with
// several ${labels:...} placeholders is tried with every combination of the
// user's values, and beyond this many combinations it does not match.
const maxLabelCombinations = 4096

var labelPlaceholderRE = regexp.MustCompile(`\$\{labels:([^}]+)\}`)

func compilePattern(raw string) (*pattern, error) {
	if err := authconfig.ValidatePattern(raw); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", raw, err)
	}
	p := &pattern{src: raw}
	if body, ok := authconfig.RegexBody(raw); ok {
		p.regex, p.src = true, body
	}
	for _, ph := range []string{authconfig.PlaceholderAccount, authconfig.PlaceholderName, authconfig.PlaceholderType, authconfig.PlaceholderService} {
		p.fixed = p.fixed || strings.Contains(p.src, ph)
	}
	seen := map[string]bool{}
	for _, m := range labelPlaceholderRE.FindAllStringSubmatch(p.src, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			p.labelKeys = append(p.labelKeys, m[1])
		}
	}
	if p.regex && !p.fixed && len(p.labelKeys) == 0 {
		p.static = regexp.MustCompile(p.src) // validated above
	}
	return p, nil
}

func (p *pattern) match(s string, v *vars) bool {
	if p == nil {
		return true // an unset field matches anything
	}
	if p.static != nil {
		return p.static.MatchString(s)
	}
	if len(p.labelKeys) == 0 {
		src := p.src
		if p.fixed {
			src = v.replacer(p.regex).Replace(src)
		}
		return p.matchOnce(src, s)
	}
	var fixed []string
	if p.fixed {
		fixed = v.pairs(p.regex)
	}
	return p.matchLabels(fixed, s, v.req.Labels)
}

// matchLabels tries every combination of the user's values for the label
// placeholders (an odometer over the value lists). The fixed placeholders'
// pairs are filled in the same pass: filled one after the other, an account
// containing "${labels:KEY}" would be expanded a second time.
func (p *pattern) matchLabels(fixed []string, s string, labels map[string][]string) bool {
	lists := make([][]string, len(p.labelKeys))
	total := 1
	for i, k := range p.labelKeys {
		lists[i] = labels[k]
		total *= len(lists[i])
		if total == 0 || total > maxLabelCombinations {
			return false // a missing label never matches
		}
	}
	idx := make([]int, len(lists))
	pairs := make([]string, 0, len(fixed)+2*len(lists))
	for {
		pairs = append(pairs[:0], fixed...)
		for i, k := range p.labelKeys {
			pairs = append(pairs, authconfig.LabelsPrefix+k+"}", escape(lists[i][idx[i]], p.regex))
		}
		if p.matchOnce(strings.NewReplacer(pairs...).Replace(p.src), s) {
			return true
		}
		i := 0
		for ; i < len(idx); i++ {
			idx[i]++
			if idx[i] < len(lists[i]) {
				break
			}
			idx[i] = 0
		}
		if i == len(idx) {
			return false
		}
	}
}

func (p *pattern) matchOnce(src, s string) bool {
	if p.regex {
		re, err := regexp.Compile(src)
		return err == nil && re.MatchString(s)
	}
	ok, err := path.Match(src, s)
	return err == nil && ok
}

// vars holds a request's placeholder values, escaped once per kind on demand.
type vars struct {
	req                *AccessRequest
	re, glob           *strings.Replacer
	rePairs, globPairs []string
}

func newVars(req *AccessRequest) *vars { return &vars{req: req} }

// pairs are the fixed placeholders and their escaped values (old, new, ...).
func (v *vars) pairs(regex bool) []string {
	ps := &v.globPairs
	if regex {
		ps = &v.rePairs
	}
	if *ps == nil {
		q := v.req
		*ps = []string{
			authconfig.PlaceholderAccount, escape(q.Account, regex),
			authconfig.PlaceholderName, escape(q.Name, regex),
			authconfig.PlaceholderType, escape(q.Type, regex),
			authconfig.PlaceholderService, escape(q.Service, regex),
		}
	}
	return *ps
}

func (v *vars) replacer(regex bool) *strings.Replacer {
	r := &v.glob
	if regex {
		r = &v.re
	}
	if *r == nil {
		*r = strings.NewReplacer(v.pairs(regex)...)
	}
	return *r
}

var globMeta = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)

func escape(s string, regex bool) string {
	if regex {
		return regexp.QuoteMeta(s)
	}
	return globMeta.Replace(s)
}
