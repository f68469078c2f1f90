package chart

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain keeps helm's cache, config and data in a temporary directory
// rather than the user's home.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chart-test-")
	if err != nil {
		panic(err)
	}
	for _, v := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		os.Setenv(v, filepath.Join(dir, v))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
