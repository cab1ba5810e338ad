// Package tlscert keeps the TLS identity of the EAS server: a local
// certificate authority and a server certificate signed by it, both stored
// as PEM files in the data directory.
//
// Phones are told to trust the CA once (by installing CAPEM or checking its
// fingerprint); the server certificate can then be re-issued whenever the
// machine's names or addresses change or it nears expiry, without asking the
// user again.
package tlscert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"easbridge/app/atomicfile"
)

// File names inside the directory given to LoadOrCreate.
const (
	CAFile        = "ca.pem"
	CAKeyFile     = "ca.key"
	ServerFile    = "server.pem"
	ServerKeyFile = "server.key"
)

const (
	// caValidity is the lifetime of the local CA.
	caValidity = 10 * 365 * 24 * time.Hour
	// serverValidity stays under Apple's 825-day limit for TLS server
	// certificates (https://support.apple.com/en-us/103769), counting the
	// backdated NotBefore.
	serverValidity = 824 * 24 * time.Hour
	// backdate absorbs small clock differences between the server and phones.
	backdate = time.Hour
	// renewBefore is how long before expiry a certificate is re-issued.
	renewBefore = 30 * 24 * time.Hour
)

// Cert is a loaded CA and server certificate. It is immutable.
type Cert struct {
	ca        *x509.Certificate
	caPEM     []byte
	leaf      *x509.Certificate
	serverPEM []byte
	pair      tls.Certificate

	newCA, newServer bool
}

// LoadOrCreate loads the CA and server certificate from dir, creating what
// is missing. The CA is created once and kept (a new CA is made only when
// the old one has expired or expires within 30 days, or is missing); the
// server certificate is re-issued when its SANs differ from names and ips,
// it expires within 30 days, it is not valid at now, or it was not signed by
// the CA. Keys are written with mode 0600.
//
// A CA file that exists but cannot be parsed is an error rather than being
// replaced silently, since replacing it would make every phone distrust the
// server.
func LoadOrCreate(dir string, names []string, ips []net.IP, now time.Time) (*Cert, error) {
	names, ips = normalizeSANs(names, ips)
	if len(names) == 0 && len(ips) == 0 {
		return nil, errors.New("tlscert: no names or addresses for the server certificate")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tlscert: create dir: %w", err)
	}

	c := &Cert{}
	ca, caKey, caPEM, err := loadCA(dir, now)
	if err != nil {
		return nil, err
	}
	if ca == nil {
		ca, caKey, caPEM, err = createCA(dir, now)
		if err != nil {
			return nil, err
		}
		c.newCA = true
	}
	c.ca, c.caPEM = ca, caPEM

	c.leaf, c.pair, c.serverPEM = loadServer(dir, ca, names, ips, now)
	if c.leaf == nil {
		c.leaf, c.pair, c.serverPEM, err = createServer(dir, ca, caKey, names, ips, now)
		if err != nil {
			return nil, err
		}
		c.newServer = true
	}
	return c, nil
}

// Issued reports what LoadOrCreate created rather than loaded. A new CA
// means phones must be told to trust it again.
func (c *Cert) Issued() (ca, server bool) { return c.newCA, c.newServer }

// TLSConfig returns a new server configuration presenting the server
// certificate, TLS 1.2 or later.
func (c *Cert) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{c.pair},
	}
}

// Fingerprint is the SHA-256 of the server certificate, as uppercase hex
// pairs separated by ':'.
func (c *Cert) Fingerprint() string { return fingerprint(c.leaf.Raw) }

// CAFingerprint is the SHA-256 of the CA certificate, as uppercase hex pairs
// separated by ':'.
func (c *Cert) CAFingerprint() string { return fingerprint(c.ca.Raw) }

// CAPEM is the PEM-encoded CA certificate (what phones install).
func (c *Cert) CAPEM() []byte { return bytes.Clone(c.caPEM) }

// ServerPEM is the PEM-encoded server certificate.
func (c *Cert) ServerPEM() []byte { return bytes.Clone(c.serverPEM) }

// Leaf is the parsed server certificate; callers must not modify it.
func (c *Cert) Leaf() *x509.Certificate { return c.leaf }

// CA is the parsed CA certificate; callers must not modify it.
func (c *Cert) CA() *x509.Certificate { return c.ca }

// DefaultNames lists the names and addresses the server is reachable by:
// "localhost", the host name and its ".local" (mDNS) form, 127.0.0.1, ::1
// and the addresses of the machine's interfaces (global unicast only, which
// includes private ranges but not link-local ones). It only reads local
// state and never connects anywhere.
func DefaultNames() (names []string, ips []net.IP) {
	names = []string{"localhost"}
	if h, err := os.Hostname(); err == nil {
		h = strings.TrimSuffix(strings.ToLower(h), ".")
		if h != "" {
			names = append(names, h)
			short, _, _ := strings.Cut(h, ".")
			names = append(names, short+".local")
		}
	}
	ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			var ip net.IP
			switch v := a.(type) {
			case *net.IPNet:
				ip = v.IP
			case *net.IPAddr:
				ip = v.IP
			}
			if ip != nil && ip.IsGlobalUnicast() {
				ips = append(ips, ip)
			}
		}
	}
	return normalizeSANs(names, ips)
}

