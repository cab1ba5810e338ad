// Package imapsource is the IMAP side of an easbridge account: a small pool
// of authenticated IMAP connections (go-imap v2 imapclient) per (server,
// user), the mailbox hierarchy as EAS folders (source.Folders) and the
// messages (source.Mail).
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
//     connection, idle or busy (busy ones at the transport: their holder's
//     release closes the client). The only long-lived goroutine per
//     connection is imapclient's reader, which ends when the connection is
//     closed; Fetch, List and the CONDSTORE path drain pipelined FETCH
//     commands on one short-lived goroutine each (see drain), which end
//     before the method returns.
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
//     would record the LOGIN line). Config.OnCommand gets command names
//     only, never arguments.
//
// Messages (source.Mail, mail.go):
//
//   - QRESYNC (RFC 7162) without help from go-imap. go-imap v2.0.0-beta.8
//     has no QRESYNC: Client.Enable refuses QRESYNC, FetchOptions has
//     CHANGEDSINCE but no VANISHED modifier, SelectOptions has no QRESYNC
//     parameter, and a VANISHED response is an "unsupported response type"
//     that kills the connection (there is no raw-command API and the
//     UnilateralDataHandler never sees unknown responses). So every
//     connection talks through a wire (wire.go), a net.Conn between the
//     transport and imapclient that frames the server's responses (lines and
//     literals, literals passed through unbuffered) and can run raw commands:
//     their responses go to this package and never reach imapclient. The
//     approach is (a) of the design notes, on the pooled connections
//     themselves: ENABLE QRESYNC (raw, once per connection, RFC 7162
//     §3.2.3), then per ChangesSince EXAMINE mailbox (CONDSTORE) through
//     imapclient, which gives UIDVALIDITY, UIDNEXT, EXISTS and HIGHESTMODSEQ,
//     and only when HIGHESTMODSEQ moved the raw
//     UID FETCH 1:<UIDNEXT-1> (UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ)
//     (CHANGEDSINCE m VANISHED) (§3.2.6), whose VANISHED (EARLIER) and FETCH
//     responses are parsed here (parse.go). With QRESYNC an expunge raises
//     HIGHESTMODSEQ too (§3.2), so a sync without changes costs one command
//     (EXAMINE), two on a connection's first use (ENABLE). The SELECT
//     (QRESYNC (uidvalidity modseq)) form is not used: its FETCH responses
//     lack INTERNALDATE and RFC822.SIZE, which would cost a second FETCH
//     anyway. Once QRESYNC is enabled the server reports expunges with
//     VANISHED instead of EXPUNGE everywhere (§3.2.10); the wire drops those
//     unilateral VANISHED responses, which imapclient could not parse and
//     this package does not need (it tracks UIDs, not sequence numbers).
//   - STARTTLS is done by this package (account.go startTLS) rather than by
//     imapclient, because imapclient would put TLS below the wire; imapclient
//     then starts on the TLS connection with a synthetic greeting and asks
//     for the capabilities again.
//   - Without QRESYNC, ChangesSince cannot learn about expunges and fails
//     with source.ErrNoCondstore (use List); ChangesSinceKnown takes the UIDs
//     the caller holds and finds the expunged ones with UID SEARCH UID
//     <known> (RFC 7162 §3.1 CONDSTORE alone). Without CONDSTORE (go-imap's
//     memory server) both fail with source.ErrNoCondstore.
//   - Selection: each pooled connection remembers the mailbox this package
//     selected (EXAMINE for reads, SELECT once a write needs it). Status uses
//     STATUS; List and ChangesSince always select afresh (they report the
//     SELECT's state); the other methods reuse a selection younger than 5 s
//     that already knows the UIDs asked for, and send a NOOP first otherwise:
//     Dovecot shows a session new messages and flag changes made by others
//     only when it syncs (SELECT, NOOP), not at UID FETCH or UID STORE.
//     WithConn users may select anything, so WithConn forgets the selection.
//   - Fetch brings, for all uids at once, UID FLAGS INTERNALDATE RFC822.SIZE
//     BODYSTRUCTURE BODY.PEEK[HEADER] [MODSEQ] [BODY.PEEK[]<0.RawLimit>],
//     then the text leaves (text/plain and text/html without attachment
//     disposition or file name) as BODY.PEEK[<path>]<0.TextLimit>, one UID
//     FETCH per distinct set of text paths (messages of the same layout
//     share one), pipelined: one round trip per phase. UID sets are split
//     at 4000 octets (RFC 7162 §4 recommends command lines under 8192).
//     Dovecot runs pipelined FETCHes in parallel and interleaves their
//     responses, and imapclient's reader waits for each literal to be read,
//     so pipelined FETCHes are consumed concurrently (drain).
//   - Part paths (source.Part.Path) are IMAP part numbers (RFC 3501 §6.4.5):
//     the root has the empty path, multipart children are numbered from 1.
//     The body of a single-part message (Path []) is fetched and streamed
//     as BODY[TEXT], which for such a message is its body (BODY[1] would
//     be the same). A message/rfc822 part is a leaf: its inner structure is
//     not expanded.
//   - OpenPart and OpenMessage stream BODY.PEEK[…] straight off the
//     connection (imapclient's FetchItemDataBodySection literal through the
//     wire, never buffered whole); the connection stays out of the pool
//     until the body is closed: with at most 256 KiB left it is drained and
//     pooled again, else closed (a half-read literal cannot be skipped).
//     Reads keep pushing the read deadline 5 min ahead (at most every 3 s),
//     so a slow reader is not cut off by imapclient's deadline for the
//     whole literal.
//   - Writes never touch other messages: Delete is UID STORE +FLAGS.SILENT
//     (\Deleted) + UID EXPUNGE (RFC 4315); Move is UID MOVE (RFC 6851) or
//     UID COPY + UID STORE + UID EXPUNGE. Delete without UIDPLUS, and Move
//     without MOVE or UIDPLUS, fail with eas.ErrNotSupported rather than
//     use a plain EXPUNGE.
//   - Search and List's date filter widen the IMAP date (compared in the
//     server's time zone, RFC 3501 §6.4.4) by a day and then compare the
//     exact INTERNALDATE.
//   - Arrived (source.ArrivalSearcher, arrived.go) searches UID n:* after a
//     NOOP and drops the UID below n that "n:*" matches when n is past the
//     last UID (RFC 3501 §6.4.8).
//   - OlderThan (source.MailAger, ager.go) runs two UID SEARCHes one after
//     the other (untagged SEARCH answers cannot be told apart when
//     pipelined): surely older, and the days around the date, checked by
//     exact INTERNALDATE.
package imapsource
