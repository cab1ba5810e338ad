package imapsource

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// memServer is an in-process go-imap server with users alice/alicepw and
// bob/bobpw, listening on 127.0.0.1.
type memServer struct {
	Addr  string
	Alice *imapmemserver.User
	Bob   *imapmemserver.User
}

type memOptions struct {
	tls      *tls.Config // offered via STARTTLS, or implicit when implicit
	implicit bool
	caps     imap.CapSet // nil: IMAP4rev1 and LIST-EXTENDED
}

func startMem(t *testing.T, opts memOptions, mailboxes ...string) *memServer {
	t.Helper()
	mem := imapmemserver.New()
	alice := imapmemserver.NewUser("alice", "alicepw")
	bob := imapmemserver.NewUser("bob", "bobpw")
	for _, u := range []*imapmemserver.User{alice, bob} {
		for _, name := range append([]string{"INBOX"}, mailboxes...) {
			if err := u.Create(name, nil); err != nil {
				t.Fatalf("create %q: %v", name, err)
			}
		}
		mem.AddUser(u)
	}
	caps := opts.caps
	if caps == nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapListExtended: {}}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		TLSConfig:    opts.tls,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if opts.implicit {
		ln = tls.NewListener(ln, opts.tls)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return &memServer{Addr: addr, Alice: alice, Bob: bob}
}

// selfSigned returns a server TLS config for 127.0.0.1/localhost and a
// client config trusting it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "imapsource test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return server, &tls.Config{RootCAs: pool}
}

// countingDialer counts dials and the connections open at once.
type countingDialer struct {
	dials    atomic.Int64
	open     atomic.Int64
	maxOpen  atomic.Int64
	redirect string        // when set, every dial goes here
	delay    time.Duration // added to every read, to make calls overlap
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.redirect != "" {
		addr = d.redirect
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.dials.Add(1)
	n := d.open.Add(1)
	for {
		m := d.maxOpen.Load()
		if n <= m || d.maxOpen.CompareAndSwap(m, n) {
			break
		}
	}
	return &countedConn{Conn: c, d: d}, nil
}

type countedConn struct {
	net.Conn
	d    *countingDialer
	once sync.Once
}

func (c *countedConn) Read(b []byte) (int, error) {
	if c.d.delay > 0 {
		time.Sleep(c.d.delay)
	}
	return c.Conn.Read(b)
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.d.open.Add(-1) })
	return c.Conn.Close()
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newTestAccount(t testing.TB, cfg Config, user, password string) *Account {
	t.Helper()
	a := NewAccount(cfg, user, password, testLogger(t))
	t.Cleanup(func() { a.Close() })
	return a
}

func mustParse(t testing.TB, raw string) Config {
	t.Helper()
	cfg, err := ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// settleGoroutines waits until the goroutine count drops to at most want.
func settleGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want <= %d:\n%s", n, want, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// numConns is the number of connections the pool holds.
func (a *Account) numConns() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.all)
}
