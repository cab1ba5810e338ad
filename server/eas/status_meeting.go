package eas

// MeetingResponse status codes, MS-ASCMD 2.2.3.177.9 (the Status of each
// Result).
const (
	MeetingStatusSuccess Status = 1
	// MeetingStatusInvalidRequest: malformed request, an item that is not
	// a meeting request or calendar item, a meeting the user organised, a
	// nonexistent instance. Not transient.
	MeetingStatusInvalidRequest Status = 2
	// MeetingStatusMailboxError: the mailbox (here: the mail or calendar
	// server) failed; the client may retry.
	MeetingStatusMailboxError Status = 3
	// MeetingStatusServerError: any other server error.
	MeetingStatusServerError Status = 4
)
