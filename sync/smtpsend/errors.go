package smtpsend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"

	"easbridge/server/eas"
)

// stage is the SMTP command a reply answers.
type stage string

const (
	stageMail    stage = "MAIL FROM"
	stageRcpt    stage = "RCPT TO"
	stageData    stage = "DATA"
	stageEndData stage = "end of DATA" // the reply to the final "."
)

// enhanced codes (RFC 3463) the mapping looks at.
var codeMailboxFull = smtp.EnhancedCode{5, 2, 2} // X.2.2: that recipient's mailbox is full

// mapReply turns a failure of a mail transaction command into the error a
// phone can act on (MS-ASCMD 2.2.2 common status codes):
//
//   - not an SMTP reply (connection lost, timeout): ctx's error when ctx
//     ended, else eas.ErrBackendUnavailable;
//   - 552 (RFC 5321 §4.2.3 "exceeded storage allocation", also the message
//     size limit of RFC 1870): 115 SendQuotaExceeded, except 5.2.2 to RCPT;
//   - other 5xx to RCPT: 116 MessageRecipientUnresolved;
//   - other 4xx: 111 ServerErrorRetryLater (RFC 5321 §4.2.1 transient);
//   - other 5xx: 120 MailSubmissionFailed.
func mapReply(ctx context.Context, st stage, err error) error {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("smtpsend: %s: %w (%v)", st, cerr, err)
		}
		return fmt.Errorf("smtpsend: %s: %w: %w", st, eas.ErrBackendUnavailable, err)
	}
	return &eas.StatusError{Status: replyStatus(st, se), Err: fmt.Errorf("smtpsend: %s: %w", st, err)}
}

// replyStatus is the EAS status for an SMTP error reply to st.
func replyStatus(st stage, se *smtp.SMTPError) eas.Status {
	switch {
	case se.Code == 552 && !(st == stageRcpt && se.EnhancedCode == codeMailboxFull):
		return eas.StatusSendQuotaExceeded
	case st == stageRcpt && se.Code/100 == 5:
		return eas.StatusMessageRecipientUnresolved
	case se.Code/100 == 4:
		return eas.StatusServerErrorRetryLater
	default:
		return eas.StatusMailSubmissionFailed
	}
}

// rcptError is one rejected recipient.
type rcptError struct {
	rcpt string
	err  *smtp.SMTPError
}

// RecipientError is the cause (inside the *eas.StatusError) when the server
// rejected recipients: every rejected address with the server's reply.
type RecipientError struct {
	Rejected map[string]*smtp.SMTPError
	order    []string
}

func (e *RecipientError) Error() string {
	var b strings.Builder
	b.WriteString("smtpsend: RCPT TO rejected: ")
	for i, r := range e.order {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "<%s>: %v", r, e.Rejected[r])
	}
	return b.String()
}

// Unwrap returns the server's replies.
func (e *RecipientError) Unwrap() []error {
	out := make([]error, 0, len(e.order))
	for _, r := range e.order {
		out = append(out, e.Rejected[r])
	}
	return out
}

// rcptFailure is the error for rejected recipients. The status is the most
// permanent one: a 5xx rejection (116, or 115 for 552) wins over 4xx (111),
// since retrying cannot help a permanently rejected address.
func rcptFailure(rejected []rcptError) error {
	re := &RecipientError{Rejected: make(map[string]*smtp.SMTPError, len(rejected))}
	status := eas.StatusServerErrorRetryLater
	rank := func(s eas.Status) int {
		switch s {
		case eas.StatusMessageRecipientUnresolved:
			return 3
		case eas.StatusSendQuotaExceeded:
			return 2
		case eas.StatusServerErrorRetryLater:
			return 1
		}
		return 0
	}
	for _, r := range rejected {
		if _, dup := re.Rejected[r.rcpt]; !dup {
			re.order = append(re.order, r.rcpt)
		}
		re.Rejected[r.rcpt] = r.err
		if s := replyStatus(stageRcpt, r.err); rank(s) > rank(status) {
			status = s
		}
	}
	return &eas.StatusError{Status: status, Err: re}
}
