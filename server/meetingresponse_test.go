package server

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

func mrReq(children ...*wbxml.Element) *wbxml.Element {
	return wbxml.New(wbxml.NSMeetingResponse, "Request", children...)
}

func mrText(name, v string) *wbxml.Element { return wbxml.Text(wbxml.NSMeetingResponse, name, v) }

func mrAnswer(resp, coll, id string, extra ...*wbxml.Element) *wbxml.Element {
	r := mrReq(mrText("UserResponse", resp), mrText("CollectionId", coll), mrText("RequestId", id))
	r.Add(extra...)
	return r
}

func TestMeetingResponse(t *testing.T) {
	ns := wbxml.NSMeetingResponse
	sendResponse := wbxml.New(ns, "SendResponse", wbxml.New(wbxml.NSAirSyncBase, "Body",
		wbxml.Text(wbxml.NSAirSyncBase, "Type", "1"), wbxml.Text(wbxml.NSAirSyncBase, "Data", "See you")))
	type res struct{ id, status, cal string }
	tests := []struct {
		name    string
		version string
		reqs    []*wbxml.Element
		want    []res
	}{
		{"14.1 answers", "14.1", []*wbxml.Element{
			mrAnswer("1", "1", "1:1"),
			mrAnswer("2", "1", "1:2", mrText("InstanceId", "2026-03-16T09:00:00.000Z")),
			mrAnswer("3", "1", "1:3"), // declined: no CalendarId
			mrAnswer("1", "1", "1:gone"),
			mrAnswer("1", "1", "1:down"),
			mrAnswer("1", "1", "1:org"),
			mrAnswer("1", "1", "1:boom"),
			mrAnswer("4", "1", "1:4"),
			mrAnswer("1", "", "1:5"),
			mrAnswer("1", "1", "1:6", mrText("InstanceId", "yesterday")),
			mrReq(mrText("UserResponse", "1"), wbxml.Text(wbxml.NSSearch, "LongId", "L1:7")),
		}, []res{
			{"1:1", "1", "cal/1/true/-/"}, {"1:2", "1", "cal/2/true/20260316T090000Z/"}, {"1:3", "1", ""},
			{"1:gone", "2", ""}, {"1:down", "3", ""}, {"1:org", "2", ""}, {"1:boom", "4", ""},
			{"1:4", "2", ""}, {"1:5", "2", ""}, {"1:6", "2", ""}, {"", "1", "cal/1/true/-/"},
		}},
		{"14.0 has no InstanceId", "14.0", []*wbxml.Element{
			mrAnswer("1", "1", "1:1", mrText("InstanceId", "2026-03-16T09:00:00.000Z")),
		}, []res{{"1:1", "2", ""}}},
		{"16.1 notifies only with SendResponse", "16.1", []*wbxml.Element{
			mrAnswer("1", "1", "1:1"),
			mrAnswer("2", "1", "1:2", sendResponse),
		}, []res{{"1:1", "1", "cal/1/false/-/"}, {"1:2", "1", "cal/2/true/-/See you"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			c := h.itemsClient(tt.version, "mr"+tt.version[:2]+tt.version[3:])
			r := h.do(c, "MeetingResponse", wbxml.New(ns, "MeetingResponse", tt.reqs...))
			if r.HTTPStatus != 200 || r.Root == nil {
				t.Fatalf("HTTP %d %q", r.HTTPStatus, r.Body)
			}
			var got []res
			for _, e := range r.Root.All(ns, "Result") {
				got = append(got, res{e.ChildText(ns, "RequestId"), e.ChildText(ns, "Status"), e.ChildText(ns, "CalendarId")})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("results %v, want %v", got, tt.want)
			}
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("request %d: %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestMeetingResponseBadRequests(t *testing.T) {
	h := newHarness(t)
	ns := wbxml.NSMeetingResponse
	c := h.itemsClient("14.1", "mrbad")
	r := h.do(c, "MeetingResponse", wbxml.New(ns, "MeetingResponse"))
	if r.Root == nil || r.Root.Child(ns, "Result").ChildText(ns, "Status") != "2" {
		t.Errorf("empty MeetingResponse: HTTP %d %q", r.HTTPStatus, r.Body)
	}
	old := h.itemsClient("12.1", "mrold")
	if r := h.do(old, "MeetingResponse", wbxml.New(ns, "MeetingResponse")); r.HTTPStatus != 400 {
		t.Errorf("12.1 empty MeetingResponse: HTTP %d", r.HTTPStatus)
	}
}

func TestMeetingResponseNotSupported(t *testing.T) {
	srv := New(Options{Backend: bareBackend{newFakeBackend()}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ns := wbxml.NSMeetingResponse
	for _, v := range []string{"12.1", "14.1"} {
		c := easclient.New(hs.URL, "alice", "secret", "mrbare"+v[:2])
		c.Version = v
		if _, err := c.Provision(context.Background()); err != nil {
			t.Fatal(err)
		}
		r, err := c.Do(context.Background(), "MeetingResponse", wbxml.New(ns, "MeetingResponse", mrAnswer("1", "1", "1:1")))
		if err != nil {
			t.Fatal(err)
		}
		if v == "12.1" && r.HTTPStatus != 501 {
			t.Errorf("12.1: HTTP %d, want 501", r.HTTPStatus)
		}
		if v == "14.1" && r.Status() != int(eas.StatusCommandNotSupported) {
			t.Errorf("14.1: status %d, want 137", r.Status())
		}
	}
}

// TestMeetingResponseGolden runs the codec's golden request (16.1, a
// declined occurrence with a note) through the handler; its answer has
// the shape of the golden response.
func TestMeetingResponseGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("wbxml", "testdata", "meetingresponse-request.wbxml"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := wbxml.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	c := h.itemsClient("16.1", "mrgold")
	r := h.do(c, "MeetingResponse", req)
	ns := wbxml.NSMeetingResponse
	res := r.Root.Child(ns, "Result")
	if res == nil || res.ChildText(ns, "RequestId") != "5:12" || res.ChildText(ns, "Status") != "1" || res.Has(ns, "CalendarId") {
		t.Fatalf("answer %s", wbxml.XMLString(r.Root))
	}
	wantRaw, err := os.ReadFile(filepath.Join("wbxml", "testdata", "meetingresponse-response.wbxml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := wbxml.Decode(wantRaw)
	if err != nil {
		t.Fatal(err)
	}
	wr := want.Child(ns, "Result")
	for i, name := range []string{"RequestId", "Status"} {
		if res.Children[i].Name != name || wr.Children[i].Name != name {
			t.Errorf("child %d: %s / golden %s, want %s", i, res.Children[i].Name, wr.Children[i].Name, name)
		}
	}
}
