package sieve

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ScriptName is the name of the script easbridge activates while an
// out-of-office reply is on.
const ScriptName = "easbridge"

// settingsPrefix starts the comment line that carries the settings of a
// generated script, so that reading them back needs no Sieve parser.
const settingsPrefix = "# easbridge-vacation: "

// Reply is the answer to one audience.
type Reply struct {
	Enabled bool   `json:"enabled"`
	Text    string `json:"text,omitempty"`
	HTML    bool   `json:"html,omitempty"`
}

// Vacation is an out-of-office setting as a Sieve vacation action
// (RFC 5230) in a date window (RFC 5260 currentdate with RFC 5231
// relational comparisons).
//
// Audiences: Internal answers senders whose From address is in Domain;
// External answers everyone else. Exchange's ExternalKnown (senders in
// the user's contacts) and ExternalUnknown cannot be told apart by Sieve:
// the caller collapses them into External.
type Vacation struct {
	// Start and End bound the replies (UTC, End exclusive); both zero
	// means always.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// Domain is the user's own mail domain (internal senders).
	Domain   string `json:"domain,omitempty"`
	Internal Reply  `json:"internal"`
	External Reply  `json:"external"`
	// Subject of the replies; "" leaves it to the server ("Auto: …").
	Subject string `json:"subject,omitempty"`
	// Days between two replies to the same sender (RFC 5230 4.1);
	// 0 means 7.
	Days int `json:"days,omitempty"`
	// Addresses are the user's own addresses (RFC 5230 4.5): only mail
	// sent to one of them is answered.
	Addresses []string `json:"addresses,omitempty"`
	// Include names the user's own script that stays in force through
	// include :personal (RFC 6609); "" when they had none active.
	Include string `json:"include,omitempty"`
	// Extra is kept verbatim for the caller (e.g. the settings exactly as
	// the phone sent them).
	Extra json.RawMessage `json:"extra,omitempty"`
}

// Render renders v as a complete Sieve script: our vacation block, then
// the include of the user's script.
func Render(v Vacation) (string, error) {
	if v.Include == ScriptName {
		return "", errors.New("sieve: a vacation script cannot include itself")
	}
	if !v.Start.IsZero() && !v.End.After(v.Start) {
		return "", errors.New("sieve: vacation window ends before it starts")
	}
	meta, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sieve: vacation settings: %w", err)
	}
	req := []string{`"vacation"`}
	if !v.Start.IsZero() {
		req = append(req, `"date"`, `"relational"`)
	}
	if v.Include != "" {
		req = append(req, `"include"`)
	}
	var b strings.Builder
	b.WriteString("# Out-of-office reply written by easbridge; changed from the phone.\n")
	b.WriteString("# Do not edit: easbridge rewrites this script.\n")
	if v.Include != "" {
		fmt.Fprintf(&b, "# Your own rules stay in force: %s is included at the end.\n", sieveString(v.Include))
	}
	b.WriteString(settingsPrefix + string(meta) + "\n")
	fmt.Fprintf(&b, "require [%s];\n", strings.Join(req, ", "))

	indent := ""
	if !v.Start.IsZero() {
		// currentdate's iso8601 value ends in a zone ("Z" or "+00:00");
		// comparing with the zone-less prefix orders correctly either way.
		const f = "2006-01-02T15:04:05"
		fmt.Fprintf(&b, "if allof (currentdate :zone \"+0000\" :value \"ge\" \"iso8601\" %s,\n", sieveString(v.Start.UTC().Format(f)))
		fmt.Fprintf(&b, "          currentdate :zone \"+0000\" :value \"lt\" \"iso8601\" %s) {\n", sieveString(v.End.UTC().Format(f)))
		indent = "  "
	}
	in, ex := v.Internal, v.External
	switch {
	case in.Enabled && ex.Enabled && v.Domain != "":
		fmt.Fprintf(&b, "%sif address :domain :is \"from\" %s {\n", indent, sieveString(v.Domain))
		writeVacation(&b, indent+"  ", v, in)
		fmt.Fprintf(&b, "%s} else {\n", indent)
		writeVacation(&b, indent+"  ", v, ex)
		fmt.Fprintf(&b, "%s}\n", indent)
	case in.Enabled && v.Domain != "":
		fmt.Fprintf(&b, "%sif address :domain :is \"from\" %s {\n", indent, sieveString(v.Domain))
		writeVacation(&b, indent+"  ", v, in)
		fmt.Fprintf(&b, "%s}\n", indent)
	case ex.Enabled && v.Domain != "":
		fmt.Fprintf(&b, "%sif not address :domain :is \"from\" %s {\n", indent, sieveString(v.Domain))
		writeVacation(&b, indent+"  ", v, ex)
		fmt.Fprintf(&b, "%s}\n", indent)
	case in.Enabled || ex.Enabled:
		// No domain to tell audiences apart: one reply for everyone.
		r := ex
		if !r.Enabled {
			r = in
		}
		writeVacation(&b, indent, v, r)
	}
	if !v.Start.IsZero() {
		b.WriteString("}\n")
	}
	if v.Include != "" {
		fmt.Fprintf(&b, "include :personal %s;\n", sieveString(v.Include))
	}
	return b.String(), nil
}

func writeVacation(b *strings.Builder, indent string, v Vacation, r Reply) {
	days := v.Days
	if days <= 0 {
		days = 7
	}
	fmt.Fprintf(b, "%svacation :days %d", indent, days)
	if v.Subject != "" {
		fmt.Fprintf(b, " :subject %s", sieveString(v.Subject))
	}
	if len(v.Addresses) > 0 {
		qs := make([]string, len(v.Addresses))
		for i, a := range v.Addresses {
			qs[i] = sieveString(a)
		}
		fmt.Fprintf(b, " :addresses [%s]", strings.Join(qs, ", "))
	}
	text := r.Text
	if r.HTML {
		// RFC 5230 4.7: with :mime the reason is a MIME entity.
		b.WriteString(" :mime")
		text = "Content-Type: text/html; charset=utf-8\r\n\r\n" + text
	}
	fmt.Fprintf(b, " %s;\n", sieveString(text))
}

// sieveString quotes s as a Sieve quoted string, RFC 5228 2.4.2: '"' and
// '\' are escaped; line breaks are allowed inside and written as CRLF.
func sieveString(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", "\r\n", "\r", "", "\x00", "").Replace(s)
	return `"` + s + `"`
}

// ParseScript reads back the settings of a script written by Render. ok
// is false when content is not one of ours.
func ParseScript(content string) (v Vacation, ok bool, err error) {
	sc := bufio.NewScanner(strings.NewReader(content))
	sc.Buffer(make([]byte, 0, 64<<10), MaxLiteral)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		meta, found := strings.CutPrefix(line, settingsPrefix)
		if !found {
			continue
		}
		if err := json.Unmarshal([]byte(meta), &v); err != nil {
			return Vacation{}, true, fmt.Errorf("sieve: settings of the easbridge script: %w", err)
		}
		return v, true, nil
	}
	return Vacation{}, false, sc.Err()
}
