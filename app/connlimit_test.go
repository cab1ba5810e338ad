package app

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	gosync "sync"
	"testing"
	"time"
)

// syncBuffer collects log output written from the accept goroutine.
type syncBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dialFrom connects to addr from the loopback address ip (Linux routes all
// of 127.0.0.0/8 to lo).
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// refusedByServer reports whether the server closed c (EOF or reset)
// rather than keeping it open until the deadline.
func refusedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return false
	case err == nil:
		t.Fatal("the server sent data on a bare connection")
	}
	return true
}

// TestAddrLimitListener: each source address holds at most max connections;
// one more is closed at once and Accept goes on; Close gives the slot back
// exactly once; other addresses are unaffected; the warning is rate-limited.
func TestAddrLimitListener(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	l := limitPerAddress(raw, 2, slog.New(slog.NewTextHandler(logs, nil)))
	clock := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	var clockMu gosync.Mutex
	l.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	defer l.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	next := func() net.Conn {
		t.Helper()
		select {
		case c := <-accepted:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
			return nil
		}
	}
	one, two := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	addr := raw.Addr().String()

	dialFrom(t, "127.0.0.1", addr)
	dialFrom(t, "127.0.0.1", addr)
	s1, s2 := next(), next()
	if got := l.held(one); got != 2 {
		t.Fatalf("127.0.0.1 holds %d, want 2", got)
	}
	for i := range 3 {
		if c := dialFrom(t, "127.0.0.1", addr); !refusedByServer(t, c) {
			t.Fatalf("connection %d over the cap was kept open", i+3)
		}
	}
	dialFrom(t, "127.0.0.2", addr)
	s3 := next()
	if got := l.held(two); got != 1 {
		t.Errorf("127.0.0.2 holds %d, want 1 (another address is unaffected)", got)
	}
	if n := strings.Count(logs.String(), "connection cap"); n != 1 {
		t.Errorf("%d warnings for 3 refusals within a minute, want 1:\n%s", n, logs)
	}

	// Close twice: the slot comes back once.
	s1.Close()
	s1.Close()
	if got := l.held(one); got != 1 {
		t.Fatalf("after closing one connection twice 127.0.0.1 holds %d, want 1", got)
	}
	c := dialFrom(t, "127.0.0.1", addr)
	s4 := next()
	if refusedByServer(t, c) {
		t.Fatal("a connection under the cap again was refused")
	}
	if got := l.held(one); got != 2 {
		t.Fatalf("127.0.0.1 holds %d, want 2", got)
	}

	// A minute later the next refusal is logged again, with the count.
	clockMu.Lock()
	clock = clock.Add(addrLimitLogEvery)
	clockMu.Unlock()
	for range 2 {
		if c := dialFrom(t, "127.0.0.1", addr); !refusedByServer(t, c) {
			t.Fatal("a connection over the cap was kept open")
		}
	}
	if n := strings.Count(logs.String(), "connection cap"); n != 2 {
		t.Errorf("%d warnings, want 2 (one a minute):\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "refused_since_last_warning=1") {
		t.Errorf("the second warning does not count the refusals since the first:\n%s", logs)
	}

	for _, s := range []net.Conn{s2, s3, s4} {
		s.Close()
	}
	if l.held(one) != 0 || l.held(two) != 0 || len(l.open) != 0 {
		t.Errorf("after closing everything: %v", l.open)
	}
}

// fakeAddr is a net.Addr that is not a *net.TCPAddr.
type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }

type addrConn struct {
	net.Conn
	addr net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.addr }

func TestRemoteIP(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
		want string // "" = not counted
	}{
		{"ipv4", &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4321}, "192.0.2.7"},
		{"ipv4 other port", &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1}, "192.0.2.7"},
		{"ipv4-mapped ipv6", &net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 4321}, "192.0.2.7"},
		{"ipv6", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443}, "2001:db8::1"},
		{"ipv6 zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 443, Zone: "eth0"}, "fe80::1"},
		{"no ip", &net.TCPAddr{Port: 443}, ""},
		{"other addr type", fakeAddr("[2001:db8::2]:99"), "2001:db8::2"},
		{"unparsable", fakeAddr("pipe"), ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := remoteIP(addrConn{addr: tt.addr})
			got := ""
			if ok {
				got = a.String()
			}
			if got != tt.want {
				t.Errorf("remoteIP(%v) = %q (ok %v), want %q", tt.addr, got, ok, tt.want)
			}
		})
	}
}
