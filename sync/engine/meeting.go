package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"sort"
	"strings"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/calconv"
	"easbridge/sync/mailconv"
	"easbridge/sync/source"
	"easbridge/sync/state"
)

// Meeting answers (MS-ASCMD 2.2.1.11 MeetingResponse).
//
// Implementation notes:
//   - The item is a meeting request in a mail folder (its iTIP part,
//     RFC 6047) or an event of a calendar. The meeting is looked up by
//     UID in every CalDAV calendar of the account (calendar-query, RFC
//     4791 7.8, when the source offers it; else the member path NewPath
//     gives); a meeting not found is created in the default calendar
//     from the invitation (If-None-Match: *). An invitation with a
//     higher SEQUENCE than the stored event replaces it (the organizer
//     updated the meeting).
//   - The answer is the PARTSTAT of the user's ATTENDEE (calconv
//     SetPartstat), written with If-Match; a 412 re-reads the event and
//     tries once more, a second one is Status 3. A declined meeting stays
//     in the calendar with PARTSTAT=DECLINED, as CalDAV scheduling
//     servers keep it (RFC 6638 3.2.x attendee copies): other clients see
//     the answer and a later update of the organizer still finds it; the
//     answer has no CalendarId (MS-ASCMD 2.2.3.18).
//   - The organizer hears of it by an iMIP REPLY (RFC 6047, RFC 5546
//     3.2.3) sent through the login's SMTP path (send.go), saved in Sent:
//     before 16.0 whenever the user's ATTENDEE had RSVP=TRUE, from 16.0
//     only when the client sent SendResponse.
//   - CalendarId is the event's ServerId in this device's calendar
//     collection. When the device does not have the event yet, a ServerId
//     is reserved in the collection's state (reservedETag): the next Sync
//     sends the event as an Add under that id, as Exchange does.

// reservedETag marks a DAV state item whose ServerId MeetingResponse gave
// out before the item was sent; not a valid ETag (RFC 9110 8.8.3: quoted).
const reservedETag = "easbridge:reserved"

// RespondToMeeting implements server.MeetingResponder.
func (s *session) RespondToMeeting(ctx context.Context, deviceID string, a server.MeetingAnswer) (string, error) {
	partstat := map[int]string{
		server.MeetingAccept: calconv.PartstatAccepted, server.MeetingTentative: calconv.PartstatTentative,
		server.MeetingDecline: calconv.PartstatDeclined,
	}[a.UserResponse]
	if partstat == "" {
		return "", eas.Errorf(eas.MeetingStatusInvalidRequest, "UserResponse %d", a.UserResponse)
	}
	if s.l.dav == nil {
		return "", eas.Errorf(eas.MeetingStatusMailboxError, "account %s has no calendar server", s.l.account.Name)
	}
	id := a.RequestID
	if a.LongID != "" {
		id = a.LongID
	}
	coll, n, ok := parseServerID(id)
	if !ok || (a.CollectionID != "" && a.LongID == "" && coll != a.CollectionID) {
		return "", eas.Errorf(eas.MeetingStatusInvalidRequest, "item %q", id)
	}
	key, err := s.collectionKey(ctx, coll)
	if err != nil {
		return "", meetingErr(err)
	}
	cals, err := s.calendars(ctx)
	if err != nil {
		return "", meetingErr(err)
	}
	answer := calconv.Answer{User: s.l.email, Partstat: partstat, Instance: a.Instance, Comment: a.Comment, Now: s.e.opts.Now()}
	var ev source.DAVObject
	var evColl string
	if mb, isMail := mailboxOf(key); isMail {
		if !a.Instance.IsZero() {
			// MS-ASCMD 2.2.3.177.9: an InstanceId with an email meeting request.
			return "", eas.Errorf(eas.MeetingStatusInvalidRequest, "InstanceId with a meeting request")
		}
		ev, evColl, err = s.meetingFromMail(ctx, mb, n, cals)
		answer.Join = true // the invitation reached the user: through a list or an alias if not by name
	} else {
		ev, evColl, err = s.meetingFromCalendar(ctx, deviceID, coll, n, cals)
	}
	if err != nil {
		return "", meetingErr(err)
	}
	before, err := calconv.ParseInvitation(ev.Data, s.l.email)
	if err != nil {
		return "", eas.Errorf(eas.MeetingStatusInvalidRequest, "stored meeting %s: %v", ev.Path, err)
	}
	if ev, err = s.writeAnswer(ctx, evColl, ev, answer); err != nil {
		return "", meetingErr(err)
	}
	notify := a.Notify
	if !a.Version.AtLeast(eas.V160) {
		notify = notify && before.ResponseRequested
	}
	if notify {
		if err := s.sendMeetingReply(ctx, deviceID, ev.Data, answer, before.Subject); err != nil {
			return "", meetingErr(err)
		}
	}
	if a.UserResponse == server.MeetingDecline {
		return "", nil
	}
	if !mailboxOfKey(key) {
		return id, nil // answered from the calendar: the item itself
	}
	return s.calendarID(ctx, deviceID, evColl, ev.Path), nil
}

