// Command probe is what the e2e tests run inside a Pod to reach a registry
// the way any client does: GET /v2/, read the Bearer challenge, then ask the
// realm it names for a token. It prints one JSON object and exits 0 when
// every request got an HTTP answer (whatever its status).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

type result struct {
	Status          int    `json:"status"`
	WWWAuthenticate string `json:"wwwAuthenticate"`
	Realm           string `json:"realm"`
	RealmStatus     int    `json:"realmStatus"`
	GotToken        bool   `json:"gotToken"`
	// With -push: the push of a small random image to that reference, with
	// the same user and password (an in-cluster CI job's push).
	Pushed    bool   `json:"pushed,omitempty"`
	PushError string `json:"pushError,omitempty"`
}

func main() {
	target := flag.String("url", "", "registry base URL, e.g. https://demo.ns.svc:5000")
	caPath := flag.String("ca", "", "PEM CA bundle to trust")
	user := flag.String("user", "", "user for the token request (optional)")
	pwFile := flag.String("password-file", "", "file holding the user's password")
	pushRef := flag.String("push", "", "also push a small random image to this reference (host:port/repo:tag)")
	flag.Parse()
	res, err := probe(*target, *caPath, *user, *pwFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
	if *pushRef != "" {
		if err := push(*pushRef, *caPath, *user, *pwFile); err != nil {
			res.PushError = err.Error()
		} else {
			res.Pushed = true
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func probe(target, caPath, user, pwFile string) (*result, error) {
	client, err := httpClient(caPath)
	if err != nil {
		return nil, err
	}
	resp, err := client.Get(strings.TrimSuffix(target, "/") + "/v2/")
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	res := &result{Status: resp.StatusCode, WWWAuthenticate: resp.Header.Get("WWW-Authenticate")}
	params := challenge(res.WWWAuthenticate)
	res.Realm = params["realm"]
	if res.Realm == "" {
		return res, nil
	}
	u, err := url.Parse(res.Realm)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("service", params["service"])
	u.RawQuery = q.Encode()
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	if user != "" {
		pw, err := os.ReadFile(pwFile)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(user, strings.TrimSpace(string(pw)))
	}
	tr, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("realm %s: %w", res.Realm, err)
	}
	defer tr.Body.Close()
	res.RealmStatus = tr.StatusCode
	var tok struct {
		Token string `json:"token"`
	}
	body, _ := io.ReadAll(io.LimitReader(tr.Body, 1<<20))
	res.GotToken = json.Unmarshal(body, &tok) == nil && tok.Token != ""
	return res, nil
}

// push writes a random one-layer image to ref as user, the password read
// from pwFile (a projected ServiceAccount token, for a CI job).
func push(ref, caPath, user, pwFile string) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		return err
	}
	img, err := random.Image(512, 1)
	if err != nil {
		return err
	}
	client, err := httpClient(caPath)
	if err != nil {
		return err
	}
	return remote.Write(r, img, remote.WithTransport(client.Transport),
		remote.WithAuth(&authn.Basic{Username: user, Password: strings.TrimSpace(string(pw))}))
}

func httpClient(caPath string) (*http.Client, error) {
	pool := x509.NewCertPool()
	if caPath != "" {
		pem, err := os.ReadFile(caPath)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", caPath)
		}
	}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}, nil
}

// challenge parses `Bearer realm="…",service="…",scope="…"`.
func challenge(h string) map[string]string {
	out := map[string]string{}
	_, rest, ok := strings.Cut(h, " ")
	if !ok {
		return out
	}
	for _, part := range splitParams(rest) {
		k, v, ok := strings.Cut(part, "=")
		if ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return out
}

// splitParams splits on commas outside quotes (scopes contain commas).
func splitParams(s string) []string {
	var parts []string
	inQuote, start := false, 0
	for i, c := range s {
		switch {
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
