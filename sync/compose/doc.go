// Package compose builds the message a server sends for EAS SmartReply and
// SmartForward (MS-ASCMD 2.2.1.19 SmartForward, 2.2.1.20 SmartReply): the
// phone sends only its new MIME message and the server, unless ReplaceMime
// is set, appends the original (quoted for a reply; quoted under an
// "Original Message" block, with the original's attachments, for a
// forward).
//
// Implementation notes (invariants):
//
//   - The client's message is rebuilt structurally, streaming: its header
//     block is kept byte for byte (From, To, Cc, Subject, In-Reply-To,
//     References …) except for the Content-* fields of entities this
//     package rewrites. Only the client's body text parts are decoded
//     (message.New: transfer encoding and charset) and re-encoded as UTF-8
//     quoted-printable with the quote appended; every other part
//     (attachments, inline images, calendar parts, parts of unknown
//     charset) is copied through raw, header and still-encoded body,
//     without decoding. That is why this package parses with go-message's
//     textproto multipart reader rather than mail.Reader, which decodes
//     every part and whose writer then rejects parts in non-UTF-8 charsets.
//   - Which parts are "the body" follows MIME semantics: every child of a
//     multipart/alternative (RFC 2046 §5.1.4), the root (start) part of a
//     multipart/related (RFC 2387 §3.2), the first part of a
//     multipart/mixed or other multipart (RFC 2046 §5.1.3). The first
//     text/plain and the first text/html body part that are not
//     attachments get the quote; a body without either gets a quote part of
//     its own at the start of a multipart/mixed.
//   - HTML quotes go before the last "</body" of the client's HTML, found
//     while streaming with a bounded hold-back (64 KiB), else at the end.
//     The original's HTML body contributes only what is inside its <body>.
//   - Signed or encrypted client messages (multipart/signed,
//     multipart/encrypted, application/pkcs7-mime; RFC 1847, RFC 8551) are
//     passed through unchanged: any change would break the signature (so
//     such a reply has no quote and such a forward no attachments).
//   - Forward attachments and the original's inline images (those whose
//     Content-ID the quoted HTML references as "cid:") are streamed from
//     OriginalAttachment.Open, base64-encoded (message/rfc822 as 8bit, RFC
//     2046 §5.2.1). Inline images go into a multipart/related with the HTML
//     part that references them; forward attachments go to the end of the
//     top-level multipart/mixed, which is created when the client's
//     message has none.
//   - OriginalFromMessage spools attachments, decoded, to one temporary
//     file (os.CreateTemp) instead of memory, and Open reads sections of
//     it; Original.Close removes the file. It cannot re-read its input (an
//     io.Reader), so no callback is possible there; callers that can
//     re-fetch parts (IMAP BODY[n]) build Original themselves with Open
//     calling source.Mail.OpenPart. Decoded bodies are held as strings, up
//     to MaxBodyText each.
//   - Output is CRLF throughout for what this package writes; multipart
//     boundaries come from Composer.Boundary (tests inject fixed ones).
package compose
