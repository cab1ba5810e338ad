package server

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

const testMIME = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: Hi\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob!\r\n"

func (h *harness) sent() []fakeSent {
	h.backend.mu.Lock()
	defer h.backend.mu.Unlock()
	return append([]fakeSent(nil), h.backend.items.sent...)
}

func cm(name, v string) *wbxml.Element { return wbxml.Text(wbxml.NSComposeMail, name, v) }

func TestSendMail14(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("14.1", "send14")
	ctx := context.Background()
	ns := wbxml.NSComposeMail
	do := func(body *wbxml.Element) *easclient.Response {
		t.Helper()
		r, err := c.Do(ctx, body.Name, body)
		if err != nil || r.HTTPStatus != 200 {
			t.Fatalf("%s: %v HTTP %d", body.Name, err, r.HTTPStatus)
		}
		return r
	}
	// Success: an empty 200.
	if r := do(easclient.Compose("SendMail", "m-1", []byte(testMIME), true, false)); len(r.Body) != 0 {
		t.Fatalf("SendMail: %d bytes: %s", len(r.Body), wbxml.XMLString(r.Root))
	}
	// Mime as a string rather than OPAQUE, not saved.
	do(wbxml.New(ns, "SendMail", cm("ClientId", "m-2"), cm("Mime", testMIME)))
	do(easclient.Compose("SmartReply", "m-3", []byte(testMIME), true, true, cm("FolderId", "1"), cm("ItemId", "1:2")))
	do(easclient.Compose("SmartForward", "m-4", []byte(testMIME), false, false, cm("LongId", "L3:6"), cm("InstanceId", "2026-03-02T09:00:00.000Z")))
	s := h.sent()
	if len(s) != 4 {
		t.Fatalf("sent %+v", s)
	}
	if s[0].cmd != "SendMail" || s[0].clientID != "m-1" || s[0].mime != testMIME || !s[0].saveInSent || s[1].saveInSent || s[1].mime != testMIME {
		t.Errorf("SendMail: %+v / %+v", s[0], s[1])
	}
	if s[2].cmd != "SmartReply" || s[2].src != (ItemRef{CollectionID: "1", ServerID: "1:2"}) || !s[2].replaceMime || !s[2].saveInSent {
		t.Errorf("SmartReply: %+v", s[2])
	}
	if s[3].cmd != "SmartForward" || s[3].src != (ItemRef{LongID: "L3:6", InstanceID: "2026-03-02T09:00:00.000Z"}) || s[3].replaceMime || s[3].saveInSent {
		t.Errorf("SmartForward: %+v", s[3])
	}
	// Failures: the command's root with a common status.
	for _, tc := range []struct {
		name string
		body *wbxml.Element
		st   eas.Status
	}{
		{"same ClientId again", easclient.Compose("SendMail", "m-1", []byte(testMIME), false, false), eas.StatusMessagePreviouslySent},
		{"no ClientId", wbxml.New(ns, "SendMail", wbxml.Opaque(ns, "Mime", []byte(testMIME))), eas.StatusInvalidXML},
		{"no Mime", wbxml.New(ns, "SendMail", cm("ClientId", "x")), eas.StatusInvalidXML},
		{"empty Mime", easclient.Compose("SendMail", "x", nil, false, false), eas.StatusInvalidMIME},
		{"server down", easclient.Compose("SendMail", "down", []byte(testMIME), false, false), eas.StatusServerErrorRetryLater},
		{"server fails", easclient.Compose("SendMail", "fail", []byte(testMIME), false, false), eas.StatusServerError},
		{"reply without Source", easclient.Compose("SmartReply", "r-1", []byte(testMIME), false, false), eas.StatusInvalidXML},
		{"reply to nothing", easclient.Compose("SmartReply", "r-2", []byte(testMIME), false, false, cm("FolderId", "1"), cm("ItemId", "1:404")), eas.StatusItemNotFound},
		{"reply to two", easclient.Compose("SmartReply", "r-3", []byte(testMIME), false, false, cm("ItemId", "1:1"), cm("LongId", "L1:1")), eas.StatusInvalidCombinationOfIDs},
		{"forward of nothing named", easclient.Compose("SmartForward", "r-4", []byte(testMIME), false, false, cm("FolderId", "1")), eas.StatusInvalidCombinationOfIDs},
		{"forward wrong folder", easclient.Compose("SmartForward", "r-5", []byte(testMIME), false, false, cm("FolderId", "3"), cm("ItemId", "1:1")), eas.StatusItemNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(tc.body)
			if r.Status() != int(tc.st) || !r.Root.Is(ns, tc.body.Name) {
				t.Errorf("answer %s, want status %d", wbxml.XMLString(r.Root), tc.st)
			}
		})
	}
	if n := len(h.sent()); n != 4 {
		t.Errorf("%d messages sent after the failures", n)
	}
	// A 14.1 client may still send the MIME form (message/rfc822).
	r, err := c.SendMIME(ctx, "SendMail", []byte(testMIME), url.Values{"SaveInSent": {"T"}})
	if err != nil || r.HTTPStatus != 200 || len(r.Body) != 0 {
		t.Fatalf("14.1 MIME form: %v HTTP %d %q", err, r.HTTPStatus, r.Body)
	}
	if s := h.sent(); len(s) != 5 || s[4].mime != testMIME || !s[4].saveInSent {
		t.Errorf("14.1 MIME form sent %+v", s[len(s)-1])
	}
}

