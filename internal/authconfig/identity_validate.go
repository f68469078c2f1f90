package authconfig

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ClaimPlaceholderRE finds the ${claim:PATH} placeholders of an account template.
var ClaimPlaceholderRE = regexp.MustCompile(`\$\{claim:([^}]+)\}`)

// validateIdentities checks the identities block: unique names, exactly one
// kind, an https issuer, at least one audience, at most one Kubernetes
// identity (tokens that name no OIDC issuer go to it), templates that use
// only ${claim:...}.
func validateIdentities(ids []Identity) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	names, issuers := map[string]bool{}, map[string]bool{}
	kube := 0
	for i, id := range ids {
		where := fmt.Sprintf("identities[%d]", i)
		if id.Name == "" || strings.ContainsAny(id.Name, ": ") {
			add("%s.name must be set and may not contain ':' or spaces, got %q", where, id.Name)
		}
		if names[id.Name] {
			add("%s.name %q is used twice", where, id.Name)
		}
		names[id.Name] = true
		if (id.OIDC == nil) == (id.Kubernetes == nil) {
			add("%s: exactly one of oidc and kubernetes must be set", where)
		}
		if o := id.OIDC; o != nil {
			u, err := url.Parse(o.Issuer)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				add("%s.oidc.issuer must be an https URL without query or fragment, got %q", where, o.Issuer)
			}
			if issuers[o.Issuer] {
				add("%s.oidc.issuer %q is trusted twice", where, o.Issuer)
			}
			issuers[o.Issuer] = true
			if len(o.Audiences) == 0 {
				add("%s.oidc.audiences is required: a token minted for another service must not be accepted here", where)
			}
			if o.CAPEM != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(o.CAPEM)) {
				add("%s.oidc.ca_pem holds no PEM certificate", where)
			}
			for _, a := range o.Algorithms {
				if !SupportedTokenAlgorithms[a] {
					add("%s.oidc.algorithms: %q is not supported (one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)", where, a)
				}
			}
		}
		if k := id.Kubernetes; k != nil {
			kube++
			if len(k.Audiences) == 0 {
				add("%s.kubernetes.audiences is required: the API server's own audience must not be accepted here", where)
			}
		}
		rest := ClaimPlaceholderRE.ReplaceAllString(id.Account, "")
		if strings.Contains(rest, "${") {
			add("%s.account %q: only ${claim:PATH} placeholders are known", where, id.Account)
		}
		for k, v := range id.Labels {
			if k == "" || v == "" {
				add("%s.labels: key and claim must be set, got %q: %q", where, k, v)
			}
		}
	}
	if kube > 1 {
		add("identities: at most one kubernetes identity (the cluster the token server runs in)")
	}
	return errs
}

// SupportedTokenAlgorithms are the JWS algorithms an identity may allow;
// "none" and the HMAC family are absent on purpose (a shared secret would
// let anyone holding the JWKS forge tokens).
var SupportedTokenAlgorithms = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true, "EdDSA": true,
}
