package wbxml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The XML form.
//
// ToXML writes the tree as indented XML in the style of the [MS-ASCMD]
// examples: the root element's code page is the default namespace, every
// other code page used in the document gets a lower-case prefix declared on
// the root (xmlns:airsyncbase="AirSyncBase"; "rm" for RightsManagement). The
// names are those of the tables, so the output can be checked against
// Microsoft's schemas.
//
// Content that XML cannot carry as it is, is marked with attributes from
// XMLNamespace (declared as xmlns:wbxml="urn:easbridge:wbxml" only when
// used), which schema validators treat as foreign attributes:
//
//	<email2:ConversationId wbxml:opaque="base64">AAEC</email2:ConversationId>
//	    OPAQUE data, base64 (standard alphabet, padded); an empty opaque
//	    block is <x wbxml:opaque="base64"/>.
//	<email:Subject wbxml:text="base64">AQI=</email:Subject>
//	    STR_I text that XML 1.0 cannot represent (invalid UTF-8, control
//	    characters other than tab, line feed and carriage return, U+FFFE,
//	    U+FFFF), base64 of its bytes.
//
// Text is written exactly: no indentation is added inside an element that
// has text, "&", "<", ">" are escaped and a carriage return is written as
// &#xD; (which XML parsers do not normalise). Text made only of white space
// gets xml:space="preserve", the standard way to say that white space
// matters; FromXML keeps white-space-only text only under that attribute
// and otherwise treats it as formatting. So
// Encode(FromXML(ToXML(Decode(b)))) == b for every b that Encode produced.

// XMLNamespace is the namespace of the wbxml:opaque and wbxml:text
// attributes of the XML form.
const XMLNamespace = "urn:easbridge:wbxml"

const xmlURL = "http://www.w3.org/XML/1998/namespace"

// ToXML writes root and its descendants to w as an indented XML document
// beginning with <?xml version="1.0" encoding="utf-8"?>. Nothing is written
// when it fails (nil root, nesting beyond DefaultMaxDepth, a name that is
// not an XML name).
func ToXML(w io.Writer, root *Element) error {
	if root == nil {
		return fmt.Errorf("%w: nil root element", ErrMalformed)
	}
	x := xmlWriter{prefix: make(map[string]string)}
	if err := x.scan(root, 1); err != nil {
		return err
	}
	x.buf = make([]byte, 0, 256+x.textLen)
	x.buf = append(x.buf, `<?xml version="1.0" encoding="utf-8"?>`+"\n"...)
	x.element(root, 0, true)
	if x.needMark && !x.markDeclared {
		// Text that XML cannot carry turned up after the root's start tag
		// was written: declare the wbxml namespace there now.
		x.buf = slices.Insert(x.buf, x.declEnd, []byte(markDecl)...)
	}
	if _, err := w.Write(x.buf); err != nil {
		return fmt.Errorf("wbxml: write XML: %w", err)
	}
	return nil
}

// XMLString returns root as indented XML, for logs. It never panics; when
// the tree cannot be written it returns an XML comment saying why.
func XMLString(root *Element) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = "<!-- wbxml: cannot render element -->"
		}
	}()
	var b strings.Builder
	if err := ToXML(&b, root); err != nil {
		return "<!-- " + strings.ReplaceAll(err.Error(), "--", "- -") + " -->"
	}
	return b.String()
}

type xmlWriter struct {
	buf          []byte
	rootNS       string
	prefix       map[string]string // namespace -> prefix ("" for the root's)
	used         [NumPages]bool
	others       []string // namespaces that are no code page, in order of appearance
	needMark     bool     // the wbxml namespace is used
	markDeclared bool     // … and declared on the root
	declEnd      int      // offset in buf right after the root's declarations
	textLen      int
	lastSpace    string // cache of the last prefix lookup
	lastPrefix   string
}

const markDecl = ` xmlns:wbxml="` + XMLNamespace + `"`

