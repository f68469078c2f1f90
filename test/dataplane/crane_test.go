package dataplane

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// craneClient is go-containerregistry (the library behind crane) as one user.
type craneClient struct {
	s    *stack
	auth authn.Authenticator
}

func (s *stack) crane(user, password string) *craneClient {
	a := authn.Anonymous
	if user != "" {
		a = authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	}
	return &craneClient{s: s, auth: a}
}

func (c *craneClient) opts() []remote.Option {
	return []remote.Option{remote.WithAuth(c.auth), remote.WithTransport(&http.Transport{TLSClientConfig: c.s.tls.Clone()})}
}

func (c *craneClient) push(t *testing.T, repo, tag string) (v1.Hash, error) {
	t.Helper()
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d, remote.Write(mustRef(c.s.ref(repo, tag)), img, c.opts()...)
}

func (c *craneClient) pull(repo, tag string) (v1.Hash, error) {
	img, err := remote.Image(mustRef(c.s.ref(repo, tag)), c.opts()...)
	if err != nil {
		return v1.Hash{}, err
	}
	// Fetch the layers too: blob GETs go through the token's pull grant.
	layers, err := img.Layers()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return v1.Hash{}, err
		}
		rc.Close()
	}
	return img.Digest()
}

// wantDenied asserts err is the registry refusing (401 or 403), not some
// other failure that would make a denial test pass for the wrong reason.
func wantDenied(t *testing.T, what string, err error) {
	t.Helper()
	var te *transport.Error
	if err == nil {
		t.Errorf("%s: allowed, want denied", what)
		return
	}
	if !errors.As(err, &te) || (te.StatusCode != 401 && te.StatusCode != 403) {
		t.Errorf("%s: %v, want a 401/403 from the registry", what, err)
	}
}

func TestCrane(t *testing.T) {
	for _, l := range []layout{frontDoor, staticRealm, registry28} {
		t.Run(l.String(), func(t *testing.T) {
			s := newStack(t, l)
			admin := s.crane("admin", "badmin")

			want, err := admin.push(t, "library/app", "v1")
			if err != nil {
				t.Fatalf("admin push: %v", err)
			}
			if got, err := admin.pull("library/app", "v1"); err != nil || got != want {
				t.Fatalf("admin pull: %v %v, want %v", got, err, want)
			}

			puller := s.crane("puller", "pull-only-pass")
			if got, err := puller.pull("library/app", "v1"); err != nil || got != want {
				t.Errorf("puller pull: %v %v", got, err)
			}
			_, err = puller.push(t, "library/app", "v2")
			wantDenied(t, "puller push", err)

			_, err = s.crane("admin", "wrong").pull("library/app", "v1")
			wantDenied(t, "wrong password", err)
			if err == nil || !strings.Contains(err.Error(), "/auth") || !strings.Contains(err.Error(), "UNAUTHORIZED: invalid username or password") {
				t.Errorf("wrong password should be refused by the token endpoint: %v", err)
			}

			// Anonymous: public/* only, pull only.
			if _, err := admin.push(t, "public/base", "1"); err != nil {
				t.Fatal(err)
			}
			anon := s.crane("", "")
			if _, err := anon.pull("public/base", "1"); err != nil {
				t.Errorf("anonymous pull of public/*: %v", err)
			}
			_, err = anon.pull("library/app", "v1")
			wantDenied(t, "anonymous pull of library/*", err)
			_, err = anon.push(t, "public/base", "2")
			wantDenied(t, "anonymous push", err)

			// ${account}/*: own namespace only.
			alice := s.crane("alice", "alice-pass")
			if _, err := alice.push(t, "alice/tool", "1"); err != nil {
				t.Errorf("alice push to alice/*: %v", err)
			}
			_, err = alice.push(t, "carol/tool", "1")
			wantDenied(t, "alice push to carol/*", err)

			// Label rule: teams/${labels:team}/*.
			carol := s.crane("carol", "carol-pass")
			if _, err := carol.push(t, "teams/red/svc", "1"); err != nil {
				t.Errorf("carol push to her team: %v", err)
			}
			_, err = carol.push(t, "teams/blue/svc", "1")
			wantDenied(t, "carol push to another team", err)
			_, err = alice.pull("teams/red/svc", "1")
			wantDenied(t, "alice pull from a team she is not in", err)

			// registry:catalog:* is for admin only.
			repos, err := remote.Catalog(context.Background(), mustRef(s.ref("x", "y")).Context().Registry, admin.opts()...)
			if err != nil || !slices.Contains(repos, "library/app") {
				t.Errorf("admin catalog: %v %v", repos, err)
			}
			_, err = remote.Catalog(context.Background(), mustRef(s.ref("x", "y")).Context().Registry, puller.opts()...)
			wantDenied(t, "puller catalog", err)

			// Nothing a denied push attempted landed.
			tags, err := remote.List(mustRef(s.ref("library/app", "v1")).Context(), admin.opts()...)
			if err != nil || !slices.Equal(tags, []string{"v1"}) {
				t.Errorf("library/app tags %v %v, want only v1", tags, err)
			}
			if n := s.metric(t, `registry_auth_denied_total{reason="bad_credentials"}`); n < 1 {
				t.Errorf("denied{bad_credentials} = %v", n)
			}
		})
	}
}

func mustRef(s string) name.Reference {
	r, err := name.ParseReference(s)
	if err != nil {
		panic(err)
	}
	return r
}
