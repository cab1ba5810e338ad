package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
	"easbridge/sync/noteconv"
	"easbridge/sync/source"
)

// Notes Sync over an IMAP mailbox (MS-ASNOTE, 14.0+).
//
// Implementation notes:
//   - The mailbox's folder key is "imap-notes:" + mailbox name, so no mail
//     code path treats it as mail; ServerIds are "<CollectionId>:<n>", n
//     a per-collection counter mapped to the message's UID in the state.
//   - A Sync with nothing new is one STATUS (UIDVALIDITY, UIDNEXT,
//     MESSAGES, HIGHESTMODSEQ unchanged). Otherwise the mailbox's UIDs are
//     listed (a notes mailbox is small) and compared with the state:
//     deletions first, then new messages, newest first, WindowSize at a
//     time.
//   - Messages are immutable: a client Change APPENDs the new version and
//     expunges the old one; the ServerId stays and now names the new UID.
//   - Adds are idempotent by ClientId; a repeated previous key adopts what
//     the lost request wrote (noteState.adopt).

// notesKeyPrefix starts the folder key of an IMAP Notes mailbox.
const notesKeyPrefix = "imap-notes:"

// maxNoteSize is how much of one note message is read (RawLimit).
const maxNoteSize = 1 << 20

// notesMailboxOf returns the mailbox of an IMAP notes folder key.
func notesMailboxOf(key string) (string, bool) {
	if !strings.HasPrefix(key, notesKeyPrefix) {
		return "", false
	}
	return key[len(notesKeyPrefix):], true
}

type noteSync struct {
	s        *session
	deviceID string
	req      *server.SyncCollection
	mailbox  string
	mail     source.Mail
	opts     calconv.Options

	st       *noteState
	curKey   int
	fromPrev bool
	dirty    bool
	res      server.SyncCollectionResult
}

func (s *session) syncNotes(ctx context.Context, deviceID string, req *server.SyncCollection, mailbox string) (*server.SyncCollectionResult, error) {
	if s.l.mail == nil {
		return s.syncEmpty(ctx, deviceID, req)
	}
	n := &noteSync{s: s, deviceID: deviceID, req: req, mailbox: mailbox, mail: s.l.mail, opts: s.calOptions(req)}
	n.res.Class, n.res.Status = "Notes", eas.SyncStatusSuccess
	return n.run(ctx)
}

func (n *noteSync) run(ctx context.Context) (*server.SyncCollectionResult, error) {
	oc, err := n.s.openCollection(ctx, n.deviceID, n.req, &n.res, func() []byte {
		return (&noteState{NextID: 1}).encode()
	})
	if err != nil {
		return nil, err
	}
	if oc.primed {
		return &n.res, nil
	}
	n.curKey, n.fromPrev = oc.curKey, oc.fromPrev
	if n.st, err = decodeNoteState(oc.data); err != nil {
		return nil, fmt.Errorf("engine: collection %s: %w: %w", n.req.CollectionID, err, eas.ErrInvalidSyncKey)
	}
	if n.fromPrev {
		if cur, err := decodeNoteState(oc.cur); err == nil {
			n.st.adopt(cur)
		}
	}
	n.applyClientCommands(ctx)
	if n.req.GetChanges {
		if err := n.window(ctx); err != nil {
			return nil, err
		}
	}
	return n.s.commitCollection(ctx, n.deviceID, n.req, &n.res, n.curKey, n.fromPrev, n.dirty, n.st.encode())
}

func (n *noteSync) serverID(id uint32) string {
	return n.req.CollectionID + ":" + strconv.FormatUint(uint64(id), 10)
}

// noteChanges are the differences between the mailbox and the state.
type noteChanges struct {
	status  source.MailboxStatus
	deleted []uint32        // UIDs the state has that are gone
	added   []uint32        // UIDs the state does not have, newest first
	present map[uint32]bool // every UID listed
}

// changes compares the mailbox with st; nil when the status says nothing
// moved since the last complete look.
func (n *noteSync) changes(ctx context.Context) (*noteChanges, error) {
	st := n.st
	stt, err := n.mail.Status(ctx, n.mailbox)
	if err != nil {
		return nil, fmt.Errorf("engine: status of %s: %w", n.mailbox, err)
	}
	if st.Primed && !st.More && stt.UIDValidity == st.UIDValidity && stt.UIDNext == st.UIDNext &&
		stt.Messages == st.Messages && stt.HighestModSeq == st.ModSeq {
		return nil, nil
	}
	if st.Primed && stt.UIDValidity != st.UIDValidity {
		// Every UID is void: the device's notes are deleted and sent again.
		n.s.e.log.Info("engine: notes mailbox UIDVALIDITY changed", "mailbox", n.mailbox)
		for uid, id := range st.Items {
			delete(st.Items, uid)
			if id != 0 {
				st.Items[^uint32(0)-id] = id // a placeholder UID no message has
			}
		}
	}
	_, list, err := n.mail.List(ctx, n.mailbox, timeZero)
	if err != nil {
		return nil, fmt.Errorf("engine: list %s: %w", n.mailbox, err)
	}
	c := &noteChanges{status: stt, present: make(map[uint32]bool, len(list))}
	for _, m := range list {
		c.present[m.UID] = true
		if _, ok := st.Items[m.UID]; !ok {
			c.added = append(c.added, m.UID)
		}
	}
	for uid := range st.Items {
		if !c.present[uid] {
			c.deleted = append(c.deleted, uid)
		}
	}
	slices.Sort(c.deleted)
	slices.SortFunc(c.added, func(a, b uint32) int { return int(int64(b) - int64(a)) })
	return c, nil
}

