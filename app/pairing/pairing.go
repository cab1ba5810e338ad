// Package pairing serves the pages a phone opens to set itself up against
// easbridge: a mobile-friendly setup page, the server's certificate
// authority (PEM, and DER for Android), and an Apple configuration profile
// that adds the Exchange ActiveSync account on iPhone and iPad.
//
// Everything lives under Prefix; the app mounts the one handler twice:
//
//	mux.Handle(pairing.Prefix, h)      // "/setup"
//	mux.Handle(pairing.Prefix+"/", h)  // "/setup/..."
//
// Routes:
//
//	GET /setup, /setup/                 the HTML page
//	GET /setup/ca.pem                   the CA, PEM
//	GET /setup/ca.crt                   the CA, DER (what Android installs)
//	GET /setup/easbridge.mobileconfig   ?email=…[&user=…] the profile
//
// The page uses no external resources, no script, and html/template
// escaping; the profile never contains a password (iOS asks for it while
// installing).
package pairing

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
)

// Prefix is where the handler is mounted.
const Prefix = "/setup"

// Paths under Prefix.
const (
	PathCAPEM   = Prefix + "/ca.pem"
	PathCADER   = Prefix + "/ca.crt"
	PathProfile = Prefix + "/easbridge.mobileconfig"
)

// ProfileContentType is the MIME type iOS installs profiles from.
const ProfileContentType = "application/x-apple-aspen-config"

// Info is what the pages describe. The handler asks for it on every request,
// so a settings change shows up on the next reload.
type Info struct {
	// ServerHost is the host[:port] the phone should type; empty means the
	// Host of the request (what the phone used to reach this page).
	ServerHost string
	// Scheme is "https" or "http"; empty means the scheme of the request.
	Scheme string
	// CAPEM is the certificate authority to install; nil with TLS off or
	// with a certificate the phone already trusts.
	CAPEM []byte
	// Fingerprint is the SHA-256 of the server certificate, for the user to
	// compare with what the phone shows.
	Fingerprint string
	// Domain is the mail domain: the example address on the page, and the
	// domain added to an e-mail parameter that has none.
	Domain string
	// DemoUser and DemoPassword are shown only while the demo account is
	// active (both set).
	DemoUser, DemoPassword string
}

// Handler serves the setup pages; info is called once per request.
func Handler(info func() Info) http.Handler {
	return &handler{info: info}
}

type handler struct {
	info func() Info
}

// view is Info resolved against a request.
type view struct {
	Info
	Host, Port string // ServerHost split for Android's separate fields
	TLS        bool
	CA         *x509.Certificate // nil without a usable CA
	CADER      []byte
	CAError    error // CAPEM was set but is not a certificate
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	v := resolve(h.info(), r)
	switch r.URL.Path {
	case Prefix, Prefix + "/":
		servePage(w, v)
	case PathCAPEM:
		serveCA(w, v, false)
	case PathCADER:
		serveCA(w, v, true)
	case PathProfile:
		serveProfile(w, r, v)
	default:
		http.NotFound(w, r)
	}
}

func resolve(in Info, r *http.Request) view {
	if in.ServerHost == "" {
		in.ServerHost = r.Host
	}
	in.Scheme = strings.ToLower(in.Scheme)
	if in.Scheme == "" {
		in.Scheme = "http"
		if r.TLS != nil {
			in.Scheme = "https"
		}
	}
	if in.DemoUser == "" || in.DemoPassword == "" {
		in.DemoUser, in.DemoPassword = "", ""
	}
	v := view{Info: in, TLS: in.Scheme == "https"}
	v.Host, v.Port = splitHostPort(in.ServerHost, v.TLS)
	if len(in.CAPEM) > 0 {
		v.CA, v.CADER, v.CAError = parseCA(in.CAPEM)
	}
	return v
}

// splitHostPort splits host[:port], defaulting the port by scheme.
func splitHostPort(hostport string, tls bool) (host, port string) {
	port = "80"
	if tls {
		port = "443"
	}
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	return strings.Trim(hostport, "[]"), port
}

// parseCA returns the first certificate of a PEM bundle.
func parseCA(b []byte) (*x509.Certificate, []byte, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, nil, errors.New("no CERTIFICATE block in the CA PEM")
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("parse CA certificate: %w", err)
		}
		return c, blk.Bytes, nil
	}
}

