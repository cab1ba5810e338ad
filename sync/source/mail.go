package source

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors of mail sources.
var (
	// ErrNoCondstore: the server has no CONDSTORE (RFC 7162); use List.
	ErrNoCondstore = errors.New("source: server has no CONDSTORE")
	// ErrUIDValidity: the mailbox's UIDVALIDITY changed; every UID known
	// for it is void and the folder must be synced again from scratch.
	ErrUIDValidity = errors.New("source: UIDVALIDITY changed")
)

// MailboxStatus is the cheap state of a mailbox (RFC 3501 STATUS, RFC 7162
// HIGHESTMODSEQ). HighestModSeq is 0 when the server has no CONDSTORE.
type MailboxStatus struct {
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	Messages      uint32
}

// MessageState is what change detection knows of one message.
type MessageState struct {
	UID          uint32
	Flags        []string // IMAP flags and keywords as the server spells them ("\\Seen", "$Forwarded", "Work")
	ModSeq       uint64
	InternalDate time.Time
	Size         int64
}

// MailChanges are the changes of a mailbox since a MODSEQ.
type MailChanges struct {
	Status   MailboxStatus
	Changed  []MessageState // new or changed (flags) since the MODSEQ, within the date filter
	Vanished []uint32       // expunged since the MODSEQ (RFC 7162 3.2.10 VANISHED)
}

// Part is one node of a message's MIME structure (from BODYSTRUCTURE).
type Part struct {
	Path        []int             // IMAP part number: [] for the root of a single-part message, [1], [1 2] …
	Type        string            // lower case: "text", "multipart", "image", …
	Subtype     string            // lower case: "plain", "alternative", …
	Params      map[string]string // lower-case keys: "charset", "name", "boundary"
	ID          string            // Content-ID without angle brackets
	Location    string            // Content-Location (RFC 2557 4.2; BODYSTRUCTURE body-fld-loc), "" when none
	Description string
	Encoding    string // lower case Content-Transfer-Encoding
	Size        int64  // encoded size in octets
	Lines       int64
	Disposition string            // lower case: "inline", "attachment" or ""
	DispParams  map[string]string // lower-case keys: "filename"
	Children    []*Part
	// Body holds the part's content, still transfer-encoded, when it was
	// fetched (text leaves up to FetchSpec.TextLimit octets).
	Body          []byte
	BodyTruncated bool
}

// FetchSpec says what Fetch brings for each message.
type FetchSpec struct {
	// TextLimit: fetch every text/plain and text/html leaf that is not an
	// attachment, up to this many encoded octets each (0 = none), and the
	// iTIP part of a meeting message (IsITIPPart, up to PartLimit).
	TextLimit int64
	// RawLimit: fetch the whole message up to this many octets (0 = no
	// raw), for MIME body preference and for parsing fallbacks.
	RawLimit int64
}

// Message is a message as fetched for conversion to EAS.
type Message struct {
	UID          uint32
	Flags        []string
	InternalDate time.Time
	Size         int64
	ModSeq       uint64
	Header       []byte // the raw RFC 5322 header block, CRLF line ends, ending with the empty line
	Root         *Part  // nil when the server could not give a structure
	Raw          []byte // first RawLimit octets of the whole message, when asked
	RawTruncated bool
}

// SearchCriteria is a mailbox search (IMAP SEARCH).
type SearchCriteria struct {
	Text  string // TEXT (headers and body)
	Since time.Time
	Until time.Time
}

// Mail is an IMAP account's message operations. Mailboxes are named as the
// server names them (the part of a folder key after "imap:"). UIDs are
// IMAP UIDs of that mailbox.
type Mail interface {
	// Status is one STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ).
	Status(ctx context.Context, mailbox string) (MailboxStatus, error)
	// List returns the state of every message with INTERNALDATE on or
	// after since (zero time = all), for the first sync and for servers
	// without CONDSTORE.
	List(ctx context.Context, mailbox string, since time.Time) (MailboxStatus, []MessageState, error)
	// ChangesSince returns what changed after modSeq (RFC 7162):
	// ErrNoCondstore without CONDSTORE, ErrUIDValidity when uidValidity
	// is no longer the mailbox's.
	ChangesSince(ctx context.Context, mailbox string, uidValidity uint32, modSeq uint64, since time.Time) (MailChanges, error)
	// Fetch fetches messages for conversion, in the order of uids; UIDs
	// that no longer exist are left out.
	Fetch(ctx context.Context, mailbox string, uids []uint32, spec FetchSpec) ([]*Message, error)
	// OpenPart streams one body part, still transfer-encoded (the caller
	// decodes), without holding it whole in memory. size is the encoded
	// size, -1 when unknown.
	OpenPart(ctx context.Context, mailbox string, uid uint32, path []int) (body io.ReadCloser, size int64, err error)
	// OpenMessage streams the whole raw message.
	OpenMessage(ctx context.Context, mailbox string, uid uint32) (body io.ReadCloser, size int64, err error)
	// SetFlags adds and removes flags (UID STORE +FLAGS/-FLAGS.SILENT).
	SetFlags(ctx context.Context, mailbox string, uid uint32, add, remove []string) error
	// Move moves a message (UID MOVE, RFC 6851; COPY + STORE \Deleted +
	// UID EXPUNGE without MOVE) and returns its UID in dest (COPYUID,
	// RFC 4315), 0 when the server did not say.
	Move(ctx context.Context, mailbox string, uid uint32, dest string) (uint32, error)
	// Delete expunges exactly one message (UID EXPUNGE, RFC 4315).
	Delete(ctx context.Context, mailbox string, uid uint32) error
	// Append stores a message and returns its UID (APPENDUID), 0 when the
	// server did not say.
	Append(ctx context.Context, mailbox string, flags []string, date time.Time, msg io.Reader, size int64) (uint32, error)
	// Search returns the UIDs matching c, ascending.
	Search(ctx context.Context, mailbox string, c SearchCriteria) ([]uint32, error)
	// SpecialUse returns the mailbox with a special use ("\\Sent",
	// "\\Trash", "\\Drafts", "\\Junk"), "" when there is none.
	SpecialUse(ctx context.Context, use string) (string, error)
}