// window sends up to WindowSize changes.
func (n *noteSync) window(ctx context.Context) error {
	st := n.st
	c, err := n.changes(ctx)
	if err != nil || c == nil {
		return err
	}
	size := windowSize(n.req.WindowSize)
	sent, done := 0, 0 // changes sent, differences dealt with
	for _, uid := range c.deleted {
		if sent == size {
			break
		}
		if id := st.Items[uid]; id != 0 {
			n.res.Changes = append(n.res.Changes, server.ServerChange{Op: "Delete", ServerID: n.serverID(id)})
			sent++
		}
		delete(st.Items, uid)
		done++
	}
	var fetch []uint32
	for _, uid := range c.added {
		if sent+len(fetch) == size {
			break
		}
		fetch = append(fetch, uid)
	}
	if len(fetch) > 0 {
		msgs, err := n.mail.Fetch(ctx, n.mailbox, fetch, source.FetchSpec{RawLimit: maxNoteSize})
		if err != nil {
			return fmt.Errorf("engine: fetch notes from %s: %w", n.mailbox, err)
		}
		for _, m := range msgs {
			app, err := n.toEAS(m)
			if err != nil {
				// Skipped, logged, remembered so that it is not read again.
				n.s.e.log.Warn("engine: note skipped: conversion failed", "mailbox", n.mailbox, "uid", m.UID, "err", err)
				st.Items[m.UID] = 0
				continue
			}
			id := st.NextID
			st.NextID++
			st.Items[m.UID] = id
			n.res.Changes = append(n.res.Changes, server.ServerChange{Op: "Add", ServerID: n.serverID(id), Data: app})
		}
		// Messages gone between the listing and the fetch are not in
		// msgs: the next listing leaves them out.
	}
	more := len(c.deleted)+len(c.added) > done+len(fetch)
	n.res.MoreAvailable = more
	prev := *st
	st.Primed, st.More = true, more
	st.UIDValidity, st.UIDNext, st.Messages, st.ModSeq = c.status.UIDValidity, c.status.UIDNext, c.status.Messages, c.status.HighestModSeq
	if prev.Primed != st.Primed || prev.More != st.More || prev.UIDValidity != st.UIDValidity || prev.UIDNext != st.UIDNext ||
		prev.Messages != st.Messages || prev.ModSeq != st.ModSeq {
		n.dirty = true
	}
	return nil
}

func (n *noteSync) toEAS(m *source.Message) (*wbxml.Element, error) {
	note, err := noteconv.Parse(m.Raw, m.InternalDate)
	if err != nil {
		return nil, err
	}
	return noteconv.ToEAS(note, n.opts)
}

// load reads the note stored under a ServerId.
func (n *noteSync) load(ctx context.Context, serverID string) (uint32, uint32, noteconv.Note, error) {
	coll, id, ok := parseServerID(serverID)
	if !ok || coll != n.req.CollectionID {
		return 0, 0, noteconv.Note{}, eas.Errorf(eas.SyncStatusObjectNotFound, "note %q", serverID)
	}
	uid, ok := n.st.uidOf(id)
	if !ok {
		return 0, 0, noteconv.Note{}, eas.Errorf(eas.SyncStatusObjectNotFound, "note %q", serverID)
	}
	msgs, err := n.mail.Fetch(ctx, n.mailbox, []uint32{uid}, source.FetchSpec{RawLimit: maxNoteSize})
	if err != nil {
		return 0, 0, noteconv.Note{}, fmt.Errorf("engine: fetch note %s: %w", serverID, err)
	}
	if len(msgs) == 0 {
		return 0, 0, noteconv.Note{}, eas.Errorf(eas.SyncStatusObjectNotFound, "note %q is gone", serverID)
	}
	note, err := noteconv.Parse(msgs[0].Raw, msgs[0].InternalDate)
	if err != nil {
		return 0, 0, noteconv.Note{}, eas.Errorf(eas.SyncStatusConversionError, "note %q: %v", serverID, err)
	}
	return id, uid, note, nil
}

// store APPENDs a note and returns its UID.
func (n *noteSync) store(ctx context.Context, note noteconv.Note) (uint32, error) {
	raw := note.Message(n.s.l.email)
	uid, err := n.mail.Append(ctx, n.mailbox, []string{`\Seen`}, note.Modified, bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return 0, fmt.Errorf("engine: append note to %s: %w", n.mailbox, err)
	}
	if uid == 0 {
		// No APPENDUID (RFC 4315): find it by its UUID.
		uids, err := n.mail.Search(ctx, n.mailbox, source.SearchCriteria{Text: note.UUID})
		if err != nil || len(uids) == 0 {
			return 0, fmt.Errorf("engine: appended note not found in %s: %w", n.mailbox, eas.ErrBackendUnavailable)
		}
		uid = uids[len(uids)-1]
	}
	return uid, nil
}