func mailboxOfKey(key string) bool { _, ok := mailboxOf(key); return ok }

// meetingErr maps an error to a MeetingResponse status: calconv's "cannot
// be answered by this user" and unknown items are 2, unreachable servers
// and refused writes 3, the rest 4 (the server logs it).
func meetingErr(err error) error {
	if _, ok := eas.StatusOf(err); ok {
		return err
	}
	switch {
	case calconv.IsITIPError(err), errors.Is(err, eas.ErrNotFound), errors.Is(err, calconv.ErrInvalid):
		return eas.Errorf(eas.MeetingStatusInvalidRequest, "%v", err)
	case errors.Is(err, eas.ErrBackendUnavailable), errors.Is(err, source.ErrPrecondition):
		return eas.Errorf(eas.MeetingStatusMailboxError, "%v", err)
	}
	return eas.Errorf(eas.MeetingStatusServerError, "%v", err)
}

// calendar is one CalDAV calendar of the account.
type calendar struct {
	key         string // "caldav:/…/"
	defaultType bool   // the default calendar (eas.FolderCalendar)
}

// calendars lists the account's CalDAV calendars, the default one first.
func (s *session) calendars(ctx context.Context) ([]calendar, error) {
	var out []calendar
	for _, ns := range s.l.sources() {
		if !ns.owns("caldav:") {
			continue
		}
		fs, err := ns.src.Folders(ctx)
		if err != nil {
			return nil, fmt.Errorf("engine: calendars: %w", err)
		}
		for _, f := range fs {
			if strings.HasPrefix(f.Key, "caldav:") && (f.Type == eas.FolderCalendar || f.Type == eas.FolderUserCalendar) {
				out = append(out, calendar{key: f.Key, defaultType: f.Type == eas.FolderCalendar})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].defaultType && !out[j].defaultType })
	if len(out) == 0 {
		return nil, eas.Errorf(eas.MeetingStatusMailboxError, "the account has no calendar")
	}
	return out, nil
}

// calendarOf returns the calendar holding a member path (the longest
// collection path that is its prefix).
func calendarOf(cals []calendar, p string) (string, bool) {
	best := ""
	for _, c := range cals {
		cp := strings.TrimPrefix(c.key, "caldav:")
		if strings.HasPrefix(p, cp) && len(cp) > len(strings.TrimPrefix(best, "caldav:")) {
			best = c.key
		}
	}
	return best, best != ""
}

