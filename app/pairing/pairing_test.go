package pairing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

const testFP = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

// testCA makes a self-signed CA certificate.
func testCA(t *testing.T) (pemBytes, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "easbridge test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), der
}

// get serves one GET through Handler(info) with the given Host header.
func get(t *testing.T, info Info, host, target string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if host != "" {
		req.Host = host
	}
	if info.Scheme == "https" {
		req.TLS = &tls.ConnectionState{}
	}
	rec := httptest.NewRecorder()
	Handler(func() Info { return info }).ServeHTTP(rec, req)
	return rec
}

func profileURL(email, user string) string {
	q := url.Values{"email": {email}}
	if user != "" {
		q.Set("user", user)
	}
	return PathProfile + "?" + q.Encode()
}

func TestPage(t *testing.T) {
	caPEM, _ := testCA(t)
	tests := []struct {
		name    string
		info    Info
		host    string
		path    string
		want    []string
		notWant []string
	}{
		{
			name: "TLS with CA and demo",
			info: Info{ServerHost: "mail.test:8443", Scheme: "https", CAPEM: caPEM, Fingerprint: testFP,
				Domain: "example.org", DemoUser: "demo", DemoPassword: "pw-1234"},
			path: "/setup",
			want: []string{"mail.test:8443", testFP, `href="/setup/ca.crt"`, `href="/setup/ca.pem"`, "easbridge test CA",
				"you@example.org", "Certificate Trust Settings", `action="/setup/easbridge.mobileconfig"`, `name="email"`, `name="user"`,
				"pw-1234", `value="demo"`, "Exchange", ">8443<", "SSL/TLS"},
			notWant: []string{"without TLS"},
		},
		{
			name:    "plain HTTP, host from the request, trailing slash",
			info:    Info{Scheme: "http", DemoUser: "demo"}, // no password: demo box hidden
			host:    "192.168.1.20:8080",
			path:    "/setup/",
			want:    []string{"192.168.1.20:8080", "without TLS", ">8080<", "example.com"},
			notWant: []string{"/setup/ca.crt", "Demo account active", "fingerprint", "Certificate Trust Settings"},
		},
		{
			name: "TLS with a publicly trusted certificate",
			info: Info{ServerHost: "eas.example.org", Scheme: "https", Fingerprint: testFP},
			path: "/setup",
			want: []string{"eas.example.org", ">443<", testFP, "already trust"},
		},
		{
			name: "unreadable CA",
			info: Info{ServerHost: "h", Scheme: "https", CAPEM: []byte("not pem")},
			path: "/setup",
			want: []string{"cannot be read"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, tt.info, tt.host, tt.path)
			body := rec.Body.String()
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
			// Self-contained: no scripts, no external resources.
			for _, w := range []string{"<script", "src=", "<link", "@import", "url("} {
				if strings.Contains(body, w) {
					t.Errorf("page contains %q", w)
				}
			}
		})
	}
}

func TestEscaping(t *testing.T) {
	const evil = `"><script>alert(1)</script>`
	info := Info{Scheme: "https", Fingerprint: `<img src=x onerror=alert(1)>`, Domain: evil, DemoUser: evil, DemoPassword: evil}
	rec := get(t, info, "h"+evil, "/setup")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;") || !strings.Contains(body, "&lt;img") {
		t.Error("page does not show the escaped values")
	}

	t.Run("profile with a hostile Host header", func(t *testing.T) {
		rec := get(t, Info{Scheme: "http"}, "h"+evil, profileURL("a@b.example", ""))
		if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "<script") {
			t.Errorf("status %d body %q", rec.Code, rec.Body.String())
		}
	})
	t.Run("profile with a hostile email", func(t *testing.T) {
		rec := get(t, Info{ServerHost: "h", Scheme: "http"}, "", profileURL(evil+"@x.example", ""))
		if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "<script") {
			t.Errorf("status %d body %q", rec.Code, rec.Body.String())
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("error Content-Type = %q", ct)
		}
	})
	t.Run("profile escapes XML in the user name", func(t *testing.T) {
		rec := get(t, Info{ServerHost: "h", Scheme: "http"}, "", profileURL("a@b.example", "me&you's"))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		p := parsePlist(t, rec.Body.Bytes())
		if got := payloads(t, p)[0].str(t, "UserName"); got != "me&you's" {
			t.Errorf("UserName = %q", got)
		}
	})
}