// CAName names the CA as iOS lists it under Certificate Trust Settings.
func (v view) CAName() string {
	if v.CA == nil {
		return ""
	}
	if cn := v.CA.Subject.CommonName; cn != "" {
		return cn
	}
	return "easbridge CA"
}

// CAFingerprint is the CA's SHA-256, in the format of Info.Fingerprint.
func (v view) CAFingerprint() string {
	if v.CADER == nil {
		return ""
	}
	sum := sha256.Sum256(v.CADER)
	return colonHex(sum[:])
}

func colonHex(b []byte) string {
	h := strings.ToUpper(hex.EncodeToString(b))
	var s strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			s.WriteByte(':')
		}
		s.WriteString(h[i : i+2])
	}
	return s.String()
}

// setHeaders marks every response private and locks the page down: no
// script, no external resources, forms only to this server.
func setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
}

func servePage(w http.ResponseWriter, v view) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		http.Error(w, "setup page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	setHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func serveCA(w http.ResponseWriter, v view, der bool) {
	switch {
	case v.CAError != nil:
		http.Error(w, "the server's CA certificate is unreadable: "+v.CAError.Error(), http.StatusInternalServerError)
		return
	case v.CA == nil:
		http.Error(w, "this server has no certificate authority to install", http.StatusNotFound)
		return
	}
	setHeaders(w)
	// application/x-x509-ca-cert makes Android and iOS offer to install it.
	w.Header().Set("Content-Type", "application/x-x509-ca-cert")
	if der {
		w.Header().Set("Content-Disposition", `attachment; filename="easbridge-ca.crt"`)
		_, _ = w.Write(v.CADER)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="easbridge-ca.pem"`)
	_, _ = w.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: v.CADER}))
}

func serveProfile(w http.ResponseWriter, r *http.Request, v view) {
	q := r.URL.Query()
	email, err := parseEmail(q.Get("email"), v.Domain)
	if err != nil {
		http.Error(w, "email: "+err.Error(), http.StatusBadRequest)
		return
	}
	user, err := parseUser(q.Get("user"))
	if err != nil {
		http.Error(w, "user: "+err.Error(), http.StatusBadRequest)
		return
	}
	if user == "" {
		user = email
	}
	if err := checkHost(v.ServerHost); err != nil {
		http.Error(w, "server host: "+err.Error(), http.StatusBadRequest)
		return
	}
	if v.CAError != nil {
		http.Error(w, "the server's CA certificate is unreadable: "+v.CAError.Error(), http.StatusInternalServerError)
		return
	}
	body := buildProfile(v, email, user)
	setHeaders(w)
	w.Header().Set("Content-Type", ProfileContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="easbridge.mobileconfig"`)
	_, _ = w.Write(body)
}

