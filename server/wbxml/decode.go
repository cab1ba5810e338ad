package wbxml

import (
	"bytes"
	"fmt"
	"io"
)

// Limits applied when no Option says otherwise.
const (
	DefaultMaxDepth    = 64       // nesting levels, the root being level 1
	DefaultMaxSize     = 64 << 20 // bytes of input (WBXML or XML)
	DefaultMaxElements = 1 << 18  // elements in one document (each costs ~130 bytes decoded)
)

// WBXML global tokens (WAP-192-WBXML 7.1) and header values used by EAS
// ([MS-ASWBXML] 2.1.2.1 and 2.1.2.2).
const (
	tokSwitchPage = 0x00
	tokEnd        = 0x01
	tokEntity     = 0x02
	tokStrI       = 0x03
	tokLiteral    = 0x04
	tokExtI0      = 0x40
	tokExtI1      = 0x41
	tokExtI2      = 0x42
	tokPI         = 0x43
	tokLiteralC   = 0x44
	tokExtT0      = 0x80
	tokExtT1      = 0x81
	tokExtT2      = 0x82
	tokStrT       = 0x83
	tokLiteralA   = 0x84
	tokExt0       = 0xC0
	tokExt1       = 0xC1
	tokExt2       = 0xC2
	tokOpaque     = 0xC3
	tokLiteralAC  = 0xC4

	flagContent    = 0x40 // tag has content (children or text), ended by END
	flagAttributes = 0x80 // tag has attributes (never in EAS)

	headerVersion  = 0x03 // WBXML 1.3
	headerPublicID = 0x01 // unknown public identifier
	headerCharset  = 0x6A // IANA MIBenum 106, UTF-8
)

// Option sets a limit for NewDecoder, DecodeWith and FromXMLWith.
type Option func(*options)

type options struct {
	maxDepth    int
	maxSize     int64
	maxElements int
}

func newOptions(opts []Option) options {
	o := options{maxDepth: DefaultMaxDepth, maxSize: DefaultMaxSize, maxElements: DefaultMaxElements}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// MaxDepth limits how deep elements may nest (the root is depth 1). n <= 0
// keeps the default, DefaultMaxDepth.
func MaxDepth(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxDepth = n
		}
	}
}

// MaxSize limits the number of input bytes read. n <= 0 keeps the default,
// DefaultMaxSize.
func MaxSize(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxSize = n
		}
	}
}

// MaxElements limits the number of elements in one document. n <= 0 keeps
// the default, DefaultMaxElements.
func MaxElements(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxElements = n
		}
	}
}

// Decoder reads one WBXML document from a reader.
type Decoder struct {
	r    io.Reader
	opts options
}

// NewDecoder returns a decoder that reads from r, applying opts.
func NewDecoder(r io.Reader, opts ...Option) *Decoder {
	return &Decoder{r: r, opts: newOptions(opts)}
}