func TestProfile(t *testing.T) {
	caPEM, caDER := testCA(t)
	const secret = "never-in-the-profile"
	tests := []struct {
		name     string
		info     Info
		email    string
		user     string
		wantMail string
		wantUser string
		wantCA   bool
	}{
		{
			name: "TLS with CA", info: Info{ServerHost: "mail.test:8443", Scheme: "https", CAPEM: caPEM, Fingerprint: testFP, DemoUser: "demo", DemoPassword: secret},
			email: "Alice@Example.org", wantMail: "Alice@Example.org", wantUser: "Alice@Example.org", wantCA: true,
		},
		{
			name: "TLS off", info: Info{ServerHost: "192.168.1.20:8080", Scheme: "http", DemoUser: "demo", DemoPassword: secret},
			email: "demo@example.com", user: "demo", wantMail: "demo@example.com", wantUser: "demo",
		},
		{
			name: "CA given but TLS off: no CA payload", info: Info{ServerHost: "h:80", Scheme: "http", CAPEM: caPEM},
			email: "bob@corp.example", user: `CORP\bob`, wantMail: "bob@corp.example", wantUser: `CORP\bob`,
		},
		{
			name: "bare local part gets the domain", info: Info{ServerHost: "h", Scheme: "https", CAPEM: caPEM, Domain: "example.net"},
			email: "carol", wantMail: "carol@example.net", wantUser: "carol@example.net", wantCA: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, tt.info, "", profileURL(tt.email, tt.user))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			if ct := rec.Header().Get("Content-Type"); ct != ProfileContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "easbridge.mobileconfig") {
				t.Errorf("Content-Disposition = %q", cd)
			}
			body := rec.Body.String()
			if strings.Contains(body, secret) || strings.Contains(body, "<key>Password</key>") {
				t.Fatal("the profile contains a password")
			}

			root := parsePlist(t, rec.Body.Bytes())
			if got := root.str(t, "PayloadType"); got != "Configuration" {
				t.Errorf("PayloadType = %q", got)
			}
			if got := root.integer(t, "PayloadVersion"); got != 1 {
				t.Errorf("PayloadVersion = %d", got)
			}
			checkUUID(t, root.str(t, "PayloadUUID"))
			root.str(t, "PayloadIdentifier")
			root.str(t, "PayloadDisplayName")
			if root.boolean(t, "PayloadRemovalDisallowed") {
				t.Error("PayloadRemovalDisallowed is true")
			}

			ps := payloads(t, root)
			wantN := 1
			if tt.wantCA {
				wantN = 2
			}
			if len(ps) != wantN {
				t.Fatalf("%d payloads, want %d", len(ps), wantN)
			}
			if tt.wantCA {
				ca := ps[0]
				if got := ca.str(t, "PayloadType"); got != PayloadTypeRoot {
					t.Errorf("first payload type %q, want %q", got, PayloadTypeRoot)
				}
				if got := ca.data(t, "PayloadContent"); !bytes.Equal(got, caDER) {
					t.Error("CA payload is not the CA's DER")
				}
				if got := ca.str(t, "PayloadDisplayName"); got != "easbridge test CA" {
					t.Errorf("CA PayloadDisplayName = %q", got)
				}
				checkUUID(t, ca.str(t, "PayloadUUID"))
				ca.str(t, "PayloadIdentifier")
				ca.integer(t, "PayloadVersion")
			}
			eas := ps[len(ps)-1]
			if got := eas.str(t, "PayloadType"); got != PayloadTypeEAS {
				t.Errorf("payload type %q, want %q", got, PayloadTypeEAS)
			}
			if got := eas.str(t, "EmailAddress"); got != tt.wantMail {
				t.Errorf("EmailAddress = %q, want %q", got, tt.wantMail)
			}
			if got := eas.str(t, "Host"); got != tt.info.ServerHost {
				t.Errorf("Host = %q, want %q", got, tt.info.ServerHost)
			}
			if got := eas.boolean(t, "SSL"); got != (tt.info.Scheme == "https") {
				t.Errorf("SSL = %v", got)
			}
			if got := eas.str(t, "UserName"); got != tt.wantUser {
				t.Errorf("UserName = %q, want %q", got, tt.wantUser)
			}
			checkUUID(t, eas.str(t, "PayloadUUID"))
			eas.str(t, "PayloadIdentifier")
			eas.integer(t, "PayloadVersion")
		})
	}
}