// TestSendMail121 covers the 12.1 form: raw MIME body, parameters in the
// query, HTTP statuses for failures.
func TestSendMail121(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("12.1", "send12")
	ctx := context.Background()
	send := func(cmd string, params url.Values) *easclient.Response {
		t.Helper()
		r, err := c.SendMIME(ctx, cmd, []byte(testMIME), params)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := send("SendMail", url.Values{"SaveInSent": {"T"}}); r.HTTPStatus != 200 || len(r.Body) != 0 {
		t.Fatalf("SendMail: HTTP %d %q", r.HTTPStatus, r.Body)
	}
	if r := send("SendMail", nil); r.HTTPStatus != 200 {
		t.Fatalf("SendMail without SaveInSent: HTTP %d", r.HTTPStatus)
	}
	if r := send("SmartReply", url.Values{"ItemId": {"1:1"}, "CollectionId": {"1"}, "SaveInSent": {"T"}}); r.HTTPStatus != 200 {
		t.Fatalf("SmartReply: HTTP %d %s", r.HTTPStatus, r.Body)
	}
	if r := send("SmartForward", url.Values{"LongId": {"L3:7"}, "Occurrence": {"x"}}); r.HTTPStatus != 200 {
		t.Fatalf("SmartForward: HTTP %d %s", r.HTTPStatus, r.Body)
	}
	s := h.sent()
	if len(s) != 4 || s[0].mime != testMIME || !s[0].saveInSent || s[1].saveInSent || s[0].clientID != "" {
		t.Fatalf("sent %+v", s)
	}
	if s[2].src != (ItemRef{CollectionID: "1", ServerID: "1:1"}) || !s[2].saveInSent || s[3].src != (ItemRef{LongID: "L3:7", InstanceID: "x"}) {
		t.Errorf("smart sources %+v / %+v", s[2].src, s[3].src)
	}
	for _, tc := range []struct {
		name   string
		cmd    string
		params url.Values
		code   int
	}{
		{"reply to nothing", "SmartReply", url.Values{"ItemId": {"1:404"}, "CollectionId": {"1"}}, http.StatusInternalServerError},
		{"reply without item", "SmartReply", nil, http.StatusBadRequest},
		{"forward with both ids", "SmartForward", url.Values{"ItemId": {"1:1"}, "LongId": {"L1:1"}}, http.StatusBadRequest},
	} {
		if r := send(tc.cmd, tc.params); r.HTTPStatus != tc.code {
			t.Errorf("%s: HTTP %d, want %d", tc.name, r.HTTPStatus, tc.code)
		}
	}
	// An empty body: the pipeline refuses it.
	if r, _ := c.DoWith(ctx, "SendMail", nil, nil, http.Header{"Content-Type": {"message/rfc822"}}); r.HTTPStatus != http.StatusBadRequest {
		t.Errorf("empty SendMail: HTTP %d", r.HTTPStatus)
	}
	// The 12.1 HTTP mapping of the common statuses.
	for st, code := range map[eas.Status]int{
		eas.StatusServerErrorRetryLater: 503, eas.StatusMailboxQuotaExceeded: 507, eas.StatusInvalidMIME: 500,
		eas.StatusInvalidCombinationOfIDs: 400, eas.StatusAccessDenied: 403, eas.StatusMessagePreviouslySent: 500,
	} {
		if got := composeHTTPError(st).code; got != code {
			t.Errorf("status %d: HTTP %d, want %d", st, got, code)
		}
	}
}
