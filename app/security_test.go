package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/testenv"
)

// Security defaults, checked through a running easbridge (see also
// TestTLSAutoAndPlainHTTPRefused and TestStoredLogin in e2e_test.go, and
// docs/RELIABILITY.md for the full list).

// lockedBuffer collects slog output written from many goroutines.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// securedRuntime starts easbridge with passthrough logins against a real
// Dovecot, logging everything (debug level) into the returned buffer.
func securedRuntime(t *testing.T, edit func(*config.Config)) (*app.Runtime, *testenv.Dovecot, *lockedBuffer, config.Config) {
	t.Helper()
	dc := testenv.StartDovecot(t, testenv.DovecotOptions{})
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = t.TempDir()
	cfg.Domain = testenv.Domain
	cfg.Accounts = []config.Account{{Name: "sec", IMAP: "imap://" + dc.IMAPAddr, SMTP: "smtp://" + dc.SubmissionAddr, Login: config.LoginPassthrough}}
	if edit != nil {
		edit(&cfg)
	}
	logs := &lockedBuffer{}
	rt, err := app.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt, dc, logs, cfg
}

// TestPlainHTTPWhenForced: plain HTTP on a non-loopback address starts
// only with allow_plain_http (the refusal is TestTLSAutoAndPlainHTTPRefused).
func TestPlainHTTPWhenForced(t *testing.T) {
	def := config.Default()
	if def.TLS != config.TLSAuto || def.AllowPlainHTTP || !def.RedactLogs {
		t.Fatalf("defaults: tls %q, allow_plain_http %v, redact_logs %v", def.TLS, def.AllowPlainHTTP, def.RedactLogs)
	}
	cfg := config.Default()
	cfg.Listen = "0.0.0.0:0"
	cfg.TLS = config.TLSOff
	cfg.AllowPlainHTTP = true
	cfg.MDNS = false
	cfg.DataDir = t.TempDir()
	rt, err := app.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("forced plain HTTP refused: %v", err)
	}
	defer rt.Close(context.Background())
	if rt.Scheme() != "http" || rt.Cert != nil {
		t.Errorf("scheme %s, cert %v", rt.Scheme(), rt.Cert != nil)
	}
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip (Linux routes all of 127.0.0.0/8 to lo).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestLoginThrottlePerAddress: after the configured failures an address is
// blocked (429 with Retry-After), even with the right password and a
// forged X-Forwarded-For; another address logs in as usual.
func TestLoginThrottlePerAddress(t *testing.T) {
	rt, _, _, _ := securedRuntime(t, func(c *config.Config) {
		c.Throttle.FailuresBeforeDelay, c.Throttle.FailuresBeforeBlock = 3, 3
	})
	ctx := context.Background()
	attacker := easclient.New("http://"+rt.Addr(), "alice", "guess", "thrphone")
	attacker.HTTP = clientFrom("127.0.0.2")
	for i := 1; i <= 3; i++ {
		if r, err := attacker.Options(ctx); err != nil || r.HTTPStatus != http.StatusUnauthorized {
			t.Fatalf("failure %d: %v HTTP %d", i, err, r.HTTPStatus)
		}
	}
	attacker.Password = "alicepw"
	r, err := attacker.Options(ctx)
	if err != nil || r.HTTPStatus != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("blocked address with the right password: %v HTTP %d", err, r.HTTPStatus)
	}
	forged, err := attacker.DoWith(ctx, "FolderSync", nil, nil, http.Header{"X-Forwarded-For": {"127.0.0.3"}})
	if err != nil || forged.HTTPStatus != http.StatusTooManyRequests {
		t.Errorf("X-Forwarded-For lifted the block: %v HTTP %d", err, forged.HTTPStatus)
	}
	other := easclient.New("http://"+rt.Addr(), "alice", "alicepw", "thrphone2")
	other.HTTP = clientFrom("127.0.0.4")
	if r, err := other.Options(ctx); err != nil || r.HTTPStatus != http.StatusOK {
		t.Errorf("another address: %v HTTP %d", err, r.HTTPStatus)
	}
}

