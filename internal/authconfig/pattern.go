package authconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strings"
)

// Placeholders that ACL match patterns may contain. Each is replaced by the
// request's value (escaped, so a value never acts as a wildcard) before the
// pattern is matched. ${labels:KEY} stands for each of the user's values of
// label KEY in turn; the pattern matches if any of them does.
const (
	PlaceholderAccount = "${account}"
	PlaceholderName    = "${name}"
	PlaceholderType    = "${type}"
	PlaceholderService = "${service}"
	LabelsPrefix       = "${labels:"
)

var placeholderRE = regexp.MustCompile(`\$\{[^}]*\}`)

// RegexBody returns the expression inside a /regex/ pattern, and whether p is
// one. Anything else is a glob (path.Match syntax), as in docker_auth.
func RegexBody(p string) (string, bool) {
	if len(p) > 2 && p[0] == '/' && p[len(p)-1] == '/' {
		return p[1 : len(p)-1], true
	}
	return "", false
}

// ValidatePattern reports whether p compiles with every placeholder filled in.
func ValidatePattern(p string) error {
	filled := placeholderRE.ReplaceAllString(p, "x")
	if body, ok := RegexBody(filled); ok {
		if _, err := regexp.Compile(body); err != nil {
			return fmt.Errorf("invalid regular expression: %w", err)
		}
		return nil
	}
	if _, err := path.Match(filled, ""); err != nil {
		return errors.New("invalid glob pattern")
	}
	return nil
}

// UnknownPlaceholders returns the ${...} tokens in p that are not implemented
// (for example docker_auth's capture-group references like ${account:1}); they
// stay literal text and so never match.
func UnknownPlaceholders(p string) []string {
	var out []string
	for _, ph := range placeholderRE.FindAllString(p, -1) {
		switch {
		case ph == PlaceholderAccount, ph == PlaceholderName, ph == PlaceholderType, ph == PlaceholderService:
		case strings.HasPrefix(ph, LabelsPrefix) && len(ph) > len(LabelsPrefix)+1:
		default:
			out = append(out, ph)
		}
	}
	return out
}

// ParseIPPattern accepts a single address or a CIDR prefix.
func ParseIPPattern(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errors.New("not an IP address or CIDR prefix")
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
