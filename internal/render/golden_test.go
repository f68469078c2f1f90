package render

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// update rewrites the golden files: go test ./internal/render -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got (an object, or raw bytes) with testdata/<name>.golden.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	var data []byte
	switch v := got.(type) {
	case []byte:
		data = v
	default:
		var err error
		if data, err = yaml.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(data)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got; run with -update if intended):\n%s", path, diff)
	}
}
