package authserver

import (
	"context"
	"log/slog"
	"net/netip"
)

// decision is one audit record: who asked for what from where, and what was
// granted. It never holds a password or a token.
type decision struct {
	result    string // issued, denied
	reason    string // why denied, or why a scope got nothing
	grant     string
	user      string
	client    netip.Addr
	clientID  string
	service   string
	requested []Scope
	granted   []ResourceActions
	refresh   bool
	// identity that admitted a workload token, or why a token was refused.
	identity, identityError string
}

func (s *Server) auditDecision(ctx context.Context, d *decision) {
	req := make([]string, len(d.requested))
	for i, sc := range d.requested {
		req[i] = sc.String()
	}
	got := make([]string, len(d.granted))
	for i, g := range d.granted {
		got[i] = Scope{Type: g.Type, Class: g.Class, Name: g.Name, Actions: g.Actions}.String()
	}
	level := slog.LevelInfo
	if d.result != "issued" {
		level = slog.LevelWarn
	}
	s.audit.LogAttrs(ctx, level, "token request",
		slog.String("decision", d.result),
		slog.String("reason", d.reason),
		slog.String("grant", d.grant),
		slog.String("user", d.user),
		slog.String("client", d.client.String()),
		slog.String("client_id", d.clientID),
		slog.String("service", d.service),
		slog.Any("requested", req),
		slog.Any("granted", got),
		slog.Bool("refresh_token", d.refresh),
		slog.String("identity", d.identity),
		slog.String("identity_error", d.identityError),
	)
}