// meetingFromMail reads the invitation of a message and returns the
// stored meeting, creating it from the invitation when it is not in any
// calendar.
func (s *session) meetingFromMail(ctx context.Context, mailbox string, uid uint32, cals []calendar) (source.DAVObject, string, error) {
	if s.l.mail == nil {
		return source.DAVObject{}, "", fmt.Errorf("engine: no mail source: %w", eas.ErrNotFound)
	}
	// TextLimit 1: the text leaves are not needed; the iTIP part comes
	// whole (source.PartLimit).
	msgs, err := s.l.mail.Fetch(ctx, mailbox, []uint32{uid}, source.FetchSpec{TextLimit: 1})
	if err != nil {
		return source.DAVObject{}, "", fmt.Errorf("engine: fetch invitation: %w", err)
	}
	if len(msgs) == 0 {
		return source.DAVObject{}, "", fmt.Errorf("engine: message %s/%d: %w", mailbox, uid, eas.ErrNotFound)
	}
	ics, ok := mailconv.ITIPText(msgs[0])
	if !ok {
		return source.DAVObject{}, "", eas.Errorf(eas.MeetingStatusInvalidRequest, "message %s/%d is not a meeting request", mailbox, uid)
	}
	inv, err := calconv.ParseInvitation(ics, s.l.email)
	if err != nil {
		return source.DAVObject{}, "", eas.Errorf(eas.MeetingStatusInvalidRequest, "invitation: %v", err)
	}
	if inv.Method != "REQUEST" || inv.UID == "" {
		return source.DAVObject{}, "", eas.Errorf(eas.MeetingStatusInvalidRequest, "message %s/%d is a %q, not a meeting request", mailbox, uid, inv.Method)
	}
	data, _, err := calconv.EventFromInvitation(ics)
	if err != nil {
		return source.DAVObject{}, "", eas.Errorf(eas.MeetingStatusInvalidRequest, "invitation: %v", err)
	}
	for attempt := 0; attempt < 2; attempt++ {
		obj, coll, found, err := s.findMeeting(ctx, cals, inv.UID)
		if err != nil {
			return source.DAVObject{}, "", err
		}
		if found {
			stored, err := calconv.ParseInvitation(obj.Data, s.l.email)
			if err != nil || stored.Sequence >= inv.Sequence {
				return obj, coll, nil
			}
			// The organizer updated the meeting since it was stored.
			etag, err := s.l.dav.Put(ctx, coll, obj.Path, data, obj.ETag)
			if errors.Is(err, source.ErrPrecondition) {
				continue
			}
			if err != nil {
				return source.DAVObject{}, "", fmt.Errorf("engine: update meeting %s: %w", obj.Path, err)
			}
			return source.DAVObject{DAVRef: source.DAVRef{Path: obj.Path, ETag: etag}, Data: data}, coll, nil
		}
		coll = cals[0].key
		p := s.l.dav.NewPath(coll, inv.UID)
		etag, err := s.l.dav.Put(ctx, coll, p, data, "")
		if errors.Is(err, source.ErrPrecondition) {
			continue // created meanwhile: find it
		}
		if err != nil {
			return source.DAVObject{}, "", fmt.Errorf("engine: store meeting: %w", err)
		}
		return source.DAVObject{DAVRef: source.DAVRef{Path: p, ETag: etag}, Data: data}, coll, nil
	}
	return source.DAVObject{}, "", eas.Errorf(eas.MeetingStatusMailboxError, "meeting %s changes concurrently", inv.UID)
}

// findMeeting looks for the event with a UID in every calendar.
func (s *session) findMeeting(ctx context.Context, cals []calendar, uid string) (source.DAVObject, string, bool, error) {
	finder, canFind := s.l.dav.(source.DAVFinder)
	for _, c := range cals {
		var objs []source.DAVObject
		var err error
		if canFind {
			if objs, err = finder.FindUID(ctx, c.key, uid); err != nil {
				// A server without calendar-query filters: the usual name.
				s.e.log.Info("engine: find meeting by UID failed; trying its usual path", "calendar", c.key, "err", err)
				canFind = false
			}
		}
		if !canFind {
			objs, err = s.l.dav.Get(ctx, c.key, []string{s.l.dav.NewPath(c.key, uid)})
		}
		if err != nil {
			return source.DAVObject{}, "", false, fmt.Errorf("engine: find meeting %s in %s: %w", uid, c.key, err)
		}
		for _, o := range objs {
			if calconv.UIDOf(o.Data) == uid {
				return o, c.key, true, nil
			}
		}
	}
	return source.DAVObject{}, "", false, nil
}

