package davsource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

var _ source.DAVItems = (*Account)(nil)

const (
	// ctagPrefix marks a token made from a collection's CTag, for servers
	// without RFC 6578 sync-tokens.
	ctagPrefix = "ctag:"
	// maxMultiget bounds the hrefs of one calendar-multiget or
	// addressbook-multiget.
	maxMultiget = 100
	// maxSyncPages bounds the truncated sync-collection answers (RFC 6578
	// 3.6) one Changes call follows.
	maxSyncPages = 1000
	// maxListing bounds one multistatus answer of the item operations.
	maxListing = 64 << 20
	// maxUIDPath is the longest UID NewPath uses verbatim.
	maxUIDPath = 128
)

// davCollection is a parsed collection key.
type davCollection struct {
	key  string
	card bool   // CardDAV address book, else CalDAV calendar
	path string // as in the key, ends in "/"
	norm string // path percent-decoded, for comparisons
}

// parseCollection parses a folder key ("caldav:/alice/calendar/"). It does
// no I/O: the key is trusted to come from Folders.
func parseCollection(key string) (davCollection, error) {
	c := davCollection{key: key}
	switch {
	case strings.HasPrefix(key, CalDAVPrefix):
		c.path = key[len(CalDAVPrefix):]
	case strings.HasPrefix(key, CardDAVPrefix):
		c.path, c.card = key[len(CardDAVPrefix):], true
	default:
		return c, fmt.Errorf("davsource: collection %q: not a DAV folder key: %w", key, eas.ErrNotFound)
	}
	if !strings.HasPrefix(c.path, "/") {
		return c, fmt.Errorf("davsource: collection %q: not an absolute path: %w", key, eas.ErrNotFound)
	}
	if !strings.HasSuffix(c.path, "/") {
		c.path += "/"
	}
	c.norm = normPath(c.path)
	return c, nil
}

// normPath percent-decodes p for comparisons; p itself when it is not a
// valid escaping (then it is taken as already decoded).
func normPath(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		return d
	}
	return p
}

// member checks that p names a direct member of c and returns it
// normalised.
func (c davCollection) member(p string) (string, error) {
	n := normPath(p)
	rest, ok := strings.CutPrefix(n, c.norm)
	if !ok || rest == "" || rest == "." || rest == ".." || strings.Contains(rest, "/") {
		return "", fmt.Errorf("davsource: %q is not a member of %s: %w", p, c.key, eas.ErrNotFound)
	}
	return n, nil
}

// isSelf reports whether the normalised path n is the collection itself.
func (c davCollection) isSelf(n string) bool {
	return n == c.norm || n+"/" == c.norm
}

// target is the request URL of p, an absolute path that is either escaped
// (an href as the server sent it, sent back byte for byte) or, when it is
// not a valid escaping, a decoded path that net/url escapes.
func (a *Account) target(p string) *url.URL {
	u := &url.URL{Scheme: a.base.Scheme, Host: a.base.Host, Path: p}
	if d, err := url.PathUnescape(p); err == nil {
		u.Path, u.RawPath = d, p // String uses RawPath when it encodes Path
	}
	return u
}

// hrefOf returns the escaped path of an href relative to the collection
// (hrefs may be absolute URLs or, rarely, relative references).
func (a *Account) hrefOf(c davCollection, href string) string {
	href = strings.TrimSpace(href)
	u, err := a.target(c.path).Parse(href)
	if err != nil {
		return href
	}
	return u.EscapedPath()
}

// do sends one request for the item operations: p as for target, depth ""
// for none, body nil for none. Non-2xx answers are *HTTPError.
func (a *Account) do(ctx context.Context, method, p, depth string, hdr http.Header, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body) // NewRequest sets GetBody: redirects can resend it
	}
	req, err := http.NewRequestWithContext(ctx, method, a.target(p).String(), rd)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if depth != "" {
		req.Header.Set("Depth", depth)
	}
	return a.http.Do(req)
}

var xmlHeader = http.Header{"Content-Type": {`application/xml; charset="utf-8"`}}

