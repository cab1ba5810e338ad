package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

// Write-ahead intents of MoveItems. easbridge killed while its IMAP MOVE
// was still running (or copied but not yet expunged) left the message in
// the source; the phone's repeat of the MoveItems moved it again and the
// destination had it twice (found by the soak, docs/RELIABILITY.md).
//
// So before the MOVE the device's moves record (moves.go) gets an intent:
// source mailbox, UID and UIDVALIDITY, destination mailbox with its
// UIDVALIDITY and UIDNEXT, and what identifies the message (its Message-ID,
// else RFC822.SIZE and INTERNALDATE, which MOVE keeps). After the MOVE the
// entry becomes the finished move. A MoveItems of the same message to the
// same folder that finds an unfinished intent first looks among the
// destination's messages that arrived since the intent (UID >= the
// recorded UIDNEXT, so a copy the user keeps on purpose never counts):
//
//   - a copy is there: the source message, if it is still there, is
//     expunged (UID EXPUNGE of that UID only), and the copy is the answer;
//     further copies that arrived since (two moves that ran at once) are
//     expunged;
//   - none: the MOVE is done as usual, then the destination is looked at
//     once more, and copies other than the new one that arrived since the
//     first intent (the dead process's MOVE finishing meanwhile) are
//     expunged.
//
// A source UID that now names another message (no match) is moved as
// usual and nothing is expunged.

// moveIntent is a move started but not known to be finished.
type moveIntent struct {
	SrcBox      string
	SrcUID      uint32
	SrcValidity uint32 // of the device's source state, 0 when unknown
	DstBox      string
	DstValidity uint32
	DstNext     uint32 // destination UIDNEXT before the MOVE
	MessageID   string `json:",omitempty"` // with angle brackets, as in the header
	Size        int64
	Date        time.Time // INTERNALDATE
	Started     time.Time
}

// maxArrivals bounds the destination messages fetched to identify a copy
// of a message without Message-ID.
const maxArrivals = 200

// messageIDOf returns the Message-ID header value of a raw header block,
// "" when there is none.
func messageIDOf(header []byte) string {
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(header))).ReadMIMEHeader() // a partial header is fine
	return strings.TrimSpace(h.Get("Message-Id"))
}

// matches tells whether m is the message of the intent.
func (in *moveIntent) matches(m *source.Message) bool {
	if in.MessageID != "" {
		return messageIDOf(m.Header) == in.MessageID
	}
	return messageIDOf(m.Header) == "" && m.Size == in.Size && m.InternalDate.Equal(in.Date)
}

// unfinishedMove returns the intent of an unfinished move of serverID to
// dstCollection by this device, nil when there is none.
func (s *session) unfinishedMove(ctx context.Context, deviceID, serverID, dstCollection string) *moveIntent {
	ms := s.recordedMoves(ctx, deviceID)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Src == serverID && ms[i].DstColl == dstCollection {
			if ms[i].Dst == "" {
				return ms[i].Intent
			}
			return nil
		}
	}
	return nil
}

// beginMove records the intent of moving m (UID uid of src) to dst before
// the MOVE is sent. An earlier unfinished intent keeps its UIDNEXT, so
// that a copy its MOVE makes later still counts. Without the destination's
// status nothing is recorded (the move goes on, only its repeat is not
// guarded).
func (s *session) beginMove(ctx context.Context, deviceID, serverID, srcCollection, dstCollection, src, dst string, uid uint32, m *source.Message, earlier *moveIntent) {
	st, err := s.l.mail.Status(ctx, dst)
	if err != nil {
		s.e.log.Info("engine: move intent: destination status", "mailbox", dst, "err", err)
		return
	}
	in := &moveIntent{
		SrcBox: src, SrcUID: uid, DstBox: dst, DstValidity: st.UIDValidity, DstNext: st.UIDNext,
		MessageID: messageIDOf(m.Header), Size: m.Size, Date: m.InternalDate, Started: s.e.opts.Now(),
	}
	in.SrcValidity = s.srcValidity(ctx, deviceID, srcCollection)
	if earlier != nil && earlier.DstBox == dst && earlier.DstValidity == st.UIDValidity {
		in.DstNext = min(in.DstNext, earlier.DstNext)
	}
	s.recordMove(ctx, deviceID, recordedMove{Src: serverID, DstColl: dstCollection, Intent: in})
}