func TestProfileStableIDs(t *testing.T) {
	caPEM, _ := testCA(t)
	otherCA, _ := testCA(t)
	ids := func(info Info, email string) []string {
		t.Helper()
		rec := get(t, info, "", profileURL(email, ""))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		root := parsePlist(t, rec.Body.Bytes())
		out := []string{root.str(t, "PayloadIdentifier"), root.str(t, "PayloadUUID")}
		for _, p := range payloads(t, root) {
			out = append(out, p.str(t, "PayloadIdentifier"), p.str(t, "PayloadUUID"))
		}
		return out
	}
	tlsA := Info{ServerHost: "a.test", Scheme: "https", CAPEM: caPEM}
	plainA := Info{ServerHost: "a.test", Scheme: "http"}
	base := ids(tlsA, "alice@example.org")
	seen := map[string]bool{}
	for _, id := range base {
		if seen[id] {
			t.Errorf("identifier %q used twice in one profile", id)
		}
		seen[id] = true
	}
	tests := []struct {
		name  string
		info  Info
		email string
		ref   []string
		same  bool
	}{
		{"same server and address", tlsA, "alice@example.org", base, true},
		{"address case does not matter", tlsA, "ALICE@example.ORG", base, true},
		{"same CA reached by another name", Info{ServerHost: "192.168.1.2:8443", Scheme: "https", CAPEM: caPEM}, "alice@example.org", base, true},
		{"other address", tlsA, "bob@example.org", base, false},
		{"other CA", Info{ServerHost: "a.test", Scheme: "https", CAPEM: otherCA}, "alice@example.org", base, false},
		{"without a CA the host is the server", plainA, "alice@example.org", ids(plainA, "alice@example.org"), true},
		{"without a CA another host is another server", Info{ServerHost: "b.test", Scheme: "http"}, "alice@example.org", ids(plainA, "alice@example.org"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(tt.info, tt.email)
			// Compare the top-level identifier and UUID, present in both.
			if same := got[0] == tt.ref[0] && got[1] == tt.ref[1]; same != tt.same {
				t.Errorf("ids %q vs %q: same = %v, want %v", got[:2], tt.ref[:2], same, tt.same)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	info := Info{ServerHost: "mail.test", Scheme: "https"}
	tests := []struct {
		name, email, user string
	}{
		{"missing", "", ""},
		{"garbage (no Domain to complete it)", "garbage", ""},
		{"no domain", "a@", ""},
		{"no local part", "@b.example", ""},
		{"two @", "a@b@c.example", ""},
		{"display name", "Alice <a@b.example>", ""},
		{"space", "a b@c.example", ""},
		{"bad domain label", "a@-b.example", ""},
		{"empty label", "a@b..example", ""},
		{"quoted", `"a"@b.example`, ""},
		{"newline inside", "a\r\n@b.example", ""},
		{"too long", strings.Repeat("a", 250) + "@b.example", ""},
		{"local part too long", strings.Repeat("a", 65) + "@b.example", ""},
		{"script", `<script>alert(1)</script>@b.example`, ""},
		{"bad user: control", "a@b.example", "a\x00b"},
		{"bad user: markup", "a@b.example", "<script>"},
		{"bad user: too long", "a@b.example", strings.Repeat("u", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, info, "", profileURL(tt.email, tt.user))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body.String())
			}
			body := rec.Body.String()
			if !strings.HasPrefix(body, "email: ") && !strings.HasPrefix(body, "user: ") {
				t.Errorf("error does not say which parameter: %q", body)
			}
			if (tt.email != "" && len(tt.email) > 3 && strings.Contains(body, tt.email)) || strings.Contains(body, "<") {
				t.Errorf("error echoes the input: %q", body)
			}
		})
	}
}

func TestParseEmailAccepts(t *testing.T) {
	tests := []struct{ in, domain, want string }{
		{"alice@example.com", "", "alice@example.com"},
		{"  Alice.Smith+tag@Sub.Example.co.uk ", "", "Alice.Smith+tag@Sub.Example.co.uk"},
		{"jörg@bücher.de", "", "jörg@bücher.de"},
		{"bob", "example.org", "bob@example.org"},
		{"carol@localhost", "", "carol@localhost"},
	}
	for _, tt := range tests {
		got, err := parseEmail(tt.in, tt.domain)
		if err != nil || got != tt.want {
			t.Errorf("parseEmail(%q, %q) = %q, %v; want %q", tt.in, tt.domain, got, err, tt.want)
		}
	}
}

func TestCA(t *testing.T) {
	caPEM, caDER := testCA(t)
	withCA := Info{ServerHost: "h", Scheme: "https", CAPEM: caPEM}
	tests := []struct {
		name   string
		info   Info
		path   string
		status int
		body   []byte
	}{
		{"PEM", withCA, PathCAPEM, http.StatusOK, caPEM},
		{"DER for Android", withCA, PathCADER, http.StatusOK, caDER},
		{"no CA: PEM", Info{Scheme: "http"}, PathCAPEM, http.StatusNotFound, nil},
		{"no CA: DER", Info{Scheme: "http"}, PathCADER, http.StatusNotFound, nil},
		{"unreadable CA", Info{Scheme: "https", CAPEM: []byte("junk")}, PathCADER, http.StatusInternalServerError, nil},
		{"unreadable CA: profile", Info{ServerHost: "h", Scheme: "https", CAPEM: []byte("junk")}, profileURL("a@b.example", ""), http.StatusInternalServerError, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, tt.info, "h", tt.path)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.body == nil {
				return
			}
			if !bytes.Equal(rec.Body.Bytes(), tt.body) {
				t.Errorf("body differs from the CA")
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/x-x509-ca-cert" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
				t.Errorf("Content-Disposition = %q", cd)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	h := Handler(func() Info { return Info{Scheme: "http"} })
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/setup", http.StatusOK},
		{http.MethodHead, "/setup/", http.StatusOK},
		{http.MethodPost, "/setup", http.StatusMethodNotAllowed},
		{http.MethodGet, "/setup/nope", http.StatusNotFound},
		{http.MethodGet, "/setup/ca.pem/x", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", rec.Header().Get("Allow"))
			}
		})
	}
	t.Run("mounted on a ServeMux", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.Handle(Prefix, h)
		mux.Handle(Prefix+"/", h)
		srv := httptest.NewServer(mux) // listens on 127.0.0.1
		defer srv.Close()
		for _, p := range []string{"/setup", "/setup/", profileURL("a@b.example", "")} {
			resp, err := srv.Client().Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %s", p, resp.Status)
			}
		}
	})
}

