package authserver

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// watch reloads when any file the state came from changes. Kubernetes
// updates a Secret volume by swapping a "..data" symlink, so the file names
// stay and what they resolve to changes. Polling os.Stat (which follows the
// symlinks) every ReloadInterval sees every such swap, an in-place edit, or a
// file that disappears, with no inotify watches to re-arm after a swap, no
// event storms, and the same behaviour on any filesystem; for a handful of
// files checked every second or two it costs nothing measurable.
func (s *Server) watch(ctx context.Context) {
	t := time.NewTicker(s.opts.ReloadInterval)
	defer t.Stop()
	last := fingerprint(s.state.Load().watched)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fp := fingerprint(s.state.Load().watched)
		if fp == last {
			continue
		}
		last = fp
		if err := s.Reload(); err == nil {
			// The new config may name other files: watch those from now on.
			last = fingerprint(s.state.Load().watched)
		}
	}
}

// Reload loads every file again. A config that does not load is rejected
// (logged and counted) and the previous one keeps serving.
func (s *Server) Reload() error {
	old := s.state.Load()
	st, err := loadState(s.opts.ConfigPath, s.opts.RefreshKeyPath, s.fallbackKey, s.opts.BcryptCost)
	if err != nil {
		s.metrics.reloads.WithLabelValues("failure").Inc()
		s.metrics.configOK.Set(0)
		s.log.Error("rejected changed config; still serving the previous one", "error", err)
		return err
	}
	s.install(st)
	s.metrics.reloads.WithLabelValues("success").Inc()
	s.log.Info("reloaded config", "users", len(st.users), "acl_rules", len(st.acl.rules),
		"token_kid", st.signer.kid, "token_kid_changed", st.signer.kid != old.signer.kid)
	if st.addr != old.addr {
		s.log.Warn("server.addr changed; the listener moves only on restart", "listening", old.addr, "configured", st.addr)
	}
	return nil
}

// fingerprint identifies the current contents of files by what stat says.
func fingerprint(files []string) string {
	var b strings.Builder
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			fmt.Fprintf(&b, "%s:missing;", f)
			continue
		}
		var ino uint64
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = sys.Ino
		}
		fmt.Fprintf(&b, "%s:%d:%d:%d;", f, ino, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}
