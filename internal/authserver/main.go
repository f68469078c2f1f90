package authserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Main runs the auth-server subcommand and returns the process exit code.
func Main(args []string) int {
	return run(args, os.Stderr)
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("auth-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := Options{}
	fs.StringVar(&o.ConfigPath, "config", "/etc/registry-auth/config/auth_config.yml", "docker_auth-compatible config file")
	fs.StringVar(&o.Upstream, "upstream", "", "registry to proxy to, e.g. http://127.0.0.1:5001; empty serves the token endpoint only")
	fs.StringVar(&o.MonitoringAddr, "monitoring-addr", ":9090", "address for /healthz, /readyz and /metrics")
	fs.StringVar(&o.RefreshKeyPath, "refresh-key-file", "", "file with the key that signs refresh tokens (shared by all replicas)")
	fs.DurationVar(&o.ReloadInterval, "reload-interval", time.Second, "how often to check the files for changes")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", 25*time.Second, "how long in-flight requests may finish after SIGTERM")
	fs.DurationVar(&o.IdleTimeout, "proxy-idle-timeout", 5*time.Minute, "cut a proxied transfer after this long without a byte")
	fs.DurationVar(&o.CacheTTL, "credential-cache-ttl", 2*time.Minute, "how long a verified password is remembered (0 disables)")
	fs.StringVar(&o.MaintenanceFile, "maintenance-file", "", "while this file exists, writes through the front door get 503 + Retry-After (garbage collection); its first line is the reason shown")
	fs.DurationVar(&o.MaintenanceRetryAfter, "maintenance-retry-after", DefaultMaintenanceRetryAfter, "Retry-After given to writes refused in maintenance")
	fs.StringVar(&o.StorageDir, "storage-dir", "", "the registry's storage, mounted read-only: /metrics reports its filesystem's used and total bytes")
	fs.DurationVar(&o.RefreshTokenTTL, "refresh-token-ttl", 30*24*time.Hour, "lifetime of refresh tokens")
	fs.IntVar(&o.MaxConnsPerClient, "max-conns-per-client", 256, "open connections one client address (IPv6: /64) may hold; trusted proxies are exempt; 0 = no cap")
	fs.IntVar(&o.BcryptCost, "bcrypt-cost", DefaultBcryptCost, "the bcrypt cost every user's hash must have; users with another cost cannot log in")
	trusted := fs.String("trusted-proxies", "", "comma-separated CIDRs of proxies whose X-Forwarded-For names the client (e.g. the ingress controller's pods); empty trusts none")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "auth-server: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var err error
	if o.TrustedProxies, err = ParseCIDRs(*trusted); err != nil {
		fmt.Fprintf(stderr, "auth-server: --trusted-proxies: %v\n", err)
		return 2
	}
	if o.BcryptCost < bcrypt.MinCost || o.BcryptCost > bcrypt.MaxCost {
		fmt.Fprintf(stderr, "auth-server: --bcrypt-cost must be between %d and %d\n", bcrypt.MinCost, bcrypt.MaxCost)
		return 2
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "auth-server: --log-level: %v\n", err)
		return 2
	}
	if o.ReloadInterval <= 0 || o.DrainTimeout <= 0 || o.RefreshTokenTTL <= 0 {
		fmt.Fprintln(stderr, "auth-server: --reload-interval, --drain-timeout and --refresh-token-ttl must be positive")
		return 2
	}
	o.Logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lv}))
	if os.Getenv("GOGC") == "" {
		// Each token allocates ~25 KiB while the live heap is a few MiB: with
		// the default the collector would run every ~200 tokens. 400 trades
		// ~20 MiB of memory for a fifth of that GC work.
		debug.SetGCPercent(400)
	}

	s, err := New(o)
	if err != nil {
		o.Logger.Error("cannot start", "error", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := s.Run(ctx); err != nil {
		o.Logger.Error("server failed", "error", err)
		return 1
	}
	o.Logger.Info("stopped")
	return 0
}
