package authserver

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address the limiter, the ACL's ip match and the audit log
// attribute a request to. It is the peer address, unless the peer is one of
// the configured trusted proxies (an ingress controller, say): then it is the
// nearest address in X-Forwarded-For that is not a trusted proxy. Anyone can
// write X-Forwarded-For, so it is believed from trusted proxies only, and
// read from the right: each trusted hop appended the address it saw, while
// whatever a client put at the left is unverified.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	ip := peerIP(r.RemoteAddr)
	if !s.trusted(ip) {
		return ip
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return ip // garbage: stop at the last hop that was vouched for
			}
			ip = hop.Unmap()
			if !s.trusted(ip) {
				return ip
			}
		}
	}
	return ip
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func peerIP(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

// ParseCIDRs parses a comma-separated list of CIDRs or single addresses.
func ParseCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR", f)
			}
			out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
