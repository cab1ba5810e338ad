package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

const (
	// defaultSearchRange is used when Options has no Range (MS-ASCMD
	// 2.2.3.143.3: "0-99").
	defaultSearchEnd = 99
	// maxSearchResults bounds one answer; the Range of the answer says
	// which results were returned, so the client asks for the next ones.
	maxSearchResults = 100
)

// cmdSearch implements Search, MS-ASCMD 2.2.1.16, for Store Mailbox (the
// session's Searcher) and Store GAL (its GALSearcher, gal.go); other
// stores (DocumentLibrary) answer Store Status 2.
func (s *Server) cmdSearch(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSSearch
	store := rq.body.Child(ns, "Store")
	if store == nil {
		rq.easStatus = eas.StatusInvalidXML
		if !rq.version.AtLeast(eas.V140) {
			return nil, httpErr(http.StatusBadRequest, "Search without Store")
		}
		return wbxml.New(ns, "Search", wbxml.Int(ns, "Status", int(eas.StatusInvalidXML))), nil
	}
	switch strings.ToLower(strings.TrimSpace(store.ChildText(ns, "Name"))) {
	case "mailbox":
		sr, ok := rq.session.(Searcher)
		if !ok {
			return s.notSupported(rq, ns, "Search")
		}
		return s.searchMailbox(rq, sr, store), nil
	case "gal":
		return s.searchGAL(rq, store), nil
	}
	return searchAnswer(rq, eas.SearchStatusInvalidRequest, nil, 0, 0), nil
}

// searchAnswer is Search/Status 1 with Response/Store (MS-ASCMD 6.40,
// SearchResponse.xsd): Status, Result*, Range, Total. A search without
// results has one empty Result (2.2.3.155).
func searchAnswer(rq *request, st eas.Status, results []*wbxml.Element, start, total int) *wbxml.Element {
	ns := wbxml.NSSearch
	rq.easStatus = st
	store := wbxml.New(ns, "Store", wbxml.Int(ns, "Status", int(st)))
	if st == eas.SearchStatusSuccess {
		if len(results) == 0 {
			store.Add(wbxml.Empty(ns, "Result"))
		}
		store.Add(results...)
		if len(results) > 0 {
			store.Add(wbxml.Text(ns, "Range", fmt.Sprintf("%d-%d", start, start+len(results)-1)))
		}
		store.Add(wbxml.Int(ns, "Total", total))
	}
	return wbxml.New(ns, "Search",
		wbxml.Int(ns, "Status", int(eas.SearchStatusSuccess)),
		wbxml.New(ns, "Response", store))
}

func (s *Server) searchMailbox(rq *request, sr Searcher, store *wbxml.Element) *wbxml.Element {
	ns := wbxml.NSSearch
	q := SearchQuery{Version: rq.version, RangeEnd: defaultSearchEnd}
	if st := parseSearchQuery(store.Child(ns, "Query"), &q); st != eas.SearchStatusSuccess {
		return searchAnswer(rq, st, nil, 0, 0)
	}
	if o := store.Child(ns, "Options"); o != nil {
		q.Options = parseItemOptions(o)
		if o.Has(ns, "Range") {
			a, b, ok := parseRange(o.ChildText(ns, "Range"))
			if !ok || b > 1<<30 {
				return searchAnswer(rq, eas.SearchStatusInvalidRequest, nil, 0, 0)
			}
			q.RangeStart, q.RangeEnd = int(a), int(b)
		}
		q.DeepTraversal = o.Has(ns, "DeepTraversal")
		q.RebuildResults = o.Has(ns, "RebuildResults")
	} else {
		q.Options = parseItemOptions(nil)
	}
	q.RangeEnd = min(q.RangeEnd, q.RangeStart+maxSearchResults-1)
	if q.Options.Class == "" {
		q.Options.Class = q.Class
	}
	hits, total, err := sr.SearchMailbox(rq.ctx, q)
	if err != nil {
		return searchAnswer(rq, s.searchErrStatus(rq, err), nil, 0, 0)
	}
	if n := q.RangeEnd - q.RangeStart + 1; len(hits) > n {
		hits = hits[:n]
	}
	if len(hits) > 0 {
		total = max(total, q.RangeStart+len(hits))
	}
	results := make([]*wbxml.Element, 0, len(hits))
	for _, h := range hits {
		r := wbxml.New(ns, "Result")
		class := h.Class
		if class == "" {
			class = itemClass(h.Properties)
		}
		if class != "" {
			r.Add(wbxml.Text(wbxml.NSAirSync, "Class", class))
		}
		r.Add(wbxml.Text(ns, "LongId", h.LongID))
		if h.CollectionID != "" {
			r.Add(wbxml.Text(wbxml.NSAirSync, "CollectionId", h.CollectionID))
		}
		if h.Properties != nil {
			r.Add(reparent(h.Properties, ns, "Properties"))
		}
		results = append(results, r)
	}
	return searchAnswer(rq, eas.SearchStatusSuccess, results, q.RangeStart, total)
}

