package authserver

import (
	"net"
	"net/netip"
	"sync"
)

// connLimitListener caps the connections one client address (an IPv6 /64)
// may hold open at once. Without it one host could hold every file
// descriptor and megabytes of buffers with connections it never uses; with
// it, it holds at most max, and everyone else still gets in. A connection
// over the cap is closed at once, before the TLS handshake costs anything.
// Trusted proxies are exempt: all their clients share their address.
type connLimitListener struct {
	net.Listener
	max     int
	trusted func(netip.Addr) bool
	refused func()

	mu   sync.Mutex
	open map[netip.Prefix]int
}

func newConnLimitListener(l net.Listener, max int, trusted func(netip.Addr) bool, refused func()) net.Listener {
	if max <= 0 {
		return l
	}
	return &connLimitListener{Listener: l, max: max, trusted: trusted, refused: refused, open: map[netip.Prefix]int{}}
}

func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := peerIP(c.RemoteAddr().String())
		if l.trusted(ip) {
			return c, nil
		}
		k := clientKey(ip)
		l.mu.Lock()
		if l.open[k] >= l.max {
			l.mu.Unlock()
			c.Close()
			l.refused()
			continue
		}
		l.open[k]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: func() { l.release(k) }}, nil
	}
}

func (l *connLimitListener) release(k netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[k]--; l.open[k] <= 0 {
		delete(l.open, k)
	}
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
