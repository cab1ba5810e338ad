package server

import (
	"context"
	"errors"
	"fmt"

	"easbridge/server/eas"
)

// RespondToMeeting is the fake MeetingResponder. The RequestId picks the
// outcome; a success's CalendarId spells the answer the handler passed
// on ("cal/<response>/<notify>/<instance>/<comment>"), so that tests see
// what was parsed.
func (s *fakeSession) RespondToMeeting(ctx context.Context, dev string, a MeetingAnswer) (string, error) {
	switch a.RequestID {
	case "1:gone":
		return "", fmt.Errorf("fake: %w", eas.ErrNotFound)
	case "1:down":
		return "", fmt.Errorf("fake: %w", eas.ErrBackendUnavailable)
	case "1:org":
		return "", eas.Errorf(eas.MeetingStatusInvalidRequest, "fake: the user organised it")
	case "1:boom":
		return "", errors.New("fake: boom")
	}
	inst := "-"
	if !a.Instance.IsZero() {
		inst = a.Instance.Format("20060102T150405Z")
	}
	return fmt.Sprintf("cal/%d/%v/%s/%s", a.UserResponse, a.Notify, inst, a.Comment), nil
}
