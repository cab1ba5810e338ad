package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-message"
	"github.com/emersion/go-webdav/caldav"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/testenv"
)

// Meetings end to end: invitations in Dovecot's INBOX, events in
// Radicale, answers through MeetingResponse, iMIP REPLYs at the SMTP sink.

const berlinTZ = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
	"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
	"END:VTIMEZONE\r\n"

// inviteICS is a weekly meeting organised by bob, alice invited.
func inviteICS(uid, summary string, start time.Time, seq int) string {
	loc, _ := time.LoadLocation("Europe/Berlin")
	s := start.In(loc)
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bob's client//EN\r\nMETHOD:REQUEST\r\n" + berlinTZ +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nSEQUENCE:" + strconv.Itoa(seq) + "\r\nDTSTAMP:20260301T080000Z\r\n" +
		"DTSTART;TZID=Europe/Berlin:" + s.Format("20060102T150405") + "\r\n" +
		"DTEND;TZID=Europe/Berlin:" + s.Add(time.Hour).Format("20060102T150405") + "\r\n" +
		"RRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:" + summary + "\r\nLOCATION:Room 7\r\n" +
		"ORGANIZER;CN=Bob:mailto:bob@example.test\r\n" +
		"ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@example.test\r\n" +
		"ATTENDEE;CN=Alice;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.test\r\n" +
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
}

// inviteMail is the iMIP message carrying ics (RFC 6047), the calendar
// part base64 encoded as mailers send it.
func inviteMail(subject, ics string) []byte {
	enc := base64.StdEncoding.EncodeToString([]byte(ics))
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	return []byte("From: Bob <bob@example.test>\r\nTo: Alice <alice@example.test>\r\nSubject: " + subject + "\r\n" +
		"Date: Mon, 02 Mar 2026 09:00:00 +0100\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@example.test>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"inv\"\r\n\r\n" +
		"--inv\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYou are invited: " + subject + "\r\n" +
		"--inv\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		strings.Join(lines, "\r\n") + "\r\n--inv--\r\n")
}

func meetingResponse(t *testing.T, c *easclient.Client, children ...*wbxml.Element) *wbxml.Element {
	t.Helper()
	ns := wbxml.NSMeetingResponse
	r, err := c.Do(context.Background(), "MeetingResponse", wbxml.New(ns, "MeetingResponse", wbxml.New(ns, "Request", children...)))
	if err != nil || r.HTTPStatus != 200 || r.Root == nil {
		t.Fatalf("MeetingResponse: %v HTTP %d %q", err, r.HTTPStatus, r.Body)
	}
	res := r.Root.Child(ns, "Result")
	if res == nil {
		t.Fatalf("MeetingResponse without Result: %s", wbxml.XMLString(r.Root))
	}
	return res
}

func mrAnswer(resp, coll, id string, extra ...*wbxml.Element) []*wbxml.Element {
	ns := wbxml.NSMeetingResponse
	return append([]*wbxml.Element{wbxml.Text(ns, "UserResponse", resp), wbxml.Text(ns, "CollectionId", coll),
		wbxml.Text(ns, "RequestId", id)}, extra...)
}

// storedEvent reads the event with uid from a Radicale calendar through
// CalDAV (an independent client and parser); nil when absent.
func storedEvent(t *testing.T, w *world, calendar, uid string) (*ical.Calendar, string) {
	t.Helper()
	cl, err := caldav.NewClient(w.dav.HTTPClient("alice"), w.dav.URL)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := cl.QueryCalendar(context.Background(), calendar, &caldav.CalendarQuery{
		CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
		CompFilter:  caldav.CompFilter{Name: "VCALENDAR", Comps: []caldav.CompFilter{{Name: "VEVENT"}}},
	})
	if err != nil {
		t.Fatalf("query %s: %v", calendar, err)
	}
	for _, o := range objs {
		for _, ev := range o.Data.Events() {
			if p := ev.Props.Get(ical.PropUID); p != nil && p.Value == uid {
				return o.Data, o.Path
			}
		}
	}
	return nil, ""
}

// partstatOf is the PARTSTAT of addr's ATTENDEE in the first VEVENT.
func partstatOf(t *testing.T, cal *ical.Calendar, addr string) string {
	t.Helper()
	evs := cal.Events()
	if len(evs) == 0 {
		t.Fatal("no VEVENT")
	}
	for _, a := range evs[0].Props.Values(ical.PropAttendee) {
		if strings.EqualFold(strings.TrimPrefix(strings.ToLower(a.Value), "mailto:"), addr) {
			return a.Params.Get(ical.ParamParticipationStatus)
		}
	}
	return ""
}

// replyOf finds the text/calendar part of a sent message and parses it.
func replyOf(t *testing.T, msg []byte) *ical.Calendar {
	t.Helper()
	e, err := message.Read(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("sent message: %v", err)
	}
	var found *ical.Calendar
	err = e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		ct, params, _ := part.Header.ContentType()
		if ct != "text/calendar" {
			return nil
		}
		if !strings.EqualFold(params["method"], "REPLY") {
			t.Errorf("text/calendar method=%q", params["method"])
		}
		body, err := io.ReadAll(part.Body)
		if err != nil {
			return err
		}
		found, err = ical.NewDecoder(bytes.NewReader(body)).Decode()
		return err
	})
	if err != nil || found == nil {
		t.Fatalf("no iTIP REPLY in the sent message (%v):\n%s", err, msg)
	}
	return found
}