var uuidRE = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)

func checkUUID(t *testing.T, s string) {
	t.Helper()
	if !uuidRE.MatchString(s) {
		t.Errorf("%q is not an upper-case version 8 UUID", s)
	}
}

// A small plist reader on encoding/xml: enough to check structure and types.

type pdict struct {
	keys []string
	vals map[string]any
}

func (d pdict) get(t *testing.T, k string) any {
	t.Helper()
	v, ok := d.vals[k]
	if !ok {
		t.Fatalf("key %q missing (have %q)", k, d.keys)
	}
	return v
}

func typed[T any](t *testing.T, d pdict, k string) T {
	t.Helper()
	v, ok := d.get(t, k).(T)
	if !ok {
		t.Fatalf("key %q is %T, want %T", k, d.get(t, k), *new(T))
	}
	return v
}

func (d pdict) str(t *testing.T, k string) string   { t.Helper(); return typed[string](t, d, k) }
func (d pdict) boolean(t *testing.T, k string) bool { t.Helper(); return typed[bool](t, d, k) }
func (d pdict) integer(t *testing.T, k string) int64 {
	t.Helper()
	return typed[int64](t, d, k)
}
func (d pdict) data(t *testing.T, k string) []byte { t.Helper(); return typed[[]byte](t, d, k) }