// Decode reads r to its end (at most MaxSize bytes) and decodes the
// document.
func (d *Decoder) Decode() (*Element, error) {
	data, err := io.ReadAll(io.LimitReader(d.r, d.opts.maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("wbxml: read: %w", err)
	}
	if int64(len(data)) > d.opts.maxSize {
		return nil, &DecodeError{Offset: int(d.opts.maxSize), Err: ErrTooLarge}
	}
	return decode(data, &d.opts)
}

// Decode decodes a whole WBXML document and returns its root element, with
// the default limits. Errors are *DecodeError values.
func Decode(data []byte) (*Element, error) {
	o := newOptions(nil)
	return decode(data, &o)
}

// DecodeWith is Decode with options.
func DecodeWith(data []byte, opts ...Option) (*Element, error) {
	o := newOptions(opts)
	return decode(data, &o)
}

// frame is an open element during decoding.
type frame struct {
	e      *Element
	start  int  // index in parser.kids of its first child
	text   bool // has received STR_I data
	opaque bool // has received OPAQUE data
}

type parser struct {
	data  []byte
	str   string // string(data), made at the first STR_I; texts are substrings
	pos   int
	opts  *options
	count int

	elems  []Element  // slab the elements are carved from
	ptrs   []*Element // slab the Children slices are carved from
	opaque []byte     // slab the opaque data is copied into
	kids   []*Element // children of the open elements, innermost last
	stack  []frame
}

func decode(data []byte, o *options) (*Element, error) {
	if int64(len(data)) > o.maxSize {
		return nil, &DecodeError{Offset: int(o.maxSize), Err: ErrTooLarge}
	}
	p := parser{data: data, opts: o}
	root, err := p.document()
	if err != nil {
		return nil, err
	}
	return root, nil
}

func (p *parser) fail(off int, err error) error {
	return &DecodeError{Offset: off, Err: err}
}

func (p *parser) failf(off int, err error, format string, args ...any) error {
	return &DecodeError{Offset: off, Err: fmt.Errorf("%w: "+format, append([]any{err}, args...)...)}
}

// mbUint32 reads a WBXML mb_u_int32 (WAP-192-WBXML 5.1): big-endian groups of
// 7 bits, the high bit set on every byte but the last, at most 5 bytes.
func (p *parser) mbUint32() (uint32, error) {
	start := p.pos
	var v uint32
	for i := 0; i < 5; i++ {
		if p.pos >= len(p.data) {
			return 0, p.fail(len(p.data), ErrTruncated)
		}
		b := p.data[p.pos]
		p.pos++
		if v>>25 != 0 {
			return 0, p.fail(start, ErrBadMultiByte)
		}
		v = v<<7 | uint32(b&0x7F)
		if b&0x80 == 0 {
			return v, nil
		}
	}
	return 0, p.fail(start, ErrBadMultiByte)
}

// header reads the WBXML header ([MS-ASWBXML] 2.1.2.2: version 1.3, public
// identifier 1, charset UTF-8, empty string table). Versions 1.1 and 1.2 are
// accepted too; their token sets are the same for what EAS uses.
func (p *parser) header() error {
	if len(p.data) == 0 {
		return p.fail(0, ErrTruncated)
	}
	if v := p.data[0]; v < 0x01 || v > 0x03 {
		return p.failf(0, ErrBadHeader, "WBXML version 0x%02X", v)
	}
	p.pos = 1
	off := p.pos
	pub, err := p.mbUint32()
	if err != nil {
		return err
	}
	if pub == 0 {
		return p.failf(off, ErrStringTable, "public identifier in the string table")
	}
	off = p.pos
	cs, err := p.mbUint32()
	if err != nil {
		return err
	}
	if cs != headerCharset {
		return p.failf(off, ErrBadHeader, "charset %d, want 106 (UTF-8)", cs)
	}
	off = p.pos
	n, err := p.mbUint32()
	if err != nil {
		return err
	}
	if n != 0 {
		return p.failf(off, ErrStringTable, "string table of %d bytes", n)
	}
	return nil
}

// presize sizes the slabs from a quick scan of the body: the number of tags
// and the bytes of opaque data. The scan stops at anything the parser will
// reject; the slabs still grow if the estimate is short.
func (p *parser) presize() {
	data := p.data
	tags, opaque := 0, 0
scan:
	for i := p.pos; i < len(data); {
		b := data[i]
		i++
		switch {
		case b == tokSwitchPage:
			i++
		case b == tokEnd:
		case b == tokStrI:
			n := bytes.IndexByte(data[i:], 0)
			if n < 0 {
				break scan
			}
			i += n + 1
		case b == tokOpaque:
			var n uint64
			done := false
			for k := 0; k < 5 && i < len(data) && !done; k++ {
				n = n<<7 | uint64(data[i]&0x7F)
				done = data[i]&0x80 == 0
				i++
			}
			if !done || n > uint64(len(data)-i) {
				break scan
			}
			i += int(n)
			opaque += int(n)
		case b&0x3F < 0x05 || b&flagAttributes != 0:
			break scan
		default:
			tags++
		}
	}
	tags = min(tags, p.opts.maxElements+1)
	p.elems = make([]Element, 0, max(tags, 1))
	if tags > 1 {
		p.ptrs = make([]*Element, 0, tags-1)
	}
	if opaque > 0 {
		p.opaque = make([]byte, 0, opaque)
	}
}

func (p *parser) newElement(space, name string) *Element {
	if len(p.elems) == cap(p.elems) {
		p.elems = make([]Element, 0, min(max(2*cap(p.elems), 8), 4096))
	}
	p.elems = p.elems[:len(p.elems)+1]
	e := &p.elems[len(p.elems)-1]
	e.Space, e.Name = space, name
	return e
}

// children returns a copy of kids, carved from the pointer slab with its
// capacity capped so that appending to it cannot overwrite a neighbour.
func (p *parser) children(kids []*Element) []*Element {
	n := len(kids)
	if cap(p.ptrs)-len(p.ptrs) < n {
		p.ptrs = make([]*Element, 0, max(min(max(2*cap(p.ptrs), 16), 8192), n))
	}
	l := len(p.ptrs)
	p.ptrs = append(p.ptrs, kids...)
	return p.ptrs[l : l+n : l+n]
}

// copyOpaque copies b into the opaque slab, capping the capacity of the
// result so that appending to it cannot overwrite a neighbour.
func (p *parser) copyOpaque(b []byte) []byte {
	if cap(p.opaque)-len(p.opaque) < len(b) {
		return append(make([]byte, 0, len(b)), b...)
	}
	l := len(p.opaque)
	p.opaque = append(p.opaque, b...)
	return p.opaque[l : l+len(b) : l+len(b)]
}

func (p *parser) document() (*Element, error) {
	if err := p.header(); err != nil {
		return nil, err
	}
	p.presize()
	data := p.data
	var page byte
	var root *Element
	for p.pos < len(data) {
		off := p.pos
		b := data[off]
		p.pos++
		switch b {
		case tokSwitchPage:
			if p.pos >= len(data) {
				return nil, p.fail(len(data), ErrTruncated)
			}
			pg := data[p.pos]
			if int(pg) >= NumPages {
				return nil, p.failf(p.pos, ErrUnknownPage, "code page %d", pg)
			}
			p.pos++
			page = pg

		case tokEnd:
			if len(p.stack) == 0 {
				return nil, p.failf(off, ErrMalformed, "END without an open element")
			}
			f := &p.stack[len(p.stack)-1]
			if n := len(p.kids) - f.start; n > 0 {
				f.e.Children = p.children(p.kids[f.start:])
				clear(p.kids[f.start:])
				p.kids = p.kids[:f.start]
			}
			p.stack = p.stack[:len(p.stack)-1]
			if len(p.stack) == 0 {
				root = f.e
				if p.pos < len(data) {
					return nil, p.failf(p.pos, ErrMalformed, "data after the root element")
				}
			}

		case tokStrI:
			if len(p.stack) == 0 {
				return nil, p.failf(off, ErrMalformed, "text outside the root element")
			}
			i := bytes.IndexByte(data[p.pos:], 0)
			if i < 0 {
				return nil, p.fail(len(data), ErrTruncated)
			}
			start := p.pos
			p.pos += i + 1
			if i == 0 {
				continue // an empty string adds nothing
			}
			f := &p.stack[len(p.stack)-1]
			if f.opaque || len(p.kids) > f.start {
				return nil, p.failf(off, ErrMixedContent, "text in <%s>", f.e.Name)
			}
			if p.str == "" {
				p.str = string(data)
			}
			if f.text {
				f.e.Text += p.str[start : start+i]
			} else {
				f.e.Text = p.str[start : start+i]
				f.text = true
			}

		case tokOpaque:
			if len(p.stack) == 0 {
				return nil, p.failf(off, ErrMalformed, "opaque data outside the root element")
			}
			n, err := p.mbUint32()
			if err != nil {
				return nil, err
			}
			if uint64(n) > uint64(len(data)-p.pos) {
				return nil, p.fail(len(data), ErrTruncated)
			}
			f := &p.stack[len(p.stack)-1]
			if f.text || len(p.kids) > f.start {
				return nil, p.failf(off, ErrMixedContent, "opaque data in <%s>", f.e.Name)
			}
			chunk := data[p.pos : p.pos+int(n)]
			p.pos += int(n)
			if f.opaque {
				f.e.Opaque = append(f.e.Opaque, chunk...)
			} else {
				f.e.Opaque = p.copyOpaque(chunk)
				f.e.IsOpaque = true
				f.opaque = true
			}

		case tokStrT:
			return nil, p.failf(off, ErrStringTable, "STR_T")

		case tokEntity, tokLiteral, tokExtI0, tokExtI1, tokExtI2, tokPI, tokLiteralC,
			tokExtT0, tokExtT1, tokExtT2, tokLiteralA, tokExt0, tokExt1, tokExt2, tokLiteralAC:
			return nil, p.failf(off, ErrUnsupportedToken, "token 0x%02X", b)

		default:
			if b&flagAttributes != 0 {
				return nil, p.failf(off, ErrAttributes, "tag token 0x%02X", b)
			}
			name := pages[page].tags[b&0x3F]
			if name == "" {
				return nil, p.failf(off, ErrUnknownToken, "token 0x%02X on code page %d (%s)", b&0x3F, page, pages[page].space)
			}
			if len(p.stack) > 0 {
				f := &p.stack[len(p.stack)-1]
				if f.text || f.opaque {
					return nil, p.failf(off, ErrMixedContent, "<%s> inside <%s> after its text", name, f.e.Name)
				}
			}
			if len(p.stack) >= p.opts.maxDepth {
				return nil, p.failf(off, ErrTooDeep, "more than %d levels", p.opts.maxDepth)
			}
			p.count++
			if p.count > p.opts.maxElements {
				return nil, p.failf(off, ErrTooLarge, "more than %d elements", p.opts.maxElements)
			}
			e := p.newElement(pages[page].space, name)
			p.kids = append(p.kids, e)
			if b&flagContent != 0 {
				p.stack = append(p.stack, frame{e: e, start: len(p.kids)})
			} else if len(p.stack) == 0 {
				root = e
				if p.pos < len(data) {
					return nil, p.failf(p.pos, ErrMalformed, "data after the root element")
				}
			}
		}
	}
	if len(p.stack) > 0 || root == nil {
		return nil, p.fail(len(data), ErrTruncated)
	}
	return root, nil
}
