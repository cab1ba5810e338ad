// Package mailconv converts between IMAP messages and the Exchange
// ActiveSync Email class: a fetched source.Message becomes the
// AirSync:ApplicationData of a Sync (or the Properties of an ItemOperations
// Fetch or a Search) with every field a phone shows (MS-ASEMAIL 2.2.2,
// MS-ASAIRS); a client's changes (Read, Flag, Categories) become IMAP flags
// to store; a client's draft becomes an RFC 5322 message.
//
//	spec := mailconv.Spec(opts)              // what to FETCH for these options
//	msgs, _ := mail.Fetch(ctx, box, uids, spec)
//	app, err := mailconv.ApplicationData(msgs[0], opts)
//
//	ch, err := mailconv.ParseChange(cmd.Data)   // client Change
//	add, remove := mailconv.IMAPFlags(ch, state.Flags)
//
//	data := mailconv.FlagApplicationData(flags, v) // server Change of flags only
//	raw, err := mailconv.DraftMIME(cmd.Data, mailconv.DraftOptions{From: user})
//
// MessageFromRaw and ApplyFetchSpec build the source.Message an IMAP source
// would fetch, for tests here and in the engine.
//
// # Implementation notes
//
//   - Never blocks a folder. A message whose header or structure cannot be
//     read still converts: the header is parsed leniently (header.go), a
//     missing structure is rebuilt from the raw prefix when there is one,
//     and a message without any header gets the Subject
//     "(unparseable message)". ApplicationData fails only for programming
//     errors (nil message, unknown protocol version).
//   - Text is always valid UTF-8 without NUL (text.go): transfer encodings
//     are decoded leniently (decode.go), charsets are converted with
//     go-message's charset package (golang.org/x/text), unknown charsets and
//     unlabelled 8-bit bytes are read as UTF-8 when valid and as Latin-1
//     otherwise, and invalid sequences become U+FFFD. InternetCPID is
//     therefore always 65001. The only non-text data are the opaque
//     ConversationId/ConversationIndex and a MIME body that is not valid
//     UTF-8 (sent as opaque bytes so 8-bit MIME and S/MIME stay intact).
//   - Header fields: unfolding follows RFC 5322 2.2.3 (CRLF before WSP is
//     removed, the WSP kept); RFC 2047 words are decoded (also inside
//     quoted strings, which mailers write anyway); addresses are parsed
//     with net/mail and, when that fails, a lenient splitter, then written
//     as `"Name" <addr>` joined with ", "; DisplayTo joins display names
//     with "; " like PidTagDisplayTo. Importance follows MS-OXCMAIL
//     2.2.3.2.5 (Importance, Priority, X-Priority, X-MSMail-Priority),
//     ThreadTopic MS-OXCMAIL 2.2.3.2.7 (Thread-Topic, else the subject
//     without Re:/Fwd: prefixes).
//   - Structure (structure.go): the body is the last text/plain and
//     text/html of the first alternative found; every other leaf is an
//     attachment except unchosen alternatives. IsInline is set for inline
//     disposition (non-text) and for parts with a Content-ID inside
//     multipart/related. Attachment names come from RFC 2231/2047
//     filename or name parameters. EstimatedDataSize of base64 parts is the
//     decoded size (57 octets per 78-octet line). message/rfc822 parts are
//     single .eml attachments. ContentId and ContentLocation come from
//     the part's Content-ID and Content-Location (BODYSTRUCTURE body-fld-id
//     and body-fld-loc, or the raw MIME header); see location.go.
//   - FileReference: Options.FileReference(part path) when set, else the
//     dotted IMAP part number ("2", "1.2"; "1" for the body of a
//     single-part message, as BODY[1] addresses it).
//   - Message class: IPM.Note, IPM.Note.SMIME (application/pkcs7-mime),
//     IPM.Note.SMIME.MultipartSigned (multipart/signed with a PKCS #7
//     signature; PGP stays IPM.Note). Meeting messages (meeting.go): a
//     text/calendar part with a method parameter (iMIP, RFC 6047) gives
//     IPM.Schedule.Meeting.Request / .Canceled (with MeetingRequest,
//     MS-ASEMAIL 2.2.2.48, built from calconv.ParseInvitation) or
//     IPM.Schedule.Meeting.Resp.Pos/.Tent/.Neg for replies, and
//     ContentClass urn:content-classes:calendarmessage; Spec makes the
//     source fetch that part whole (source.CalendarLimit).
//   - Bodies (body.go): native type first, AllOrNone falls through to the
//     next preference, Type 4 only with MIMESupport (or as the only
//     preference), truncation at UTF-8 boundaries, Preview (14.0+) from the
//     plain text with white space collapsed. Spec asks IMAP for 4× the
//     largest TruncationSize (16 KiB at least, 8 MiB for "no truncation")
//     so that base64, quoted-printable and HTML-to-text conversion still
//     fill the requested size; text that was cut by the fetch is marked
//     Truncated and its EstimatedDataSize extrapolated from the part size.
//     MIMETruncation limits a Type 4 body without TruncationSize; its code
//     0 sends Type 4 without Data (Truncated, EstimatedDataSize) and
//     fetches no raw message (mimelimit.go).
//   - Conversations (conversation.go): ConversationId is the first 16 bytes
//     of SHA-256 over the thread root's Message-ID (first of References,
//     else In-Reply-To, else the own Message-ID; the normalized subject
//     when there is none), so every message of a thread gets the same id on
//     every device. ConversationIndex is the MS-OXOMSG 2.2.1.3 22-byte
//     header: 0x01, the Date as the 5 high bytes of a FILETIME, the
//     ConversationId as GUID.
//   - Flags (flags.go): \Seen ⇄ Read, \Flagged ⇄ Flag Status 2 ("for
//     Follow Up"), $Completed ⇄ Status 1 (other IMAP clients see a
//     completed flag as not flagged), \Answered → LastVerbExecuted 1,
//     $Forwarded → 3. Categories are IMAP keywords: a category that is a
//     plain atom ([A-Za-z0-9._-]) is its own keyword; any other is
//     "$Category_" + its UTF-8 octets with everything outside [A-Za-z0-9._-]
//     escaped as =XX. System keywords ("\…", "$…", Junk, NonJunk, NotJunk)
//     are not categories, except Thunderbird's $label1…$label5 (shown as
//     Important, Work, Personal, To Do, Later).
//   - ReceivedAsBcc (14.0+) is set when Options.UserAddress is neither in
//     To, Cc nor From and the message did not come through a mailing list
//     (List-Id, List-Post).
//   - Versions: 12.1 gets the 12.x fields; 14.0 adds Email2
//     (ConversationId, ConversationIndex, LastVerbExecuted, ReceivedAsBcc,
//     Sender), Categories and Preview; 14.1 BodyPart; 16.0 IsDraft and Bcc.
package mailconv