// parseSearchQuery reads a mailbox Query (MS-ASCMD 2.2.3.147.2): FreeText
// alone, or And of airsync:Class, airsync:CollectionId (repeatable),
// FreeText, GreaterThan/LessThan of email:DateReceived. Or and
// ConversationId are not supported (Status 8), anything else is an invalid
// request (Status 2).
func parseSearchQuery(query *wbxml.Element, q *SearchQuery) eas.Status {
	ns := wbxml.NSSearch
	if query == nil || len(query.Children) != 1 {
		return eas.SearchStatusInvalidRequest
	}
	top := query.Children[0]
	var conds []*wbxml.Element
	switch {
	case top.Is(ns, "And"):
		conds = top.Children
	case top.Is(ns, "FreeText"):
		conds = []*wbxml.Element{top}
	case top.Is(ns, "Or"), top.Is(ns, "ConversationId"):
		return eas.SearchStatusTooComplex
	default:
		return eas.SearchStatusInvalidRequest
	}
	var free []string
	for _, c := range conds {
		switch {
		case c.Is(wbxml.NSAirSync, "Class"):
			if q.Class == "" || strings.EqualFold(q.Class, "SMS") {
				q.Class = c.Text
			}
		case c.Is(wbxml.NSAirSync, "CollectionId"):
			if c.Text == "" {
				return eas.SearchStatusInvalidRequest
			}
			q.CollectionIDs = append(q.CollectionIDs, c.Text)
		case c.Is(ns, "FreeText"):
			if t := strings.TrimSpace(c.Text); t != "" {
				free = append(free, t)
			}
		case c.Is(ns, "GreaterThan"), c.Is(ns, "LessThan"):
			if !c.Has(wbxml.NSEmail, "DateReceived") {
				return eas.SearchStatusInvalidRequest
			}
			t, ok := parseEASTime(c.ChildText(ns, "Value"))
			if !ok {
				return eas.SearchStatusInvalidRequest
			}
			if c.Name == "GreaterThan" {
				q.Since = t
			} else {
				q.Until = t
			}
		case c.Is(ns, "ConversationId"), c.Is(ns, "Or"):
			return eas.SearchStatusTooComplex
		default:
			return eas.SearchStatusInvalidRequest
		}
	}
	q.FreeText = strings.Join(free, " ")
	if q.FreeText == "" && q.Since.IsZero() && q.Until.IsZero() && len(q.CollectionIDs) == 0 {
		return eas.SearchStatusInvalidRequest
	}
	return eas.SearchStatusSuccess
}

// parseEASTime reads an MS-ASDTYPE 2.3 date-time ("2024-01-01T00:00:00.000Z"),
// also without the fraction.
func parseEASTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{easTime, time.RFC3339Nano, "20060102T150405Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// searchErrStatus maps a SearchMailbox error to the Store Status, MS-ASCMD
// 2.2.3.177.13.
func (s *Server) searchErrStatus(rq *request, err error) eas.Status {
	if st, ok := eas.StatusOf(err); ok {
		return st
	}
	switch {
	case errors.Is(err, eas.ErrNotFound):
		// A CollectionId the server does not know: the client's
		// hierarchy is out of date.
		return eas.SearchStatusFolderSyncRequired
	case errors.Is(err, context.DeadlineExceeded):
		return eas.SearchStatusTimedOut
	case errors.Is(err, eas.ErrBackendUnavailable):
		s.log.Warn("server: search: backend unavailable", "device", rq.device.ID, "err", err)
		return eas.SearchStatusServerError
	}
	s.log.Error("server: search failed", "device", rq.device.ID, "err", err)
	return eas.SearchStatusServerError
}