// scan checks the tree and collects the namespaces it uses.
func (x *xmlWriter) scan(e *Element, depth int) error {
	if depth > DefaultMaxDepth {
		return fmt.Errorf("%w: more than %d levels", ErrTooDeep, DefaultMaxDepth)
	}
	if !isXMLName(e.Name) {
		return fmt.Errorf("%w: %q is not an XML name", ErrUnknownTag, e.Name)
	}
	if depth == 1 {
		x.rootNS = e.Space
		x.prefix[e.Space] = ""
	}
	if p, ok := pageBySpace[e.Space]; ok {
		x.used[p] = true
		if _, done := x.prefix[e.Space]; !done {
			x.prefix[e.Space] = pages[p].prefix
		}
	} else if _, done := x.prefix[e.Space]; !done {
		x.others = append(x.others, e.Space)
		x.prefix[e.Space] = "ns" + strconv.Itoa(len(x.others))
	}
	if e.IsOpaque {
		x.needMark = true // text that needs base64 is found while writing
	}
	x.textLen += len(e.Text) + len(e.Opaque)*4/3 + 2*len(e.Name) + 16
	for _, c := range e.Children {
		if c == nil {
			continue
		}
		if err := x.scan(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (x *xmlWriter) indent(level int) {
	for range level {
		x.buf = append(x.buf, ' ', ' ')
	}
}

func (x *xmlWriter) name(e *Element) {
	if e.Space != x.lastSpace || x.lastSpace == "" {
		x.lastSpace, x.lastPrefix = e.Space, x.prefix[e.Space]
	}
	if p := x.lastPrefix; p != "" {
		x.buf = append(x.buf, p...)
		x.buf = append(x.buf, ':')
	}
	x.buf = append(x.buf, e.Name...)
}

func (x *xmlWriter) declarations() {
	x.buf = append(x.buf, ` xmlns="`...)
	x.buf = appendEscaped(x.buf, x.rootNS, true)
	x.buf = append(x.buf, '"')
	for p := range pages {
		if !x.used[p] || pages[p].space == x.rootNS {
			continue
		}
		x.buf = append(x.buf, " xmlns:"...)
		x.buf = append(x.buf, pages[p].prefix...)
		x.buf = append(x.buf, `="`...)
		x.buf = append(x.buf, pages[p].space...)
		x.buf = append(x.buf, '"')
	}
	for _, ns := range x.others {
		if ns == x.rootNS {
			continue
		}
		x.buf = append(x.buf, " xmlns:"...)
		x.buf = append(x.buf, x.prefix[ns]...)
		x.buf = append(x.buf, `="`...)
		x.buf = appendEscaped(x.buf, ns, true)
		x.buf = append(x.buf, '"')
	}
	if x.needMark {
		x.buf = append(x.buf, markDecl...)
		x.markDeclared = true
	}
	x.declEnd = len(x.buf)
}

func (x *xmlWriter) element(e *Element, level int, root bool) {
	x.indent(level)
	x.buf = append(x.buf, '<')
	x.name(e)
	if root {
		x.declarations()
	}
	kids := hasChildren(e)
	switch {
	case e.IsOpaque:
		x.buf = append(x.buf, ` wbxml:opaque="base64"`...)
		if len(e.Opaque) == 0 && !kids {
			x.buf = append(x.buf, "/>\n"...)
			return
		}
		x.buf = append(x.buf, '>')
		x.buf = base64.StdEncoding.AppendEncode(x.buf, e.Opaque)
	case e.Text != "":
		switch {
		case !xmlSafe(e.Text):
			x.needMark = true
			x.buf = append(x.buf, ` wbxml:text="base64">`...)
			x.buf = base64.StdEncoding.AppendEncode(x.buf, []byte(e.Text))
		case isSpace(e.Text):
			x.buf = append(x.buf, ` xml:space="preserve">`...)
			x.buf = appendEscaped(x.buf, e.Text, false)
		default:
			x.buf = append(x.buf, '>')
			x.buf = appendEscaped(x.buf, e.Text, false)
		}
	case kids:
		x.buf = append(x.buf, '>')
	default:
		x.buf = append(x.buf, "/>\n"...)
		return
	}
	if kids { // only mixed trees (which Encode refuses) have content and children
		x.buf = append(x.buf, '\n')
		for _, c := range e.Children {
			if c != nil {
				x.element(c, level+1, false)
			}
		}
		x.indent(level)
	}
	x.buf = append(x.buf, "</"...)
	x.name(e)
	x.buf = append(x.buf, ">\n"...)
}

// appendEscaped escapes s for element content, or for a double-quoted
// attribute value when attr is set.
func appendEscaped(dst []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		case '"':
			if !attr {
				continue
			}
			esc = "&quot;"
		case '\n':
			if !attr {
				continue
			}
			esc = "&#xA;"
		case '\t':
			if !attr {
				continue
			}
			esc = "&#x9;"
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}

// xmlSafe reports whether s is valid UTF-8 made only of characters XML 1.0
// allows (section 2.2 "Char").
func xmlSafe(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		if r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

func isSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

// isXMLName reports whether s can be an element's local name. It accepts
// the ASCII subset of XML names plus any non-ASCII letter; every name in the
// code page tables passes.
func isXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= 0x80 && r != utf8.RuneError:
		case i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// FromXML reads an XML document in the form ToXML writes and returns its
// root element, with the default limits. Namespaces are matched exactly;
// the older spelling with a trailing colon ("AirSync:", used in some
// Microsoft examples) is accepted too. Tag names may use the aliases of
// Lookup and come back with the table spelling. Attributes other than
// namespace declarations, wbxml:opaque, wbxml:text and xml:space are
// refused, and so are elements with both children and text.
func FromXML(r io.Reader) (*Element, error) {
	return FromXMLWith(r)
}

// FromXMLWith is FromXML with options.
func FromXMLWith(r io.Reader, opts ...Option) (*Element, error) {
	o := newOptions(opts)
	lr := &limitReader{r: r, n: o.maxSize}
	d := xml.NewDecoder(lr)
	b := xmlBuilder{opts: &o}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if lr.over {
				return nil, fmt.Errorf("%w: more than %d bytes of XML", ErrTooLarge, o.maxSize)
			}
			return nil, fmt.Errorf("wbxml: %w", err)
		}
		if err := b.token(tok); err != nil {
			line, _ := d.InputPos()
			return nil, fmt.Errorf("%w (XML line %d)", err, line)
		}
	}
	if b.root == nil || len(b.stack) > 0 {
		return nil, fmt.Errorf("%w: no root element", ErrMalformed)
	}
	return b.root, nil
}

// limitReader fails once more than n bytes have been read.
type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

var errTooLarge = errors.New("input too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		l.over = true
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		l.over = true
		return n, errTooLarge
	}
	return n, err
}

type xmlFrame struct {
	e        *Element
	text     []byte
	preserve bool // xml:space="preserve"
	b64      bool // wbxml:text="base64"
}

type xmlBuilder struct {
	opts  *options
	stack []xmlFrame
	root  *Element
	count int
}

// spaceOf maps an XML namespace to a code page namespace.
func spaceOf(ns string) (string, bool) {
	if _, ok := pageBySpace[ns]; ok {
		return ns, true
	}
	if t, ok := strings.CutSuffix(ns, ":"); ok {
		if _, ok := pageBySpace[t]; ok {
			return t, true
		}
	}
	return "", false
}

func (b *xmlBuilder) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		if b.root != nil {
			return fmt.Errorf("%w: more than one root element", ErrMalformed)
		}
		if len(b.stack) >= b.opts.maxDepth {
			return fmt.Errorf("%w: more than %d levels", ErrTooDeep, b.opts.maxDepth)
		}
		b.count++
		if b.count > b.opts.maxElements {
			return fmt.Errorf("%w: more than %d elements", ErrTooLarge, b.opts.maxElements)
		}
		space, ok := spaceOf(t.Name.Space)
		if !ok {
			if t.Name.Space == "" {
				return fmt.Errorf("%w: <%s> has no namespace", ErrUnknownPage, t.Name.Local)
			}
			return fmt.Errorf("%w: namespace %q of <%s>", ErrUnknownPage, t.Name.Space, t.Name.Local)
		}
		page, token, ok := Lookup(space, t.Name.Local)
		if !ok {
			return fmt.Errorf("%w: %s:%s", ErrUnknownTag, space, t.Name.Local)
		}
		e := &Element{Space: space, Name: pages[page].tags[token]}
		f := xmlFrame{e: e}
		for _, a := range t.Attr {
			switch {
			case a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns":
			case a.Name.Space == XMLNamespace && a.Name.Local == "opaque" && a.Value == "base64":
				e.IsOpaque = true
			case a.Name.Space == XMLNamespace && a.Name.Local == "text" && a.Value == "base64":
				f.b64 = true
			case a.Name.Space == xmlURL && a.Name.Local == "space" && (a.Value == "preserve" || a.Value == "default"):
				f.preserve = a.Value == "preserve"
			default:
				return fmt.Errorf("%w: %s=%q on <%s>", ErrAttributes, attrName(a.Name), a.Value, t.Name.Local)
			}
		}
		if e.IsOpaque && f.b64 {
			return fmt.Errorf("%w: <%s> is both opaque and text", ErrMixedContent, t.Name.Local)
		}
		if n := len(b.stack); n > 0 {
			parent := b.stack[n-1].e
			parent.Children = append(parent.Children, e)
		}
		b.stack = append(b.stack, f)

	case xml.EndElement:
		f := &b.stack[len(b.stack)-1]
		if err := f.finish(); err != nil {
			return err
		}
		b.stack = b.stack[:len(b.stack)-1]
		if len(b.stack) == 0 {
			b.root = f.e
		}

	case xml.CharData:
		if len(b.stack) == 0 {
			if !isSpace(string(t)) {
				return fmt.Errorf("%w: text outside the root element", ErrMalformed)
			}
			return nil
		}
		f := &b.stack[len(b.stack)-1]
		f.text = append(f.text, t...)
	}
	return nil
}

func attrName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// finish sets the content of a closed element from its collected text.
func (f *xmlFrame) finish() error {
	e := f.e
	if len(e.Children) > 0 {
		if !isSpace(string(f.text)) || e.IsOpaque || f.b64 {
			return fmt.Errorf("%w: <%s> has children and text", ErrMixedContent, e.Name)
		}
		return nil
	}
	if e.IsOpaque || f.b64 {
		data, err := decodeBase64(f.text)
		if err != nil {
			return fmt.Errorf("wbxml: base64 content of <%s>: %w", e.Name, err)
		}
		if e.IsOpaque {
			e.Opaque = data
		} else {
			e.Text = string(data)
		}
		return nil
	}
	if len(f.text) > 0 && (f.preserve || !isSpace(string(f.text))) {
		e.Text = string(f.text)
	}
	return nil
}

// decodeBase64 decodes standard base64, ignoring white space (so that a
// human may wrap long values).
func decodeBase64(s []byte) ([]byte, error) {
	if bytes.ContainsAny(s, " \t\r\n") {
		clean := make([]byte, 0, len(s))
		for _, c := range s {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				clean = append(clean, c)
			}
		}
		s = clean
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(out, s)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}
