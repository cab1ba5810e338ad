// Package smtpsend submits the mail a phone sends (EAS SendMail, SmartReply,
// SmartForward) to the account's SMTP submission server (RFC 6409), and
// prepares the client's MIME for it (envelope, Bcc, Date, Message-ID).
//
// Implementation notes (invariants):
//
//   - Transport security: smtps:// is implicit TLS (RFC 8314 §3.3, port
//     465); smtp:// and submission:// use STARTTLS (RFC 3207, port 587) when
//     the server offers it. Plain text is used only when the host is a
//     loopback address or "localhost" and the server does not offer
//     STARTTLS; any other host without STARTTLS is refused (wrapping
//     eas.ErrBackendUnavailable) before a password is sent. A server that
//     offers STARTTLS and then fails it is an error, never a fallback.
//   - go-smtp v0.25 cannot upgrade an established *smtp.Client (StartTLS is
//     unexported and NewClientStartTLS fails outright, after an EHLO as
//     "localhost", when STARTTLS is not offered). So Send reads the
//     greeting, says EHLO and, if offered, runs STARTTLS itself on the raw
//     connection (net/textproto), then hands the (TLS) connection to
//     smtp.NewClient behind a replayed "220" greeting; go-smtp then says
//     EHLO again, which RFC 3207 §4.2 requires after TLS and RFC 5321
//     §4.1.4 allows anyway. Bytes buffered after the STARTTLS reply are
//     an error (RFC 7457 §2.2, STARTTLS command injection, CVE-2011-0411).
//   - Authentication: AUTH PLAIN (RFC 4616) when offered, else AUTH LOGIN;
//     a server that offers neither is StatusMailSubmissionFailed. A server
//     that offers no AUTH at all (a local relay) is used without it. A 535
//     reply (RFC 4954 §6, 5.7.8) is eas.ErrAuthFailed; other 4xx wrap
//     eas.ErrBackendUnavailable. There is no retry.
//   - The message is streamed: msg is read once and copied through go-smtp's
//     DATA dot-writer (RFC 5321 §4.5.2 dot-stuffing); nothing holds it
//     whole. If reading msg fails, or ctx ends, while DATA is open, the
//     connection is closed without the terminating "." so the server
//     discards the truncated message (RFC 5321 §4.1.1.4: only the
//     end-of-data indication makes the server process the transaction;
//     §3.8: a broken connection aborts it).
//   - Status mapping (MS-ASCMD 2.2.2 common status codes; see mapReply):
//     dial/TLS/greeting/connection loss → eas.ErrBackendUnavailable;
//     535 → eas.ErrAuthFailed; 552 (RFC 5321 §4.2.3, exceeded storage
//     allocation / message size) → 115 SendQuotaExceeded, except a RCPT
//     reply with enhanced code 5.2.2 (that recipient's mailbox is full);
//     other 5xx to RCPT → 116 MessageRecipientUnresolved; other 4xx → 111
//     ServerErrorRetryLater; other 5xx → 120 MailSubmissionFailed. 116 is
//     chosen over 183 InvalidRecipients because 183 exists only for
//     protocol 16.x while 116 is understood by every 14.x/16.x client and
//     says exactly "a recipient could not be resolved". All recipients are
//     tried before giving up so the error names every rejected address;
//     DATA is never sent after a rejected recipient (no partial delivery).
//   - ctx cancellation closes the connection, which unblocks whatever go-smtp
//     is doing (its commands take no context). Connecting, TLS, greeting,
//     EHLO and AUTH are bounded by Config.DialTimeout; later commands by
//     go-smtp's timeouts (5 min per command, 12 min for the final reply);
//     writing the message body only by ctx.
//   - Passwords, AUTH lines and message bodies are never logged; go-smtp's
//     DebugWriter is never set (it would record the AUTH exchange).
package smtpsend
