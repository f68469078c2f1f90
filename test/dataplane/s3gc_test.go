package dataplane

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"sigs.k8s.io/yaml"
)

const gcReason = "garbage collection is running"

// TestS3GarbageCollectionWindow: registry v3.1.2 on a real S3 server (the
// storage section the operator renders) behind the front door. Two images
// share a layer; admin (ACL "*") deletes one's manifest, alice (push but no
// delete) may not. In maintenance mode distribution's own garbage-collect
// runs against the same bucket while clients pull: no pull fails, pushes get
// 503 + Retry-After and a body saying why. Afterwards the deleted image's
// own blobs are gone from the server's disk (bytes freed), every blob of the
// tagged image is still there and pullable, and pushes work again.
func TestS3GarbageCollectionWindow(t *testing.T) {
	s3 := startS3(t)
	marker := filepath.Join(t.TempDir(), "maintenance")
	s := newStack(t, frontDoor, func(_ testing.TB, s *stack) {
		s.storage, s.regEnv = s3.registryStorage(t)
		s.extra = append(s.extra, "--maintenance-file="+marker, "--maintenance-retry-after=2s")
	})
	admin, alice := s.crane("admin", "badmin"), s.crane("alice", "alice-pass")

	// keep and gone share their base layer; each has one of its own.
	base, err := random.Layer(512<<10, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	image := func() v1.Image {
		own, err := random.Layer(1<<20, types.DockerLayer)
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(emptyBase(t), base, own)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	keep, gone := image(), image()
	for ref, img := range map[string]v1.Image{"admin/keep:v1": keep, "admin/gone:v1": gone} {
		if err := remote.Write(mustRef(s.host+"/"+ref), img, admin.opts()...); err != nil {
			t.Fatalf("push %s to S3 through the front door: %v", ref, err)
		}
	}
	if _, err := alice.push(t, "alice/app", "v1"); err != nil {
		t.Fatalf("alice pushes her own repository: %v", err)
	}
	aliceDigest, err := alice.pull("alice/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	wantDenied(t, "alice deletes a manifest (her ACL has push, not delete)",
		remote.Delete(mustRef(s.host+"/alice/app@"+aliceDigest.String()), alice.opts()...))

	keepBlobs, goneOwn := blobsOf(t, keep), blobsOf(t, gone)
	for h := range keepBlobs {
		delete(goneOwn, h) // the shared base layer must survive
	}
	if len(goneOwn) != 3 { // manifest, config, own layer
		t.Fatalf("gone has %d blobs of its own, want 3", len(goneOwn))
	}
	for h := range goneOwn {
		if _, err := os.Stat(s3.blobPath(h)); err != nil {
			t.Fatalf("blob %s not on the S3 server after the push: %v", h, err)
		}
	}
	goneDigest, _ := gone.Digest()
	if err := remote.Delete(mustRef(s.host+"/admin/gone@"+goneDigest.String()), admin.opts()...); err != nil {
		t.Fatalf("admin deletes gone's manifest through the API: %v", err)
	}
	before := s3.bytes(t)

	// Maintenance on; the collector starts once the front door reports it
	// and no write in flight.
	if err := os.WriteFile(marker, []byte(gcReason+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitMaintenance(t, s, true)

	var pulls, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := admin.pull("admin/keep", "v1"); err != nil {
					failed.Add(1)
					t.Errorf("pull during GC: %v", err)
				}
				pulls.Add(1)
			}
		}()
	}
	_, err = admin.push(t, "admin/during", "v1")
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("push during GC: %v, want 503 from the front door", err)
	}
	status, retry, body := rawUploadStart(t, s, "admin/during")
	if status != http.StatusServiceUnavailable || retry != "2" || !strings.Contains(body, gcReason) || !strings.Contains(body, `"UNAVAILABLE"`) {
		t.Errorf("blob upload during GC: %d, Retry-After %q, body %s; want 503, 2, a body saying %q", status, retry, body, gcReason)
	}

	gcStart := time.Now()
	gcOut := runGC(t, s3)
	gcTook := time.Since(gcStart)
	// Let the pullers overlap the sweep's end too, then stop them.
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if pulls.Load() == 0 {
		t.Fatal("no pull ran during the GC window")
	}

	after := s3.bytes(t)
	t.Logf("GC on S3: %s, %d bytes freed (%d -> %d on the server's disk), %d pulls during the window, %d failed; %d bytes of gone's own blobs",
		gcTook.Round(time.Millisecond), before-after, before, after, pulls.Load(), failed.Load(), sizeOf(t, gone, goneOwn))
	if freed := before - after; freed < sizeOf(t, gone, goneOwn) {
		t.Errorf("GC freed %d bytes, want at least the %d of gone's own blobs\n%s", freed, sizeOf(t, gone, goneOwn), gcOut)
	}
	for h := range goneOwn {
		if _, err := os.Stat(s3.blobPath(h)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("blob %s of the deleted manifest still on the server after GC (%v)", h, err)
		}
	}
	for h := range keepBlobs {
		if _, err := os.Stat(s3.blobPath(h)); err != nil {
			t.Errorf("blob %s of the tagged image lost by GC: %v", h, err)
		}
	}
	if d, err := admin.pull("admin/keep", "v1"); err != nil {
		t.Errorf("pull of the tagged image (every blob) after GC: %v", err)
	} else if want, _ := keep.Digest(); d != want {
		t.Errorf("pulled %s, pushed %s", d, want)
	}
	if _, err := alice.pull("alice/app", "v1"); err != nil {
		t.Errorf("alice's tagged image after GC: %v", err)
	}

	// Maintenance off: writes are accepted again.
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	waitMaintenance(t, s, false)
	if _, err := admin.push(t, "admin/during", "v1"); err != nil {
		t.Errorf("push after GC: %v", err)
	}
	if got := s.metric(t, "registry_auth_maintenance_refused_writes_total"); got < 2 {
		t.Errorf("refused writes counted: %v, want >= 2", got)
	}
}

