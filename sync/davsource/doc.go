// Package davsource is the CalDAV (RFC 4791) and CardDAV (RFC 6352) side of
// an easbridge account: it discovers the user's calendar and address book
// homes, offers their collections as EAS folders (source.Folders) and syncs
// their members (source.DAVItems).
//
// Implementation notes (invariants):
//
//   - Discovery (RFC 6764 §6, without DNS): PROPFIND current-user-principal
//     (RFC 5397) on the configured URL, then on /.well-known/caldav and
//     /.well-known/carddav when the URL yields none; then one PROPFIND on
//     the principal for calendar-home-set (RFC 4791 §6.2.1) and
//     addressbook-home-set (RFC 6352 §7.1.1). The result is cached in the
//     Account (discovery runs one at a time); Login always refreshes it, and
//     a home that answers 404 drops it.
//   - Every request carries Basic auth, added by one wrapper around
//     Config.HTTPClient; the password is never logged. The wrapper turns
//     every non-2xx answer into *HTTPError, so status codes survive
//     go-webdav's error wrapping and map onto the eas sentinels: 401 →
//     ErrAuthFailed, 404/410 → ErrNotFound, 5xx and transport errors →
//     ErrBackendUnavailable, 403 → ErrAuthFailed for discovery and listing
//     and ErrNotSupported for changes, 405/415/501 → ErrNotSupported.
//     During discovery a 403 moves on to the next candidate URL (Radicale
//     answers 403 for any path outside the user's rights); only when none
//     yields a principal does it become ErrAuthFailed.
//   - Redirects keep their method: net/http turns a redirected PROPFIND into
//     a GET, so 301/302 are followed by the wrapper itself, same host only
//     (the credentials never go elsewhere).
//   - Folder kinds: a calendar collection whose supported-calendar-component
//     -set (RFC 4791 §5.2.3) contains VEVENT (or that has none, meaning
//     all) is a calendar, else VTODO makes it tasks, else VJOURNAL notes;
//     others are skipped. Every address book is contacts.
//   - One default folder per kind (types 8, 7, 10, 9), the others are user
//     folders (13, 15, 17, 14). The default is the collection whose last
//     path segment names the kind (calendar/default/personal, tasks/default,
//     notes/default, contacts/addressbook/default/personal), else the first
//     by path (compared without the trailing slash): a pure function of the
//     collection set, so stable across calls and restarts. CreateFolder picks
//     paths that sort after a positional default, so creating never moves
//     the default. Defaults cannot be deleted; they can be renamed.
//   - Keys are "caldav:"+path and "carddav:"+path with the path as the
//     server reports it (trailing slash kept) and never change: a rename is
//     a PROPPATCH of displayname. All folders are top level.
//   - Only collections found by the listing are ever changed or deleted: a
//     key naming a home or principal is ErrNotFound, never a DELETE.
//   - Items (source.DAVItems, items.go) name a collection by its folder
//     key and do no discovery or listing first: a no-change Changes is one
//     request. Changes with a sync-token is the RFC 6578 sync-collection
//     REPORT (Depth 0, sync-level 1, getetag): 2xx members → Changed,
//     404/410 members → Deleted, truncated answers (507 with
//     number-of-matches-within-limits, RFC 6578 3.6) followed with the new
//     token and merged. Token "" first asks the collection (depth-0
//     PROPFIND of sync-token, getctag, supported-report-set): with
//     sync-collection support the initial REPORT (Full), else a depth-1
//     PROPFIND of every member's getetag (Full) with the token "ctag:" +
//     the CalendarServer getctag; a "ctag:" token costs one depth-0
//     PROPFIND while the CTag stands still. A token the server rejects
//     (403/409 valid-sync-token, 412; or the report no longer offered) is
//     source.ErrTokenInvalid; Radicale answers 403 valid-sync-token for
//     malformed and unknown tokens alike.
//   - Member paths are absolute paths in the escaped form the server's
//     hrefs have (full-URL hrefs are cut to their path) and are sent back
//     byte for byte; comparisons (multiget answers, collection membership)
//     use the percent-decoded form. Put, Delete and Get refuse paths that
//     are not direct members of the collection. NewPath uses the UID as
//     the file name only when it needs no escaping ([A-Za-z0-9_-] then
//     [A-Za-z0-9._~-], ≤ 128 bytes), else its hex SHA-256, so that servers
//     that escape differently (Radicale escapes "@", SabreDAV does not)
//     still report the path exactly as NewPath made it.
//   - Get is calendar-multiget (RFC 4791 7.9) / addressbook-multiget (RFC
//     6352 8.7) of at most 100 hrefs a request; XML parsing turns the
//     CRLF of the data into LF (XML 1.0 2.11), Get puts CRLF back (RFC
//     5545 3.1, RFC 6350 3.2). Put sends If-None-Match: * or If-Match
//     (RFC 9110 13.1); 412 is source.ErrPrecondition, other failures wrap
//     *HTTPError and an eas sentinel (403 → ErrNotSupported for writes,
//     ErrNotFound for reads). Config.OnRequest sees every request.
//   - CalendarQuery (free/busy) is one calendar-query REPORT (RFC 4791
//     7.8) with a VEVENT time-range filter, Depth 1, returning the data.
//   - The Account starts no goroutine. Close drops the idle connections of
//     the HTTP client it created itself (never of an injected one).
package davsource