// multistatus sends a PROPFIND or REPORT and decodes its 207 answer.
func (a *Account) multistatus(ctx context.Context, method, p, depth, body string) (*multistatus, error) {
	resp, err := a.do(ctx, method, p, depth, xmlHeader, []byte(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ms, err := decodeMultistatusMax(resp.Body, maxListing)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, p, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // keep the connection
	return ms, nil
}

// collectionState is what a depth-0 PROPFIND tells of a collection.
type collectionState struct {
	syncToken  string // RFC 6578 4
	ctag       string // CalendarServer getctag
	syncReport bool   // supported-report-set lists sync-collection
}

func (s collectionState) canSync() bool { return s.syncToken != "" || s.syncReport }

// state asks the collection for its sync-token, CTag and reports.
func (a *Account) state(ctx context.Context, c davCollection) (collectionState, error) {
	ms, err := a.multistatus(ctx, "PROPFIND", c.path, "0", propfindState)
	if err != nil {
		return collectionState{}, err
	}
	var s collectionState
	for _, r := range ms.Responses {
		for _, p := range r.okProps() {
			if p.SyncToken != nil && s.syncToken == "" {
				s.syncToken = strings.TrimSpace(*p.SyncToken)
			}
			if p.GetCTag != nil && s.ctag == "" {
				s.ctag = strings.TrimSpace(*p.GetCTag)
			}
			s.syncReport = s.syncReport || p.SupportedReportSet.has(nsDAV, "sync-collection")
		}
	}
	return s, nil
}

// Token returns the collection's sync-token (RFC 6578 4), else "ctag:" and
// its CTag, by one depth-0 PROPFIND. It equals the Token of a Changes call
// when nothing changed in between.
func (a *Account) Token(ctx context.Context, collection string) (string, error) {
	const op = "token"
	if err := a.check(); err != nil {
		return "", err
	}
	c, err := parseCollection(collection)
	if err != nil {
		return "", err
	}
	s, err := a.state(ctx, c)
	if err != nil {
		return "", mapErr(ctx, op, err, eas.ErrNotFound)
	}
	switch {
	case s.syncToken != "":
		return s.syncToken, nil
	case s.ctag != "":
		return ctagPrefix + s.ctag, nil
	}
	return "", fmt.Errorf("davsource: %s: %s has neither sync-token nor getctag: %w", op, c.key, eas.ErrNotSupported)
}

// Changes returns the changes of collection since token. See the package
// notes for the strategy; a no-change call is one request.
func (a *Account) Changes(ctx context.Context, collection, token string) (source.DAVChanges, error) {
	const op = "changes"
	if err := a.check(); err != nil {
		return source.DAVChanges{}, err
	}
	c, err := parseCollection(collection)
	if err != nil {
		return source.DAVChanges{}, err
	}
	start := time.Now()
	var ch source.DAVChanges
	if token != "" && !strings.HasPrefix(token, ctagPrefix) {
		ch, err = a.syncCollection(ctx, c, token)
	} else {
		var s collectionState
		s, err = a.state(ctx, c)
		switch {
		case err != nil:
			err = mapErr(ctx, op, err, eas.ErrNotFound)
		case token != "" && s.ctag != "" && token == ctagPrefix+s.ctag:
			ch = source.DAVChanges{Token: token} // the CTag did not move
		case s.canSync():
			ch, err = a.syncCollection(ctx, c, "")
		default:
			ch, err = a.listMembers(ctx, c)
		}
	}
	if err != nil {
		return source.DAVChanges{}, err
	}
	if len(ch.Changed)+len(ch.Deleted) > 0 || ch.Full {
		a.log.Debug("davsource: changes", "collection", c.key, "changed", len(ch.Changed), "deleted", len(ch.Deleted),
			"full", ch.Full, "took", time.Since(start).Round(time.Millisecond))
	}
	return ch, nil
}

// changeSet merges the members reported by one or more answers; a later
// report of a member replaces an earlier one.
type changeSet struct {
	index   map[string]int // normalised path → position in refs
	refs    []source.DAVRef
	deleted []bool
}

func (s *changeSet) add(href, etag string, deleted bool) {
	n := normPath(href)
	if i, ok := s.index[n]; ok {
		s.refs[i] = source.DAVRef{Path: href, ETag: etag}
		s.deleted[i] = deleted
		return
	}
	if s.index == nil {
		s.index = make(map[string]int)
	}
	s.index[n] = len(s.refs)
	s.refs = append(s.refs, source.DAVRef{Path: href, ETag: etag})
	s.deleted = append(s.deleted, deleted)
}

func (s *changeSet) result(token string, full bool) source.DAVChanges {
	ch := source.DAVChanges{Token: token, Full: full}
	for i, r := range s.refs {
		if s.deleted[i] {
			ch.Deleted = append(ch.Deleted, r.Path)
		} else {
			ch.Changed = append(ch.Changed, r)
		}
	}
	return ch
}

// syncCollection runs the RFC 6578 sync-collection REPORT from token ("" =
// initial: every member, Full), following truncated answers (RFC 6578 3.6).
func (a *Account) syncCollection(ctx context.Context, c davCollection, token string) (source.DAVChanges, error) {
	const op = "changes"
	var set changeSet
	cur := token
	for page := 0; ; page++ {
		if page == maxSyncPages {
			return source.DAVChanges{}, fmt.Errorf("davsource: %s: %s: still truncated after %d sync-collection answers: %w",
				op, c.key, page, eas.ErrBackendUnavailable)
		}
		ms, err := a.multistatus(ctx, "REPORT", c.path, "0", syncCollectionBody(cur))
		if err != nil {
			if tokenRejected(err, cur != "") {
				return source.DAVChanges{}, fmt.Errorf("davsource: %s: %s: %w: %w", op, c.key, source.ErrTokenInvalid, err)
			}
			return source.DAVChanges{}, mapErr(ctx, op, err, eas.ErrNotFound)
		}
		next := strings.TrimSpace(ms.SyncToken)
		if next == "" { // RFC 6578 6.2: the answer MUST carry one
			return source.DAVChanges{}, fmt.Errorf("davsource: %s: REPORT %s: no sync-token in the answer: %w", op, c.path, eas.ErrBackendUnavailable)
		}
		truncated := false
		for _, r := range ms.Responses {
			st := statusCode(r.Status)
			if st == http.StatusInsufficientStorage || r.Error.has(nsDAV, "number-of-matches-within-limits") {
				truncated = true // RFC 6578 3.6, reported for the collection
				continue
			}
			for _, h := range r.Hrefs {
				href := a.hrefOf(c, h)
				n := normPath(href)
				if c.isSelf(n) || strings.HasSuffix(n, "/") {
					continue // the collection, or a child collection (sync-level 1 lists none)
				}
				switch {
				case st == http.StatusNotFound || st == http.StatusGone:
					set.add(href, "", true) // RFC 6578 3.5.2: a removed member
				case st != 0 && (st < 200 || st > 299):
					a.log.Debug("davsource: sync-collection member skipped", "collection", c.key, "href", href, "status", st)
				case len(r.Hrefs) == 1:
					etag := ""
					for _, p := range r.okProps() {
						if p.GetETag != nil {
							etag = strings.TrimSpace(*p.GetETag)
						}
					}
					set.add(href, etag, false) // RFC 6578 3.5.1: new or changed
				}
			}
		}
		if !truncated {
			return set.result(next, token == ""), nil
		}
		if next == cur {
			return source.DAVChanges{}, fmt.Errorf("davsource: %s: REPORT %s: truncated answer without a new sync-token: %w", op, c.path, eas.ErrBackendUnavailable)
		}
		cur = next
	}
}

// tokenRejected reports whether a failed sync-collection REPORT means that
// the token is no good: the RFC 6578 3.2 valid-sync-token precondition
// (403 or 409), 412, or — for a token the server once handed out — a
// server that no longer offers the report, so that the caller's relisting
// takes the fallback.
func tokenRejected(err error, hadToken bool) bool {
	var he *HTTPError
	if !errors.As(err, &he) {
		return false
	}
	switch he.Code {
	case http.StatusPreconditionFailed:
		return true
	case http.StatusForbidden, http.StatusConflict:
		if errorHas(he.Body, nsDAV, "valid-sync-token") {
			return true
		}
		return hadToken && errorHas(he.Body, nsDAV, "supported-report") // RFC 3253 3.6
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return hadToken
	}
	return false
}

// listMembers is the fallback for servers without sync-collection: a
// depth-1 PROPFIND of every member's ETag and the collection's CTag.
func (a *Account) listMembers(ctx context.Context, c davCollection) (source.DAVChanges, error) {
	const op = "changes"
	ms, err := a.multistatus(ctx, "PROPFIND", c.path, "1", propfindMembers)
	if err != nil {
		return source.DAVChanges{}, mapErr(ctx, op, err, eas.ErrNotFound)
	}
	var set changeSet
	ctag := ""
	for _, r := range ms.Responses {
		if len(r.Hrefs) != 1 {
			continue
		}
		href := a.hrefOf(c, r.Hrefs[0])
		n := normPath(href)
		props := r.okProps()
		if c.isSelf(n) {
			for _, p := range props {
				if p.GetCTag != nil {
					ctag = strings.TrimSpace(*p.GetCTag)
				}
			}
			continue
		}
		if len(props) == 0 || strings.HasSuffix(n, "/") {
			continue
		}
		etag, isCol := "", false
		for _, p := range props {
			if p.GetETag != nil {
				etag = strings.TrimSpace(*p.GetETag)
			}
			isCol = isCol || (p.ResourceType != nil && p.ResourceType.Collection != nil)
		}
		if !isCol {
			set.add(href, etag, false)
		}
	}
	token := ""
	if ctag != "" {
		token = ctagPrefix + ctag
	}
	return set.result(token, true), nil
}

// Get fetches members by calendar-multiget (RFC 4791 7.9) or
// addressbook-multiget (RFC 6352 8.7), maxMultiget hrefs a request. The
// objects come in the order of paths, with the caller's path strings;
// missing members (404) are left out, duplicates fetched once.
func (a *Account) Get(ctx context.Context, collection string, paths []string) ([]source.DAVObject, error) {
	const op = "get"
	if err := a.check(); err != nil {
		return nil, err
	}
	c, err := parseCollection(collection)
	if err != nil {
		return nil, err
	}
	var (
		want  []string           // caller's paths, deduplicated
		index = map[string]int{} // normalised → position in want
	)
	for _, p := range paths {
		n, err := c.member(p)
		if err != nil {
			return nil, err
		}
		if _, dup := index[n]; !dup {
			index[n] = len(want)
			want = append(want, p)
		}
	}
	got := make([]*source.DAVObject, len(want))
	for lo := 0; lo < len(want); lo += maxMultiget {
		batch := want[lo:min(lo+maxMultiget, len(want))]
		ms, err := a.multistatus(ctx, "REPORT", c.path, "", a.multigetBody(c, batch))
		if err != nil {
			return nil, mapErr(ctx, op, err, eas.ErrNotFound)
		}
		for _, r := range ms.Responses {
			if len(r.Hrefs) != 1 {
				continue // 404s may share a response; they are left out anyway
			}
			i, ok := index[normPath(a.hrefOf(c, r.Hrefs[0]))]
			if !ok {
				continue
			}
			var data *string
			etag := ""
			for _, p := range r.okProps() {
				if p.GetETag != nil {
					etag = strings.TrimSpace(*p.GetETag)
				}
				if c.card && p.AddressData != nil {
					data = p.AddressData
				} else if !c.card && p.CalendarData != nil {
					data = p.CalendarData
				}
			}
			if data == nil {
				continue // missing member: response-level 404, or no data
			}
			got[i] = &source.DAVObject{DAVRef: source.DAVRef{Path: want[i], ETag: etag}, Data: crlf(*data)}
		}
	}
	objs := make([]source.DAVObject, 0, len(want))
	for _, o := range got {
		if o != nil {
			objs = append(objs, *o)
		}
	}
	return objs, nil
}

// multigetBody is the REPORT body fetching paths with their ETags.
func (a *Account) multigetBody(c davCollection, paths []string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	if c.card {
		b.WriteString(`<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/></D:prop>`)
	} else {
		b.WriteString(`<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`)
	}
	for _, p := range paths {
		b.WriteString("<D:href>" + escape(a.target(p).EscapedPath()) + "</D:href>")
	}
	if c.card {
		b.WriteString(`</CR:addressbook-multiget>`)
	} else {
		b.WriteString(`</C:calendar-multiget>`)
	}
	return b.String()
}

// crlf restores the CRLF line ends of iCalendar (RFC 5545 3.1) and vCard
// (RFC 6350 3.2) that XML parsing turns into LF (XML 1.0 2.11).
func crlf(s string) []byte {
	n := strings.Count(s, "\n") - strings.Count(s, "\r\n")
	if n == 0 {
		return []byte(s)
	}
	b := make([]byte, 0, len(s)+n)
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b = append(b, '\r')
		}
		b = append(b, s[i])
	}
	return b
}