func (n *noteSync) applyClientCommands(ctx context.Context) {
	st := n.st
	for _, c := range n.req.Commands {
		resp := server.ItemResponse{Op: c.Op, ServerID: c.ServerID, ClientID: c.ClientID, Status: eas.SyncStatusSuccess}
		reply := true
		var err error
		switch c.Op {
		case "Add":
			if id, ok := st.ClientIDs[c.ClientID]; ok && c.ClientID != "" {
				if _, ok := st.uidOf(id); ok {
					resp.ServerID = n.serverID(id)
					break
				}
			}
			var note noteconv.Note
			if note, err = noteconv.FromEAS(c.Data, noteconv.Note{}, n.opts); err != nil {
				err = eas.Errorf(eas.SyncStatusConversionError, "%v", err)
				break
			}
			var uid uint32
			if uid, err = n.store(ctx, note); err != nil {
				break
			}
			id := st.NextID
			st.NextID++
			st.Items[uid] = id
			if c.ClientID != "" {
				st.ClientIDs[c.ClientID] = id
			}
			resp.ServerID = n.serverID(id)
		case "Change":
			reply = false
			var id, old uint32
			var note noteconv.Note
			if id, old, note, err = n.load(ctx, c.ServerID); err != nil {
				break
			}
			if note, err = noteconv.FromEAS(c.Data, note, n.opts); err != nil {
				err = eas.Errorf(eas.SyncStatusConversionError, "%v", err)
				break
			}
			var uid uint32
			if uid, err = n.store(ctx, note); err != nil {
				break
			}
			delete(st.Items, old)
			st.Items[uid] = id
			if derr := n.mail.Delete(ctx, n.mailbox, old); derr != nil {
				// The new version is stored; the old one stays behind and
				// comes back to the device as a note of its own.
				n.s.e.log.Warn("engine: note change: old version not removed", "mailbox", n.mailbox, "uid", old, "err", derr)
			}
		case "Delete":
			reply = false
			coll, id, ok := parseServerID(c.ServerID)
			uid, found := st.uidOf(id)
			if !ok || coll != n.req.CollectionID || !found {
				continue // already gone: nothing to say
			}
			if err = n.deleteNote(ctx, uid); err == nil {
				delete(st.Items, uid)
			}
		case "Fetch":
			var note noteconv.Note
			if _, _, note, err = n.load(ctx, c.ServerID); err == nil {
				resp.Data, err = noteconv.ToEAS(note, n.opts)
			}
		default:
			continue
		}
		if err != nil {
			n.s.e.log.Info("engine: note command failed", "op", c.Op, "mailbox", n.mailbox, "err", err)
			resp.Status = statusFor(err, eas.SyncStatusServerError)
			resp.Data = nil
			reply = true
		}
		if reply {
			n.res.Responses = append(n.res.Responses, resp)
		}
	}
}

// deleteNote moves a note to Trash when DeletesAsMoves (the default) and a
// Trash exists, else expunges it.
func (n *noteSync) deleteNote(ctx context.Context, uid uint32) error {
	if n.req.DeletesAsMoves {
		if trash, err := n.mail.SpecialUse(ctx, `\Trash`); err == nil && trash != "" && trash != n.mailbox {
			_, err := n.mail.Move(ctx, n.mailbox, uid, trash)
			return err
		}
	}
	return n.mail.Delete(ctx, n.mailbox, uid)
}

// notesEstimate counts the changes the next Sync of a notes folder sends.
func (s *session) notesEstimate(ctx context.Context, mailbox string, data []byte) (int, error) {
	if s.l.mail == nil {
		return 0, nil
	}
	st, err := decodeNoteState(data)
	if err != nil {
		return 0, fmt.Errorf("engine: estimate: %w: %w", err, eas.ErrInvalidSyncKey)
	}
	n := &noteSync{s: s, mailbox: mailbox, mail: s.l.mail, st: st}
	c, err := n.changes(ctx)
	if err != nil || c == nil {
		return 0, err
	}
	count := len(c.added)
	for _, uid := range c.deleted {
		if st.Items[uid] != 0 {
			count++
		}
	}
	return count, nil
}

// notesChanged is the Ping check of a notes folder: changes left unsent,
// or a mailbox status other than the one of the last complete look.
func (s *session) notesChanged(ctx context.Context, mailbox string, data []byte) bool {
	st, err := decodeNoteState(data)
	if err != nil || !st.Primed || st.More {
		return true
	}
	stt, err := s.l.mail.Status(ctx, mailbox)
	if err != nil {
		return false // the watcher will tell again once the server is back
	}
	return stt.UIDValidity != st.UIDValidity || stt.UIDNext != st.UIDNext || stt.Messages != st.Messages || stt.HighestModSeq != st.ModSeq
}
