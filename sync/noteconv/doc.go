// Package noteconv converts notes kept as messages in an IMAP mailbox (the
// way Apple Notes and others store them: a message with the header
// X-Uniform-Type-Identifier: com.apple.mail-note, Subject the title, a
// text/html or text/plain body, X-Mail-Created-Date the creation time and
// Date the last change) to and from EAS Notes (MS-ASNOTE, protocol 14.0+).
//
// Messages without that header are read as notes too (subject and text).
// Categories are kept in the RFC 5322 Keywords header field.
package noteconv
