package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// "Ready tells the truth", on the real cluster: (1) a static volume the
// registry's user cannot write leaves Ready=False with the registry's own
// error, then Ready=True once fixed; (2) deleting the CA Secret does not
// break a client that trusts only the old CA (every request counted); (3) a
// crash-looping container's reason reaches the Available condition.
// Each of these fails if its behaviour breaks: Ready=True on the unwritable
// volume, any failed pull, or Available without the container's reason.
const (
	nsTruth   = "e2e-truth"
	raTruth   = "truth"
	truthPass = "tru7h-pass"
	truthPV   = "e2e-truth-blobs"
	truthRepo = "truth/probe"
)

func TestReadyTellsTheTruth(t *testing.T) {
	e := loadEnv(t)
	(&journey{env: e, dir: t.TempDir()}).helmInstall(t)
	// A static hostPath volume owned by root, mode 0755: not writable by
	// the registry's uid 65532 (hostPath gets no fsGroup).
	dir := filepath.Join(t.TempDir(), "blobs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e.freshNamespaceWithVolume(t, nsTruth, truthPV, raTruth+"-data", "ReadWriteOnce", dir)
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"namespace": nsTruth, "name": "truth-admin"},
		"stringData": map[string]any{"password": truthPass},
	})
	applyTruth(t, e, "")
	get := func(path string) string {
		out, _ := e.jsonpath(nsTruth, "registryauth/"+raTruth, path)
		return out
	}

	t.Run("unwritable volume: Ready=False saying what to fix", func(t *testing.T) {
		eventually(t, 5*time.Minute, "Verified=False for the unwritable volume", func() error {
			if r := get(`{.status.conditions[?(@.type=="Verified")].reason}`); r != "StorageNotWritable" {
				return fmt.Errorf("Verified reason %q (Ready: %s)", r, get(`{.status.conditions[?(@.type=="Ready")].message}`))
			}
			return nil
		})
		if s := get(`{.status.conditions[?(@.type=="Ready")].status}`); s != "False" {
			t.Errorf("Ready=%s while pushes cannot work", s)
		}
		msg := get(`{.status.conditions[?(@.type=="Ready")].message}`)
		if !strings.Contains(msg, "permission denied") {
			t.Errorf("Ready's message should quote the registry's error: %q", msg)
		}
		t.Logf("Ready: %s", msg)
		// The fix the message calls for: the volume owned by 65532.
		if err := os.Chown(dir, 65532, 65532); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		eventually(t, 3*time.Minute, "Ready=True once the volume is writable", func() error {
			if s := get(`{.status.conditions[?(@.type=="Ready")].status}`); s != "True" {
				return fmt.Errorf("Ready=%s: %s", s, get(`{.status.conditions[?(@.type=="Ready")].message}`))
			}
			return nil
		})
		e.record(t, "volume made writable: self-check to Ready", time.Since(start))
	})

	t.Run("CA Secret deleted: a client trusting the old CA keeps working", func(t *testing.T) {
		host, roots := endpointOf(t, e, nsTruth, raTruth)
		ref, err := name.ParseReference(host + "/" + truthRepo + ":v1")
		if err != nil {
			t.Fatal(err)
		}
		img, err := random.Image(64<<10, 1)
		if err != nil {
			t.Fatal(err)
		}
		opts := clientOpts(roots, "admin", truthPass)
		if err := remote.Write(ref, img, opts...); err != nil {
			t.Fatalf("pushing the probe image: %v", err)
		}
		p := startPulls(ref, opts)
		defer p.stop()
		eventually(t, time.Minute, "pulls before the deletion", func() error {
			if ok, _ := p.since(time.Time{}); ok < 3 {
				return fmt.Errorf("%d pulls so far", ok)
			}
			return nil
		})
		e.kubeOK(t, "-n", nsTruth, "delete", "secret", raTruth+"-ca", "--wait=true")
		deleted := time.Now()
		eventually(t, 2*time.Minute, "the new CA published beside the old", func() error {
			cm := get(`{.status.caConfigMapName}`)
			ca, _ := e.kube("", "-n", nsTruth, "get", "configmap", cm, "-o", `jsonpath={.data.ca\.crt}`)
			if n := strings.Count(ca, "BEGIN CERTIFICATE"); n != 2 {
				return fmt.Errorf("the CA bundle holds %d certificates", n)
			}
			return nil
		})
		// Past the kubelet's Secret refresh, so any certificate change would
		// have reached the front door.
		time.Sleep(90 * time.Second)
		ok, fails := p.since(deleted)
		t.Logf("since the deletion: %d pulls ok, %d failed", ok, len(fails))
		if ok < 20 || len(fails) > 0 {
			for _, f := range fails[:min(3, len(fails))] {
				t.Logf("failure at +%.1fs: %s", f.end.Sub(deleted).Seconds(), f.err)
			}
			t.Errorf("want 0 failed pulls (and a steady flow) through the CA's deletion: %d ok, %d failed", ok, len(fails))
		}
		ev := e.kubeOK(t, "-n", nsTruth, "get", "events", "--field-selector", "reason=ServingCADeleted", "-o", "name")
		if n := len(strings.Fields(ev)); n != 1 {
			t.Errorf("want one ServingCADeleted Warning, got %d", n)
		}
		if s := get(`{.status.conditions[?(@.type=="Ready")].status}`); s != "True" {
			t.Errorf("Ready=%s through a graceful CA rotation", s)
		}
	})

	t.Run("crash-looping container: its reason in Available", func(t *testing.T) {
		// The registry's image as the auth container's: the registry's CLI
		// has no auth-server command, so the container exits at once, again
		// and again.
		registryImage := e.kubeOK(t, "-n", nsTruth, "get", "deployment", raTruth, "-o",
			`jsonpath={.spec.template.spec.containers[?(@.name=="registry")].image}`)
		applyTruth(t, e, registryImage)
		eventually(t, 4*time.Minute, "Available names the crash loop", func() error {
			msg := get(`{.status.conditions[?(@.type=="Available")].message}`)
			if r := get(`{.status.conditions[?(@.type=="Available")].reason}`); r != "PodsFailing" ||
				!strings.Contains(msg, "container auth") || !strings.Contains(msg, "exit code") {
				return fmt.Errorf("Available %s: %s", r, msg)
			}
			return nil
		})
		t.Logf("Available: %s", get(`{.status.conditions[?(@.type=="Available")].message}`))
	})
}

// applyTruth applies the registry; authImage "" keeps the default.
func applyTruth(t *testing.T, e *env, authImage string) {
	t.Helper()
	registry := map[string]any{"storage": map[string]any{"persistentVolumeClaim": map[string]any{
		"size": "1Gi", "storageClassName": "", "volumeName": truthPV,
	}}}
	auth := map[string]any{
		"users": []any{map[string]any{"name": "admin", "passwordSecretRef": map[string]any{"name": "truth-admin"}}},
		"acl":   []any{map[string]any{"match": map[string]any{"account": "admin"}, "actions": []string{"*"}}},
	}
	if authImage != "" {
		auth["image"] = authImage
	}
	e.apply(t, map[string]any{
		"apiVersion": "registryauth.dev/v1alpha1", "kind": "RegistryAuth",
		"metadata": map[string]any{"namespace": nsTruth, "name": raTruth},
		"spec": map[string]any{
			"registry": registry,
			"auth":     auth,
		},
	})
}
