package authserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// state is everything loaded from the files: replaced whole on reload, so a
// request sees one consistent config from start to end.
type state struct {
	addr        string
	issuer      string
	ttl         time.Duration
	users       map[string]*account
	acl         *ACL
	signer      *tokenSigner
	serving     *tls.Certificate
	servingLeaf *x509.Certificate // the names Host may take (onlyServedNames)
	refreshKey  []byte            // HMAC key for refresh tokens, derived from the key file
	dummyHash   []byte            // compared against for unknown users, so they cost the same
	refused     []string          // users whose hash is not at the policy cost: they cannot log in
	unsupported []string
	watched     []string
	// identityConfig: trusted workload-token issuers (identity.go).
	identityConfig []authconfig.Identity
}

type account struct {
	name    string
	hash    []byte
	labels  map[string][]string
	binding []byte // ties refresh tokens to this password hash
	// expiry of the workload token a caller logged in with (identity.go);
	// zero for password users.
	expiry time.Time
}

// loadState reads the config and every file it names. fallbackKey signs
// refresh tokens when no refresh key file is configured. Users whose bcrypt
// cost is not cost are refused (see costPolicy).
func loadState(configPath, refreshKeyPath string, fallbackKey []byte, cost int) (*state, error) {
	cfg, unsupported, err := authconfig.Load(configPath)
	if err != nil {
		return nil, err
	}
	st := &state{
		addr:           cfg.Server.Addr,
		issuer:         cfg.Token.Issuer,
		ttl:            time.Duration(cfg.Token.Expiration) * time.Second,
		unsupported:    unsupported,
		watched:        []string{configPath},
		identityConfig: cfg.Identities,
	}
	if cfg.Server.Certificate == "" {
		return nil, errors.New("server.certificate and server.key are required: the front door serves TLS only")
	}
	pair, err := tls.LoadX509KeyPair(cfg.Server.Certificate, cfg.Server.Key)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	st.serving = &pair
	if st.servingLeaf = pair.Leaf; st.servingLeaf == nil {
		return nil, errors.New("serving certificate: no leaf certificate")
	}
	certFile, keyFile := cfg.Token.Certificate, cfg.Token.Key
	if certFile == "" { // docker_auth signs with the serving key when no token key is set
		certFile, keyFile = cfg.Server.Certificate, cfg.Server.Key
	}
	if st.signer, err = loadSigner(certFile, keyFile); err != nil {
		return nil, err
	}
	st.watched = append(st.watched, cfg.Server.Certificate, cfg.Server.Key, certFile, keyFile)
	fileKey := fallbackKey
	if refreshKeyPath != "" {
		if fileKey, err = authconfig.ReadRefreshKey(refreshKeyPath); err != nil {
			return nil, err
		}
		st.watched = append(st.watched, refreshKeyPath)
	}
	st.refreshKey = derive(fileKey, "refresh-token-signing")
	if st.acl, err = CompileACL(cfg.ACL); err != nil {
		return nil, err
	}
	st.users = make(map[string]*account, len(cfg.Users))
	for name, u := range cfg.Users {
		a := &account{name: name}
		if u != nil {
			a.hash, a.labels = []byte(u.Password), u.Labels
		}
		if c, err := bcrypt.Cost(a.hash); err == nil && c != cost {
			st.refused = append(st.refused, name)
			continue
		}
		a.binding = st.bind(a)
		st.users[name] = a
	}
	sort.Strings(st.refused)
	st.dummyHash = dummyHash(cost)
	return st, nil
}

func loadSigner(certFile, keyFile string) (*tokenSigner, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("token certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	s, err := newTokenSigner(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if now := time.Now(); now.After(s.leaf.NotAfter) || now.Before(s.leaf.NotBefore) {
		return nil, fmt.Errorf("token certificate is not valid now (valid %s to %s)", s.leaf.NotBefore.UTC(), s.leaf.NotAfter.UTC())
	}
	return s, nil
}

// bind is a MAC of the user's name and current password hash: a refresh
// token carries it, so a changed password or a removed user revokes every
// refresh token issued before, with no shared store.
func (st *state) bind(a *account) []byte {
	m := hmac.New(sha256.New, st.refreshKey)
	m.Write([]byte("password-binding\x00" + a.name + "\x00"))
	m.Write(a.hash)
	return m.Sum(nil)[:16]
}

func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("registry-auth-operator/" + purpose))
	return m.Sum(nil)
}

// costPolicy: every user's bcrypt hash must have the one cost the server is
// configured with (--bcrypt-cost, default 10, the cost the operator hashes
// plaintext passwords at). A wrong password then costs the same time for
// every name: a known user, an unknown one (checked against a dummy hash at
// that cost), a refused one (treated as unknown). Accepting other costs
// would let one request tell a cost-5 user (~3 ms) from an unknown name
// (~60 ms at cost 10), or a cost-12 user from both. A refused user is named
// in the log at every load and counted in registry_auth_config_users_refused;
// the operator refuses such hashes earlier, with a condition.
const DefaultBcryptCost = authconfig.BcryptCost

var dummyHashes sync.Map // cost -> []byte

// dummyHash is a bcrypt hash of a random password at cost, made once per
// cost: verifying against it makes an unknown user as slow as a known one.
func dummyHash(cost int) []byte {
	if h, ok := dummyHashes.Load(cost); ok {
		return h.([]byte)
	}
	h, err := bcrypt.GenerateFromPassword(randomBytes(18), cost)
	if err != nil {
		h, _ = bcrypt.GenerateFromPassword(randomBytes(18), bcrypt.DefaultCost)
	}
	dummyHashes.Store(cost, h)
	return h
}