// TestNoSecretInLogsOrFiles sends every kind of secret a phone sends (the
// login, a wrong login, a device password, ItemOperations credentials),
// with body redaction off and debug logging, and finds none of them in the
// slog output, the exchange log (bus and --log-wbxml file) or any file of
// the data directory (the SQLite database with its WAL among them).
func TestNoSecretInLogsOrFiles(t *testing.T) {
	wbxmlLog := filepath.Join(t.TempDir(), "exchanges.log")
	rt, dc, logs, cfg := securedRuntime(t, func(c *config.Config) { c.LogWBXML = wbxmlLog })
	rt.SetRedact(false)
	dc.Append(t, "alice", "INBOX", []byte("From: bob@example.test\r\nTo: alice@example.test\r\nSubject: hello\r\n\r\nhi\r\n"))
	ctx := context.Background()
	const wrong, devicePW, fetchPW = "Wr0ng-guess-4417", "Dev1ce-PIN-9981", "Fetch-cred-5523"
	secrets := []string{"alicepw", wrong, devicePW, fetchPW,
		base64.StdEncoding.EncodeToString([]byte("alice:alicepw")), base64.StdEncoding.EncodeToString([]byte("alice:" + wrong))}

	c := easclient.New("http://"+rt.Addr(), "alice", "alicepw", "secphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	fs := folderIDs(t, c)
	syncAll(t, c, fs["Inbox"].ServerID)
	st := wbxml.NSSettings
	if r, err := c.Do(ctx, "Settings", wbxml.New(st, "Settings", wbxml.New(st, "DevicePassword",
		wbxml.New(st, "Set", wbxml.Text(st, "Password", devicePW))))); err != nil || r.HTTPStatus != 200 {
		t.Fatalf("Settings: %v", err)
	}
	io := wbxml.NSItemOperations
	if _, err := c.Do(ctx, "ItemOperations", wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch",
		wbxml.Text(io, "Store", "DocumentLibrary"), wbxml.Text(wbxml.NSDocumentLibrary, "LinkId", `\\server\share\x`),
		wbxml.New(io, "Options", wbxml.Text(io, "UserName", "alice"), wbxml.Text(io, "Password", fetchPW))))); err != nil {
		t.Fatal(err)
	}
	bad := easclient.New("http://"+rt.Addr(), "alice", wrong, "secphone")
	if r, _ := bad.Options(ctx); r.HTTPStatus != http.StatusUnauthorized {
		t.Fatalf("wrong password: HTTP %d", r.HTTPStatus)
	}
	if err := rt.Close(ctx); err != nil { // flush the log file and the database
		t.Fatal(err)
	}

	var bus strings.Builder
	for _, e := range rt.Bus.Recent(0) {
		fmt.Fprintf(&bus, "%+v\n", e)
	}
	places := map[string]string{"slog output": logs.String(), "exchange log": bus.String()}
	if b, err := os.ReadFile(wbxmlLog); err != nil || len(b) == 0 {
		t.Fatalf("--log-wbxml file: %v (%d bytes)", err, len(b))
	} else {
		places["--log-wbxml file"] = string(b)
	}
	if !strings.Contains(bus.String(), "DevicePassword") {
		t.Fatal("the exchange log does not hold the Settings request: the scan would prove nothing")
	}
	err := filepath.Walk(cfg.DataDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		places[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := places[filepath.Join(cfg.DataDir, "state.db")]; !ok {
		t.Fatal("no state.db in the data directory")
	}
	for where, text := range places {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("secret %q in %s", s, where)
			}
		}
	}
}

// TestRequestSizeLimit: bodies over limits.max_request_bytes are refused
// with 413, whether announced by Content-Length or streamed chunked.
func TestRequestSizeLimit(t *testing.T) {
	rt, _, _, _ := securedRuntime(t, func(c *config.Config) { c.Limits.MaxRequestBytes = 64 << 10 })
	c := easclient.New("http://"+rt.Addr(), "alice", "alicepw", "bigphone")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{0}, 100<<10)
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(big)
		if chunked {
			body = io.MultiReader(bytes.NewReader(big)) // no length known: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, "http://"+rt.Addr()+"/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=bigphone&DeviceType=t", body)
		req.SetBasicAuth("alice", "alicepw")
		req.Header.Set("MS-ASProtocolVersion", "16.1")
		req.Header.Set("X-MS-PolicyKey", c.PolicyKey)
		req.Header.Set("Content-Type", "application/vnd.ms-sync.wbxml")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("chunked %v: %v", chunked, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked %v: HTTP %d, want 413", chunked, res.StatusCode)
		}
	}
}

// demoRuntime starts easbridge with its demo account (no upstream needed).
func demoRuntime(t *testing.T, edit func(*config.Config)) *app.Runtime {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = t.TempDir()
	if edit != nil {
		edit(&cfg)
	}
	rt, err := app.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// TestSlowHeadersAreCut is a slowloris: many connections that send their
// headers a byte at a time are cut once the header deadline passes, while
// a normal client is served meanwhile.
func TestSlowHeadersAreCut(t *testing.T) {
	defer app.SetReadHeaderTimeout(time.Second)()
	rt := demoRuntime(t, nil)
	const n = 50
	line := "POST /Microsoft-Server-ActiveSync?Cmd=Sync HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200)
	var wg gosync.WaitGroup
	cut := make(chan time.Duration, n)
	start := time.Now()
	for range n {
		conn, err := net.Dial("tcp", rt.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < len(line); i++ {
				if _, err := conn.Write([]byte{line[i]}); err != nil {
					cut <- time.Since(start)
					return
				}
				conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if _, err := conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
					cut <- time.Since(start)
					return
				}
			}
			cut <- -1 // still open after sending everything
		}()
	}
	c := easclient.New("http://"+rt.Addr(), "x", "y", "fastphone")
	if r, err := c.Options(context.Background()); err != nil || r.HTTPStatus != http.StatusUnauthorized {
		t.Errorf("a normal client during the attack: %v", err)
	}
	wg.Wait()
	close(cut)
	for d := range cut {
		if d < 0 || d > 6*time.Second {
			t.Errorf("a slow connection was cut after %v (want about 1 s; -1 = never)", d)
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestMaxConnections: with limits.max_connections set, connections beyond
// it wait until one closes.
func TestMaxConnections(t *testing.T) {
	rt := demoRuntime(t, func(c *config.Config) { c.Limits.MaxConnections = 4 })
	var held []net.Conn
	for range 4 {
		conn, err := net.Dial("tcp", rt.Addr())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
	}
	probe := func() (int, error) {
		conn, err := net.DialTimeout("tcp", rt.Addr(), time.Second)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Second))
		fmt.Fprintf(conn, "OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	if code, err := probe(); err == nil {
		t.Fatalf("a fifth connection was served (HTTP %d) while four are held", code)
	}
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, err := probe()
		if err == nil && code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection served after one was freed: %v", err)
		}
	}
	for _, c := range held[1:] {
		c.Close()
	}
}
