package authconfig

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/crypto/bcrypt"
)

// Validate checks what can be checked without reading other files: required
// settings, that every password is a bcrypt hash, that every ACL pattern
// compiles. All problems are reported at once.
func Validate(c *Config) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Server.Addr == "" {
		add("server.addr is required")
	}
	if (c.Server.Certificate == "") != (c.Server.Key == "") {
		add("server.certificate and server.key must be set together")
	}
	if c.Token.Issuer == "" {
		add("token.issuer is required")
	}
	if c.Token.Expiration <= 0 {
		add("token.expiration must be a positive number of seconds, got %d", c.Token.Expiration)
	}
	if (c.Token.Certificate == "") != (c.Token.Key == "") {
		add("token.certificate and token.key must be set together")
	}
	if c.Token.Certificate == "" && c.Server.Certificate == "" {
		add("token.certificate and token.key are required (or server.certificate and server.key, which docker_auth then signs with)")
	}
	for name, u := range c.Users {
		errs = append(errs, validateUser(name, u)...)
	}
	for i := range c.ACL {
		errs = append(errs, validateEntry(i, &c.ACL[i])...)
	}
	errs = append(errs, validateIdentities(c.Identities)...)
	return errors.Join(errs...)
}

func validateUser(name string, u *User) []error {
	where := "users." + quoteKey(name)
	if u == nil || u.Password == "" {
		if name == "" {
			return nil // the anonymous entry needs no password
		}
		return []error{fmt.Errorf("%s.password is required (only the anonymous \"\" user may omit it)", where)}
	}
	// The bcrypt error is not included: for a plaintext password it would
	// quote the first character.
	if _, err := bcrypt.Cost([]byte(u.Password)); err != nil {
		return []error{fmt.Errorf("%s.password is not a bcrypt hash; plaintext passwords are not accepted", where)}
	}
	return nil
}

func validateEntry(i int, e *ACLEntry) []error {
	var errs []error
	where := "acl[" + strconv.Itoa(i) + "].match"
	check := func(field string, p *string) {
		if p == nil {
			return
		}
		if err := ValidatePattern(*p); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s %q: %w", where, field, *p, err))
		}
	}
	m := &e.Match
	check("account", m.Account)
	check("type", m.Type)
	check("name", m.Name)
	check("service", m.Service)
	for k, v := range m.Labels {
		check("labels."+quoteKey(k), &v)
	}
	if m.IP != nil {
		if _, err := ParseIPPattern(*m.IP); err != nil {
			errs = append(errs, fmt.Errorf("%s.ip %q: %w", where, *m.IP, err))
		}
	}
	for _, a := range e.Actions {
		if a == "" {
			errs = append(errs, fmt.Errorf("acl[%d].actions: an action may not be empty", i))
		}
	}
	return errs
}
