package authserver

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestMainFlags(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"--no-such-flag"}, &out); code != 2 || !strings.Contains(out.String(), "no-such-flag") {
		t.Errorf("unknown flag: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"--config=" + filepath.Join(t.TempDir(), "missing.yml"), "--monitoring-addr=127.0.0.1:0"}, &out); code != 1 || !strings.Contains(out.String(), "cannot start") {
		t.Errorf("missing config: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"--log-level=loud"}, &out); code != 2 {
		t.Errorf("bad log level: exit %d", code)
	}
	out.Reset()
	env := newTestServer(t, classic).env
	if code := run([]string{"--config=" + env.ConfigPath(), "--upstream=ftp://x", "--monitoring-addr=127.0.0.1:0"}, &out); code != 1 || !strings.Contains(out.String(), "want http://host:port") {
		t.Errorf("bad upstream: exit %d, %q", code, out.String())
	}
}