var page = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>easbridge: set up your phone</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40em;margin:0 auto;padding:1em;line-height:1.45;color:#222;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
code,.v{font-family:ui-monospace,monospace;background:#f1f1f1;padding:.1em .3em;border-radius:3px;word-break:break-all}
table{border-collapse:collapse;width:100%}td{padding:.35em .3em;border-bottom:1px solid #eee;vertical-align:top}td:first-child{color:#555;width:9em}
.box{padding:.7em 1em;border-radius:6px;margin:1em 0}.demo{background:#eef6ff}.warn{background:#fff4e5}
a.btn,button{display:inline-block;padding:.6em 1em;margin:.2em .4em .2em 0;border-radius:6px;border:0;background:#0a64d6;color:#fff;text-decoration:none;font-size:1em}
input{font-size:1em;padding:.5em;width:100%;box-sizing:border-box;margin:.2em 0 .6em;border:1px solid #aaa;border-radius:4px}
label{font-weight:600}ol li{margin:.3em 0}.small{font-size:.9em;color:#555}
</style></head><body>
<h1>Add easbridge to your phone</h1>
<p>Add an <b>Exchange</b> account with these settings:</p>
<table>
<tr><td>Server</td><td><span class="v" id="server">{{.ServerHost}}</span></td></tr>
<tr><td>Port</td><td><span class="v">{{.Port}}</span> <span class="small">(only if the phone asks separately)</span></td></tr>
<tr><td>Security</td><td>{{if .TLS}}SSL/TLS on{{else}}none (plain HTTP){{end}}</td></tr>
<tr><td>User name</td><td>your e-mail address{{if .Domain}}, e.g. <span class="v">you@{{.Domain}}</span>{{end}}. A <code>DOMAIN\</code> prefix is ignored; leave a separate Domain field empty.</td></tr>
<tr><td>Password</td><td>your e-mail password</td></tr>
</table>
{{if .DemoUser}}<div class="box demo"><b>Demo account active.</b> User name <span class="v" id="demo-user">{{.DemoUser}}</span>, password <span class="v" id="demo-password">{{.DemoPassword}}</span>.</div>{{end}}

<h2>Certificate</h2>
{{if .CAError}}<div class="box warn">The server's CA certificate cannot be read; ask whoever runs easbridge to check it.</div>
{{else if .CA}}<p>This server's certificate comes from its own certificate authority, <b>{{.CAName}}</b>. Install that CA on the phone <em>before</em> adding the account, or the phone will refuse to connect.</p>
<p><a class="btn" href="/setup/ca.crt">Install the CA (Android, DER)</a><a class="btn" href="/setup/ca.pem">CA as PEM</a></p>
<p class="small">CA SHA-256 fingerprint: <span class="v">{{.CAFingerprint}}</span></p>
{{else if .TLS}}<p>The server uses TLS with a certificate the phone should already trust.</p>
{{else}}<div class="box warn">This server runs <b>without TLS</b>: the password crosses the network readable by anyone on it. Use it only on a network you trust.</div>{{end}}
{{if .Fingerprint}}<p>Server certificate SHA-256 fingerprint, to compare with the one in the easbridge window or with what the phone shows:<br><span class="v" id="fingerprint">{{.Fingerprint}}</span></p>{{end}}

<h2>iPhone and iPad</h2>
<p>Download a configuration profile that adds the account{{if and .TLS .CA}} and the CA{{end}}. It holds no password: iOS asks for it while installing.</p>
<form method="get" action="/setup/easbridge.mobileconfig">
<label for="email">E-mail address</label>
<input id="email" name="email" type="email" required autocomplete="email" autocapitalize="off" spellcheck="false" placeholder="you@{{if .Domain}}{{.Domain}}{{else}}example.com{{end}}">
<label for="user">User name <span class="small">(optional; the e-mail address when empty)</span></label>
<input id="user" name="user" type="text" autocomplete="username" autocapitalize="off" spellcheck="false"{{if .DemoUser}} value="{{.DemoUser}}"{{end}}>
<button type="submit">Download profile</button>
</form>
<ol>
<li>Open this page in Safari, enter the address and tap <b>Download profile</b>; allow the download.</li>
<li>Open <b>Settings → Profile Downloaded → Install</b> and enter your password when asked.</li>
{{if and .TLS .CA}}<li>Then <b>Settings → General → About → Certificate Trust Settings</b>: turn on full trust for <b>{{.CAName}}</b>.</li>{{end}}
</ol>
<p class="small">Without the profile: Settings → Mail → Accounts → Add Account → Microsoft Exchange → your address → Configure Manually, then the server and user name above.
macOS Mail does not speak Exchange ActiveSync; on a Mac the profile's account part does not apply{{if .CA}}, but the CA link above installs the certificate{{end}}.</p>

<h2>Android</h2>
<ol>
{{if .CA}}<li>Tap <b>Install the CA (Android, DER)</b> above. If nothing happens, open <b>Settings → Security → Encryption &amp; credentials → Install a certificate → CA certificate</b> (names vary by maker) and pick the downloaded <code>easbridge-ca.crt</code>.</li>{{end}}
<li>Open <b>Settings → Accounts</b> (or Passwords &amp; accounts) <b>→ Add account → Exchange</b>. In Gmail: <b>Add another account → Exchange and Office 365</b>.</li>
<li>Enter your e-mail address and password, then choose <b>Manual setup</b>.</li>
<li>Server <span class="v">{{.Host}}</span>, port <span class="v">{{.Port}}</span>, security type <b>{{if .TLS}}SSL/TLS{{else}}None{{end}}</b>; the user name as above, Domain empty.</li>
{{if .TLS}}<li>If the phone warns about the certificate, {{if .CA}}install the CA first; do not choose "accept all certificates"{{else}}compare the fingerprint above before accepting{{end}}.</li>{{end}}
<li>Accept the <b>remote security administration</b> prompt: Android asks it of every Exchange account.</li>
</ol>
</body></html>
`))
