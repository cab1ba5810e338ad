package wbxml

import (
	"errors"
	"strconv"
)

// Errors reported by Decode, Encode and FromXML. Decode wraps them in a
// *DecodeError, Encode and ToXML/FromXML in an *EncodeError or with context;
// test for them with errors.Is.
var (
	// ErrTruncated: the input ends inside the header, a string, an opaque
	// block, a multi-byte integer or before the root element is closed.
	ErrTruncated = errors.New("wbxml: truncated input")
	// ErrBadHeader: an unsupported WBXML version or character set.
	ErrBadHeader = errors.New("wbxml: bad header")
	// ErrStringTable: the document uses a string table (a non-empty table, a
	// public identifier in the table, or STR_T), which EAS never does
	// ([MS-ASWBXML] 2.1.2.1).
	ErrStringTable = errors.New("wbxml: string table not supported")
	// ErrBadMultiByte: an mb_u_int32 longer than 5 bytes or above 2^32-1.
	ErrBadMultiByte = errors.New("wbxml: bad multi-byte integer")
	// ErrUnknownPage: a SWITCH_PAGE to a code page EAS does not define, or
	// (FromXML, Encode) a namespace that is no code page.
	ErrUnknownPage = errors.New("wbxml: unknown code page")
	// ErrUnknownToken: a tag token that its code page does not define.
	ErrUnknownToken = errors.New("wbxml: unknown tag token")
	// ErrUnsupportedToken: a global token EAS does not use (ENTITY, LITERAL*,
	// EXT*, PI).
	ErrUnsupportedToken = errors.New("wbxml: unsupported global token")
	// ErrAttributes: a tag with attributes (EAS uses none), or an attribute
	// FromXML does not know.
	ErrAttributes = errors.New("wbxml: attributes not supported")
	// ErrTooDeep: elements nested deeper than the MaxDepth option.
	ErrTooDeep = errors.New("wbxml: elements nested too deep")
	// ErrTooLarge: more input or elements than the MaxSize / MaxElements
	// options allow.
	ErrTooLarge = errors.New("wbxml: document too large")
	// ErrMixedContent: an element with both children and text or opaque
	// data, or with both text and opaque data.
	ErrMixedContent = errors.New("wbxml: mixed content")
	// ErrMalformed: a structural error: END with no open element, content
	// outside the root element, data after the root, no root at all.
	ErrMalformed = errors.New("wbxml: malformed document")
	// ErrUnknownTag: Encode or FromXML was given a Space/Name that no code
	// page defines.
	ErrUnknownTag = errors.New("wbxml: unknown tag")
	// ErrInvalidText: text that STR_I cannot carry (a NUL byte).
	ErrInvalidText = errors.New("wbxml: invalid text")
)

// DecodeError is the error Decode returns: what went wrong and the offset of
// the offending byte in the input.
type DecodeError struct {
	Offset int   // byte offset in the input
	Err    error // wraps one of the Err* values
}

func (e *DecodeError) Error() string {
	return e.Err.Error() + " (at byte " + strconv.Itoa(e.Offset) + ")"
}

func (e *DecodeError) Unwrap() error { return e.Err }

// EncodeError is the error Encode returns: what went wrong and where in the
// tree, as a path of tag names from the root.
type EncodeError struct {
	Path string // e.g. "Sync/Collections/Collection/Foo"
	Err  error  // wraps one of the Err* values
}

func (e *EncodeError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + " (at " + e.Path + ")"
}

func (e *EncodeError) Unwrap() error { return e.Err }
