package server

import (
	"testing"
	"time"

	"easbridge/server/wbxml"
)

// searchReq is Search/Store(Name, Query(query), Options(Range)).
func searchReq(store string, query *wbxml.Element, rng string, opts ...*wbxml.Element) *wbxml.Element {
	ns := wbxml.NSSearch
	s := wbxml.New(ns, "Store", wbxml.Text(ns, "Name", store), wbxml.New(ns, "Query", query))
	o := wbxml.New(ns, "Options", opts...)
	if rng != "" {
		o.Add(wbxml.Text(ns, "Range", rng))
	}
	if len(o.Children) > 0 {
		s.Add(o)
	}
	return wbxml.New(ns, "Search", s)
}

func sAnd(kids ...*wbxml.Element) *wbxml.Element { return wbxml.New(wbxml.NSSearch, "And", kids...) }

func sFree(text string) *wbxml.Element { return wbxml.Text(wbxml.NSSearch, "FreeText", text) }

func sDate(op, value string) *wbxml.Element {
	return wbxml.New(wbxml.NSSearch, op, wbxml.Empty(wbxml.NSEmail, "DateReceived"), wbxml.Text(wbxml.NSSearch, "Value", value))
}

type searchResult struct {
	status  string
	longIDs []string
	rng     string
	total   string
}

func (h *harness) search(version string, req *wbxml.Element) searchResult {
	h.t.Helper()
	c := h.itemsClient(version, "srch"+version[:2])
	r := h.do(c, "Search", req)
	ns := wbxml.NSSearch
	if r.Status() != 1 {
		h.t.Fatalf("Search status %d: %s", r.Status(), wbxml.XMLString(r.Root))
	}
	store := r.Root.Child(ns, "Response").Child(ns, "Store")
	res := searchResult{status: store.ChildText(ns, "Status"), rng: store.ChildText(ns, "Range"), total: store.ChildText(ns, "Total")}
	for _, e := range store.All(ns, "Result") {
		if len(e.Children) == 0 {
			res.longIDs = append(res.longIDs, "(empty)")
			continue
		}
		if e.ChildText(wbxml.NSAirSync, "Class") != "Email" || !e.Has(ns, "Properties") || e.ChildText(wbxml.NSAirSync, "CollectionId") == "" {
			h.t.Errorf("result %s", wbxml.XMLString(e))
		}
		res.longIDs = append(res.longIDs, e.ChildText(ns, "LongId"))
	}
	return res
}

