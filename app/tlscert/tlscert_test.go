package tlscert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type snapshot map[string][]byte

func snap(t *testing.T, dir string) snapshot {
	t.Helper()
	s := snapshot{}
	for _, f := range []string{CAFile, CAKeyFile, ServerFile, ServerKeyFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		s[f] = b
	}
	return s
}

func mtimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	for _, f := range []string{CAFile, CAKeyFile, ServerFile, ServerKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		m[f] = fi.ModTime()
	}
	return m
}

func mustLoad(t *testing.T, dir string, names []string, ips []net.IP, now time.Time) *Cert {
	t.Helper()
	c, err := LoadOrCreate(dir, names, ips, now)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	return c
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	c := mustLoad(t, dir, []string{"localhost", "Box.Local"}, []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, t0)
	if ca, srv := c.Issued(); !ca || !srv {
		t.Errorf("Issued = %v, %v; want true, true", ca, srv)
	}

	for f, want := range map[string]os.FileMode{CAKeyFile: 0o600, ServerKeyFile: 0o600, CAFile: 0o644, ServerFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %o, want %o", f, got, want)
		}
	}

	ca := c.CA()
	host, _ := os.Hostname()
	if want := "easbridge local CA " + host; ca.Subject.CommonName != want {
		t.Errorf("CA CN = %q, want %q", ca.Subject.CommonName, want)
	}
	if !ca.IsCA || ca.NotAfter.Sub(ca.NotBefore) < 10*365*24*time.Hour {
		t.Errorf("CA: IsCA %v, validity %v", ca.IsCA, ca.NotAfter.Sub(ca.NotBefore))
	}

	leaf := c.Leaf()
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > 825*24*time.Hour {
		t.Errorf("server validity %v exceeds 825 days", d)
	}
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("ExtKeyUsage = %v", leaf.ExtKeyUsage)
	}
	if !sameSANs(leaf, []string{"box.local", "localhost"}, []net.IP{net.ParseIP("::1"), net.IPv4(127, 0, 0, 1)}) {
		t.Errorf("SANs = %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		t.Errorf("server not signed by CA: %v", err)
	}

	fp := regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`)
	if !fp.MatchString(c.Fingerprint()) || !fp.MatchString(c.CAFingerprint()) || c.Fingerprint() == c.CAFingerprint() {
		t.Errorf("fingerprints %q %q", c.Fingerprint(), c.CAFingerprint())
	}
	s := snap(t, dir)
	if !bytes.Equal(c.CAPEM(), s[CAFile]) || !bytes.Equal(c.ServerPEM(), s[ServerFile]) {
		t.Error("CAPEM/ServerPEM differ from the files")
	}
}

func TestReloadSame(t *testing.T) {
	dir := t.TempDir()
	names, ips := []string{"localhost", "box"}, []net.IP{net.ParseIP("127.0.0.1")}
	c1 := mustLoad(t, dir, names, ips, t0)
	before, mt := snap(t, dir), mtimes(t, dir)

	// Same SANs in another order and case, a day later.
	c2 := mustLoad(t, dir, []string{"BOX", "localhost", "box"}, []net.IP{net.ParseIP("::ffff:127.0.0.1")}, t0.Add(24*time.Hour))
	if ca, srv := c2.Issued(); ca || srv {
		t.Errorf("Issued = %v, %v; want false, false", ca, srv)
	}
	after, mt2 := snap(t, dir), mtimes(t, dir)
	for f := range before {
		if !bytes.Equal(before[f], after[f]) || !mt[f].Equal(mt2[f]) {
			t.Errorf("%s rewritten", f)
		}
	}
	if c1.Fingerprint() != c2.Fingerprint() || c1.CAFingerprint() != c2.CAFingerprint() {
		t.Error("fingerprints changed")
	}
}

func TestReissue(t *testing.T) {
	names, ips := []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}
	tests := []struct {
		name  string
		names []string
		ips   []net.IP
		now   time.Time
	}{
		{"name added", []string{"localhost", "box.local"}, ips, t0},
		{"name removed", []string{}, ips, t0},
		{"ip changed", names, []net.IP{net.ParseIP("192.0.2.7")}, t0},
		{"expires within 30 days", names, ips, t0.Add(800 * 24 * time.Hour)},
		{"expired", names, ips, t0.Add(900 * 24 * time.Hour)},
		{"clock before NotBefore", names, ips, t0.Add(-48 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c1 := mustLoad(t, dir, names, ips, t0)
			before := snap(t, dir)

			c2 := mustLoad(t, dir, tt.names, tt.ips, tt.now)
			after := snap(t, dir)
			if ca, srv := c2.Issued(); ca || !srv {
				t.Errorf("Issued = %v, %v; want false, true", ca, srv)
			}
			if !bytes.Equal(before[CAFile], after[CAFile]) || !bytes.Equal(before[CAKeyFile], after[CAKeyFile]) {
				t.Error("CA rewritten")
			}
			if bytes.Equal(before[ServerFile], after[ServerFile]) || bytes.Equal(before[ServerKeyFile], after[ServerKeyFile]) {
				t.Error("server cert not re-issued")
			}
			if c1.CAFingerprint() != c2.CAFingerprint() || c1.Fingerprint() == c2.Fingerprint() {
				t.Error("fingerprints: CA should stay, server should change")
			}
			leaf := c2.Leaf()
			if !sameSANs(leaf, tt.names, tt.ips) {
				t.Errorf("SANs = %v %v", leaf.DNSNames, leaf.IPAddresses)
			}
			if tt.now.Before(leaf.NotBefore) || leaf.NotAfter.Sub(tt.now) < 30*24*time.Hour {
				t.Errorf("validity %v..%v at %v", leaf.NotBefore, leaf.NotAfter, tt.now)
			}
			// And it is stable afterwards.
			c3 := mustLoad(t, dir, tt.names, tt.ips, tt.now)
			if _, srv := c3.Issued(); srv {
				t.Error("re-issued twice")
			}
		})
	}
}

func TestCAExpiryRenewsBoth(t *testing.T) {
	dir := t.TempDir()
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	c1 := mustLoad(t, dir, nil, ips, t0)
	c2 := mustLoad(t, dir, nil, ips, t0.Add(10*365*24*time.Hour-24*time.Hour))
	if ca, srv := c2.Issued(); !ca || !srv {
		t.Errorf("Issued = %v, %v; want true, true", ca, srv)
	}
	if c1.CAFingerprint() == c2.CAFingerprint() {
		t.Error("CA not renewed")
	}
}

func TestCorruptCA(t *testing.T) {
	dir := t.TempDir()
	mustLoad(t, dir, []string{"localhost"}, nil, t0)
	if err := os.WriteFile(filepath.Join(dir, CAFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir, []string{"localhost"}, nil, t0); err == nil {
		t.Fatal("corrupt CA accepted")
	}
}

func TestCorruptServerReissued(t *testing.T) {
	dir := t.TempDir()
	mustLoad(t, dir, []string{"localhost"}, nil, t0)
	if err := os.WriteFile(filepath.Join(dir, ServerKeyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, dir, []string{"localhost"}, nil, t0)
	if ca, srv := c.Issued(); ca || !srv {
		t.Errorf("Issued = %v, %v; want false, true", ca, srv)
	}
}

func TestNoNames(t *testing.T) {
	if _, err := LoadOrCreate(t.TempDir(), []string{"bad name!"}, nil, t0); err == nil {
		t.Fatal("want error for no usable SANs")
	}
}

func TestDefaultNames(t *testing.T) {
	names, ips := DefaultNames()
	if len(names) == 0 || names[0] != "localhost" {
		t.Errorf("names = %v", names)
	}
	var v4, v6 bool
	for _, ip := range ips {
		v4 = v4 || ip.Equal(net.IPv4(127, 0, 0, 1))
		v6 = v6 || ip.Equal(net.IPv6loopback)
		if ip.IsLinkLocalUnicast() || ip.IsMulticast() {
			t.Errorf("unexpected address %v", ip)
		}
	}
	if !v4 || !v6 {
		t.Errorf("loopback addresses missing: %v", ips)
	}
	if _, err := LoadOrCreate(t.TempDir(), names, ips, time.Now()); err != nil {
		t.Errorf("DefaultNames unusable: %v", err)
	}
}

func TestHandshake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := mustLoad(t, t.TempDir(), []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, time.Now())

	ln, err := tls.Listen("tcp", "127.0.0.1:0", c.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if conn.(*tls.Conn).HandshakeContext(ctx) == nil {
					_, _ = io.WriteString(conn, "ok")
				}
			}()
		}
	}()

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CAPEM()) {
		t.Fatal("CAPEM not parseable")
	}
	for _, tt := range []struct {
		name    string
		cfg     *tls.Config
		wantErr bool
	}{
		{"trusts CA", &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}, false},
		{"trusts nothing", &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost"}, true},
		{"wrong name", &tls.Config{RootCAs: pool, ServerName: "example.com"}, true},
		{"TLS 1.1", &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS11}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := tls.Dialer{Config: tt.cfg}
			conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
			if tt.wantErr {
				if err == nil {
					conn.Close()
					t.Fatal("handshake succeeded")
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer conn.Close()
			b, _ := io.ReadAll(conn)
			if string(b) != "ok" {
				t.Errorf("read %q", b)
			}
			if state := conn.(*tls.Conn).ConnectionState(); state.Version < tls.VersionTLS12 {
				t.Errorf("version %x", state.Version)
			}
		})
	}
}
