package server

import (
	"context"
	"io"
	"slices"
	"testing"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// SmartForwardTo makes the fake a ForwardeeSender.
func (s *fakeSession) SmartForwardTo(ctx context.Context, dev, clientID string, mime io.Reader, src ItemRef, replace, save bool, fw []Forwardee) error {
	if err := s.send("SmartForward", clientID, mime, src, replace, save); err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.items.sent[len(s.b.items.sent)-1].forwardees = fw
	return nil
}

// TestSmartForwardForwardees: the Forwardees of a 16.x SmartForward
// (MS-ASCMD 2.2.3.79) reach the Sender; a Forwardee without an address is
// left out, and a SmartForward without Forwardees takes the plain path.
func TestSmartForwardForwardees(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("16.1", "fwd16")
	ctx := context.Background()
	ns := wbxml.NSComposeMail
	fwd := func(name, email string) *wbxml.Element {
		f := wbxml.New(ns, "Forwardee")
		if name != "" {
			f.Add(cm("ForwardeeName", name))
		}
		if email != "" {
			f.Add(cm("ForwardeeEmail", email))
		}
		return f
	}
	tests := []struct {
		name       string
		forwardees *wbxml.Element
		want       []Forwardee
	}{
		{"two forwardees", wbxml.New(ns, "Forwardees", fwd("Bob", "bob@example.test"), fwd("", "carol@example.test")),
			[]Forwardee{{Name: "Bob", Email: "bob@example.test"}, {Email: "carol@example.test"}}},
		{"one without address", wbxml.New(ns, "Forwardees", fwd("Nobody", ""), fwd("Dave", " dave@example.test ")),
			[]Forwardee{{Name: "Dave", Email: "dave@example.test"}}},
		{"none", nil, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := easclient.Compose("SmartForward", "f-"+tc.name, []byte(testMIME), false, false, cm("FolderId", "1"), cm("ItemId", "1:2"))
			if tc.forwardees != nil {
				req.Add(tc.forwardees)
			}
			r, err := c.Do(ctx, "SmartForward", req)
			if err != nil || r.HTTPStatus != 200 || r.Root != nil {
				t.Fatalf("SmartForward: %v HTTP %d %s", err, r.HTTPStatus, wbxml.XMLString(r.Root))
			}
			s := h.sent()
			if len(s) != i+1 {
				t.Fatalf("sent %d, want %d", len(s), i+1)
			}
			if got := s[i]; got.cmd != "SmartForward" || got.src != (ItemRef{CollectionID: "1", ServerID: "1:2"}) || !slices.Equal(got.forwardees, tc.want) {
				t.Errorf("sent %+v, want forwardees %+v", got, tc.want)
			}
		})
	}
}
