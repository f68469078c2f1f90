package dataplane

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// containerdResolver is containerd's docker resolver as one user. With
// credentials it fetches tokens with an OAuth2 POST first.
func (s *stack) containerdResolver(user, password string) remotes.Resolver {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: s.tls.Clone()}}
	auth := docker.NewDockerAuthorizer(docker.WithAuthClient(client),
		docker.WithAuthCreds(func(string) (string, string, error) { return user, password, nil }))
	return docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(docker.WithAuthorizer(auth), docker.WithClient(client)),
	})
}

// blob is one piece of an image, read whole (test images are small).
type blob struct {
	desc ocispec.Descriptor
	data []byte
}

// pullAll resolves ref and fetches manifest, config and layers, checking
// every digest.
func pullAll(ctx context.Context, t *testing.T, r remotes.Resolver, ref string) (manifest blob, rest []blob) {
	t.Helper()
	name, desc, err := r.Resolve(ctx, ref)
	if err != nil {
		t.Fatalf("resolve %s: %v", ref, err)
	}
	f, err := r.Fetcher(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	get := func(d ocispec.Descriptor) blob {
		rc, err := f.Fetch(ctx, d)
		if err != nil {
			t.Fatalf("fetch %s: %v", d.Digest, err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil || digest.FromBytes(data) != d.Digest {
			t.Fatalf("blob %s: %v (got %s)", d.Digest, err, digest.FromBytes(data))
		}
		return blob{d, data}
	}
	manifest = get(desc)
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest.data, &m); err != nil {
		t.Fatal(err)
	}
	rest = append(rest, get(m.Config))
	for _, l := range m.Layers {
		rest = append(rest, get(l))
	}
	return manifest, rest
}

// pushAll pushes blobs then the manifest to ref.
func pushAll(ctx context.Context, r remotes.Resolver, ref string, manifest blob, rest []blob) error {
	p, err := r.Pusher(ctx, ref)
	if err != nil {
		return err
	}
	for _, b := range append(rest, manifest) {
		w, err := p.Push(ctx, b.desc)
		if errdefs.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := w.Write(b.data); err != nil {
			w.Close()
			return err
		}
		if err := w.Commit(ctx, b.desc.Size, b.desc.Digest); err != nil && !errdefs.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

func TestContainerdResolver(t *testing.T) {
	s := newStack(t, frontDoor)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	want, err := s.crane("admin", "badmin").push(t, "library/base", "v1")
	if err != nil {
		t.Fatal(err)
	}

	alice := s.containerdResolver("alice", "alice-pass")
	// library/* is not alice's: the resolver must be refused...
	if _, _, err := alice.Resolve(ctx, s.ref("library/base", "v1")); err == nil {
		t.Error("alice resolved library/base, which the ACL does not grant her")
	}
	// ...but a puller may read it, and alice may copy it into her namespace.
	manifest, rest := pullAll(ctx, t, s.containerdResolver("puller", "pull-only-pass"), s.ref("library/base", "v1"))
	if manifest.desc.Digest.String() != want.String() {
		t.Fatalf("pulled %s, pushed %s", manifest.desc.Digest, want)
	}
	if err := pushAll(ctx, alice, s.ref("alice/copy", "v1"), manifest, rest); err != nil {
		t.Fatalf("alice push to alice/*: %v", err)
	}
	if got, err := s.crane("alice", "alice-pass").pull("alice/copy", "v1"); err != nil || got != want {
		t.Errorf("pushed image reads back as %v %v", got, err)
	}
	if err := pushAll(ctx, s.containerdResolver("puller", "pull-only-pass"), s.ref("library/base", "v2"), manifest, rest); err == nil {
		t.Error("the pull-only user pushed")
	}
	if _, _, err := s.containerdResolver("alice", "nope").Resolve(ctx, s.ref("alice/copy", "v1")); err == nil {
		t.Error("wrong password resolved")
	}
	// containerd fetched its tokens with the OAuth2 password grant (POST).
	if n := s.metric(t, `registry_auth_tokens_issued_total{grant="password"}`); n < 2 {
		t.Errorf("tokens issued by POST grant_type=password: %v, want several", n)
	}
}