func emptyBase(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// blobsOf lists the sha256 hex of img's manifest, config and layers.
func blobsOf(t *testing.T, img v1.Image) map[string]bool {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	out := map[string]bool{d.Hex: true, m.Config.Digest.Hex: true}
	for _, l := range m.Layers {
		out[l.Digest.Hex] = true
	}
	return out
}

// sizeOf adds the sizes of those of img's blobs listed in hexes.
func sizeOf(t *testing.T, img v1.Image, hexes map[string]bool) int64 {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := img.RawManifest()
	d, _ := img.Digest()
	var n int64
	for _, desc := range append([]v1.Descriptor{m.Config, {Digest: d, Size: int64(len(raw))}}, m.Layers...) {
		if hexes[desc.Digest.Hex] {
			n += desc.Size
		}
	}
	return n
}

// waitMaintenance polls the monitoring port until the front door reports
// maintenance on with no write in flight (or off).
func waitMaintenance(t *testing.T, s *stack, on bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + s.monitor + "/maintenance")
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			On             bool
			InflightWrites int64
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err == nil && st.On == on && st.InflightWrites == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("front door maintenance %+v (%v), want on=%v with nothing in flight", st, err, on)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawUploadStart opens a blob upload as admin and returns what came back.
func rawUploadStart(t *testing.T, s *stack, repo string) (int, string, string) {
	t.Helper()
	bearer := s.bearer(t, "repository:"+repo+":pull,push")
	req, _ := http.NewRequest(http.MethodPost, "https://"+s.host+"/v2/"+repo+"/blobs/uploads/", nil)
	req.Header.Set("Authorization", bearer)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: s.tls.Clone()}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

// runGC runs distribution's own collector (the same registry binary) on
// the same bucket, as the operator's GC Job would.
func runGC(t *testing.T, s3 *s3Server) string {
	t.Helper()
	st, env := s3.registryStorage(t)
	y, err := yaml.Marshal(map[string]any{"version": 0.1, "log": map[string]any{"level": "info"}, "storage": st})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "gc.yml")
	if err := os.WriteFile(cfg, y, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(registryBin, "garbage-collect", cfg)
	cmd.Env = append(os.Environ(), append(env, "OTEL_TRACES_EXPORTER=none")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("registry garbage-collect: %v\n%s", err, out)
	}
	return string(out)
}
