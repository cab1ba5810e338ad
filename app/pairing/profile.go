package pairing

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Apple payload types used in the profile.
const (
	PayloadTypeEAS  = "com.apple.eas.account"
	PayloadTypeRoot = "com.apple.security.root"
)

// buildProfile renders the configuration profile: the CA (only with TLS and
// a CA) first, so that it is trusted before the account first connects, then
// the Exchange account. Identifiers and UUIDs derive from the server identity
// and the e-mail address, so downloading again produces a profile that
// replaces the installed one instead of adding a second.
func buildProfile(v view, email, user string) []byte {
	id := profileID(v, email)
	var content []any
	desc := fmt.Sprintf("Adds the Exchange account %s on the easbridge server %s", email, v.ServerHost)
	if v.TLS && v.CA != nil {
		content = append(content, dict{
			{"PayloadCertificateFileName", "easbridge-ca.crt"},
			{"PayloadContent", v.CADER},
			{"PayloadDescription", "Certificate authority of your easbridge server"},
			{"PayloadDisplayName", v.CAName()},
			{"PayloadIdentifier", id.ident + ".ca"},
			{"PayloadType", PayloadTypeRoot},
			{"PayloadUUID", id.uuid("ca")},
			{"PayloadVersion", 1},
		})
		desc += " and trusts its certificate authority"
	}
	content = append(content, dict{
		{"EmailAddress", email},
		{"Host", v.ServerHost},
		{"PayloadDescription", "Exchange ActiveSync account served by easbridge"},
		{"PayloadDisplayName", "Exchange ActiveSync (" + email + ")"},
		{"PayloadIdentifier", id.ident + ".eas"},
		{"PayloadType", PayloadTypeEAS},
		{"PayloadUUID", id.uuid("eas")},
		{"PayloadVersion", 1},
		{"SSL", v.TLS},
		{"UserName", user},
	})
	root := dict{
		{"PayloadContent", content},
		{"PayloadDescription", desc + "."},
		{"PayloadDisplayName", "easbridge: " + email},
		{"PayloadIdentifier", id.ident},
		{"PayloadOrganization", "easbridge"},
		{"PayloadRemovalDisallowed", false},
		{"PayloadType", "Configuration"},
		{"PayloadUUID", id.uuid("profile")},
		{"PayloadVersion", 1},
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
`)
	writeValue(&b, root, 0)
	b.WriteString("</plist>\n")
	return b.Bytes()
}

type ids struct {
	ident string // reverse-DNS-like PayloadIdentifier
	seed  [32]byte
}

// profileID keys the profile on the server and the address (case-folded).
// The server is its CA when it has one, which survives a change of host name
// or IP, else the host it is reached at.
func profileID(v view, email string) ids {
	server := "host:" + strings.ToLower(v.ServerHost)
	if v.CADER != nil {
		sum := sha256.Sum256(v.CADER)
		server = fmt.Sprintf("ca:%x", sum)
	}
	seed := sha256.Sum256([]byte("easbridge profile\x00" + server + "\x00" + strings.ToLower(email)))
	return ids{ident: fmt.Sprintf("easbridge.profile.%x", seed[:8]), seed: seed}
}

// uuid derives a stable RFC 9562 version 8 (custom) UUID for one role.
func (i ids) uuid(role string) string {
	h := sha256.Sum256(append(i.seed[:], role...))
	h[6] = h[6]&0x0f | 0x80 // version 8
	h[8] = h[8]&0x3f | 0x80 // RFC 9562 variant
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16]))
}

// dict is a plist dictionary with its key order.
type dict []kv

type kv struct {
	k string
	v any
}

// writeValue writes v as plist XML: string, bool, int, []byte, []any, dict.
func writeValue(b *bytes.Buffer, v any, depth int) {
	ind := strings.Repeat("\t", depth)
	switch v := v.(type) {
	case string:
		b.WriteString(ind + "<string>")
		_ = xml.EscapeText(b, []byte(v))
		b.WriteString("</string>\n")
	case bool:
		if v {
			b.WriteString(ind + "<true/>\n")
		} else {
			b.WriteString(ind + "<false/>\n")
		}
	case int:
		b.WriteString(ind + "<integer>" + strconv.Itoa(v) + "</integer>\n")
	case []byte:
		b.WriteString(ind + "<data>\n")
		s := base64.StdEncoding.EncodeToString(v)
		for len(s) > 0 {
			n := min(len(s), 64)
			b.WriteString(ind + s[:n] + "\n")
			s = s[n:]
		}
		b.WriteString(ind + "</data>\n")
	case []any:
		b.WriteString(ind + "<array>\n")
		for _, e := range v {
			writeValue(b, e, depth+1)
		}
		b.WriteString(ind + "</array>\n")
	case dict:
		b.WriteString(ind + "<dict>\n")
		for _, e := range v {
			b.WriteString(ind + "\t<key>")
			_ = xml.EscapeText(b, []byte(e.k))
			b.WriteString("</key>\n")
			writeValue(b, e.v, depth+1)
		}
		b.WriteString(ind + "</dict>\n")
	default:
		panic(fmt.Sprintf("pairing: no plist encoding for %T", v))
	}
}

// parseEmail accepts a plain addr-spec (local@domain, no display name, no
// quoting or comments) and adds domain to a bare local part.
func parseEmail(raw, domain string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", errors.New("missing: pass ?email=you@example.com")
	case !strings.Contains(s, "@") && domain != "":
		s += "@" + domain
	}
	if len(s) > 254 {
		return "", errors.New("longer than 254 characters")
	}
	if !utf8.ValidString(s) {
		return "", errors.New("not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>()[]\,;:"'`, r) {
			return "", errors.New("not a plain e-mail address (you@example.com)")
		}
	}
	local, dom, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(dom, "@") {
		return "", errors.New("not an e-mail address: want exactly one @ with a name before it")
	}
	if len(local) > 64 {
		return "", errors.New("the part before @ is longer than 64 characters")
	}
	if err := checkDomain(dom); err != nil {
		return "", err
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s || a.Name != "" {
		return "", errors.New("not a plain e-mail address (you@example.com)")
	}
	return s, nil
}

func checkDomain(d string) error {
	if d == "" || len(d) > 253 {
		return errors.New("the domain after @ is empty or too long")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("the domain after @ is not a host name")
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return errors.New("the domain after @ is not a host name")
			}
		}
	}
	return nil
}

// parseUser accepts an optional user name: printable, at most 256 bytes.
func parseUser(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if len(s) > 256 {
		return "", errors.New("longer than 256 characters")
	}
	if !utf8.ValidString(s) {
		return "", errors.New("not valid UTF-8")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || strings.ContainsRune(`<>"`, r) {
			return "", errors.New("contains characters a user name cannot have")
		}
	}
	return s, nil
}

// checkHost accepts host[:port] where host is a DNS name or an IP address.
func checkHost(hostport string) error {
	host, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return errors.New("bad port")
		}
	}
	if host == "" {
		return errors.New("empty")
	}
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return nil
	}
	return checkDomain(strings.TrimSuffix(host, "."))
}