// normalizeSANs lowercases names, drops those that cannot be DNS SANs,
// converts IPv4 addresses to their 4-byte form and removes duplicates,
// keeping the first occurrence's order.
func normalizeSANs(names []string, ips []net.IP) ([]string, []net.IP) {
	var outN []string
	for _, n := range names {
		n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
		if validDNSName(n) && !slices.Contains(outN, n) {
			outN = append(outN, n)
		}
	}
	var outI []net.IP
	for _, ip := range ips {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			continue
		}
		if !slices.ContainsFunc(outI, ip.Equal) {
			outI = append(outI, ip)
		}
	}
	return outN, outI
}

// validDNSName accepts host names made of letters, digits, '-' and '_'
// labels (underscores appear in some Windows host names).
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// sameSANs reports whether cert carries exactly names and ips.
func sameSANs(cert *x509.Certificate, names []string, ips []net.IP) bool {
	have := make([]string, 0, len(cert.DNSNames))
	for _, n := range cert.DNSNames {
		have = append(have, strings.ToLower(n))
	}
	want := slices.Clone(names)
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return false
	}
	haveIP := make([]string, 0, len(cert.IPAddresses))
	for _, ip := range cert.IPAddresses {
		haveIP = append(haveIP, ip.String())
	}
	wantIP := make([]string, 0, len(ips))
	for _, ip := range ips {
		wantIP = append(wantIP, ip.String())
	}
	slices.Sort(haveIP)
	slices.Sort(wantIP)
	return slices.Equal(haveIP, wantIP)
}

// loadCA returns the stored CA, or nil when it must be (re)created: files
// missing or the CA expired or expiring within renewBefore.
func loadCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlscert: read ca: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		// A CA without its key cannot sign anything; start over.
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlscert: read ca key: %w", err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlscert: parse %s (delete it and %s to create a new CA): %w", certPath, CAKeyFile, err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlscert: parse %s (delete it and %s to create a new CA): %w", keyPath, CAFile, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, nil, fmt.Errorf("tlscert: %s does not match %s (delete both to create a new CA)", keyPath, certPath)
	}
	// A clock set back before NotBefore does not replace the CA: clients
	// check each certificate at their own time, and the server
	// certificate is re-issued to be valid now.
	if !cert.IsCA || cert.NotAfter.Sub(now) < renewBefore {
		return nil, nil, nil, nil
	}
	return cert, key, certPEM, nil
}

func createCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlscert: generate ca key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, nil, err
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "easbridge local CA " + host, Organization: []string{"easbridge"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlscert: create ca: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlscert: parse new ca: %w", err)
	}
	certPEM, keyPEM, err := encode(der, key)
	if err != nil {
		return nil, nil, nil, err
	}
	// Key first: a crash between the writes leaves a key without a
	// certificate, which the next start replaces.
	if err := atomicfile.Write(filepath.Join(dir, CAKeyFile), keyPEM, 0o600); err != nil {
		return nil, nil, nil, fmt.Errorf("tlscert: write ca key: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, CAFile), certPEM, 0o644); err != nil {
		return nil, nil, nil, fmt.Errorf("tlscert: write ca: %w", err)
	}
	return cert, key, certPEM, nil
}

// loadServer returns the stored server certificate if it can be kept, or a
// nil leaf when it must be re-issued. Any problem with the stored files
// means re-issuing, which costs the user nothing.
func loadServer(dir string, ca *x509.Certificate, names []string, ips []net.IP, now time.Time) (*x509.Certificate, tls.Certificate, []byte) {
	certPEM, err := os.ReadFile(filepath.Join(dir, ServerFile))
	if err != nil {
		return nil, tls.Certificate{}, nil
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, ServerKeyFile))
	if err != nil {
		return nil, tls.Certificate{}, nil
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, tls.Certificate{}, nil
	}
	leaf := pair.Leaf
	switch {
	case leaf == nil,
		leaf.CheckSignatureFrom(ca) != nil,
		now.Before(leaf.NotBefore),
		leaf.NotAfter.Sub(now) < renewBefore,
		leaf.NotAfter.After(ca.NotAfter),
		!sameSANs(leaf, names, ips):
		return nil, tls.Certificate{}, nil
	}
	return leaf, pair, certPEM
}

func createServer(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, names []string, ips []net.IP, now time.Time) (*x509.Certificate, tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, nil, fmt.Errorf("tlscert: generate server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, tls.Certificate{}, nil, err
	}
	cn := "easbridge"
	if len(names) > 0 {
		cn = names[0]
	}
	notBefore := now.Add(-backdate)
	notAfter := notBefore.Add(serverValidity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"easbridge"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, nil, fmt.Errorf("tlscert: create server cert: %w", err)
	}
	certPEM, keyPEM, err := encode(der, key)
	if err != nil {
		return nil, tls.Certificate{}, nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, tls.Certificate{}, nil, fmt.Errorf("tlscert: load new server cert: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, ServerKeyFile), keyPEM, 0o600); err != nil {
		return nil, tls.Certificate{}, nil, fmt.Errorf("tlscert: write server key: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, ServerFile), certPEM, 0o644); err != nil {
		return nil, tls.Certificate{}, nil, fmt.Errorf("tlscert: write server cert: %w", err)
	}
	return pair.Leaf, pair, certPEM, nil
}

func parseCert(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no CERTIFICATE PEM block")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func parseKey(b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("no PRIVATE KEY PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, not ECDSA", k)
	}
	return ek, nil
}

func encode(der []byte, key *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: marshal key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
	return certPEM, keyPEM, nil
}

func randomSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tlscert: serial: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil // never zero
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	b.Grow(len(h) + len(h)/2)
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
