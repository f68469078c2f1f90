// Package authconfig is the one definition of the token server's config file:
// the operator renders it (internal/render) and the builtin token server reads
// it (internal/authserver). The format is docker_auth's, so the same file also
// runs in cesanta/docker_auth.
package authconfig

// File names inside the rendered auth Secret (`<name>-auth`).
const (
	// ConfigFile is the docker_auth-compatible YAML config.
	ConfigFile = "auth_config.yml"
	// RefreshKeyFile holds the key that signs refresh tokens, shared by all replicas.
	RefreshKeyFile = "refresh.key"
)

// BcryptCost is the one bcrypt cost every user's hash must have. The
// builtin token server refuses users hashed at another cost: a wrong
// password then takes the same time for every user name, known or not
// (docs/security.md). The operator hashes plaintext at this cost and
// reports a supplied hash of another cost in a condition.
const BcryptCost = 10

// Config is the whole file.
type Config struct {
	Server Server `json:"server"`
	Token  Token  `json:"token"`
	// Users by name; bcrypt hashes only. The "" user (empty entry) enables
	// anonymous requests in docker_auth; ACL rules decide what they may do.
	Users map[string]*User `json:"users,omitempty"`
	// ACL rules: the first rule whose match fits decides.
	ACL []ACLEntry `json:"acl,omitempty"`
	// Identities are trusted workload-token issuers (identity.go).
	Identities []Identity `json:"identities,omitempty"`
}

// Server is the listener of the token server.
type Server struct {
	// Addr to listen on, e.g. ":5000".
	Addr string `json:"addr"`
	// Certificate and Key are PEM files of the serving certificate.
	Certificate string `json:"certificate,omitempty"`
	Key         string `json:"key,omitempty"`
}

// Token says how tokens are signed.
type Token struct {
	// Issuer is the JWT "iss"; the registry's auth.token.issuer must equal it.
	Issuer string `json:"issuer"`
	// Expiration of a token in seconds.
	Expiration int64 `json:"expiration"`
	// Certificate is a PEM file: the signing certificate, then its chain up to
	// the token CA (sent as x5c). Key is the PEM private key of the first one.
	Certificate string `json:"certificate"`
	Key         string `json:"key"`
	// DisableLegacyKeyID makes docker_auth use the RFC 7638 thumbprint as kid,
	// which registry 3 requires. The builtin server always does.
	DisableLegacyKeyID bool `json:"disable_legacy_key_id,omitempty"`
}

// User is one account.
type User struct {
	// Password is a bcrypt hash.
	Password string              `json:"password,omitempty"`
	Labels   map[string][]string `json:"labels,omitempty"`
}

// ACLEntry is one rule.
type ACLEntry struct {
	Match MatchConditions `json:"match"`
	// Actions granted; "*" grants what was asked; empty denies.
	Actions []string `json:"actions"`
	Comment string   `json:"comment,omitempty"`
}

// MatchConditions fields are globs, or regular expressions as /re/; unset
// matches anything. They may use ${account}, ${name}, ${service}, ${labels:KEY}.
type MatchConditions struct {
	Account *string           `json:"account,omitempty"`
	Type    *string           `json:"type,omitempty"`
	Name    *string           `json:"name,omitempty"`
	Service *string           `json:"service,omitempty"`
	IP      *string           `json:"ip,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
}
