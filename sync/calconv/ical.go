package calconv

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The content-line syntax shared by iCalendar (RFC 5545 3.1) and vCard
// (RFC 6350 3.3, RFC 2426 2.4): folded lines of
//
//	[group "."] name *(";" param ["=" value *("," value)]) ":" value
//
// grouped into BEGIN/END components. Properties keep their order, group,
// parameter order and raw (still escaped) value, so that an object read
// and written again without changes comes out the same apart from line
// folding and line endings.

// maxDepth bounds component nesting (VCALENDAR > VEVENT > VALARM is 3).
const maxDepth = 16

// maxObject bounds the size of one stored object that we parse.
const maxObject = 16 << 20

var errSyntax = fmt.Errorf("%w: syntax error", ErrInvalid)

type param struct {
	Name   string   // upper case
	Values []string // decoded (RFC 6868 caret escapes resolved)
}

type prop struct {
	Group  string
	Name   string // upper case
	raw    string // the name as written, when it differs only in case
	Params []param
	Value  string // raw value, escapes kept
}

type component struct {
	Name     string // upper case: VCALENDAR, VEVENT, VCARD, …
	Props    []*prop
	Children []*component
}

// parseObject parses one top-level component (VCALENDAR or VCARD).
func parseObject(data []byte) (*component, error) {
	if len(data) > maxObject {
		return nil, fmt.Errorf("%w: object of %d bytes is too large", errSyntax, len(data))
	}
	lines := unfold(data)
	var stack []*component
	var root *component
	for n, line := range lines {
		if isBlank(line) {
			continue
		}
		p, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		switch p.Name {
		case "BEGIN":
			name := strings.ToUpper(strings.TrimSpace(p.Value))
			if name == "" {
				return nil, fmt.Errorf("line %d: %w: BEGIN without a name", n+1, errSyntax)
			}
			if root != nil && len(stack) == 0 {
				// Data after the object: RFC 4791 allows one object per
				// resource; ignore the rest.
				return root, nil
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("line %d: %w: components nested too deeply", n+1, errSyntax)
			}
			c := &component{Name: name}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, c)
			} else {
				root = c
			}
			stack = append(stack, c)
		case "END":
			name := strings.ToUpper(strings.TrimSpace(p.Value))
			if len(stack) == 0 {
				return nil, fmt.Errorf("line %d: %w: END:%s without BEGIN", n+1, errSyntax, name)
			}
			if top := stack[len(stack)-1]; top.Name != name {
				return nil, fmt.Errorf("line %d: %w: END:%s closes %s", n+1, errSyntax, name, top.Name)
			}
			stack = stack[:len(stack)-1]
		default:
			if len(stack) == 0 {
				if root != nil {
					return root, nil
				}
				return nil, fmt.Errorf("line %d: %w: property %s outside a component", n+1, errSyntax, p.Name)
			}
			top := stack[len(stack)-1]
			top.Props = append(top.Props, p)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no BEGIN line", errSyntax)
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("%w: %s is not closed", errSyntax, stack[len(stack)-1].Name)
	}
	return root, nil
}

func isBlank(s string) bool {
	return strings.TrimSpace(s) == ""
}

// unfold splits data into logical lines: CRLF, LF or CR end a line, and a
// line that begins with a space or a tab continues the previous one
// (RFC 5545 3.1). Invalid UTF-8 is replaced.
func unfold(data []byte) []string {
	if !utf8.Valid(data) {
		data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	}
	s := strings.TrimPrefix(string(data), "\uFEFF")
	lines := make([]string, 0, strings.Count(s, "\n")+1)
	var cont strings.Builder // the current line, once it has a continuation
	flush := func() {
		if cont.Len() > 0 {
			lines[len(lines)-1] = cont.String()
			cont.Reset()
		}
	}
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		var line string
		if i < 0 {
			line, s = s, ""
		} else {
			line = s[:i]
			if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				s = s[i+2:]
			} else {
				s = s[i+1:]
			}
		}
		if n := len(lines); n > 0 && len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			// Continuation: only folded lines are copied.
			if cont.Len() == 0 {
				cont.WriteString(lines[n-1])
			}
			cont.WriteString(line[1:])
			continue
		}
		flush()
		lines = append(lines, line)
	}
	flush()
	return lines
}