func checkReply(t *testing.T, reply *ical.Calendar, uid, partstat string) {
	t.Helper()
	if m := reply.Props.Get(ical.PropMethod); m == nil || m.Value != "REPLY" {
		t.Errorf("METHOD %v", m)
	}
	evs := reply.Events()
	if len(evs) != 1 {
		t.Fatalf("%d VEVENTs in the REPLY", len(evs))
	}
	atts := evs[0].Props.Values(ical.PropAttendee)
	if len(atts) != 1 || !strings.EqualFold(atts[0].Value, "mailto:alice@example.test") {
		t.Errorf("REPLY attendees %v", atts)
	}
	if got := partstatOf(t, reply, "alice@example.test"); got != partstat {
		t.Errorf("REPLY PARTSTAT %q, want %q", got, partstat)
	}
	if p := evs[0].Props.Get(ical.PropUID); p == nil || p.Value != uid {
		t.Errorf("REPLY UID %v, want %q", p, uid)
	}
}

func waitSink(t *testing.T, w *world, n int) []testenv.SinkMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	msgs, err := w.dovecot.Sink.Wait(ctx, n)
	if err != nil {
		t.Fatalf("waiting for %d sent messages: %v (have %d)", n, err, len(w.dovecot.Sink.Messages()))
	}
	return msgs
}

