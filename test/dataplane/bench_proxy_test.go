package dataplane

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	oci "github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	proxyBenchLayers    = 5
	proxyBenchLayerSize = 2 << 20 // 5 × 2 MiB of random (incompressible) data
)

// BenchmarkProxyOverhead: skopeo pulls, then pushes, one 10 MiB, 5-layer
// image from registry v3 directly (TLS, no auth) and through the front door
// (TLS, token auth, proxy to the plain-HTTP registry). Each op does one
// transfer of each kind, alternating which goes first, so both see the same
// machine load. make bench runs it with a fixed count; figures are medians.
func BenchmarkProxyOverhead(b *testing.B) {
	need(b, "skopeo")
	direct := newStack(b, direct)
	front := newStack(b, frontDoor)
	dUser, fUser := direct.skopeo(b), front.skopeo(b)
	if out, err := fUser.login(b, front.host, "admin", "badmin"); err != nil {
		b.Fatalf("skopeo login: %v\n%s", err, out)
	}
	src := imageLayout(b)
	for _, st := range []struct {
		s *stack
		u *skopeoUser
	}{{direct, dUser}, {front, fUser}} {
		if out, err := st.u.copy(b, src, "docker://"+st.s.ref("bench/img", "v1")); err != nil {
			b.Fatalf("seeding %s: %v\n%s", st.s.host, err, out)
		}
	}
	type side struct {
		name string
		s    *stack
		u    *skopeoUser
	}
	sides := []side{{"direct", direct, dUser}, {"front-door", front, fUser}}
	summary := map[string][2]float64{}
	for _, op := range []string{"pull", "push"} {
		b.Run(op, func(b *testing.B) {
			times := map[string][]time.Duration{}
			for i := range b.N {
				order := sides
				if i%2 == 1 { // alternate who goes first: no side always gets the warmer caches
					order = []side{sides[1], sides[0]}
				}
				for _, sd := range order {
					var from, to string
					b.StopTimer()
					if op == "pull" {
						from, to = "docker://"+sd.s.ref("bench/img", "v1"), "dir:"+filepath.Join(b.TempDir(), "img")
					} else {
						from, to = imageLayout(b), "docker://"+sd.s.ref(fmt.Sprintf("bench/push%d", i), "v1")
					}
					b.StartTimer()
					t0 := time.Now()
					if out, err := sd.u.copy(b, from, to); err != nil {
						b.Fatalf("%s %s: %v\n%s", op, sd.name, err, out)
					}
					times[sd.name] = append(times[sd.name], time.Since(t0))
				}
			}
			d, f := median(times["direct"]), median(times["front-door"])
			summary[op] = [2]float64{d, f}
			b.ReportMetric(d, "direct-s")
			b.ReportMetric(f, "front-door-s")
			b.ReportMetric(f/d, "ratio")
		})
	}
	if len(summary) == 2 {
		fmt.Printf("\n| skopeo copy, 10 MiB / 5 layers | direct (TLS, no auth) | front door (TLS + token auth) | ratio |\n|---|---|---|---|\n")
		for _, op := range []string{"pull", "push"} {
			r := summary[op]
			fmt.Printf("| %s | %.3f s | %.3f s | %.3f |\n", op, r[0], r[1], r[1]/r[0])
		}
	}
}

// imageLayout writes a fresh random image (OCI media types, which skopeo's
// OCI layout reader requires) as an OCI layout and returns its reference.
func imageLayout(b testing.TB) string {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for range proxyBenchLayers {
		l, err := random.Layer(proxyBenchLayerSize, types.OCILayer)
		if err != nil {
			b.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			b.Fatal(err)
		}
	}
	dir := filepath.Join(b.TempDir(), "layout")
	p, err := oci.Write(dir, empty.Index)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.AppendImage(img, oci.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		b.Fatal(err)
	}
	return "oci:" + dir + ":v1"
}

func median(d []time.Duration) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Seconds()
}
