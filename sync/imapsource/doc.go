// Package imapsource is the IMAP side of an easbridge account: a small pool
// of authenticated IMAP connections (go-imap v2 imapclient) per (server,
// user) and the mailbox hierarchy as EAS folders (source.Folders).
//
// Implementation notes (invariants):
//
//   - Transport security: imaps:// is implicit TLS (RFC 8314); imap:// uses
//     STARTTLS (RFC 3501 §6.2.1). Plain text is used only when the host is a
//     loopback address or "localhost" and the server does not offer STARTTLS;
//     for any other host a server without STARTTLS is an error, so a
//     password never crosses the network in clear text.
//   - The pool never holds more than Config.MaxConns connections, idle and
//     busy together: a slot (semaphore token) is taken before an idle
//     connection is popped or a new one dialled, and a released connection
//     is pushed to the idle list before its slot is given back.
//   - A connection whose command failed with anything but a tagged NO/BAD
//     (*imap.Error), or whose context was cancelled mid-command, is closed
//     and never returns to the pool. Context cancellation is enforced by
//     closing the connection, since imapclient commands take no context.
//   - Idle connections are closed after Config.IdleTimeout by a time.AfterFunc
//     timer; Close stops the timers, waits for running ones, and closes every
//     connection, idle or busy. The package starts no other goroutine; the
//     only long-lived goroutine per connection is imapclient's reader, which
//     ends when the connection is closed.
//   - Login always authenticates on a fresh connection (it is the credential
//     check), then keeps that connection in the pool. A NO to LOGIN or
//     AUTHENTICATE is eas.ErrAuthFailed, except [UNAVAILABLE] (RFC 5530),
//     which is eas.ErrBackendUnavailable. There is no retry.
//   - Folder keys are "imap:" + the mailbox name as the server lists it
//     (modified UTF-7 already decoded by go-imap). Keys change on RENAME;
//     callers get the new Folder back. The virtual Outbox ("imap-outbox:")
//     exists only on this side: IMAP has no outbox (RFC 6154 defines none)
//     and EAS clients expect one for SendMail.
//   - Special folders (INBOX, mailboxes the server marks with an RFC 6154
//     special-use attribute, or, without SPECIAL-USE, the mailbox picked by
//     name for Drafts/Sent/Trash/Junk) and the Outbox can be neither renamed
//     nor deleted (eas.ErrSpecialFolder). Only the first mailbox (by name
//     order) per special use gets the default EAS type; duplicates are 12.
//   - DeleteFolder removes the whole subtree, deepest first, since an EAS
//     FolderDelete removes subfolders too while IMAP DELETE does not (RFC
//     3501 §6.3.4).
//   - Passwords are never logged and no imapclient DebugWriter is set (it
//     would record the LOGIN line).
package imapsource