// Put stores a member (RFC 4791 5.3.2, RFC 6352 6.3.2) with If-None-Match:
// * when ifMatch is "", else If-Match: ifMatch (RFC 9110 13.1). It returns
// the ETag of the answer, else of a depth-0 PROPFIND ("" when that fails
// too: the write itself succeeded).
func (a *Account) Put(ctx context.Context, collection, p string, data []byte, ifMatch string) (string, error) {
	const op = "put"
	if err := a.check(); err != nil {
		return "", err
	}
	c, err := parseCollection(collection)
	if err != nil {
		return "", err
	}
	if _, err := c.member(p); err != nil {
		return "", err
	}
	hdr := http.Header{"Content-Type": {"text/calendar; charset=utf-8"}}
	if c.card {
		hdr.Set("Content-Type", "text/vcard; charset=utf-8")
	}
	if ifMatch == "" {
		hdr.Set("If-None-Match", "*")
	} else {
		hdr.Set("If-Match", ifMatch)
	}
	if data == nil {
		data = []byte{}
	}
	resp, err := a.do(ctx, http.MethodPut, p, "", hdr, data)
	if err != nil {
		if isStatus(err, http.StatusPreconditionFailed) {
			return "", fmt.Errorf("davsource: %s %s: %w: %w", op, p, source.ErrPrecondition, err)
		}
		return "", mapErr(ctx, op+" "+p, err, eas.ErrNotSupported)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	etag := strings.TrimSpace(resp.Header.Get("ETag"))
	if etag == "" {
		// RFC 4791 5.3.4: no ETag when the server changed the data.
		etag, err = a.memberETag(ctx, c, p)
		if err != nil {
			a.log.Info("davsource: no ETag after PUT", "collection", c.key, "path", p, "err", err)
		}
	}
	return etag, nil
}

// memberETag reads a member's getetag by a depth-0 PROPFIND.
func (a *Account) memberETag(ctx context.Context, c davCollection, p string) (string, error) {
	ms, err := a.multistatus(ctx, "PROPFIND", p, "0", propfindETag)
	if err != nil {
		return "", err
	}
	for _, r := range ms.Responses {
		for _, pr := range r.okProps() {
			if pr.GetETag != nil {
				return strings.TrimSpace(*pr.GetETag), nil
			}
		}
	}
	return "", fmt.Errorf("PROPFIND %s: no getetag", p)
}

// Delete removes a member (RFC 4918 9.6), with If-Match when ifMatch is
// set. A member that is gone already (404, 410) is no error.
func (a *Account) Delete(ctx context.Context, collection, p, ifMatch string) error {
	const op = "delete"
	if err := a.check(); err != nil {
		return err
	}
	c, err := parseCollection(collection)
	if err != nil {
		return err
	}
	if _, err := c.member(p); err != nil {
		return err
	}
	var hdr http.Header
	if ifMatch != "" {
		hdr = http.Header{"If-Match": {ifMatch}}
	}
	resp, err := a.do(ctx, http.MethodDelete, p, "", hdr, nil)
	switch {
	case err == nil:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return nil
	case isStatus(err, http.StatusNotFound), isStatus(err, http.StatusGone):
		return nil
	case isStatus(err, http.StatusPreconditionFailed):
		return fmt.Errorf("davsource: %s %s: %w: %w", op, p, source.ErrPrecondition, err)
	}
	return mapErr(ctx, op+" "+p, err, eas.ErrNotSupported)
}

func isStatus(err error, code int) bool {
	var he *HTTPError
	return errors.As(err, &he) && he.Code == code
}

// NewPath returns collection's path + uid + ".ics" (".vcf" for address
// books). A UID that is not a plain file name ([A-Za-z0-9_-] then
// [A-Za-z0-9._~-], at most maxUIDPath bytes) is replaced by the hex SHA-256
// of it: the path then needs no escaping, so every server reports it back
// byte for byte, and the same UID always gets the same path.
func (a *Account) NewPath(collection, uid string) string {
	c, err := parseCollection(collection)
	if err != nil {
		// No error to return: a path no server has, which Put rejects.
		c.path = "/"
	}
	ext := ".ics"
	if c.card {
		ext = ".vcf"
	}
	name := uid
	if !plainName(uid) {
		sum := sha256.Sum256([]byte(uid))
		name = hex.EncodeToString(sum[:])
	}
	return c.path + name + ext
}

func plainName(s string) bool {
	if s == "" || len(s) > maxUIDPath || s[0] == '.' || s[0] == '~' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '_', b == '.', b == '~':
		default:
			return false
		}
	}
	return true
}

// Request bodies of the item operations.
const (
	propfindState = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><D:sync-token/><CS:getctag/><D:supported-report-set/></D:prop></D:propfind>`

	propfindMembers = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><D:resourcetype/><D:getetag/><CS:getctag/></D:prop></D:propfind>`

	propfindETag = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`
)

// syncCollectionBody is an RFC 6578 3.2 sync-collection REPORT body; token
// "" asks for the initial listing.
func syncCollectionBody(token string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>` + escape(token) + `</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
}
