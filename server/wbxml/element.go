package wbxml

import (
	"bytes"
	"strconv"
	"strings"
)

// Element is one tag of a decoded WBXML document.
//
// An element carries either children, or text, or opaque data, or nothing
// (an empty tag). Encode refuses an element that has children and content
// at the same time.
type Element struct {
	Space    string // code page (namespace) name, e.g. NSAirSync
	Name     string // tag name, e.g. "Sync"
	Text     string // character data (STR_I), used when the element has no children
	Opaque   []byte // OPAQUE data
	IsOpaque bool   // true when the content was/should be written as OPAQUE
	Children []*Element
}

// New returns an element with the given children; nil children are skipped.
func New(space, name string, children ...*Element) *Element {
	e := &Element{Space: space, Name: name}
	return e.Add(children...)
}

// Text returns an element with text content.
func Text(space, name, text string) *Element {
	return &Element{Space: space, Name: name, Text: text}
}

// Int returns an element whose text is the decimal form of v.
func Int(space, name string, v int) *Element {
	return &Element{Space: space, Name: name, Text: strconv.Itoa(v)}
}

// Opaque returns an element whose content is written as WBXML OPAQUE data.
// The slice is not copied.
func Opaque(space, name string, data []byte) *Element {
	return &Element{Space: space, Name: name, Opaque: data, IsOpaque: true}
}

// Empty returns an element without content, such as <GetChanges/>.
func Empty(space, name string) *Element {
	return &Element{Space: space, Name: name}
}

// Add appends the non-nil children to e and returns e.
func (e *Element) Add(children ...*Element) *Element {
	n := 0
	for _, c := range children {
		if c != nil {
			n++
		}
	}
	if n == 0 {
		return e
	}
	if e.Children == nil {
		e.Children = make([]*Element, 0, n)
	}
	for _, c := range children {
		if c != nil {
			e.Children = append(e.Children, c)
		}
	}
	return e
}

// Is reports whether e is the tag name in namespace space. It is false for a
// nil e.
func (e *Element) Is(space, name string) bool {
	return e != nil && e.Name == name && e.Space == space
}

// Child returns the first direct child that is the tag space:name, or nil.
// It may be called on a nil e.
func (e *Element) Child(space, name string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Is(space, name) {
			return c
		}
	}
	return nil
}

// All returns every direct child that is the tag space:name, in document
// order. It may be called on a nil e.
func (e *Element) All(space, name string) []*Element {
	if e == nil {
		return nil
	}
	var out []*Element
	for _, c := range e.Children {
		if c.Is(space, name) {
			out = append(out, c)
		}
	}
	return out
}

// Has reports whether e has a direct child space:name.
func (e *Element) Has(space, name string) bool {
	return e.Child(space, name) != nil
}

// ChildText returns the text of the first direct child space:name, or "" if
// there is none. For an opaque child it returns the opaque bytes as a string.
func (e *Element) ChildText(space, name string) string {
	c := e.Child(space, name)
	if c == nil {
		return ""
	}
	if c.IsOpaque {
		return string(c.Opaque)
	}
	return c.Text
}

// ChildInt parses the text of the first direct child space:name as a
// decimal integer (surrounding ASCII white space ignored). ok is false when
// the child is missing or its text is not an integer.
func (e *Element) ChildInt(space, name string) (int, bool) {
	c := e.Child(space, name)
	if c == nil || c.IsOpaque {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(c.Text))
	if err != nil {
		return 0, false
	}
	return v, true
}

// String returns the element as indented XML, like XMLString.
func (e *Element) String() string {
	return XMLString(e)
}

// Equal reports whether a and b are the same tree: same names, same content
// (text, or opaque bytes with nil and empty equal) and equal children in the
// same order. Two nil elements are equal.
func Equal(a, b *Element) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Space != b.Space || a.Name != b.Name || a.IsOpaque != b.IsOpaque ||
		a.Text != b.Text || len(a.Children) != len(b.Children) {
		return false
	}
	if a.IsOpaque && !bytes.Equal(a.Opaque, b.Opaque) {
		return false
	}
	for i := range a.Children {
		if !Equal(a.Children[i], b.Children[i]) {
			return false
		}
	}
	return true
}