func TestMeetingsEndToEnd(t *testing.T) {
	w, seed := davWorld(t)
	start := time.Now().UTC().Truncate(time.Hour).Add(72 * time.Hour)
	const uid = "design-review-42@example.test"
	w.dovecot.Append(t, "alice", "INBOX", inviteMail("Design review", inviteICS(uid, "Design review", start, 0)))
	w.dovecot.Append(t, "alice", "INBOX", []byte("From: bob@example.test\r\nTo: alice@example.test\r\nSubject: Just mail\r\n\r\nNo meeting here.\r\n"))

	c := w.client("14.1", "meetphone1")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	fs := folderIDs(t, c)
	inbox := fs["Inbox"].ServerID
	var calID string
	for _, f := range fs {
		if f.Type == 8 {
			calID = f.ServerID
		}
	}
	calKey, _ := syncAll(t, c, calID) // the device has the calendar before the answer

	// (a) The invitation syncs with its meeting fields.
	_, mails := syncAll(t, c, inbox)
	var inviteID, plainID string
	var invite *wbxml.Element
	for id, d := range mails {
		switch d.ChildText(wbxml.NSEmail, "Subject") {
		case "Design review":
			inviteID, invite = id, d
		case "Just mail":
			plainID = id
		}
	}
	if invite == nil || plainID == "" {
		t.Fatalf("Inbox: %d messages, no invitation or plain mail", len(mails))
	}
	E := wbxml.NSEmail
	if got := invite.ChildText(E, "MessageClass"); got != "IPM.Schedule.Meeting.Request" {
		t.Errorf("MessageClass %q", got)
	}
	if got := invite.ChildText(E, "ContentClass"); got != "urn:content-classes:calendarmessage" {
		t.Errorf("ContentClass %q", got)
	}
	mr := invite.Child(E, "MeetingRequest")
	if mr == nil {
		t.Fatalf("no MeetingRequest: %s", wbxml.XMLString(invite))
	}
	for name, want := range map[string]string{
		"StartTime": start.Format("2006-01-02T15:04:05.000Z"), "EndTime": start.Add(time.Hour).Format("2006-01-02T15:04:05.000Z"),
		"DtStamp": "2026-03-01T08:00:00.000Z", "AllDayEvent": "0", "InstanceType": "1", "Location": "Room 7",
		"Organizer": `"Bob" <bob@example.test>`, "Reminder": "900", "ResponseRequested": "1", "BusyStatus": "2", "Sensitivity": "0",
	} {
		if got := mr.ChildText(E, name); got != want {
			t.Errorf("MeetingRequest %s %q, want %q", name, got, want)
		}
	}
	if rec := mr.Child(E, "Recurrences").Child(E, "Recurrence"); rec.ChildText(E, "Type") != "1" || rec.ChildText(E, "Occurrences") != "4" {
		t.Errorf("Recurrences: %s", wbxml.XMLString(mr))
	}
	if got := mr.ChildText(wbxml.NSEmail2, "MeetingMessageType"); got != "1" {
		t.Errorf("MeetingMessageType %q", got)
	}
	if tz, err := base64.StdEncoding.DecodeString(mr.ChildText(E, "TimeZone")); err != nil || len(tz) != 172 {
		t.Errorf("TimeZone: %d bytes, %v", len(tz), err)
	}
	if goid, _ := base64.StdEncoding.DecodeString(mr.ChildText(E, "GlobalObjId")); !bytes.Contains(goid, []byte("vCal-Uid\x01\x00\x00\x00"+uid+"\x00")) {
		t.Errorf("GlobalObjId %q", goid)
	}
	if mails[plainID].Has(E, "MeetingRequest") || mails[plainID].ChildText(E, "MessageClass") != "IPM.Note" {
		t.Errorf("plain mail: %s", wbxml.XMLString(mails[plainID]))
	}

	// Accept from the Inbox: the event is created in the default
	// calendar with alice ACCEPTED, the REPLY goes to bob.
	ns := wbxml.NSMeetingResponse
	res := meetingResponse(t, c, mrAnswer("1", inbox, inviteID)...)
	if res.ChildText(ns, "Status") != "1" || res.ChildText(ns, "RequestId") != inviteID {
		t.Fatalf("accept: %s", wbxml.XMLString(res))
	}
	calendarID := res.ChildText(ns, "CalendarId")
	if !strings.HasPrefix(calendarID, calID+":") {
		t.Errorf("CalendarId %q, want one of collection %s", calendarID, calID)
	}
	stored, path := storedEvent(t, w, seed.Calendar, uid)
	if stored == nil {
		t.Fatalf("no event %s in %s", uid, seed.Calendar)
	}
	if got := partstatOf(t, stored, "alice@example.test"); got != "ACCEPTED" {
		t.Errorf("stored PARTSTAT %q", got)
	}
	if got := partstatOf(t, stored, "bob@example.test"); got != "ACCEPTED" {
		t.Errorf("organizer's PARTSTAT changed: %q", got)
	}
	if m := stored.Props.Get(ical.PropMethod); m != nil {
		t.Errorf("stored event keeps METHOD:%s", m.Value)
	}
	sent := waitSink(t, w, 1)
	if len(sent[0].To) != 1 || sent[0].To[0] != "bob@example.test" {
		t.Errorf("REPLY sent to %v", sent[0].To)
	}
	checkReply(t, replyOf(t, sent[0].Data), uid, "ACCEPTED")
	if !mailboxHas(t, w.dovecot, "Sent", "Accepted: Design review") {
		t.Error("no copy of the answer in Sent")
	}
	// The next calendar Sync brings the event under the CalendarId.
	a := syncOnce(t, c, calID, calKey, 100)
	if ev := a.adds[calendarID]; ev == nil || ev.ChildText(wbxml.NSCalendar, "Subject") != "Design review" ||
		ev.ChildText(wbxml.NSCalendar, "ResponseType") != "3" {
		t.Errorf("calendar Sync after the answer (want Add %s): %s", calendarID, wbxml.XMLString(a.root))
	}
	// Answering again (declined) updates the same event, no second one.
	res = meetingResponse(t, c, mrAnswer("3", inbox, inviteID)...)
	if res.ChildText(ns, "Status") != "1" || res.Has(ns, "CalendarId") {
		t.Errorf("decline: %s", wbxml.XMLString(res))
	}
	stored, path2 := storedEvent(t, w, seed.Calendar, uid)
	if path2 != path || partstatOf(t, stored, "alice@example.test") != "DECLINED" {
		t.Errorf("after decline: %s PARTSTAT %q", path2, partstatOf(t, stored, "alice@example.test"))
	}
	checkReply(t, replyOf(t, waitSink(t, w, 2)[1].Data), uid, "DECLINED")

	// (b) A meeting already in the work calendar (not named by its UID),
	// answered from the calendar by a 16.1 phone.
	const offsite = "offsite-77@example.test"
	offsiteICS := strings.Replace(strings.Replace(inviteICS(offsite, "Team offsite", start.Add(24*time.Hour), 0), "METHOD:REQUEST\r\n", "", 1),
		"mailto:bob@example.test", "mailto:carol@example.test", -1)
	w.dav.Put(t, "alice", seed.Work+"offsite.ics", "text/calendar", []byte(offsiteICS))
	p := w.client("16.1", "meetphone2")
	if _, err := p.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	pfs := folderIDs(t, p)
	var workID string
	for _, f := range pfs {
		if f.Type == 13 && strings.Contains(strings.ToLower(f.DisplayName), "work") {
			workID = f.ServerID
		}
	}
	_, workEvents := syncAll(t, p, workID)
	var offsiteID string
	for id, d := range workEvents {
		if d.ChildText(wbxml.NSCalendar, "Subject") == "Team offsite" {
			offsiteID = id
		}
	}
	if offsiteID == "" {
		t.Fatalf("work calendar %s: no offsite among %d events", workID, len(workEvents))
	}
	sendResponse := wbxml.New(ns, "SendResponse", wbxml.New(wbxml.NSAirSyncBase, "Body",
		wbxml.Text(wbxml.NSAirSyncBase, "Type", "1"), wbxml.Text(wbxml.NSAirSyncBase, "Data", "Probably, depends on the train")))
	res = meetingResponse(t, p, mrAnswer("2", workID, offsiteID, sendResponse)...)
	if res.ChildText(ns, "Status") != "1" || res.ChildText(ns, "CalendarId") != offsiteID {
		t.Fatalf("tentative: %s", wbxml.XMLString(res))
	}
	if stored, _ := storedEvent(t, w, seed.Work, offsite); partstatOf(t, stored, "alice@example.test") != "TENTATIVE" {
		t.Errorf("work event PARTSTAT %q", partstatOf(t, stored, "alice@example.test"))
	}
	sent = waitSink(t, w, 3)
	if sent[2].To[0] != "carol@example.test" {
		t.Errorf("REPLY to %v", sent[2].To)
	}
	rep := replyOf(t, sent[2].Data)
	checkReply(t, rep, offsite, "TENTATIVE")
	if txt, err := rep.Events()[0].Props.Text(ical.PropComment); err != nil || txt != "Probably, depends on the train" {
		t.Errorf("REPLY COMMENT %q %v", txt, err)
	}
	// 16.1 without SendResponse: the answer is stored, nothing is sent
	// (the next sent message is the accept below, not this decline).
	res = meetingResponse(t, p, mrAnswer("3", workID, offsiteID)...)
	if res.ChildText(ns, "Status") != "1" {
		t.Fatalf("decline: %s", wbxml.XMLString(res))
	}
	if stored, _ := storedEvent(t, w, seed.Work, offsite); partstatOf(t, stored, "alice@example.test") != "DECLINED" {
		t.Errorf("work event PARTSTAT %q", partstatOf(t, stored, "alice@example.test"))
	}
	// An invitation in the Inbox for that meeting finds it in the work
	// calendar (by UID, whatever the member's name): no second event.
	w.dovecot.Append(t, "alice", "INBOX", inviteMail("Team offsite", strings.Replace(offsiteICS, "VERSION:2.0\r\n", "VERSION:2.0\r\nMETHOD:REQUEST\r\n", 1)))
	pinbox := pfs["Inbox"].ServerID
	_, pmails := syncAll(t, p, pinbox)
	var offsiteMail string
	for id, d := range pmails {
		if d.ChildText(E, "Subject") == "Team offsite" {
			offsiteMail = id
		}
	}
	res = meetingResponse(t, p, mrAnswer("1", pinbox, offsiteMail, wbxml.New(ns, "SendResponse"))...)
	if res.ChildText(ns, "Status") != "1" {
		t.Fatalf("accept offsite from the Inbox: %s", wbxml.XMLString(res))
	}
	if stored, _ := storedEvent(t, w, seed.Work, offsite); partstatOf(t, stored, "alice@example.test") != "ACCEPTED" {
		t.Errorf("work event PARTSTAT %q", partstatOf(t, stored, "alice@example.test"))
	}
	if dup, _ := storedEvent(t, w, seed.Calendar, offsite); dup != nil {
		t.Error("the meeting was created a second time in the default calendar")
	}
	sent = waitSink(t, w, 4)
	checkReply(t, replyOf(t, sent[3].Data), offsite, "ACCEPTED")

	// An invitation that came through a list (alice not named): she
	// joins as an attendee.
	const listUID = "list-meeting-5@example.test"
	listICS := strings.Replace(inviteICS(listUID, "All hands", start.Add(48*time.Hour), 0), "mailto:alice@example.test", "mailto:team@example.test", 1)
	w.dovecot.Append(t, "alice", "INBOX", inviteMail("All hands", listICS))
	_, more := syncAll(t, c, inbox)
	var listID string
	for id, d := range more {
		if d.ChildText(E, "Subject") == "All hands" {
			listID = id
		}
	}
	if res := meetingResponse(t, c, mrAnswer("1", inbox, listID)...); res.ChildText(ns, "Status") != "1" {
		t.Fatalf("accept list invitation %q: %s", listID, wbxml.XMLString(res))
	}
	if stored, _ := storedEvent(t, w, seed.Calendar, listUID); stored == nil || partstatOf(t, stored, "alice@example.test") != "ACCEPTED" {
		t.Errorf("list invitation not stored with alice ACCEPTED: %v", stored)
	}
	checkReply(t, replyOf(t, waitSink(t, w, 5)[4].Data), listUID, "ACCEPTED")

	// (c) Requests that name no meeting: Status 2.
	for name, req := range map[string][]*wbxml.Element{
		"unknown message":   mrAnswer("1", inbox, inbox+":999999"),
		"not a meeting":     mrAnswer("1", inbox, plainID),
		"malformed id":      mrAnswer("1", inbox, "nonsense"),
		"other collection":  mrAnswer("1", calID, inviteID),
		"unknown folder":    mrAnswer("1", "9999", "9999:1"),
		"unknown event":     mrAnswer("1", calID, calID+":4242"),
		"bad user response": mrAnswer("7", inbox, inviteID),
	} {
		if res := meetingResponse(t, c, req...); res.ChildText(ns, "Status") != "2" {
			t.Errorf("%s: %s", name, wbxml.XMLString(res))
		}
	}
	if n := len(w.dovecot.Sink.Messages()); n != 5 {
		t.Errorf("%d messages sent, want 5", n)
	}
}