// arrivedCopies returns the messages of the intent's destination that
// arrived since the intent and are its message, by ascending UID; nil when
// the destination's UIDVALIDITY changed (its UIDs say nothing then).
func (s *session) arrivedCopies(ctx context.Context, in *moveIntent) ([]*source.Message, error) {
	var uids []uint32
	if as, ok := s.l.mail.(source.ArrivalSearcher); ok {
		st, err := s.l.mail.Status(ctx, in.DstBox)
		if err != nil {
			return nil, err
		}
		if st.UIDValidity != in.DstValidity {
			return nil, nil
		}
		if uids, err = as.Arrived(ctx, in.DstBox, in.DstNext, in.MessageID); err != nil {
			return nil, err
		}
	} else {
		st, list, err := s.l.mail.List(ctx, in.DstBox, timeZero)
		if err != nil {
			return nil, err
		}
		if st.UIDValidity != in.DstValidity {
			return nil, nil
		}
		for _, m := range list {
			if m.UID >= in.DstNext {
				uids = append(uids, m.UID)
			}
		}
	}
	if len(uids) > maxArrivals {
		uids = uids[len(uids)-maxArrivals:]
	}
	if len(uids) == 0 {
		return nil, nil
	}
	msgs, err := s.l.mail.Fetch(ctx, in.DstBox, uids, source.FetchSpec{})
	if err != nil {
		return nil, err
	}
	var out []*source.Message
	for _, m := range msgs {
		if in.matches(m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// dropCopies expunges the copies other than keep.
func (s *session) dropCopies(ctx context.Context, in *moveIntent, copies []*source.Message, keep uint32) error {
	for _, c := range copies {
		if c.UID == keep {
			continue
		}
		if err := s.l.mail.Delete(ctx, in.DstBox, c.UID); err != nil {
			return fmt.Errorf("engine: expunge second copy %s/%d: %w", in.DstBox, c.UID, err)
		}
		s.e.log.Info("engine: move: expunged a second copy", "mailbox", in.DstBox, "uid", c.UID)
	}
	return nil
}

// resumeMove finishes a move an unfinished intent describes, when its
// message already reached the destination: m is the source message (nil
// when it is gone). ok is false when the move is still to be done.
func (s *session) resumeMove(ctx context.Context, in *moveIntent, src string, uid uint32, m *source.Message) (newUID uint32, flags []string, ok bool, err error) {
	if in == nil || in.SrcBox != src || in.SrcUID != uid || (m != nil && !in.matches(m)) {
		return 0, nil, false, nil
	}
	copies, err := s.arrivedCopies(ctx, in)
	if err != nil {
		return 0, nil, false, eas.Errorf(eas.MoveStatusFailure, "look for an earlier move's copy: %v", err)
	}
	if len(copies) == 0 {
		return 0, nil, false, nil
	}
	keep := copies[0]
	if m != nil {
		if err := s.l.mail.Delete(ctx, src, uid); err != nil {
			return 0, nil, false, eas.Errorf(eas.MoveStatusFailure, "expunge the moved message's original: %v", err)
		}
	}
	if err := s.dropCopies(ctx, in, copies, keep.UID); err != nil {
		s.e.log.Info("engine: move", "err", err)
	}
	s.e.log.Info("engine: move finished from its intent", "mailbox", in.DstBox, "uid", keep.UID, "source_gone", m == nil)
	return keep.UID, keep.Flags, true, nil
}

// afterRepeatedMove looks at the destination once more after the MOVE of
// a repeat and expunges copies other than the new one that arrived since
// the earlier intent.
func (s *session) afterRepeatedMove(ctx context.Context, in *moveIntent, newUID uint32) {
	if in == nil || newUID == 0 {
		return
	}
	copies, err := s.arrivedCopies(ctx, in)
	if err == nil {
		err = s.dropCopies(ctx, in, copies, newUID)
	}
	if err != nil {
		s.e.log.Info("engine: move: look for second copies", "mailbox", in.DstBox, "err", err)
	}
}

func dstMsgID(dstCollection string, uid uint32) string {
	return dstCollection + ":" + strconv.FormatUint(uint64(uid), 10)
}

// Moves of one message by two devices of the same user (soak seed 42,
// round 98): both MoveItems ran while Dovecot restarted, one MOVE copied
// the message but never expunged it (Status 5), and the other device's
// MOVE copied it again. So MoveItems of one (user, source mailbox, UID)
// run one at a time in the process (moveLocks), and an unfinished intent
// of any device of the user for that source (same mailbox UIDVALIDITY and
// destination mailbox) is resolved as the device's own would be
// (othersUnfinishedMove).

// moveLocks serialises MoveItems of one message; the zero value is ready.
type moveLocks struct {
	mu    gosync.Mutex
	locks map[string]*moveLock
}

type moveLock struct {
	mu   gosync.Mutex
	refs int // holders and waiters; the entry goes when it drops to 0
}

// lock takes the lock of key and returns its release.
func (l *moveLocks) lock(key string) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*moveLock{}
	}
	e := l.locks[key]
	if e == nil {
		e = &moveLock{}
		l.locks[key] = e
	}
	e.refs++
	l.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		l.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(l.locks, key)
		}
		l.mu.Unlock()
	}
}

func moveLockKey(user, mailbox string, uid uint32) string {
	return user + "\x00" + mailbox + "\x00" + strconv.FormatUint(uint64(uid), 10)
}

// srcValidity returns the UIDVALIDITY of the device's state of a mail
// collection, 0 when there is none.
func (s *session) srcValidity(ctx context.Context, deviceID, collection string) uint32 {
	col, err := s.store().Collection(ctx, s.l.user, deviceID, collection)
	if err != nil || col.Key == 0 {
		return 0
	}
	ms, err := decodeMailState(col.Data, false)
	if err != nil {
		return 0
	}
	return ms.UIDValidity
}

// othersUnfinishedMove returns the newest unfinished intent another device
// of the user recorded for moving UID uid of src (with UIDVALIDITY
// validity, which must be known) to dst; nil when there is none.
func (s *session) othersUnfinishedMove(ctx context.Context, deviceID, src, dst string, uid, validity uint32) *moveIntent {
	if validity == 0 {
		return nil
	}
	devs, err := s.store().Devices(ctx)
	if err != nil {
		s.e.log.Info("engine: move: list devices", "err", err)
		return nil
	}
	var found *moveIntent
	for _, d := range devs {
		if d.User != s.l.user || d.ID == deviceID {
			continue
		}
		for _, m := range s.recordedMoves(ctx, d.ID) {
			in := m.Intent
			if m.Dst != "" || in == nil || in.SrcBox != src || in.SrcUID != uid || in.SrcValidity != validity || in.DstBox != dst {
				continue
			}
			if found == nil || in.Started.After(found.Started) {
				found = in
			}
		}
	}
	return found
}
