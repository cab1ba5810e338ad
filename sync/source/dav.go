package source

import (
	"context"
	"errors"
)

// Errors of DAV sources.
var (
	// ErrPrecondition: an If-Match / If-None-Match condition failed (HTTP
	// 412): the item changed (or exists) on the server.
	ErrPrecondition = errors.New("source: precondition failed")
	// ErrTokenInvalid: the server no longer accepts the sync token (RFC
	// 6578 3.2 valid-sync-token); the caller lists the collection again.
	ErrTokenInvalid = errors.New("source: sync token no longer valid")
)

// DAVRef names one member of a collection and its version.
type DAVRef struct {
	Path string // absolute path on the server
	ETag string // as the server sent it, quotes included
}

// DAVObject is one calendar object resource or vCard.
type DAVObject struct {
	DAVRef
	Data []byte // the iCalendar or vCard text
}

// DAVChanges are the changes of a collection since a token.
type DAVChanges struct {
	// Token to store for the next call.
	Token string
	// Changed members (new or modified) with their new ETags.
	Changed []DAVRef
	// Deleted member paths (RFC 6578: 404 entries).
	Deleted []string
	// Full is true when Changed lists every member (no token support, or a
	// first call): the caller removes what it has that is not listed.
	Full bool
}

// DAVItems is a CalDAV/CardDAV account's item operations. Collections are
// named by their folder key ("caldav:/alice/calendar/",
// "carddav:/alice/contacts/").
type DAVItems interface {
	// Changes returns the changes since token ("" = everything): RFC 6578
	// sync-collection when the server supports it, else a listing of every
	// member's ETag (Full) with a token made from the collection's CTag.
	// ErrTokenInvalid when the server rejects the token.
	Changes(ctx context.Context, collection, token string) (DAVChanges, error)
	// Token is the cheapest "did anything change" check: the collection's
	// sync-token (or CTag) by a depth-0 PROPFIND.
	Token(ctx context.Context, collection string) (string, error)
	// Get fetches members (calendar-multiget / addressbook-multiget);
	// missing ones are left out.
	Get(ctx context.Context, collection string, paths []string) ([]DAVObject, error)
	// Put stores a member: with ifMatch "" it must not exist yet
	// (If-None-Match: *), else its ETag must be ifMatch (If-Match).
	// Returns the new ETag ("" when the server sent none). ErrPrecondition
	// on 412.
	Put(ctx context.Context, collection, path string, data []byte, ifMatch string) (etag string, err error)
	// Delete removes a member if its ETag is ifMatch ("" = any).
	// ErrPrecondition on 412; a missing member is not an error.
	Delete(ctx context.Context, collection, path, ifMatch string) error
	// NewPath returns the path for a new member with that UID.
	NewPath(collection, uid string) string
}
