// Package watch tells the sync engine when an account's mailboxes or DAV
// collections change, so that Ping (MS-ASCMD 2.2.1.13) and the Sync long
// poll can answer as soon as something happens instead of at the end of
// their heartbeat.
//
// A Hub keeps one watcher per account key. Hub.Watch subscribes to
// mailboxes and collections and returns a channel of Events (hints, to be
// checked by the receiver); Hub.Quiet lets the engine's Sync skip even its
// STATUS when the watcher vouches that nothing changed.
//
// # IMAP
//
// One dedicated connection per account, never one of imapsource's pool (it
// is blocked in IDLE or waiting for NOTIFY for the watcher's whole life).
// It is driven by the small client of imapconn.go rather than go-imap,
// whose client drops unsolicited STATUS responses and cannot send NOTIFY.
//
//   - NOTIFY (RFC 5465), preferred when advertised: NOTIFY SET (personal
//     (MessageNew MessageExpunge FlagChange)) once per connection, ENABLE
//     CONDSTORE (RFC 7162) first so that flag changes move HIGHESTMODSEQ
//     and are notified, a STATUS per watched mailbox as its baseline. The
//     server sends "* STATUS" for each change; those of unwatched
//     mailboxes, and repetitions (a STATUS equal to the last), are
//     dropped. "personal" rather than "mailboxes (<list>)" because of two
//     Dovecot 2.3.19 bugs: a second NOTIFY SET on a connection loses
//     notifications, and the names of a mailboxes filter are taken as
//     UTF-8, not modified UTF-7. Mailboxes outside the personal namespace
//     (RFC 2342) are polled like the IDLE fallback's.
//   - IDLE (RFC 2177) otherwise: INBOX (else the first watched mailbox)
//     EXAMINEd and IDLEd on; the other watched mailboxes polled with STATUS
//     every PollInterval (30 s), and at once when they join. Without IDLE,
//     NOOP at each poll.
//   - Reconnect on any error with exponential backoff, BackoffMin 1 s
//     doubling to BackoffMax 60 s, ±20 % jitter, reset once a connection
//     got as far as watching.
//   - Small installations: while the hub has at most FastPollLimit (10)
//     watchers, a NOTIFY watcher also asks STATUS of its covered mailboxes
//     every FastPoll (200 ms). STATUS reads the mailbox's current index,
//     so a change shows before the server's own, delayed notification; an
//     event fires only when a value moved. Beyond FastPollLimit accounts
//     the watchers rely on NOTIFY alone, so the cost stays one silent
//     connection per account.
//
// Measured against Dovecot 2.3.19 (docs/BENCHMARKS.md, "Push"): NOTIFY
// alone and IDLE take ~0.5 s from APPEND or STORE to the event. That floor
// is Dovecot's: it delays every mailbox change notification by
// NOTIFY_DELAY_MSECS = 500 ms (src/lib-storage/mailbox-watch.c,
// mailbox-list-index-notify.c) to batch them; this package adds ~6 ms.
// With the fast STATUS checks, p50 is ~120 ms and p99 under 300 ms.
//
// # DAV
//
// DAVToken (davsource.Account.Token: one depth-0 PROPFIND) of every watched
// collection every DAVInterval, and at once for a new one; a token that
// moved is an event.
//
// # Timeouts and where they come from
//
//   - IdleRefresh 25 min: IDLE is re-issued (RFC 2177 §3: the server may
//     end an IDLE after 30 min; clients should re-issue at least every
//     29), and a NOTIFY connection sends NOOP (RFC 3501 §5.4: autologout
//     after at least 30 min of inactivity).
//   - CommandTimeout 30 s: dial + TLS + login together, each command's
//     answer, each write, each DAV token request. A dead peer during a
//     silent NOTIFY wait is found by TCP keep-alives (net.Dialer's default
//     15 s probes) or at the next NOOP.
//   - Grace 60 s: a watcher outlives its last subscription, and a mailbox
//     or collection stays watched after its last subscription, for that
//     long: a phone Syncs between two Pings (typically within seconds),
//     and the next Ping must find the connection up and the mailbox still
//     covered, or it would get a coverage event and return at once.
//   - DAVInterval 30 s, PollInterval 30 s: polls, bounded by what a server
//     should bear per account (one PROPFIND, one STATUS per mailbox).
//
// # Implementation notes (invariants)
//
//   - One watcher per key, one IMAP connection per watcher: a watcher
//     stopped after its grace period is replaced, if a new subscription
//     comes, by one that connects only after the old one's connection is
//     closed (Hub.closing).
//   - Goroutines: per watcher, imapLoop (while it has mailboxes; it owns
//     the reader goroutine of its current connection, started by dialIMAP
//     and ended and awaited by conn.close) and davLoop (while it has
//     collections), started on demand and stopped by the watcher's
//     context; grace timers. All are counted in Hub.wg, which Close waits
//     for, so that after Close no goroutine and no connection is left.
//   - Lock order: Hub.mu before watcher.mu. Subscription state is guarded
//     by its watcher's mu; events are delivered under it, never blocking
//     (see sub.deliver).
//   - Events: a mailbox or collection that becomes watched — first
//     subscription, new connection (reconnect), new selection — gives one,
//     because a change may have come before the watcher saw it; then one
//     per observed change. They are hints: receivers check (STATUS
//     against their state, the sync-token) before acting.
//   - Quiet vouches for a mailbox only while it is covered in real time
//     including flag changes (NOTIFY with CONDSTORE, or the IDLE-selected
//     mailbox) since before the time asked about, with no event since.
//     Coverage ends with the connection; a reconnect starts it anew.
package watch
