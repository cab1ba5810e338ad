package server

import (
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
)

// Autodiscover for mobile clients, MS-ASAB / [MS-OXDSCLI]: the request names
// an e-mail address and the mobilesync response schema; the answer is the
// URL of this server's EAS endpoint.
const (
	adResponseNS   = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	adMobileSyncNS = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
)

type adRequest struct {
	XMLName xml.Name `xml:"Autodiscover"`
	Request struct {
		EMailAddress             string `xml:"EMailAddress"`
		AcceptableResponseSchema string `xml:"AcceptableResponseSchema"`
	} `xml:"Request"`
}

func (s *Server) serveAutodiscover(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	sess, err := s.authenticate(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	var req adRequest
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := xml.Unmarshal(body, &req); err != nil {
			http.Error(w, "malformed Autodiscover request: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	email := req.Request.EMailAddress
	if email == "" {
		email = sess.Email()
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if schema := req.Request.AcceptableResponseSchema; schema != "" && schema != adMobileSyncNS {
		// Outlook desktop asks for the outlook schema; we only serve EAS.
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="%s"><Response><Error><ErrorCode>600</ErrorCode><Message>Invalid Request</Message><DebugData>only %s is offered</DebugData></Error></Response></Autodiscover>
`, adResponseNS, adMobileSyncNS)
		return
	}
	url := publicURL(r) + Path
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="%s">
  <Response xmlns="%s">
    <Culture>en:us</Culture>
    <User>
      <DisplayName>%s</DisplayName>
      <EMailAddress>%s</EMailAddress>
    </User>
    <Action>
      <Settings>
        <Server>
          <Type>MobileSync</Type>
          <Url>%s</Url>
          <Name>%s</Name>
        </Server>
      </Settings>
    </Action>
  </Response>
</Autodiscover>
`, adResponseNS, adMobileSyncNS, xmlEscape(sess.DisplayName()), xmlEscape(email), xmlEscape(url), xmlEscape(url))
}

// publicURL is scheme://host as the client reached us.
func publicURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

var setupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>easbridge — add this server to your phone</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.4}code{background:#eee;padding:.1em .3em}</style>
</head><body>
<h1>easbridge</h1>
<p>Add an <b>Exchange</b> account on your phone with:</p>
<ul>
<li>Server: <code>{{.Host}}</code></li>
<li>User name: your e-mail login</li>
<li>Password: your e-mail password</li>
{{if .TLS}}<li>Use SSL/TLS: on</li>{{end}}
</ul>
<p>Step-by-step instructions, the certificate and an iPhone profile: <a href="/setup">/setup</a>.</p>
{{if .CA}}<p>This server uses its own certificate authority. Install it first: <a href="/easbridge-ca.pem">easbridge-ca.pem</a>.
{{if .Fingerprint}}Server certificate fingerprint (SHA-256): <code>{{.Fingerprint}}</code>{{end}}</p>{{end}}
</body></html>
`))

// serveSetup serves the setup page that the QR code in the window opens,
// and the CA certificate.
func (s *Server) serveSetup(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/", "/setup":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err := setupPage.Execute(w, map[string]any{
			"Host": r.Host, "TLS": r.TLS != nil, "CA": len(s.opts.CAPEM) > 0, "Fingerprint": s.opts.Fingerprint,
		})
		if err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
			s.log.Debug("server: setup page", "err", err)
		}
	case "/easbridge-ca.pem":
		if len(s.opts.CAPEM) == 0 {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-x509-ca-cert")
		w.Header().Set("Content-Disposition", `attachment; filename="easbridge-ca.pem"`)
		_, _ = w.Write(s.opts.CAPEM)
	default:
		http.NotFound(w, r)
	}
}
