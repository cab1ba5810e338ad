package wbxml

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// header is the document header EAS uses ([MS-ASWBXML] 2.1.2.2): WBXML 1.3,
// unknown public identifier, UTF-8, empty string table.
var header = [4]byte{headerVersion, headerPublicID, headerCharset, 0x00}

// Encode returns the WBXML 1.3 encoding of the tree under root, starting
// with the header 03 01 6A 00. It refuses (with an *EncodeError) a tag no
// code page defines, an element with both children and content, text with a
// NUL byte and trees deeper than DefaultMaxDepth; it never emits a partial
// document.
//
// The output is canonical: code pages are switched right before the first
// tag that needs it, text is one STR_I, opaque data one OPAQUE, an element
// without content is a tag without the content bit.
func Encode(root *Element) ([]byte, error) {
	return AppendEncode(nil, root)
}

// AppendEncode is Encode appending to dst, which lets callers reuse buffers.
func AppendEncode(dst []byte, root *Element) ([]byte, error) {
	if root == nil {
		return dst, &EncodeError{Err: fmt.Errorf("%w: nil root element", ErrMalformed)}
	}
	enc := encoderPool.Get().(*encoder)
	defer enc.release()
	enc.size = len(header)
	if err := enc.measure(root, 1); err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, enc.size)
	dst = append(dst, header[:]...)
	enc.cur, enc.next = 0, 0
	return enc.write(dst, root), nil
}

// encoder measures the tree in a first pass (validating it, computing the
// exact output size and recording each tag's page and token in document
// order) and writes it in a second pass into a buffer of that size.
type encoder struct {
	codes []uint16 // page<<8 | token, one per element in document order
	next  int      // index of the next code to write
	cur   byte     // current code page
	size  int
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

func (enc *encoder) release() {
	if cap(enc.codes) > 1<<16 {
		enc.codes = nil
	}
	enc.codes = enc.codes[:0]
	enc.next, enc.cur, enc.size = 0, 0, 0
	encoderPool.Put(enc)
}

// mbLen is the length of v as an mb_u_int32.
func mbLen(v uint32) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendMB(dst []byte, v uint32) []byte {
	var buf [5]byte
	i := len(buf) - 1
	buf[i] = byte(v & 0x7F)
	for v >>= 7; v != 0; v >>= 7 {
		i--
		buf[i] = byte(v&0x7F) | 0x80
	}
	return append(dst, buf[i:]...)
}

func hasChildren(e *Element) bool {
	for _, c := range e.Children {
		if c != nil {
			return true
		}
	}
	return false
}

// inside prefixes the path of err with the element's name.
func inside(e *Element, err error) error {
	if ee, ok := err.(*EncodeError); ok {
		if ee.Path == "" {
			ee.Path = e.Name
		} else {
			ee.Path = e.Name + "/" + ee.Path
		}
	}
	return err
}

func (enc *encoder) measure(e *Element, depth int) error {
	if depth > DefaultMaxDepth {
		return &EncodeError{Err: fmt.Errorf("%w: more than %d levels", ErrTooDeep, DefaultMaxDepth)}
	}
	code, ok := byName[tagKey{e.Space, e.Name}]
	if !ok {
		if _, known := pageBySpace[e.Space]; !known {
			return inside(e, &EncodeError{Err: fmt.Errorf("%w: %q is no code page (tag %q)", ErrUnknownTag, e.Space, e.Name)})
		}
		return inside(e, &EncodeError{Err: fmt.Errorf("%w: %s:%s", ErrUnknownTag, e.Space, e.Name)})
	}
	enc.codes = append(enc.codes, code)
	if page := byte(code >> 8); page != enc.cur {
		enc.size += 2
		enc.cur = page
	}
	enc.size++
	kids := hasChildren(e)
	switch {
	case e.IsOpaque:
		if kids || e.Text != "" {
			return inside(e, &EncodeError{Err: fmt.Errorf("%w: opaque data with text or children", ErrMixedContent)})
		}
		if uint64(len(e.Opaque)) > math.MaxUint32 {
			return inside(e, &EncodeError{Err: fmt.Errorf("%w: opaque data over 4 GiB", ErrTooLarge)})
		}
		enc.size += 1 + mbLen(uint32(len(e.Opaque))) + len(e.Opaque) + 1
	case e.Text != "":
		if kids {
			return inside(e, &EncodeError{Err: fmt.Errorf("%w: text and children", ErrMixedContent)})
		}
		if strings.IndexByte(e.Text, 0) >= 0 {
			return inside(e, &EncodeError{Err: fmt.Errorf("%w: NUL byte in text", ErrInvalidText)})
		}
		enc.size += 1 + len(e.Text) + 1 + 1
	case kids:
		for _, c := range e.Children {
			if c == nil {
				continue
			}
			if err := enc.measure(c, depth+1); err != nil {
				return inside(e, err)
			}
		}
		enc.size++
	}
	return nil
}

func (enc *encoder) write(dst []byte, e *Element) []byte {
	code := enc.codes[enc.next]
	enc.next++
	if page := byte(code >> 8); page != enc.cur {
		dst = append(dst, tokSwitchPage, page)
		enc.cur = page
	}
	tok := byte(code)
	switch {
	case e.IsOpaque:
		dst = append(dst, tok|flagContent, tokOpaque)
		dst = appendMB(dst, uint32(len(e.Opaque)))
		dst = append(dst, e.Opaque...)
		dst = append(dst, tokEnd)
	case e.Text != "":
		dst = append(dst, tok|flagContent, tokStrI)
		dst = append(dst, e.Text...)
		dst = append(dst, 0x00, tokEnd)
	case hasChildren(e):
		dst = append(dst, tok|flagContent)
		for _, c := range e.Children {
			if c != nil {
				dst = enc.write(dst, c)
			}
		}
		dst = append(dst, tokEnd)
	default:
		dst = append(dst, tok)
	}
	return dst
}