// meetingFromCalendar returns the event behind a calendar item ServerId
// of this device.
func (s *session) meetingFromCalendar(ctx context.Context, deviceID, coll string, n uint32, cals []calendar) (source.DAVObject, string, error) {
	col, err := s.store().Collection(ctx, s.l.user, deviceID, coll)
	if err != nil {
		return source.DAVObject{}, "", fmt.Errorf("engine: collection state: %w", err)
	}
	st, err := decodeDAVState(col.Data, true)
	if err != nil {
		return source.DAVObject{}, "", fmt.Errorf("engine: item %s:%d: %w", coll, n, eas.ErrNotFound)
	}
	p, ok := st.pathOf(n)
	if !ok {
		return source.DAVObject{}, "", fmt.Errorf("engine: item %s:%d: %w", coll, n, eas.ErrNotFound)
	}
	calKey, ok := calendarOf(cals, p)
	if !ok {
		return source.DAVObject{}, "", fmt.Errorf("engine: item %s:%d is not in a calendar: %w", coll, n, eas.ErrNotFound)
	}
	objs, err := s.l.dav.Get(ctx, calKey, []string{p})
	if err != nil {
		return source.DAVObject{}, "", fmt.Errorf("engine: get %s: %w", p, err)
	}
	if len(objs) == 0 {
		return source.DAVObject{}, "", fmt.Errorf("engine: %s is gone: %w", p, eas.ErrNotFound)
	}
	return objs[0], calKey, nil
}

// writeAnswer stores the user's PARTSTAT with If-Match; a 412 re-reads
// the event and tries once more.
func (s *session) writeAnswer(ctx context.Context, coll string, ev source.DAVObject, a calconv.Answer) (source.DAVObject, error) {
	for attempt := 0; ; attempt++ {
		data, err := calconv.SetPartstat(ev.Data, a)
		if err != nil {
			return ev, err
		}
		etag, err := s.l.dav.Put(ctx, coll, ev.Path, data, ev.ETag)
		if err == nil {
			return source.DAVObject{DAVRef: source.DAVRef{Path: ev.Path, ETag: etag}, Data: data}, nil
		}
		if !errors.Is(err, source.ErrPrecondition) || attempt > 0 {
			return ev, fmt.Errorf("engine: store answer in %s: %w", ev.Path, err)
		}
		objs, gerr := s.l.dav.Get(ctx, coll, []string{ev.Path})
		if gerr != nil {
			return ev, fmt.Errorf("engine: re-read %s: %w", ev.Path, gerr)
		}
		if len(objs) == 0 {
			return ev, fmt.Errorf("engine: %s was deleted meanwhile: %w", ev.Path, eas.ErrNotFound)
		}
		ev = objs[0]
	}
}

// sendMeetingReply sends the iMIP REPLY to the organizer and keeps a copy
// in Sent.
func (s *session) sendMeetingReply(ctx context.Context, deviceID string, event []byte, a calconv.Answer, subject string) error {
	ics, organizer, err := calconv.Reply(event, a)
	if err != nil {
		return err
	}
	if !strings.Contains(organizer, "@") || strings.ContainsAny(organizer, "\r\n\t <>\",;") {
		return eas.Errorf(eas.MeetingStatusInvalidRequest, "organizer address %q", organizer)
	}
	msg := replyMIME(s.l.email, s.DisplayName(), organizer, subject, a, ics)
	if err := s.send(ctx, deviceID, "", bytes.NewReader(msg), true, nil); err != nil {
		return eas.Errorf(eas.MeetingStatusMailboxError, "send the answer to %s: %v", organizer, err)
	}
	return nil
}

