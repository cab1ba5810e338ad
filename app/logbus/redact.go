package logbus

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"easbridge/server/wbxml"
)

// Redacted replaces secret values.
const Redacted = "[redacted]"

// RedactHeaders returns a copy of h without credentials: Authorization and
// Proxy-Authorization keep only their scheme ("Basic [redacted]"), Cookie
// and Set-Cookie keep only the cookie names, and any header whose name
// mentions a password, secret or token is replaced whole. Everything else,
// X-MS-PolicyKey included, is kept. It is idempotent; nil gives nil.
func RedactHeaders(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		lk := strings.ToLower(ck)
		nv := make([]string, len(vs))
		for i, v := range vs {
			switch {
			case ck == "Authorization" || ck == "Proxy-Authorization":
				if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok && scheme != "" {
					nv[i] = scheme + " " + Redacted
				} else {
					nv[i] = Redacted
				}
			case ck == "Cookie":
				nv[i] = redactCookies(v, ";")
			case ck == "Set-Cookie":
				name, _, _ := strings.Cut(v, ";")
				nv[i] = redactCookies(name, ";")
			case strings.Contains(lk, "password") || strings.Contains(lk, "secret") || strings.Contains(lk, "token"):
				nv[i] = Redacted
			default:
				nv[i] = v
			}
		}
		out[k] = nv
	}
	return out
}

// redactCookies turns "a=1; b=2" into "a=[redacted]; b=[redacted]".
func redactCookies(v, sep string) string {
	parts := strings.Split(v, sep)
	for i, p := range parts {
		name, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[i] = name + "=" + Redacted
	}
	return strings.Join(parts, sep+" ")
}

// secretParams are query parameters dropped by RedactQuery.
var secretParams = []string{"password", "pwd", "passwd", "pass"}

// RedactQuery returns the raw query of an EAS URL without parameters that
// could carry a password (Password, pwd, passwd, pass, any case); the rest,
// including the base64-encoded binary query form (MS-ASHTTP 2.2.1.1.1.1),
// is kept as it is.
func RedactQuery(rawQuery string) string {
	parts := strings.Split(rawQuery, "&")
	kept := parts[:0]
	for _, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		secret := false
		for _, s := range secretParams {
			secret = secret || strings.EqualFold(k, s)
		}
		if !secret {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "&")
}

type tag struct{ space, name string }

// secretNames are elements replaced by Redacted whatever preview is, in any
// namespace: Settings DevicePassword (the device's recovery password) and
// the Password of Settings, ItemOperations (document library credentials)
// and Search.
var secretNames = map[string]bool{"Password": true, "DevicePassword": true}

// bodyTags are message contents, cut to the preview length.
var bodyTags = map[tag]bool{
	{wbxml.NSAirSyncBase, "Data"}:    true,
	{wbxml.NSAirSyncBase, "Preview"}: true,
	{wbxml.NSComposeMail, "Mime"}:    true,
	{wbxml.NSItemOperations, "Data"}: true,
	{wbxml.NSEmail, "Body"}:          true, // 2.5
	{wbxml.NSEmail, "MIMEData"}:      true, // 2.5
	{wbxml.NSCalendar, "Body"}:       true, // 2.5
	{wbxml.NSContacts, "Body"}:       true, // 2.5
	{wbxml.NSTasks, "Body"}:          true, // 2.5
}

// contentTags are attachment and picture contents, removed whole.
var contentTags = map[tag]bool{
	{wbxml.NSAirSyncBase, "Content"}:    true, // attachment added by SendMail & co. (16.0)
	{wbxml.NSContacts, "Picture"}:       true,
	{wbxml.NSGAL, "Data"}:               true,
	{wbxml.NSResolveRecipients, "Data"}: true,
}

// RedactTree returns a copy of the tree under root fit for logs (root is
// not modified; nil gives nil):
//
//   - elements that can carry a secret (Settings DevicePassword, any
//     Password element) become "[redacted]", always;
//   - attachment and picture contents (AirSyncBase:Content, Contacts:Picture,
//     GAL and ResolveRecipients picture Data) are removed, leaving
//     "[N bytes redacted]";
//   - message bodies (AirSyncBase:Data, the 2.5 Body and MIMEData elements,
//     ComposeMail:Mime, ItemOperations:Data) and any other opaque data
//     longer than preview characters are cut to their first preview
//     characters followed by "…[N bytes redacted]" (binary data loses its
//     prefix too). Short values are kept.
//
// With preview < 0 bodies and attachments are kept whole and only secrets
// are redacted: that is the form to log when redaction is turned off.
func RedactTree(root *wbxml.Element, preview int) *wbxml.Element {
	if root == nil {
		return nil
	}
	return redactElement(root, preview)
}

func redactElement(e *wbxml.Element, preview int) *wbxml.Element {
	t := tag{e.Space, e.Name}
	out := &wbxml.Element{Space: e.Space, Name: e.Name}
	if secretNames[e.Name] {
		out.Text = Redacted
		return out
	}
	if preview >= 0 && len(e.Children) == 0 {
		switch {
		case contentTags[t]:
			if n := contentLen(e); n > 0 {
				out.Text = "[" + strconv.Itoa(n) + " bytes redacted]"
			}
			return out
		case bodyTags[t] || e.IsOpaque:
			return cut(e, preview)
		}
	}
	out.Text, out.IsOpaque = e.Text, e.IsOpaque
	if e.IsOpaque {
		out.Opaque = bytes.Clone(e.Opaque)
	}
	if len(e.Children) > 0 {
		out.Children = make([]*wbxml.Element, 0, len(e.Children))
		for _, c := range e.Children {
			if c != nil {
				out.Children = append(out.Children, redactElement(c, preview))
			}
		}
	}
	return out
}

func contentLen(e *wbxml.Element) int {
	if e.IsOpaque {
		return len(e.Opaque)
	}
	return len(e.Text)
}

// cut keeps the first preview characters of e's content.
func cut(e *wbxml.Element, preview int) *wbxml.Element {
	out := &wbxml.Element{Space: e.Space, Name: e.Name}
	s := e.Text
	if e.IsOpaque {
		s = string(e.Opaque)
	}
	end, runes := len(s), 0
	for i := range s {
		if runes == preview {
			end = i
			break
		}
		runes++
	}
	if end == len(s) {
		out.Text, out.IsOpaque = e.Text, e.IsOpaque
		if e.IsOpaque {
			out.Opaque = bytes.Clone(e.Opaque)
		}
		return out
	}
	prefix := s[:end]
	if !printable(prefix) {
		prefix = ""
	}
	note := "[" + strconv.Itoa(len(s)-len(prefix)) + " bytes redacted]"
	if prefix != "" {
		note = prefix + "…" + note
	}
	out.Text = note
	return out
}

// printable reports whether s is valid UTF-8 text without control
// characters other than tab, CR and LF.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}
