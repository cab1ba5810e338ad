package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// Meeting answers (MS-ASCMD 2.2.1.11 MeetingResponse).

// UserResponse values, MS-ASCMD 2.2.3.194.
const (
	MeetingAccept    = 1
	MeetingTentative = 2
	MeetingDecline   = 3
)

// MeetingAnswer is one Request of a MeetingResponse.
type MeetingAnswer struct {
	Version      eas.Version
	UserResponse int    // MeetingAccept, MeetingTentative or MeetingDecline
	CollectionID string // the folder of the item (Inbox: a meeting request; a calendar: the event)
	RequestID    string // the item's ServerId
	LongID       string // a Search result instead (search:LongId)
	// Instance is one occurrence of a recurring meeting (InstanceId,
	// 14.1+); zero for the whole meeting.
	Instance time.Time
	// Notify: send the answer to the organizer. Before 16.0 the server
	// sends it whenever the organizer asked for answers; from 16.0 only
	// when the request has SendResponse.
	Notify bool
	// Comment is the SendResponse body (16.x), the note to the organizer.
	Comment string
}

// MeetingResponder serves MeetingResponse. A Session offers it by
// implementing it.
type MeetingResponder interface {
	// RespondToMeeting records the user's answer (the attendee's status
	// in the calendar, the event created from an invitation first) and
	// sends it to the organizer when asked. calendarID is the calendar
	// item's ServerId for this device ("" when the device cannot know
	// it). Errors carry the MeetingResponse status (eas.StatusError):
	// 2 invalid request, 3 mailbox error, 4 server error; an error
	// wrapping eas.ErrNotFound is 2.
	RespondToMeeting(ctx context.Context, deviceID string, a MeetingAnswer) (calendarID string, err error)
}

// maxMeetingRequests bounds the Requests of one MeetingResponse.
const maxMeetingRequests = 100

// cmdMeetingResponse implements MeetingResponse, MS-ASCMD 2.2.1.11: each
// Request is answered by a Result with its RequestId, Status
// (2.2.3.177.9) and, unless the meeting was declined, the CalendarId.
func (s *Server) cmdMeetingResponse(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSMeetingResponse
	m, ok := rq.session.(MeetingResponder)
	if !ok {
		return s.notSupported(rq, ns, "MeetingResponse")
	}
	reqs := rq.body.All(ns, "Request")
	if rq.body.Space != ns || len(reqs) == 0 || len(reqs) > maxMeetingRequests {
		rq.easStatus = eas.MeetingStatusInvalidRequest
		if !rq.version.AtLeast(eas.V140) {
			return nil, httpErr(http.StatusBadRequest, "MeetingResponse without a Request")
		}
		return wbxml.New(ns, "MeetingResponse", wbxml.New(ns, "Result",
			wbxml.Int(ns, "Status", int(eas.MeetingStatusInvalidRequest)))), nil
	}
	resp := wbxml.New(ns, "MeetingResponse")
	rq.easStatus = eas.MeetingStatusSuccess
	for _, r := range reqs {
		a, st := parseMeetingAnswer(r, rq.version)
		calID := ""
		if st == eas.MeetingStatusSuccess {
			var err error
			calID, err = m.RespondToMeeting(rq.ctx, rq.device.ID, a)
			st = s.meetingErrStatus(rq, err)
		}
		res := wbxml.New(ns, "Result")
		if id := idText(r, ns, "RequestId"); id != "" {
			res.Add(wbxml.Text(ns, "RequestId", id))
		}
		res.Add(wbxml.Int(ns, "Status", int(st)))
		if st == eas.MeetingStatusSuccess && calID != "" && a.UserResponse != MeetingDecline {
			res.Add(wbxml.Text(ns, "CalendarId", calID))
		}
		if st != eas.MeetingStatusSuccess && rq.easStatus == eas.MeetingStatusSuccess {
			rq.easStatus = st
		}
		resp.Add(res)
	}
	return resp, nil
}

// parseMeetingAnswer reads one Request (MS-ASCMD 2.2.3.150.2); a request
// that does not follow the schema is Status 2.
func parseMeetingAnswer(r *wbxml.Element, v eas.Version) (MeetingAnswer, eas.Status) {
	ns := wbxml.NSMeetingResponse
	a := MeetingAnswer{
		Version:      v,
		CollectionID: idText(r, ns, "CollectionId"),
		RequestID:    idText(r, ns, "RequestId"),
		LongID:       idText(r, wbxml.NSSearch, "LongId"),
	}
	bad := eas.MeetingStatusInvalidRequest
	n, err := strconv.Atoi(strings.TrimSpace(r.ChildText(ns, "UserResponse")))
	if err != nil || n < MeetingAccept || n > MeetingDecline {
		return a, bad
	}
	a.UserResponse = n
	if a.LongID == "" && (a.RequestID == "" || a.CollectionID == "") {
		return a, bad
	}
	if inst := r.Child(ns, "InstanceId"); inst != nil {
		// MS-ASCMD 2.2.3.92.1: not in 12.1 and 14.0 (Status 2).
		if !v.AtLeast(eas.V141) {
			return a, bad
		}
		t, ok := parseInstanceID(inst.Text)
		if !ok {
			return a, bad
		}
		a.Instance = t
	}
	if v.AtLeast(eas.V160) {
		// MS-ASCMD 2.2.1.11: from 16.0 the organizer hears of the answer
		// only with SendResponse (2.2.3.163).
		if sr := r.Child(ns, "SendResponse"); sr != nil {
			a.Notify = true
			if b := sr.Child(wbxml.NSAirSyncBase, "Body"); b != nil {
				a.Comment = strings.TrimSpace(b.ChildText(wbxml.NSAirSyncBase, "Data"))
			}
		}
	} else {
		a.Notify = true
	}
	return a, eas.MeetingStatusSuccess
}

// parseInstanceID reads an InstanceId: dateTime with separators
// (MS-ASDTYPE 2.3, "2010-04-08T18:16:00.000Z"), compact form accepted.
func parseInstanceID(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05Z", "20060102T150405Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// meetingErrStatus maps a RespondToMeeting error to the Result status:
// the backend's own when it gives one, 2 for an unknown item, 3 when the
// servers cannot be reached, 4 otherwise.
func (s *Server) meetingErrStatus(rq *request, err error) eas.Status {
	if err == nil {
		return eas.MeetingStatusSuccess
	}
	if st, ok := eas.StatusOf(err); ok {
		if st != eas.MeetingStatusInvalidRequest {
			s.log.Warn("server: meeting response failed", "device", rq.device.ID, "status", int(st), "err", err)
		}
		return st
	}
	switch {
	case errors.Is(err, eas.ErrNotFound):
		return eas.MeetingStatusInvalidRequest
	case errors.Is(err, eas.ErrBackendUnavailable):
		s.log.Warn("server: meeting response: backend unavailable", "device", rq.device.ID, "err", err)
		return eas.MeetingStatusMailboxError
	}
	s.log.Error("server: meeting response failed", "device", rq.device.ID, "err", err)
	return eas.MeetingStatusServerError
}