func payloads(t *testing.T, root pdict) []pdict {
	t.Helper()
	arr := typed[[]any](t, root, "PayloadContent")
	out := make([]pdict, len(arr))
	for i, v := range arr {
		d, ok := v.(pdict)
		if !ok {
			t.Fatalf("PayloadContent[%d] is %T, want dict", i, v)
		}
		out[i] = d
	}
	return out
}

// parsePlist checks the XML plist envelope and returns its root dict.
func parsePlist(t *testing.T, b []byte) pdict {
	t.Helper()
	if !bytes.Contains(b, []byte(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"`)) {
		t.Error("no plist DOCTYPE")
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	start, err := nextStart(dec)
	if err != nil || start.Name.Local != "plist" {
		t.Fatalf("root element %v (%v), want plist", start.Name.Local, err)
	}
	if v := attr(start, "version"); v != "1.0" {
		t.Errorf("plist version %q", v)
	}
	first, err := nextStart(dec)
	if err != nil {
		t.Fatal(err)
	}
	v, err := decodeValue(dec, first)
	if err != nil {
		t.Fatalf("plist: %v", err)
	}
	root, ok := v.(pdict)
	if !ok {
		t.Fatalf("plist root is %T, want dict", v)
	}
	// Nothing but the closing </plist> may follow.
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			t.Fatalf("second value <%s> in plist", se.Name.Local)
		}
	}
	return root
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// nextStart returns the next start element, or an error at an end element.
func nextStart(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			return tok, nil
		case xml.EndElement:
			return xml.StartElement{}, errEnd
		case xml.CharData:
			if len(bytes.TrimSpace(tok)) > 0 {
				return xml.StartElement{}, fmt.Errorf("stray text %q", tok)
			}
		}
	}
}

var errEnd = fmt.Errorf("end of container")

func text(dec *xml.Decoder, se xml.StartElement) (string, error) {
	var s string
	if err := dec.DecodeElement(&s, &se); err != nil {
		return "", err
	}
	return s, nil
}

func decodeValue(dec *xml.Decoder, se xml.StartElement) (any, error) {
	switch se.Name.Local {
	case "string":
		return text(dec, se)
	case "integer":
		s, err := text(dec, se)
		if err != nil {
			return nil, err
		}
		var n int64
		if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d", &n); err != nil {
			return nil, fmt.Errorf("integer %q: %w", s, err)
		}
		return n, nil
	case "true", "false":
		if err := dec.Skip(); err != nil {
			return nil, err
		}
		return se.Name.Local == "true", nil
	case "data":
		s, err := text(dec, se)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	case "array":
		var arr []any
		for {
			el, err := nextStart(dec)
			if err == errEnd {
				return arr, nil
			}
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(dec, el)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
	case "dict":
		d := pdict{vals: map[string]any{}}
		for {
			key, err := nextStart(dec)
			if err == errEnd {
				return d, nil
			}
			if err != nil {
				return nil, err
			}
			if key.Name.Local != "key" {
				return nil, fmt.Errorf("<%s> where a <key> belongs", key.Name.Local)
			}
			k, err := text(dec, key)
			if err != nil {
				return nil, err
			}
			if _, dup := d.vals[k]; dup {
				return nil, fmt.Errorf("duplicate key %q", k)
			}
			el, err := nextStart(dec)
			if err != nil {
				return nil, fmt.Errorf("key %q without a value: %w", k, err)
			}
			v, err := decodeValue(dec, el)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			d.keys = append(d.keys, k)
			d.vals[k] = v
		}
	default:
		return nil, fmt.Errorf("unknown plist element <%s>", se.Name.Local)
	}
}
