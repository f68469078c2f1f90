package identity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds on what an issuer may send us.
const (
	maxDocumentBytes = 1 << 20
	maxKeys          = 100
	fetchTimeout     = 10 * time.Second
)

// keySet is an issuer's JWKS, found through its discovery document and
// refreshed: when older than maxAge (so a removed key stops verifying), and
// when a token names a kid we do not have (so a new key verifies at once),
// but not more often than minInterval (so junk kids cannot make us hammer
// the issuer). A failed refresh keeps the old keys until they are
// 2*maxAge old: an issuer outage does not stop logins at once, a long one
// does.
type keySet struct {
	issuer      string
	client      *http.Client
	maxAge      time.Duration
	minInterval time.Duration
	now         func() time.Time

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time // last successful fetch
	tried   time.Time // last attempt
}

// lookup returns the keys that may have signed a token with this kid (all
// keys when kid is empty).
func (k *keySet) lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	var refreshErr error
	if now.Sub(k.fetched) >= k.maxAge && now.Sub(k.tried) >= k.minInterval {
		refreshErr = k.refresh(ctx, now)
	}
	if now.Sub(k.fetched) >= 2*k.maxAge {
		if refreshErr == nil {
			refreshErr = errors.New("no fresh keys")
		}
		return nil, fmt.Errorf("issuer %s: keys unavailable: %w", k.issuer, refreshErr)
	}
	if found := k.match(kid); len(found) > 0 {
		return found, nil
	}
	if now.Sub(k.tried) >= k.minInterval {
		if err := k.refresh(ctx, now); err != nil {
			return nil, fmt.Errorf("issuer %s: refreshing keys: %w", k.issuer, err)
		}
		if found := k.match(kid); len(found) > 0 {
			return found, nil
		}
	}
	return nil, fmt.Errorf("issuer %s: no signing key with kid %q", k.issuer, kid)
}

func (k *keySet) match(kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range k.keys {
		if kid == "" || key.KeyID == kid {
			out = append(out, key)
		}
	}
	return out
}

func (k *keySet) refresh(ctx context.Context, now time.Time) error {
	k.tried = now
	// Not the caller's cancellation: a client that hangs up at once must
	// not fail the fetch and so block refreshes for minInterval (a cheap
	// way to keep a rotated key from verifying).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := k.getJSON(ctx, strings.TrimSuffix(k.issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	// The pinned issuer: a discovery document naming another issuer is
	// refused (OpenID Connect Discovery 1.0, section 4.3).
	if disc.Issuer != k.issuer {
		return fmt.Errorf("discovery names issuer %q, want %q", disc.Issuer, k.issuer)
	}
	if u, err := url.Parse(disc.JWKSURI); err != nil || u.Scheme != "https" {
		return fmt.Errorf("discovery: jwks_uri %q is not https", disc.JWKSURI)
	}
	var set jose.JSONWebKeySet
	if err := k.getJSON(ctx, disc.JWKSURI, &set); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, key := range set.Keys {
		// Public signing keys only: a symmetric or private key in a JWKS
		// is a misconfiguration we will not sign-check with.
		if key.Use != "" && key.Use != "sig" || !key.Valid() || !key.IsPublic() {
			continue
		}
		if _, sym := key.Key.([]byte); sym {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) > maxKeys {
		return fmt.Errorf("jwks: %d keys, at most %d", len(keys), maxKeys)
	}
	k.keys, k.fetched = keys, now
	return nil
}

func (k *keySet) getJSON(ctx context.Context, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxDocumentBytes {
		return fmt.Errorf("GET %s: larger than %d bytes", u, maxDocumentBytes)
	}
	return json.Unmarshal(body, into)
}

// httpClient trusts caPEM alone when given (the system roots otherwise) and
// follows redirects only to https.
func httpClient(caPEM string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, errors.New("ca_pem holds no PEM certificate")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{
		Transport: tr,
		Timeout:   fetchTimeout,
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if r.URL.Scheme != "https" || len(via) > 3 {
				return errors.New("redirect refused")
			}
			return nil
		},
	}, nil
}
