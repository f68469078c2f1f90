package authtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"
	"sigs.k8s.io/yaml"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// User is a test account: the plaintext is kept by the test only; the config
// gets its bcrypt hash.
type User struct {
	Password string
	Labels   map[string][]string
	Cost     int // bcrypt cost; 0 means 5, htpasswd -B's default
}

// Options shape an Env.
type Options struct {
	Addr        string   // server.addr; default "127.0.0.1:0"
	Hosts       []string // serving certificate names; default localhost, 127.0.0.1
	SigningKind KeyKind
	Issuer      string // default "test-issuer"
	Expiration  int64  // seconds; default 300
	Users       map[string]User
	ACL         string // YAML list of ACL entries
	Identities  []authconfig.Identity
}

// Env is the file layout of one auth container: three Secret volumes (config,
// serving TLS, token signing) plus the token CA bundle the registry trusts.
type Env struct {
	Dir                         string
	ConfigDir, TLSDir, TokenDir string
	ServingCA, Serving          *KeyPair
	TokenCA, Signing            *KeyPair
	Config                      *authconfig.Config
	RefreshKey                  []byte
	opts                        Options
}

// NewEnv writes everything under dir.
func NewEnv(dir string, o Options) (*Env, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if len(o.Hosts) == 0 {
		o.Hosts = []string{"localhost", "127.0.0.1"}
	}
	if o.Issuer == "" {
		o.Issuer = "test-issuer"
	}
	if o.Expiration == 0 {
		o.Expiration = 300
	}
	e := &Env{
		Dir:       dir,
		ConfigDir: filepath.Join(dir, "config"),
		TLSDir:    filepath.Join(dir, "tls"),
		TokenDir:  filepath.Join(dir, "token"),
		ServingCA: NewCA("test serving CA"),
		TokenCA:   NewCA("test token CA"),
		opts:      o,
	}
	e.Serving = e.ServingCA.Issue("front door", EC256, o.Hosts...)
	e.Signing = e.TokenCA.Issue("token signer", o.SigningKind)
	e.RefreshKey = randomKey()
	var acl []authconfig.ACLEntry
	if o.ACL != "" {
		if err := yaml.Unmarshal([]byte(o.ACL), &acl); err != nil {
			return nil, err
		}
	}
	e.Config = &authconfig.Config{
		Server: authconfig.Server{Addr: o.Addr, Certificate: filepath.Join(e.TLSDir, "tls.crt"), Key: filepath.Join(e.TLSDir, "tls.key")},
		Token: authconfig.Token{
			Issuer: o.Issuer, Expiration: o.Expiration,
			Certificate: filepath.Join(e.TokenDir, "tls.crt"), Key: filepath.Join(e.TokenDir, "tls.key"),
		},
		Users:      map[string]*authconfig.User{},
		ACL:        acl,
		Identities: o.Identities,
	}
	for name, u := range o.Users {
		e.Config.Users[name] = &authconfig.User{Password: Hash(u.Password, u.Cost), Labels: u.Labels}
		if name == "" && u.Password == "" {
			e.Config.Users[name].Password = ""
		}
	}
	for _, f := range []func() error{e.WriteConfig, e.writeServing, e.writeSigning, e.writeBundles} {
		if err := f(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// ConfigPath is the --config flag.
func (e *Env) ConfigPath() string { return filepath.Join(e.ConfigDir, authconfig.ConfigFile) }

// RefreshKeyPath is the --refresh-key-file flag.
func (e *Env) RefreshKeyPath() string { return filepath.Join(e.ConfigDir, authconfig.RefreshKeyFile) }

// TokenCABundle is the registry's rootcertbundle.
func (e *Env) TokenCABundle() string { return filepath.Join(e.Dir, "token-ca.crt") }

// ServingCAFile is what clients trust.
func (e *Env) ServingCAFile() string { return filepath.Join(e.Dir, "serving-ca.crt") }

// WriteConfig (re)writes the config volume from e.Config and e.RefreshKey.
func (e *Env) WriteConfig() error {
	y, err := authconfig.Marshal(e.Config)
	if err != nil {
		return err
	}
	key := []byte(base64.StdEncoding.EncodeToString(e.RefreshKey) + "\n")
	return WriteSecretDir(e.ConfigDir, map[string][]byte{authconfig.ConfigFile: y, authconfig.RefreshKeyFile: key})
}

// SetPassword replaces a user's password hash and rewrites the config volume.
func (e *Env) SetPassword(user, password string, cost int) error {
	e.Config.Users[user].Password = Hash(password, cost)
	return e.WriteConfig()
}

// RotateSigning issues a new signing leaf (kind k) from the same token CA and
// swaps the token volume: what the operator does when the leaf nears expiry.
func (e *Env) RotateSigning(k KeyKind) error {
	e.Signing = e.TokenCA.Issue("token signer", k)
	return e.writeSigning()
}

// RotateServing issues a new serving certificate and swaps the TLS volume.
func (e *Env) RotateServing() error {
	return e.RotateServingFor(e.opts.Hosts...)
}

// RotateServingFor is RotateServing with other names: a renewal that adds
// or drops SANs.
func (e *Env) RotateServingFor(hosts ...string) error {
	e.Serving = e.ServingCA.Issue("front door", EC256, hosts...)
	return e.writeServing()
}

func (e *Env) writeServing() error {
	return WriteSecretDir(e.TLSDir, map[string][]byte{"tls.crt": e.Serving.CertPEM(), "tls.key": e.Serving.KeyPEM(), "ca.crt": e.ServingCA.CertPEM()})
}

// writeSigning writes the leaf followed by the token CA, as the operator does.
func (e *Env) writeSigning() error {
	chain := bytes.Join([][]byte{e.Signing.CertPEM(), e.TokenCA.CertPEM()}, nil)
	return WriteSecretDir(e.TokenDir, map[string][]byte{"tls.crt": chain, "tls.key": e.Signing.KeyPEM()})
}

func (e *Env) writeBundles() error {
	if err := os.WriteFile(e.TokenCABundle(), e.TokenCA.CertPEM(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(e.ServingCAFile(), e.ServingCA.CertPEM(), 0o644)
}

// Hash is a bcrypt hash of password at cost (0 means 5, htpasswd -B's default).
func Hash(password string, cost int) string {
	if cost == 0 {
		cost = 5
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		panic(err)
	}
	return string(h)
}

func randomKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return k
}
