package app

import (
	"log/slog"
	"net"
	"net/netip"
	gosync "sync"
	"time"
)

// addrLimitLogEvery is the least time between two "address at its
// connection cap" warnings, so that a client hammering the cap cannot
// flood the log; the warning counts the connections refused meanwhile.
const addrLimitLogEvery = time.Minute

// addrLimitListener caps the concurrent connections from one source IP
// address (limits.max_connections_per_address): a connection over the cap
// is closed as soon as it is accepted, before TLS or HTTP see it, and
// Accept goes on with the next one. The port is ignored; IPv4-mapped IPv6
// addresses count as their IPv4 address. A connection whose remote address
// cannot be read is not counted.
type addrLimitListener struct {
	net.Listener
	max int
	log *slog.Logger
	now func() time.Time

	mu      gosync.Mutex
	open    map[netip.Addr]int // live connections per address; no zero entries
	lastLog time.Time          // last warning
	refused int                // connections refused since the last warning
}

// limitPerAddress wraps l so that each source address holds at most n
// connections at once; n must be at least 1.
func limitPerAddress(l net.Listener, n int, log *slog.Logger) *addrLimitListener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &addrLimitListener{Listener: l, max: n, log: log, now: time.Now, open: map[netip.Addr]int{}}
}

// Accept returns the next connection whose address is under its cap.
func (l *addrLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		a, ok := remoteIP(c)
		if !ok {
			return c, nil
		}
		if !l.take(a) {
			_ = c.Close()
			continue
		}
		return &addrLimitConn{Conn: c, release: func() { l.release(a) }}, nil
	}
}

// take counts one more connection from a, or reports false (and maybe
// logs) when a is at its cap.
func (l *addrLimitListener) take(a netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a] < l.max {
		l.open[a]++
		return true
	}
	l.refused++
	if now := l.now(); now.Sub(l.lastLog) >= addrLimitLogEvery {
		l.log.Warn("app: connection refused: address at its connection cap (limits.max_connections_per_address)",
			"addr", a.String(), "max", l.max, "refused_since_last_warning", l.refused)
		l.lastLog, l.refused = now, 0
	}
	return false
}

func (l *addrLimitListener) release(a netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a] <= 1 {
		delete(l.open, a)
		return
	}
	l.open[a]--
}

// held reports how many connections address a holds (for tests).
func (l *addrLimitListener) held(a netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[a]
}

// remoteIP is the connection's source IP address without port or zone,
// IPv4-mapped addresses unmapped.
func remoteIP(c net.Conn) (netip.Addr, bool) {
	ra := c.RemoteAddr()
	if ta, ok := ra.(*net.TCPAddr); ok {
		a := ta.AddrPort().Addr()
		return a.Unmap().WithZone(""), a.IsValid()
	}
	if ra == nil {
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(ra.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap().WithZone(""), true
}

// addrLimitConn gives its address's slot back on the first Close.
type addrLimitConn struct {
	net.Conn
	once    gosync.Once
	release func()
}

func (c *addrLimitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
