package server

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// GALEntry is one person of the address list behind Search Store GAL
// (MS-ASCMD 2.2.1.16, the GAL code page of MS-ASCMD 2.2.3) and
// ResolveRecipients (2.2.1.15).
type GALEntry struct {
	DisplayName  string
	FirstName    string
	LastName     string
	Alias        string
	Company      string
	Title        string
	Office       string
	Phone        string // work
	HomePhone    string
	MobilePhone  string
	EmailAddress string
	Picture      []byte // nil when the entry has no photo
	// Contact: the entry comes from the user's own address books
	// (ResolveRecipients Type 2), not from the directory (Type 1).
	Contact bool
}

// GALQuery is one look-up in the address list.
type GALQuery struct {
	Text     string // the Search Query or one To of ResolveRecipients
	Limit    int    // the most entries wanted
	Pictures bool   // fill GALEntry.Picture (the client asked for photos)
}

// GALSearcher serves Search with Store GAL and ResolveRecipients. A
// Session without it answers Search GAL with no results and
// ResolveRecipients with "not supported".
type GALSearcher interface {
	// SearchGAL returns up to q.Limit entries matching q.Text (best
	// first) and how many match in all.
	SearchGAL(ctx context.Context, q GALQuery) (entries []GALEntry, total int, err error)
	// ResolveRecipient returns up to q.Limit entries (with an address)
	// that one To of ResolveRecipients names, and how many there are in
	// all: the entries with that address or that exact name when there
	// are any, else those whose names match like SearchGAL.
	ResolveRecipient(ctx context.Context, q GALQuery) (entries []GALEntry, total int, err error)
	// FreeBusy returns the MergedFreeBusy string (MS-ASCMD 2.2.3.107) of
	// the person with address email for [start, end). An error wrapping
	// eas.ErrNotFound means there is no free/busy data for that address.
	FreeBusy(ctx context.Context, email string, start, end time.Time) (string, error)
}

// pictureOptions are the Picture options of Search GAL (MS-ASCMD
// 2.2.3.135.1) and ResolveRecipients (2.2.3.135.3), 14.1+: MaxSize in
// bytes and MaxPictures for the whole answer, 0 meaning no limit.
type pictureOptions struct {
	maxSize     int
	maxPictures int
	sent        int
}

// parsePictureOptions reads a Picture element of space; nil when the
// client asked for none or its version has no pictures. ok is false for
// values that are not numbers.
func parsePictureOptions(rq *request, space string, o *wbxml.Element) (p *pictureOptions, ok bool) {
	pe := o.Child(space, "Picture")
	if pe == nil || !rq.version.AtLeast(eas.V141) {
		return nil, true
	}
	p = &pictureOptions{}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"MaxSize", &p.maxSize}, {"MaxPictures", &p.maxPictures}} {
		if !pe.Has(space, f.name) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(pe.ChildText(space, f.name)))
		if err != nil || n < 0 {
			return nil, false
		}
		*f.dst = n
	}
	return p, true
}

// element answers the Picture of one entry: Status 1 with Data, 173 no
// photo, 174 larger than MaxSize, 175 MaxPictures already sent.
func (p *pictureOptions) element(space string, photo []byte) *wbxml.Element {
	e := wbxml.New(space, "Picture")
	switch {
	case len(photo) == 0:
		return e.Add(wbxml.Int(space, "Status", int(eas.StatusNoPicture)))
	case p.maxSize > 0 && len(photo) > p.maxSize:
		return e.Add(wbxml.Int(space, "Status", int(eas.StatusPictureTooLarge)))
	case p.maxPictures > 0 && p.sent >= p.maxPictures:
		return e.Add(wbxml.Int(space, "Status", int(eas.StatusPictureLimitReached)))
	}
	p.sent++
	return e.Add(wbxml.Int(space, "Status", 1), wbxml.Text(space, "Data", base64.StdEncoding.EncodeToString(photo)))
}

// searchGAL answers Search with Store GAL: Query is the text, Options
// Range and (14.1+) Picture; each Result holds the GAL Properties
// (MS-ASCMD 2.2.3.130.2). A missing or structured Query or a bad Range is
// Status 2.
func (s *Server) searchGAL(rq *request, store *wbxml.Element) *wbxml.Element {
	ns := wbxml.NSSearch
	q := store.Child(ns, "Query")
	if q == nil || len(q.Children) > 0 || q.IsOpaque {
		return searchAnswer(rq, eas.SearchStatusInvalidRequest, nil, 0, 0)
	}
	text := strings.TrimSpace(q.Text)
	if text == "" || len(text) > maxQueryLength {
		return searchAnswer(rq, eas.SearchStatusInvalidRequest, nil, 0, 0)
	}
	start, end := 0, defaultSearchEnd
	var pics *pictureOptions
	if o := store.Child(ns, "Options"); o != nil {
		if o.Has(ns, "Range") {
			a, b, ok := parseRange(o.ChildText(ns, "Range"))
			if !ok || b > 1<<30 {
				return searchAnswer(rq, eas.SearchStatusInvalidRequest, nil, 0, 0)
			}
			start, end = int(a), int(b)
		}
		var ok bool
		if pics, ok = parsePictureOptions(rq, ns, o); !ok {
			return searchAnswer(rq, eas.SearchStatusInvalidRequest, nil, 0, 0)
		}
	}
	end = min(end, start+maxSearchResults-1)
	g, ok := rq.session.(GALSearcher)
	if !ok {
		return searchAnswer(rq, eas.SearchStatusSuccess, nil, 0, 0)
	}
	entries, total, err := g.SearchGAL(rq.ctx, GALQuery{Text: text, Limit: end + 1, Pictures: pics != nil})
	if err != nil {
		return searchAnswer(rq, s.searchErrStatus(rq, err), nil, 0, 0)
	}
	if start >= len(entries) {
		entries = nil
	} else {
		entries = entries[start:min(len(entries), end+1)]
	}
	if len(entries) > 0 {
		total = max(total, start+len(entries))
	}
	results := make([]*wbxml.Element, 0, len(entries))
	for _, e := range entries {
		results = append(results, wbxml.New(ns, "Result", galProperties(e, pics)))
	}
	return searchAnswer(rq, eas.SearchStatusSuccess, results, start, total)
}

// maxQueryLength bounds a GAL query or a To of ResolveRecipients
// (MS-ASCMD 2.2.3.183: To is at most 256 characters).
const maxQueryLength = 256

// galProperties is Search:Properties of one GAL result, in the order of
// MS-ASCMD 6.40 (SearchResponse.xsd): DisplayName, Phone, Office, Title,
// Company, Alias, FirstName, LastName, HomePhone, MobilePhone,
// EmailAddress, Picture.
func galProperties(e GALEntry, pics *pictureOptions) *wbxml.Element {
	g := wbxml.NSGAL
	p := wbxml.New(wbxml.NSSearch, "Properties")
	for _, f := range []struct{ name, value string }{
		{"DisplayName", e.DisplayName}, {"Phone", e.Phone}, {"Office", e.Office}, {"Title", e.Title},
		{"Company", e.Company}, {"Alias", e.Alias}, {"FirstName", e.FirstName}, {"LastName", e.LastName},
		{"HomePhone", e.HomePhone}, {"MobilePhone", e.MobilePhone}, {"EmailAddress", e.EmailAddress},
	} {
		if f.value != "" {
			p.Add(wbxml.Text(g, f.name, f.value))
		}
	}
	if pics != nil {
		p.Add(pics.element(g, e.Picture))
	}
	return p
}
