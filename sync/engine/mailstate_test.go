package engine

import (
	"errors"
	"reflect"
	"testing"
)

func TestMailStateRoundTrip(t *testing.T) {
	m := &mailState{
		Primed: true, Mailbox: "INBOX", UIDValidity: 42, ModSeq: 9000, Filter: 3,
		View:      map[uint32]uint32{1: flagsHash([]string{`\Seen`}), 5: 7, 1000000: 9},
		Pending:   map[uint32]pending{5: {Flags: []string{`\Flagged`, "Work"}}, 1: {Deleted: true}},
		Adds:      []uint32{99, 50, 7},
		ClientIDs: map[string]uint32{"c1": 77},
	}
	got, err := decodeMailState(m.encode(), true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
	}
	head, err := decodeMailState(m.encode(), false)
	if err != nil || head.View != nil || head.ModSeq != 9000 || len(head.Adds) != 3 {
		t.Fatalf("header only: %+v %v", head, err)
	}
	for _, bad := range [][]byte{{9}, {mailStateVersion}, m.encode()[:10]} {
		if _, err := decodeMailState(bad, true); !errors.Is(err, errBadState) {
			t.Errorf("%x: err %v", bad, err)
		}
	}
}

func TestDAVStateRoundTrip(t *testing.T) {
	d := &davState{
		Primed: true, Token: "http://radicale.org/ns/sync/abc", NextID: 12, Filter: 4,
		Items:     map[string]davItem{"/a/calendar/x.ics": {ID: 3, ETag: `"e1"`}},
		Pending:   map[string]davPending{"/a/calendar/y.ics": {ETag: `"e2"`}, "/a/calendar/z.ics": {Deleted: true}},
		ClientIDs: map[string]string{"cl": "/a/calendar/x.ics"},
	}
	got, err := decodeDAVState(d.encode(), true)
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, d)
	}
	if _, err := decodeDAVState([]byte{davStateVersion, 1, 200}, true); !errors.Is(err, errBadState) {
		t.Errorf("truncated: %v", err)
	}
}

func FuzzDecodeMailState(f *testing.F) {
	f.Add((&mailState{View: map[uint32]uint32{1: 2}, Pending: map[uint32]pending{3: {Flags: []string{"x"}}}, Adds: []uint32{9, 4}}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMailState(b, true)
		if err != nil {
			return
		}
		if _, err := decodeMailState(m.encode(), true); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
	})
}