// replyMIME is the iMIP message of a REPLY (RFC 6047 2.4): a text part
// for people and the text/calendar part with method=REPLY, as
// multipart/alternative. Date and Message-ID are added when sending.
func replyMIME(from, fromName, to, subject string, a calconv.Answer, ics []byte) []byte {
	verb := map[string]string{
		calconv.PartstatAccepted: "Accepted", calconv.PartstatTentative: "Tentative", calconv.PartstatDeclined: "Declined",
	}[a.Partstat]
	text := map[string]string{
		calconv.PartstatAccepted: "has accepted", calconv.PartstatTentative: "has tentatively accepted",
		calconv.PartstatDeclined: "has declined",
	}[a.Partstat]
	who := fromName
	if who == "" {
		who = from
	}
	body := who + " " + text + " this invitation."
	if a.Comment != "" {
		body = a.Comment + "\r\n\r\n" + body
	}
	const boundary = "easbridge-imip-reply"
	var b bytes.Buffer
	fromHdr := "<" + from + ">"
	if fromName != "" {
		fromHdr = mime.QEncoding.Encode("utf-8", fromName) + " " + fromHdr
	}
	b.WriteString("From: " + fromHdr + "\r\n")
	b.WriteString("To: <" + to + ">\r\n")
	b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", verb+": "+subject) + "\r\n")
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n")
	b.WriteString("--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(body))
	qp.Close()
	b.WriteString("\r\n--" + boundary + "\r\nContent-Type: text/calendar; charset=utf-8; method=REPLY\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(ics)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--" + boundary + "--\r\n")
	return b.Bytes()
}

// calendarID is the event's ServerId for this device: the calendar
// collection of the device holding it, or one reserved in the plain
// collection of its calendar; "" when the device does not sync it.
func (s *session) calendarID(ctx context.Context, deviceID, calKey, path string) string {
	h, err := s.store().Hierarchy(ctx, s.l.user, deviceID)
	if err != nil {
		return ""
	}
	plain := ""
	for _, f := range h.Folders {
		if f.Type != eas.FolderCalendar && f.Type != eas.FolderUserCalendar {
			continue
		}
		col, err := s.store().Collection(ctx, s.l.user, deviceID, f.ServerID)
		if err != nil || col.Key == 0 {
			continue
		}
		st, err := decodeDAVState(col.Data, true)
		if err != nil {
			continue
		}
		if it, ok := st.Items[path]; ok {
			return f.ServerID + ":" + fmt.Sprint(it.ID)
		}
		if k, err := s.store().FolderKey(ctx, s.l.user, f.ServerID); err == nil && k == calKey {
			plain = f.ServerID
		}
	}
	if plain == "" {
		return ""
	}
	for attempt := 0; attempt < 2; attempt++ {
		col, err := s.store().Collection(ctx, s.l.user, deviceID, plain)
		if err != nil || col.Key == 0 {
			return ""
		}
		st, err := decodeDAVState(col.Data, true)
		if err != nil {
			return ""
		}
		it, ok := st.Items[path]
		if !ok {
			it = davItem{ID: st.NextID, ETag: reservedETag}
			st.NextID++
			st.Items[path] = it
			st.Pending[path] = davPending{}
		}
		err = s.store().ReplaceCollection(ctx, s.l.user, deviceID, plain, col.Key, col.Key, st.encode())
		if errors.Is(err, state.ErrStaleKey) {
			continue // a Sync advanced the key meanwhile
		}
		if err != nil {
			s.e.log.Info("engine: reserve calendar id", "collection", plain, "err", err)
			return ""
		}
		return plain + ":" + fmt.Sprint(it.ID)
	}
	return ""
}
