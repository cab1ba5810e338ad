package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"easbridge/server/eas"
	"easbridge/sync/calconv"
	"easbridge/sync/source"
)

// raceDAV is a DAVItems whose Put fails with 412 the first fails times,
// each time after "another client" changed the stored object.
type raceDAV struct {
	data  []byte
	etag  int
	fails int
	puts  int
}

func (r *raceDAV) tag() string { return `"` + strings.Repeat("x", r.etag) + `"` }

func (r *raceDAV) Changes(context.Context, string, string) (source.DAVChanges, error) {
	return source.DAVChanges{}, nil
}
func (r *raceDAV) Token(context.Context, string) (string, error) { return "", nil }
func (r *raceDAV) Get(_ context.Context, _ string, paths []string) ([]source.DAVObject, error) {
	return []source.DAVObject{{DAVRef: source.DAVRef{Path: paths[0], ETag: r.tag()}, Data: r.data}}, nil
}
func (r *raceDAV) Put(_ context.Context, _, _ string, data []byte, ifMatch string) (string, error) {
	r.puts++
	if ifMatch != r.tag() {
		return "", source.ErrPrecondition
	}
	if r.fails > 0 {
		r.fails--
		r.data = []byte(strings.Replace(string(r.data), "SUMMARY:", "SUMMARY:x", 1))
		r.etag++
		return "", source.ErrPrecondition
	}
	r.data = data
	r.etag++
	return r.tag(), nil
}
func (r *raceDAV) Delete(context.Context, string, string, string) error { return nil }
func (r *raceDAV) NewPath(c, uid string) string                         { return c + uid + ".ics" }

const raceEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:race-1\r\n" +
	"DTSTAMP:20260301T080000Z\r\nDTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nSUMMARY:Race\r\n" +
	"ORGANIZER:mailto:bob@example.test\r\nATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.test\r\n" +
	"END:VEVENT\r\nEND:VCALENDAR\r\n"

// TestWriteAnswerPrecondition: a 412 re-reads the event and writes the
// answer on the new version; a second 412 gives up with Status 3.
func TestWriteAnswerPrecondition(t *testing.T) {
	for _, tt := range []struct {
		fails    int
		wantPuts int
		status   eas.Status // 0: success
	}{{0, 1, 0}, {1, 2, 0}, {2, 2, eas.MeetingStatusMailboxError}} {
		dav := &raceDAV{data: []byte(raceEvent), fails: tt.fails}
		s := &session{e: &Engine{log: discard()}, l: &login{dav: dav, email: "alice@example.test"}}
		ev, _ := dav.Get(context.Background(), "caldav:/a/", []string{"/a/race-1.ics"})
		a := calconv.Answer{User: "alice@example.test", Partstat: calconv.PartstatAccepted}
		_, err := s.writeAnswer(context.Background(), "caldav:/a/", ev[0], a)
		if dav.puts != tt.wantPuts {
			t.Errorf("%d failures: %d PUTs, want %d", tt.fails, dav.puts, tt.wantPuts)
		}
		if tt.status != 0 {
			st, _ := eas.StatusOf(meetingErr(err))
			if st != tt.status || !errors.Is(err, source.ErrPrecondition) {
				t.Errorf("%d failures: %v (status %d), want status %d", tt.fails, err, st, tt.status)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d failures: %v", tt.fails, err)
		}
		got := string(dav.data)
		if !strings.Contains(got, "PARTSTAT=ACCEPTED") || strings.Count(got, "SUMMARY:"+strings.Repeat("x", tt.fails)+"Race") != 1 {
			t.Errorf("%d failures: stored\n%s", tt.fails, got)
		}
	}
}

func TestMeetingErrStatuses(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want eas.Status
	}{
		{calconv.ErrOrganizer, eas.MeetingStatusInvalidRequest},
		{calconv.ErrNotAttendee, eas.MeetingStatusInvalidRequest},
		{eas.ErrNotFound, eas.MeetingStatusInvalidRequest},
		{eas.ErrBackendUnavailable, eas.MeetingStatusMailboxError},
		{errors.New("boom"), eas.MeetingStatusServerError},
		{eas.Errorf(eas.MeetingStatusMailboxError, "x"), eas.MeetingStatusMailboxError},
	} {
		if st, _ := eas.StatusOf(meetingErr(tt.err)); st != tt.want {
			t.Errorf("%v: status %d, want %d", tt.err, st, tt.want)
		}
	}
}

func TestReplyMIME(t *testing.T) {
	msg := string(replyMIME("alice@example.test", "Alice Ünal", "bob@example.test", "Design review",
		calconv.Answer{Partstat: calconv.PartstatTentative, Comment: "Maybe"}, []byte("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n")))
	for _, want := range []string{"To: <bob@example.test>\r\n", "Subject: Tentative: Design review\r\n",
		"From: =?utf-8?q?Alice_=C3=9Cnal?= <alice@example.test>\r\n", "Content-Type: text/calendar; charset=utf-8; method=REPLY\r\n",
		"Maybe\r\n\r\nAlice =C3=9Cnal has tentatively accepted"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in\n%s", want, msg)
		}
	}
}