func isNameChar(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// parseLine parses one unfolded content line.
func parseLine(line string) (*prop, error) {
	p := &prop{}
	i := 0
	for i < len(line) && isNameChar(line[i]) {
		i++
	}
	if i < len(line) && line[i] == '.' && i > 0 {
		p.Group = line[:i]
		line = line[i+1:]
		i = 0
		for i < len(line) && isNameChar(line[i]) {
			i++
		}
	}
	if i == 0 {
		return nil, fmt.Errorf("%w: missing property name", errSyntax)
	}
	p.Name = strings.ToUpper(line[:i])
	if p.Name != line[:i] {
		p.raw = line[:i]
	}
	rest := line[i:]
	for len(rest) > 0 && rest[0] == ';' {
		rest = rest[1:]
		j := 0
		for j < len(rest) && isNameChar(rest[j]) {
			j++
		}
		if j == 0 {
			if len(rest) > 0 && (rest[0] == ';' || rest[0] == ':') {
				continue // empty parameter (";;"), tolerated
			}
			return nil, fmt.Errorf("%w: %s: bad parameter name", errSyntax, p.Name)
		}
		name := strings.ToUpper(rest[:j])
		rest = rest[j:]
		if len(rest) == 0 || rest[0] != '=' {
			// vCard 2.1 style bare parameter: TEL;WORK;VOICE:…
			p.Params = append(p.Params, param{Name: "TYPE", Values: []string{name}})
			continue
		}
		rest = rest[1:]
		var values []string
		for {
			var v string
			if len(rest) > 0 && rest[0] == '"' {
				end := strings.IndexByte(rest[1:], '"')
				if end < 0 {
					return nil, fmt.Errorf("%w: %s: unterminated quoted parameter", errSyntax, p.Name)
				}
				v = rest[1 : 1+end]
				rest = rest[2+end:]
			} else {
				end := strings.IndexAny(rest, ";:,\"")
				if end < 0 {
					return nil, fmt.Errorf("%w: %s: missing ':'", errSyntax, p.Name)
				}
				if rest[end] == '"' {
					return nil, fmt.Errorf("%w: %s: stray quote in parameter", errSyntax, p.Name)
				}
				v = rest[:end]
				rest = rest[end:]
			}
			values = append(values, caretDecode(v))
			if len(rest) > 0 && rest[0] == ',' {
				rest = rest[1:]
				continue
			}
			break
		}
		p.Params = append(p.Params, param{Name: name, Values: values})
	}
	if len(rest) == 0 || rest[0] != ':' {
		return nil, fmt.Errorf("%w: %s: missing ':'", errSyntax, p.Name)
	}
	p.Value = rest[1:]
	return p, nil
}

// caretDecode resolves RFC 6868 parameter escapes.
func caretDecode(s string) string {
	if !strings.Contains(s, "^") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '^' && i+1 < len(s) {
			switch s[i+1] {
			case 'n', 'N':
				b.WriteByte('\n')
				i++
				continue
			case '^':
				b.WriteByte('^')
				i++
				continue
			case '\'':
				b.WriteByte('"')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// encodeObject writes c with CRLF line ends, folded at 75 octets.
func encodeObject(c *component) []byte {
	var b bytes.Buffer
	writeComponent(&b, c)
	return b.Bytes()
}

func writeComponent(b *bytes.Buffer, c *component) {
	writeLine(b, "BEGIN:"+c.Name)
	for _, p := range c.Props {
		writeLine(b, formatProp(p))
	}
	for _, ch := range c.Children {
		writeComponent(b, ch)
	}
	writeLine(b, "END:"+c.Name)
}

func formatProp(p *prop) string {
	var s strings.Builder
	if p.Group != "" {
		s.WriteString(p.Group)
		s.WriteByte('.')
	}
	if p.raw != "" && strings.EqualFold(p.raw, p.Name) {
		s.WriteString(p.raw)
	} else {
		s.WriteString(p.Name)
	}
	for _, pa := range p.Params {
		s.WriteByte(';')
		s.WriteString(pa.Name)
		s.WriteByte('=')
		for i, v := range pa.Values {
			if i > 0 {
				s.WriteByte(',')
			}
			s.WriteString(formatParamValue(v))
		}
	}
	s.WriteByte(':')
	// A raw value never holds a line break (we escape text values); guard
	// against values taken over from a client anyway.
	v := p.Value
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(v)
	}
	s.WriteString(v)
	return s.String()
}

func formatParamValue(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	if strings.ContainsAny(v, "^\"\n\r") {
		v = strings.NewReplacer("^", "^^", "\"", "^'", "\r\n", "^n", "\n", "^n", "\r", "^n").Replace(v)
	}
	if strings.ContainsAny(v, ";:,") {
		return `"` + v + `"`
	}
	return v
}

// writeLine folds line into pieces of at most 75 octets (the first) and
// 74 octets plus the leading space (the others), never inside a UTF-8
// sequence.
func writeLine(b *bytes.Buffer, line string) {
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if cut == 0 {
			cut = limit
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = 74
	}
	b.WriteString(line)
	b.WriteString("\r\n")
}

// --- component helpers ---

func (c *component) get(name string) *prop {
	if c == nil {
		return nil
	}
	for _, p := range c.Props {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (c *component) all(name string) []*prop {
	if c == nil {
		return nil
	}
	var out []*prop
	for _, p := range c.Props {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

// del removes every property name.
func (c *component) del(name string) {
	out := c.Props[:0]
	for _, p := range c.Props {
		if p.Name != name {
			out = append(out, p)
		}
	}
	for i := len(out); i < len(c.Props); i++ {
		c.Props[i] = nil
	}
	c.Props = out
}

// delProp removes one property.
func (c *component) delProp(x *prop) {
	for i, p := range c.Props {
		if p == x {
			c.Props = append(c.Props[:i], c.Props[i+1:]...)
			return
		}
	}
}

// set replaces the first property name by p (keeping its position) and
// removes the others; it appends p when there is none.
func (c *component) set(p *prop) {
	for i, q := range c.Props {
		if q.Name == p.Name {
			c.Props[i] = p
			rest := c.Props[i+1:]
			kept := c.Props[:i+1]
			for _, r := range rest {
				if r.Name != p.Name {
					kept = append(kept, r)
				}
			}
			c.Props = kept
			return
		}
	}
	c.Props = append(c.Props, p)
}

func (c *component) add(p *prop) { c.Props = append(c.Props, p) }

// text returns the unescaped text of the first property name.
func (c *component) text(name string) string {
	p := c.get(name)
	if p == nil {
		return ""
	}
	return unescapeText(p.Value)
}

// setText sets (or with "" removes) a text property, keeping the
// parameters of an existing one.
func (c *component) setText(name, value string) {
	if value == "" {
		c.del(name)
		return
	}
	if p := c.get(name); p != nil {
		p.Value = escapeText(value)
		c.set(p)
		return
	}
	c.add(&prop{Name: name, Value: escapeText(value)})
}

func (c *component) childrenNamed(name string) []*component {
	var out []*component
	for _, ch := range c.Children {
		if ch.Name == name {
			out = append(out, ch)
		}
	}
	return out
}

// --- prop helpers ---

func (p *prop) param(name string) string {
	for _, pa := range p.Params {
		if pa.Name == name && len(pa.Values) > 0 {
			return pa.Values[0]
		}
	}
	return ""
}

// paramValues returns every value of the parameter name, with
// comma-separated lists inside one quoted value split as well.
func (p *prop) paramValues(name string) []string {
	var out []string
	for _, pa := range p.Params {
		if pa.Name != name {
			continue
		}
		for _, v := range pa.Values {
			for _, x := range strings.Split(v, ",") {
				if x = strings.TrimSpace(x); x != "" {
					out = append(out, x)
				}
			}
		}
	}
	return out
}

func (p *prop) hasParamValue(name, value string) bool {
	for _, v := range p.paramValues(name) {
		if strings.EqualFold(v, value) {
			return true
		}
	}
	return false
}

func (p *prop) setParam(name string, values ...string) {
	for i := range p.Params {
		if p.Params[i].Name == name {
			p.Params[i].Values = values
			// drop duplicates of the same parameter
			kept := p.Params[:i+1]
			for _, q := range p.Params[i+1:] {
				if q.Name != name {
					kept = append(kept, q)
				}
			}
			p.Params = kept
			return
		}
	}
	p.Params = append(p.Params, param{Name: name, Values: values})
}

func (p *prop) delParam(name string) {
	kept := p.Params[:0]
	for _, q := range p.Params {
		if q.Name != name {
			kept = append(kept, q)
		}
	}
	p.Params = kept
}

func (p *prop) clone() *prop {
	q := *p
	q.Params = make([]param, len(p.Params))
	for i, pa := range p.Params {
		q.Params[i] = param{Name: pa.Name, Values: append([]string(nil), pa.Values...)}
	}
	return &q
}

func (c *component) clone() *component {
	d := &component{Name: c.Name}
	d.Props = make([]*prop, len(c.Props))
	for i, p := range c.Props {
		d.Props[i] = p.clone()
	}
	for _, ch := range c.Children {
		d.Children = append(d.Children, ch.clone())
	}
	return d
}

// --- text values (RFC 5545 3.3.11, RFC 6350 3.4) ---

func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func escapeText(s string) string {
	s = cleanText(s)
	if !strings.ContainsAny(s, "\\;,\n\r") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ';', ',':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(`\n`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitUnescaped splits a raw value at sep characters that are not
// escaped, keeping the escapes.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// structured splits a structured value (N, ADR, ORG) into unescaped
// components.
func structured(raw string) []string {
	parts := splitUnescaped(raw, ';')
	for i, p := range parts {
		parts[i] = unescapeText(p)
	}
	return parts
}

func joinStructured(parts []string) string {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = escapeText(p)
	}
	// drop trailing empty components beyond the required ones is left to
	// callers; keep them all for a stable shape.
	return strings.Join(esc, ";")
}

// textList returns the unescaped items of a comma-separated text list
// (CATEGORIES, NICKNAME).
func textList(raw string) []string {
	var out []string
	for _, x := range splitUnescaped(raw, ',') {
		if x = strings.TrimSpace(unescapeText(x)); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func joinTextList(items []string) string {
	esc := make([]string, 0, len(items))
	for _, x := range items {
		esc = append(esc, escapeText(x))
	}
	return strings.Join(esc, ",")
}

// cleanText makes s safe for both sides: valid UTF-8 and no NUL bytes
// (WBXML inline strings cannot carry NUL).
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}
