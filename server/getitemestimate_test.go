package server

import (
	"context"
	"testing"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

func gie(name string, kids ...*wbxml.Element) *wbxml.Element {
	return wbxml.New(wbxml.NSItemEstimate, name, kids...)
}

// estimateColl14 is a 14.0+ Collection: SyncKey, CollectionId, Options.
func estimateColl14(key, id string) *wbxml.Element {
	return gie("Collection", asText("SyncKey", key), wbxml.Text(wbxml.NSItemEstimate, "CollectionId", id),
		asText("ConversationMode", "0"), as("Options", asText("Class", "Email"), asText("FilterType", "3")))
}

// estimateColl121 is a 12.1 Collection: Class, CollectionId, FilterType,
// SyncKey.
func estimateColl121(key, id string) *wbxml.Element {
	return gie("Collection", wbxml.Text(wbxml.NSItemEstimate, "Class", "Email"), wbxml.Text(wbxml.NSItemEstimate, "CollectionId", id),
		asText("FilterType", "2"), asText("SyncKey", key))
}

func TestGetItemEstimate(t *testing.T) {
	for _, v := range []string{"12.1", "14.1"} {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t)
			c := h.itemsClient(v, "gie"+v[:2])
			coll := estimateColl14
			if v == "12.1" {
				coll = estimateColl121
			}
			// Prime collections 1 and 3.
			h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("0", "1"), easclient.SyncCollection("0", "3")})
			r, err := c.Do(context.Background(), "GetItemEstimate", gie("GetItemEstimate", gie("Collections",
				coll("1", "1"), coll("1", "3"), coll("0", "2"), coll("9", "1"), coll("1", "42"), coll("1", "down"), coll("1", "retry"),
				gie("Collection", asText("SyncKey", "1")))))
			if err != nil || r.HTTPStatus != 200 {
				t.Fatalf("%v HTTP %d", err, r.HTTPStatus)
			}
			ns := wbxml.NSItemEstimate
			type res struct{ status, id, estimate string }
			var got []res
			for _, e := range r.Root.All(ns, "Response") {
				got = append(got, res{e.ChildText(ns, "Status"), e.Child(ns, "Collection").ChildText(ns, "CollectionId"), e.Child(ns, "Collection").ChildText(ns, "Estimate")})
			}
			want := []res{
				{"1", "1", "5"}, {"1", "3", "2"},
				{"3", "2", ""},      // SyncKey 0: not primed
				{"4", "1", ""},      // unknown key
				{"2", "42", ""},     // unknown collection
				{"111", "down", ""}, // backend unavailable: retry later
				{"16", "retry", ""}, // eas.StatusError: as is
				{"2", "", ""},       // no CollectionId
			}
			if len(got) != len(want) {
				t.Fatalf("answers %v\n%s", got, wbxml.XMLString(r.Root))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("collection %d: %v, want %v", i, got[i], want[i])
				}
			}
			h.backend.mu.Lock()
			o := h.backend.items.lastOpts
			h.backend.mu.Unlock()
			if o.Class != "Email" || (v == "12.1" && o.FilterType != 2) || (v == "14.1" && o.FilterType != 3) {
				t.Errorf("options %+v", o)
			}
		})
	}
	// No collections: a protocol error (common status 103 for 14.0+).
	h := newHarness(t)
	c := h.itemsClient("14.1", "gie0")
	if r := h.do(c, "GetItemEstimate", gie("GetItemEstimate")); r.Status() != 103 {
		t.Errorf("empty request: status %d", r.Status())
	}
}