func TestSearchMailbox(t *testing.T) {
	h := newHarness(t)
	ab := wbxml.New(wbxml.NSAirSyncBase, "BodyPreference", wbxml.Text(wbxml.NSAirSyncBase, "Type", "1"), wbxml.Text(wbxml.NSAirSyncBase, "TruncationSize", "100"))
	for _, tc := range []struct {
		name string
		req  *wbxml.Element
		want searchResult
	}{
		{"first page", searchReq("Mailbox", sAnd(asText("Class", "Email"), asText("CollectionId", "1"), sFree("message")), "0-1",
			ab, wbxml.Empty(wbxml.NSSearch, "DeepTraversal"), wbxml.Empty(wbxml.NSSearch, "RebuildResults")),
			searchResult{"1", []string{"L1:5", "L1:4"}, "0-1", "5"}},
		{"second page", searchReq("Mailbox", sAnd(asText("Class", "Email"), sFree("message")), "2-3"),
			searchResult{"1", []string{"L1:3", "L1:2"}, "2-3", "5"}},
		{"past the end", searchReq("Mailbox", sAnd(sFree("message")), "10-19"),
			searchResult{"1", []string{"(empty)"}, "", "5"}},
		{"default range, free text alone", searchReq("Mailbox", sFree("quarterly"), ""),
			searchResult{"1", []string{"L3:6"}, "0-0", "1"}},
		{"dates", searchReq("Mailbox", sAnd(asText("CollectionId", "1"), sFree("message"),
			sDate("GreaterThan", "2026-03-01T11:30:00.000Z"), sDate("LessThan", "2026-03-01T13:30:00.000Z")), "0-9"),
			searchResult{"1", []string{"L1:4", "L1:3"}, "0-1", "2"}},
		{"nothing found", searchReq("Mailbox", sAnd(sFree("zebra")), "0-9"),
			searchResult{"1", []string{"(empty)"}, "", "0"}},
		{"unknown folder", searchReq("Mailbox", sAnd(asText("CollectionId", "77"), sFree("x")), ""), searchResult{status: "11"}},
		{"or", searchReq("Mailbox", wbxml.New(wbxml.NSSearch, "Or", sFree("a"), sFree("b")), ""), searchResult{status: "8"}},
		{"conversation", searchReq("Mailbox", sAnd(asText("Class", "Email"), wbxml.Opaque(wbxml.NSSearch, "ConversationId", []byte{1})), ""), searchResult{status: "8"}},
		{"bad range", searchReq("Mailbox", sFree("x"), "9-1"), searchResult{status: "2"}},
		{"bad date", searchReq("Mailbox", sAnd(sFree("x"), sDate("GreaterThan", "yesterday")), ""), searchResult{status: "2"}},
		{"no query", searchReq("Mailbox", nil, ""), searchResult{status: "2"}},
		{"empty and", searchReq("Mailbox", sAnd(), ""), searchResult{status: "2"}},
		{"backend fails", searchReq("Mailbox", sFree("fail"), ""), searchResult{status: "3"}},
		{"GAL without a match (gal_test.go has the rest)", galReq("zebra", "0-9"), searchResult{"1", []string{"(empty)"}, "", "0"}},
		{"document library", searchReq("DocumentLibrary", sFree("x"), ""), searchResult{status: "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []string{"12.1", "16.1"} {
				got := h.search(v, tc.req)
				if got.status != tc.want.status || got.rng != tc.want.rng || got.total != tc.want.total || len(got.longIDs) != len(tc.want.longIDs) {
					t.Fatalf("%s: %+v, want %+v", v, got, tc.want)
				}
				for i := range got.longIDs {
					if got.longIDs[i] != tc.want.longIDs[i] {
						t.Errorf("%s: results %v, want %v", v, got.longIDs, tc.want.longIDs)
					}
				}
			}
		})
	}
	h.backend.mu.Lock()
	q := h.backend.items.lastSearch
	h.backend.mu.Unlock()
	if q.FreeText != "fail" || q.RangeStart != 0 || q.RangeEnd != 99 {
		t.Errorf("last query %+v", q)
	}
	// What the first case handed to the backend.
	c := h.itemsClient("16.1", "srchq")
	h.do(c, "Search", searchReq("Mailbox", sAnd(asText("Class", "Email"), asText("CollectionId", "1"), asText("CollectionId", "3"), sFree("message"),
		sDate("GreaterThan", "2026-03-01T11:30:00.000Z")), "5-500", ab, wbxml.Empty(wbxml.NSSearch, "DeepTraversal"), wbxml.Empty(wbxml.NSSearch, "RebuildResults")))
	h.backend.mu.Lock()
	q = h.backend.items.lastSearch
	h.backend.mu.Unlock()
	since := time.Date(2026, 3, 1, 11, 30, 0, 0, time.UTC)
	if q.Class != "Email" || len(q.CollectionIDs) != 2 || q.FreeText != "message" || !q.Since.Equal(since) || !q.Until.IsZero() ||
		!q.DeepTraversal || !q.RebuildResults || q.RangeStart != 5 || q.RangeEnd != 104 || len(q.Options.BodyPrefs) != 1 || q.Version != "16.1" {
		t.Errorf("query %+v", q)
	}
	// No Store: common status 103.
	if r := h.do(c, "Search", wbxml.New(wbxml.NSSearch, "Search")); r.Status() != 103 {
		t.Errorf("Search without Store: %d", r.Status())
	}
}
