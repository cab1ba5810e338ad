package sieve

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"easbridge/sync/endpoint"
)

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sieve.test"},
		DNSNames: []string{"sieve.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestStartTLS: the client upgrades, reads the capabilities again and only
// then authenticates, inside TLS.
func TestStartTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	cli, srv := net.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			defer srv.Close()
			greeting := strings.Replace(dovecotGreeting, `"VERSION"`, `"STARTTLS"`+"\r\n"+`"VERSION"`, 1)
			if _, err := io.WriteString(srv, greeting); err != nil {
				return err
			}
			r := bufio.NewReader(srv)
			if l, err := r.ReadString('\n'); err != nil || l != "STARTTLS\r\n" {
				t.Errorf("client sent %q, %v", l, err)
				return err
			}
			if _, err := io.WriteString(srv, "OK \"Begin TLS negotiation now.\"\r\n"); err != nil {
				return err
			}
			ts := tls.Server(srv, &tls.Config{Certificates: []tls.Certificate{cert}})
			if err := ts.Handshake(); err != nil {
				return err
			}
			// After STARTTLS, PLAIN is offered and vacation is gone (to see
			// that the new list is used).
			if _, err := io.WriteString(ts, "\"SIEVE\" \"fileinto\"\r\n\"SASL\" \"PLAIN\"\r\nOK\r\n"); err != nil {
				return err
			}
			tr := bufio.NewReader(ts)
			if l, err := tr.ReadString('\n'); err != nil || !strings.HasPrefix(l, `AUTHENTICATE "PLAIN" `) {
				t.Errorf("after TLS the client sent %q, %v", l, err)
				return err
			}
			_, err := io.WriteString(ts, "OK\r\n")
			return err
		}()
	}()
	c, err := NewClient(cli, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Capabilities().StartTLS || c.TLS() {
		t.Fatalf("before: caps %+v tls %v", c.Capabilities(), c.TLS())
	}
	if err := c.StartTLS(&tls.Config{ServerName: "sieve.test", RootCAs: pool}); err != nil {
		t.Fatal(err)
	}
	if !c.TLS() || c.Capabilities().HasExtension("vacation") || !c.Capabilities().HasExtension("fileinto") {
		t.Fatalf("after: caps %+v tls %v", c.Capabilities(), c.TLS())
	}
	if err := c.AuthenticatePlain("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestDialRefusesPlainText: a server that is not on loopback and offers
// no STARTTLS never sees a password.
func TestDialRefusesPlainText(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, dovecotGreeting)
		b, _ := io.ReadAll(conn)
		got <- string(b)
	}()
	ep := endpoint.Endpoint{Host: "mail.example.org", Addr: l.Addr().String()} // not loopback
	if _, err := Dial(context.Background(), ep, Options{Timeout: 5 * time.Second}); err == nil ||
		!strings.Contains(err.Error(), "refusing to send a password in clear text") {
		t.Fatalf("Dial: %v", err)
	}
	if sent := <-got; sent != "" {
		t.Errorf("the client sent %q", sent)
	}
}
