package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/mailconv"
	"easbridge/sync/source"
	"easbridge/sync/state"
)

// Mail Sync (MS-ASCMD 2.2.1.21 for the Email class).
//
// Implementation notes:
//   - ServerIds of messages are "<CollectionId>:<UID>"; a UIDVALIDITY
//     change voids them and the collection answers Status 3 so the device
//     starts over with SyncKey 0.
//   - Change detection costs what changed: with CONDSTORE one STATUS tells
//     whether HIGHESTMODSEQ moved; only then ChangesSince fetches the
//     changed and vanished UIDs. Without CONDSTORE the whole UID/flag list
//     is compared (correct, slower).
//   - Changes found are queued in the state (Pending) and sent newest first
//     in windows of WindowSize; the view (what the device has) is updated
//     with what was sent, in the same state write.
//   - Client changes are written to IMAP first; the state advances after
//     that in one transaction, so a retry re-applies them idempotently.
//   - Messages outside the FilterType window leave the device by
//     SoftDelete, also when they age out of it (mailage.go).

// filterSince turns a FilterType into the oldest date to sync,
// MS-ASCMD 2.2.3.70.2.
func filterSince(filter int, now time.Time) time.Time {
	days := map[int]int{1: 1, 2: 3, 3: 7, 4: 14, 5: 31, 6: 92, 7: 183}[filter]
	if days == 0 {
		return time.Time{}
	}
	return now.AddDate(0, 0, -days)
}

// mailFolder resolves a CollectionId to its IMAP mailbox.
func (s *session) collectionKey(ctx context.Context, collectionID string) (string, error) {
	key, err := s.store().FolderKey(ctx, s.l.user, collectionID)
	if errors.Is(err, state.ErrNotFound) {
		return "", fmt.Errorf("engine: collection %s: %w", collectionID, eas.ErrNotFound)
	}
	return key, err
}

func mailboxOf(key string) (string, bool) {
	if !strings.HasPrefix(key, "imap:") {
		return "", false
	}
	return key[len("imap:"):], true
}

// SyncCollection implements server.ItemSync.
func (s *session) SyncCollection(ctx context.Context, deviceID string, req *server.SyncCollection) (*server.SyncCollectionResult, error) {
	key, err := s.collectionKey(ctx, req.CollectionID)
	if err != nil {
		return nil, err
	}
	// The folder as offered to this device (view.go): not at all (Status
	// 12), with a look-back override, or as a view of DAV collections.
	o, err := s.offeredFolder(ctx, deviceID, key)
	if err != nil {
		return nil, err
	}
	if o.Filter != 0 {
		req.Options.FilterType = o.Filter
	}
	if len(o.Members) > 0 && s.l.dav != nil {
		return s.syncDAVView(ctx, deviceID, req, o)
	}
	mailbox, isMail := mailboxOf(key)
	if (strings.HasPrefix(key, "caldav:") || strings.HasPrefix(key, "carddav:")) && s.l.dav != nil {
		return s.syncDAV(ctx, deviceID, req, key)
	}
	if mb, ok := notesMailboxOf(key); ok {
		return s.syncNotes(ctx, deviceID, req, mb)
	}
	if !isMail || s.l.mail == nil {
		return s.syncEmpty(ctx, deviceID, req)
	}
	ms := &mailSync{s: s, deviceID: deviceID, req: req, mailbox: mailbox, now: s.e.opts.Now()}
	return ms.run(ctx)
}

// syncEmpty answers collections without item support yet (the virtual
// Outbox; calendars and contacts until their sources sync items): a valid
// key sequence and no items.
func (s *session) syncEmpty(ctx context.Context, deviceID string, req *server.SyncCollection) (*server.SyncCollectionResult, error) {
	st, err := s.store().Collection(ctx, s.l.user, deviceID, req.CollectionID)
	if err != nil {
		return nil, fmt.Errorf("engine: collection state: %w", err)
	}
	res := &server.SyncCollectionResult{Status: eas.SyncStatusSuccess}
	switch k, _ := strconv.Atoi(req.SyncKey); {
	case req.SyncKey == "0":
		if err := s.store().DeleteCollection(ctx, s.l.user, deviceID, req.CollectionID); err != nil {
			return nil, err
		}
		if err := s.store().PutCollection(ctx, s.l.user, deviceID, req.CollectionID, 0, 1, nil); err != nil {
			return nil, err
		}
		res.SyncKey = "1"
	case k > 0 && (k == st.Key || k == st.PrevKey):
		res.SyncKey = strconv.Itoa(st.Key)
		for _, c := range req.Commands {
			r := server.ItemResponse{Op: c.Op, ServerID: c.ServerID, ClientID: c.ClientID, Status: eas.SyncStatusObjectNotFound}
			if c.Op == "Add" {
				r.Status = eas.SyncStatusServerError
			}
			res.Responses = append(res.Responses, r)
		}
	default:
		return nil, fmt.Errorf("engine: sync key %q: %w", req.SyncKey, eas.ErrInvalidSyncKey)
	}
	return res, nil
}

// mailSync is one Sync of one Email collection.
type mailSync struct {
	s        *session
	deviceID string
	req      *server.SyncCollection
	mailbox  string
	now      time.Time

	st       *mailState
	curKey   int
	fromPrev bool
	dirty    bool // state changed without changes for the device
	res      server.SyncCollectionResult
	pz       *poisonRun // messages that keep failing (poison.go)
}

func (m *mailSync) run(ctx context.Context) (*server.SyncCollectionResult, error) {
	s := m.s
	m.res.Class = "Email"
	m.res.Status = eas.SyncStatusSuccess
	oc, err := s.openCollection(ctx, m.deviceID, m.req, &m.res, func() []byte {
		return (&mailState{Mailbox: m.mailbox, Filter: m.req.Options.FilterType}).encode()
	})
	if err != nil {
		return nil, err
	}
	if oc.primed {
		return &m.res, nil
	}
	m.curKey, m.fromPrev = oc.curKey, oc.fromPrev
	// The view is needed only when something is to be done.
	quick := len(m.req.Commands) == 0 && !m.fromPrev
	if m.st, err = decodeMailState(oc.data, !quick); err != nil {
		// An unreadable state (an older format, damage) makes the device
		// start over with this folder: Status 3, never a crash.
		return nil, fmt.Errorf("engine: collection %s: %w: %w", m.req.CollectionID, err, eas.ErrInvalidSyncKey)
	}

	mail := s.l.mail
	if quick && m.st.Primed && m.st.ModSeq > 0 && len(m.st.Pending) == 0 && len(m.st.Adds) == 0 && m.st.Filter == m.req.Options.FilterType && !m.ageDue() {
		// A push watcher that saw nothing since the last full check vouches
		// for the folder: no IMAP command at all.
		if m.st.CheckedAt != 0 && s.e.hub.Quiet(s.watchKey(), m.mailbox, time.Unix(0, m.st.CheckedAt)) {
			m.res.SyncKey = strconv.Itoa(m.curKey)
			return &m.res, nil
		}
		// The cheap no-change check: one STATUS (RFC 7162 3.1.7
		// HIGHESTMODSEQ; an expunge raises it too). It reads Dovecot's index
		// header only, where EXAMINE opens the whole index: 10,000
		// messages cost a few times more with EXAMINE.
		stt, err := mail.Status(ctx, m.mailbox)
		if err != nil {
			return nil, fmt.Errorf("engine: status %s: %w", m.mailbox, err)
		}
		if stt.UIDValidity == m.st.UIDValidity && stt.HighestModSeq == m.st.ModSeq {
			m.res.SyncKey = strconv.Itoa(m.curKey)
			return &m.res, nil
		}
	}
	if quick {
		if m.st, err = decodeMailState(oc.data, true); err != nil {
			return nil, fmt.Errorf("engine: collection %s: %w", m.req.CollectionID, err)
		}
	}
	m.poisonStart(ctx) // poisonhooks.go

	if err := m.applyClientCommands(ctx); err != nil {
		return nil, err
	}
	if m.req.GetChanges {
		if err := m.collectIfDue(ctx); err != nil {
			if errors.Is(err, source.ErrUIDValidity) {
				// MS-ASCMD: the folder must be synced again from scratch.
				_ = s.store().DeleteCollection(ctx, s.l.user, m.deviceID, m.req.CollectionID)
				return nil, fmt.Errorf("engine: %s: %w: %w", m.mailbox, err, eas.ErrInvalidSyncKey)
			}
			return nil, err
		}
		if err := m.window(ctx); err != nil {
			return nil, err
		}
	}
	return m.commit(ctx)
}

// commit writes the new state: a new key when the device's view changed
// or the request carried commands, else the same key.
func (m *mailSync) commit(ctx context.Context) (*server.SyncCollectionResult, error) {
	m.poisonCommit(ctx)
	return m.s.commitCollection(ctx, m.deviceID, m.req, &m.res, m.curKey, m.fromPrev, m.dirty, m.st.encode())
}

// windowRecheck is how long a device that is still being sent queued
// messages (MoreAvailable) goes without a new look at the server: the
// windows of a first sync follow each other within seconds, and a check
// per window would cost one more round trip each (an EXAMINE of the whole
// mailbox). Changes in between are found by the next check.
const windowRecheck = 10 * time.Second

// collectIfDue checks the server unless the device is still receiving the
// queue of a recent check.
func (m *mailSync) collectIfDue(ctx context.Context) error {
	st := m.st
	if st.Primed && len(st.Adds) > 0 && st.Filter == m.req.Options.FilterType &&
		time.Since(time.Unix(0, st.CheckedAt)) < windowRecheck {
		return nil
	}
	return m.collectServerChanges(ctx)
}

// collectServerChanges brings Pending up to date with the server.
func (m *mailSync) collectServerChanges(ctx context.Context) error {
	mail := m.s.l.mail
	since := filterSince(m.req.Options.FilterType, m.now)
	st := m.st
	checked := time.Now().UnixNano()
	defer func() {
		if m.st.Primed {
			m.st.CheckedAt = checked
		}
	}()
	if st.Primed && st.ModSeq > 0 && st.Filter == m.req.Options.FilterType {
		ch, err := mail.ChangesSince(ctx, m.mailbox, st.UIDValidity, st.ModSeq, since)
		switch {
		case err == nil:
			var adds map[uint32]bool
			for _, c := range ch.Changed {
				if h, inView := st.View.Get(c.UID); inView {
					if st.Pending[c.UID].Soft {
						continue // leaves the device anyway (mailage.go)
					}
					if h == flagsHash(c.Flags) {
						delete(st.Pending, c.UID) // back to what the device has
					} else {
						st.Pending[c.UID] = pending{Flags: c.Flags}
					}
					continue
				}
				if since.IsZero() || !c.InternalDate.Before(since) {
					if adds == nil {
						adds = st.addsSet()
					}
					adds[c.UID] = true
				}
			}
			for _, uid := range ch.Vanished {
				if st.View.Has(uid) {
					st.Pending[uid] = pending{Deleted: true}
					continue
				}
				if adds == nil {
					adds = st.addsSet()
				}
				delete(adds, uid)
			}
			if adds != nil {
				st.setAdds(adds)
			}
			if ch.Status.HighestModSeq != st.ModSeq {
				st.ModSeq = ch.Status.HighestModSeq
				m.dirty = true
			}
			return m.ageOut(ctx) // mailage.go
		case errors.Is(err, source.ErrNoCondstore):
			// fall through to the full comparison
		default:
			return fmt.Errorf("engine: changes of %s: %w", m.mailbox, err)
		}
	}
	// First window, a new filter, or no CONDSTORE: compare the whole list.
	stt, list, err := mail.List(ctx, m.mailbox, since)
	if err != nil {
		return fmt.Errorf("engine: list %s: %w", m.mailbox, err)
	}
	if st.Primed && st.UIDValidity != 0 && stt.UIDValidity != st.UIDValidity {
		return source.ErrUIDValidity
	}
	live := make(map[uint32][]string, len(list))
	for _, x := range list {
		live[x.UID] = x.Flags
	}
	st.Pending = map[uint32]pending{}
	adds := map[uint32]bool{}
	for uid, flags := range live {
		h, ok := st.View.Get(uid)
		switch {
		case !ok:
			adds[uid] = true
		case h != flagsHash(flags):
			st.Pending[uid] = pending{Flags: flags}
		}
	}
	st.setAdds(adds)
	var missing []uint32
	st.View.Each(func(uid, _ uint32) {
		if _, ok := live[uid]; !ok {
			missing = append(missing, uid)
		}
	})
	// Outside the window but still there: SoftDelete (mailage.go).
	soft, err := m.outsideWindow(ctx, missing, since)
	if err != nil {
		return err
	}
	for _, uid := range missing {
		st.Pending[uid] = pending{Deleted: true, Soft: soft[uid]}
	}
	if !since.IsZero() {
		st.AgedAt = m.now.UnixNano() // the list was of the window
	}
	st.Primed, st.UIDValidity, st.ModSeq, st.Filter, st.Mailbox = true, stt.UIDValidity, stt.HighestModSeq, m.req.Options.FilterType, m.mailbox
	m.dirty = true
	return nil
}

// window moves up to WindowSize pending changes into the answer: deletions
// and flag changes first, then new messages newest first.
func (m *mailSync) window(ctx context.Context) error {
	st := m.st
	size := max(windowSize(m.req.WindowSize)-len(m.res.Responses), 1)
	order, more := pendingOrder(st.Pending, func(p pending) bool { return p.Deleted }, size)
	m.res.MoreAvailable = m.res.MoreAvailable || more
	nAdds := min(size-len(order), len(st.Adds))
	toFetch := slices.Clone(st.Adds[:nAdds])
	st.Adds = st.Adds[nAdds:]
	toFetch = m.poisonAdds(toFetch)
	for _, uid := range order {
		p := st.Pending[uid]
		sid := m.serverID(uid)
		switch {
		case p.Deleted:
			op := "Delete"
			if p.Soft {
				op = "SoftDelete" // outside the FilterType window (mailage.go)
			}
			m.res.Changes = append(m.res.Changes, server.ServerChange{Op: op, ServerID: sid})
			st.View.Delete(uid)
			delete(st.Pending, uid)
		case st.View.Has(uid):
			m.res.Changes = append(m.res.Changes, server.ServerChange{Op: "Change", ServerID: sid, Data: flagsData(p.Flags, m.req.Version)})
			st.View.Set(uid, flagsHash(p.Flags))
			delete(st.Pending, uid)
		}
	}
	if len(toFetch) == 0 {
		if len(st.Adds) > 0 {
			m.res.MoreAvailable = true
		}
		return nil
	}
	opts := m.s.convOptions(m.req.CollectionID, m.req.Options, m.req.Version)
	msgs, err := m.s.l.mail.Fetch(ctx, m.mailbox, toFetch, mailconv.Spec(opts))
	if err != nil {
		return fmt.Errorf("engine: fetch from %s: %w", m.mailbox, err)
	}
	got := make(map[uint32]*source.Message, len(msgs))
	for _, msg := range msgs {
		got[msg.UID] = msg
	}
	for _, uid := range toFetch {
		msg, ok := got[uid]
		if !ok {
			continue // expunged since: nothing to send
		}
		data, err := mailconv.ApplicationData(msg, m.s.withRefs(opts, m.req.CollectionID, uid))
		if err != nil {
			// SmartSync: one bad message never blocks the folder.
			m.poisonConvertFailed(uid, err)
			continue
		}
		m.pz.ok(mailItem(uid))
		m.res.Changes = append(m.res.Changes, server.ServerChange{Op: "Add", ServerID: m.serverID(uid), Data: data})
		st.View.Set(uid, flagsHash(msg.Flags))
	}
	if len(st.Pending) > 0 || len(st.Adds) > 0 {
		m.res.MoreAvailable = true
	}
	return nil
}

func (m *mailSync) serverID(uid uint32) string {
	return m.req.CollectionID + ":" + strconv.FormatUint(uint64(uid), 10)
}

// parseServerID splits "<CollectionId>:<UID>".
func parseServerID(id string) (coll string, uid uint32, ok bool) {
	c, u, found := strings.Cut(id, ":")
	if !found || c == "" {
		return "", 0, false
	}
	n, err := strconv.ParseUint(u, 10, 32)
	if err != nil || n == 0 {
		return "", 0, false
	}
	return c, uint32(n), true
}

// flagsData is the ApplicationData of a flag-only Change: Read, Flag and
// Categories (MS-ASEMAIL 2.2.2), written as the converter writes them.
func flagsData(flags []string, v eas.Version) *wbxml.Element {
	return mailconv.FlagApplicationData(flags, v)
}

// applyClientCommands writes the client's changes to IMAP (MS-ASCMD
// 2.2.3.24 Change, 2.2.3.42.2 Delete, 2.2.3.67.2 Fetch, 2.2.3.7.2 Add).
func (m *mailSync) applyClientCommands(ctx context.Context) error {
	st := m.st
	mail := m.s.l.mail
	var fetches []server.ClientCommand
	for _, c := range m.req.Commands {
		resp := server.ItemResponse{Op: c.Op, ServerID: c.ServerID, ClientID: c.ClientID, Status: eas.SyncStatusSuccess}
		coll, uid, ok := parseServerID(c.ServerID)
		if c.Op != "Add" && (!ok || coll != m.req.CollectionID) {
			// Another folder's or another user's id: this item only fails.
			resp.Status = eas.SyncStatusObjectNotFound
			m.res.Responses = append(m.res.Responses, resp)
			continue
		}
		switch c.Op {
		case "Change":
			if err := m.applyChange(ctx, uid, c.Data); err != nil {
				resp.Status = statusFor(err, eas.SyncStatusServerError)
				m.s.e.log.Info("engine: client change failed", "mailbox", m.mailbox, "uid", uid, "err", err)
				m.res.Responses = append(m.res.Responses, resp)
			}
		case "Delete":
			err := m.deleteMessage(ctx, uid)
			st.View.Delete(uid)
			delete(st.Pending, uid)
			st.dropAdd(uid)
			if err != nil && !errors.Is(err, eas.ErrNotFound) {
				resp.Status = statusFor(err, eas.SyncStatusServerError)
				m.res.Responses = append(m.res.Responses, resp)
			}
		case "Fetch":
			fetches = append(fetches, c)
		case "Add":
			if id, ok := st.ClientIDs[c.ClientID]; ok && c.ClientID != "" {
				resp.Status, resp.ServerID = eas.SyncStatusSuccess, m.serverID(id)
			} else if uid, err := m.addDraft(ctx, c); err != nil {
				resp.Status = statusFor(err, eas.SyncStatusServerError)
				m.s.e.log.Info("engine: client Add of a message refused", "mailbox", m.mailbox, "err", err)
			} else {
				resp.Status, resp.ServerID = eas.SyncStatusSuccess, m.serverID(uid)
				if c.ClientID != "" {
					st.ClientIDs[c.ClientID] = uid
				}
			}
			m.res.Responses = append(m.res.Responses, resp)
		}
	}
	if len(fetches) == 0 {
		return nil
	}
	opts := m.s.convOptions(m.req.CollectionID, m.req.Options, m.req.Version)
	uids := make([]uint32, 0, len(fetches))
	for _, c := range fetches {
		_, uid, _ := parseServerID(c.ServerID)
		uids = append(uids, uid)
	}
	msgs, err := mail.Fetch(ctx, m.mailbox, uids, mailconv.Spec(opts))
	if err != nil {
		return fmt.Errorf("engine: fetch: %w", err)
	}
	byUID := map[uint32]*source.Message{}
	for _, x := range msgs {
		byUID[x.UID] = x
	}
	for i, c := range fetches {
		resp := server.ItemResponse{Op: "Fetch", ServerID: c.ServerID, Status: eas.SyncStatusObjectNotFound}
		if msg := byUID[uids[i]]; msg != nil {
			if data, err := mailconv.ApplicationData(msg, m.s.withRefs(opts, m.req.CollectionID, uids[i])); err == nil {
				resp.Status, resp.Data = eas.SyncStatusSuccess, data
			} else {
				resp.Status = eas.SyncStatusConversionError
			}
		}
		m.res.Responses = append(m.res.Responses, resp)
	}
	return nil
}

// addDraft stores a client's new message, allowed only in the Drafts
// folder and from EAS 16.0 (MS-ASEMAIL 3.1.5.3 drafts).
func (m *mailSync) addDraft(ctx context.Context, c server.ClientCommand) (uint32, error) {
	mail := m.s.l.mail
	drafts, err := mail.SpecialUse(ctx, `\Drafts`)
	if err != nil {
		return 0, err
	}
	if !m.req.Version.AtLeast(eas.V160) || drafts == "" || drafts != m.mailbox {
		return 0, eas.Errorf(eas.SyncStatusProtocolError, "messages can only be added as drafts (16.0+) in the Drafts folder")
	}
	raw, err := mailconv.DraftMIME(c.Data, mailconv.DraftOptions{From: m.s.l.email, Date: m.now})
	if err != nil {
		return 0, eas.Errorf(eas.SyncStatusConversionError, "draft: %v", err)
	}
	uid, err := mail.Append(ctx, m.mailbox, []string{`\Draft`, `\Seen`}, m.now, bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return 0, err
	}
	if uid == 0 {
		return 0, eas.Errorf(eas.SyncStatusServerError, "the server did not tell the draft's UID")
	}
	m.st.View.Set(uid, flagsHash([]string{`\Draft`, `\Seen`}))
	return uid, nil
}

func (m *mailSync) applyChange(ctx context.Context, uid uint32, data *wbxml.Element) error {
	ch, err := mailconv.ParseChange(data)
	if err != nil {
		return eas.Errorf(eas.SyncStatusProtocolError, "change of %d: %v", uid, err)
	}
	mail := m.s.l.mail
	// Current flags: from what we know, else from the server.
	var current []string
	defer m.keepSoft(uid)() // mailage.go
	if p, ok := m.st.Pending[uid]; ok && !p.Soft {
		if p.Deleted {
			return eas.Errorf(eas.SyncStatusObjectNotFound, "uid %d was deleted on the server", uid)
		}
		if m.req.Options.Conflict != 0 {
			// MS-ASCMD 2.2.3.34 Conflict 1: the server wins; its pending
			// change is sent to the device instead.
			return nil
		}
		current = p.Flags
	} else {
		msgs, err := mail.Fetch(ctx, m.mailbox, []uint32{uid}, source.FetchSpec{})
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			return eas.Errorf(eas.SyncStatusObjectNotFound, "uid %d", uid)
		}
		current = msgs[0].Flags
	}
	add, remove := mailconv.IMAPFlags(ch, current)
	if len(add)+len(remove) > 0 {
		if err := mail.SetFlags(ctx, m.mailbox, uid, add, remove); err != nil {
			return err
		}
	}
	next := applyFlags(current, add, remove)
	if h, ok := m.st.View.Get(uid); ok {
		if h != flagsHash(current) {
			// The device did not have the flags it changed from (another
			// client changed them since): it gets the result, its change
			// and theirs, instead of the state claiming it has it (found
			// by the soak, docs/RELIABILITY.md).
			m.st.Pending[uid] = pending{Flags: next}
			return nil
		}
		m.st.View.Set(uid, flagsHash(next))
	}
	delete(m.st.Pending, uid)
	return nil
}

func applyFlags(cur, add, remove []string) []string {
	out := make([]string, 0, len(cur)+len(add))
	for _, f := range cur {
		if !containsFold(remove, f) {
			out = append(out, f)
		}
	}
	for _, f := range add {
		if !containsFold(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// deleteMessage moves a message to Trash when DeletesAsMoves (the default)
// and the folder is not Trash itself; otherwise expunges exactly it.
func (m *mailSync) deleteMessage(ctx context.Context, uid uint32) error {
	mail := m.s.l.mail
	if m.req.DeletesAsMoves {
		trash, err := mail.SpecialUse(ctx, `\Trash`)
		if err == nil && trash != "" && trash != m.mailbox {
			_, err := mail.Move(ctx, m.mailbox, uid, trash)
			return err
		}
	}
	return mail.Delete(ctx, m.mailbox, uid)
}

// statusFor maps an error to a Sync item status.
func statusFor(err error, def eas.Status) eas.Status {
	if st, ok := eas.StatusOf(err); ok {
		return st
	}
	if errors.Is(err, eas.ErrNotFound) {
		return eas.SyncStatusObjectNotFound
	}
	return def
}

// convOptions are the converter options for a collection of this login.
func (s *session) convOptions(collectionID string, o server.ItemOptions, v eas.Version) mailconv.Options {
	return mailconv.Options{
		Version: v, BodyPrefs: o.BodyPrefs, BodyPartPrefs: o.BodyPartPrefs, MIMESupport: o.MIMESupport,
		MIMETruncation: o.MIMETruncation, UserAddress: s.l.email,
	}
}

// withRefs sets the FileReference maker for one message.
func (s *session) withRefs(o mailconv.Options, collectionID string, uid uint32) mailconv.Options {
	o.FileReference = func(part []int) string { return fileReference(collectionID, uid, part) }
	return o
}

// ItemEstimate implements server.ItemSync: the number of changes the next
// Sync would send.
func (s *session) ItemEstimate(ctx context.Context, deviceID, collectionID, syncKey string, opts server.ItemOptions) (int, error) {
	key, err := s.collectionKey(ctx, collectionID)
	if err != nil {
		return 0, err
	}
	mailbox, isMail := mailboxOf(key)
	col, err := s.store().Collection(ctx, s.l.user, deviceID, collectionID)
	if err != nil {
		return 0, err
	}
	k, _ := strconv.Atoi(syncKey)
	if k <= 0 || (k != col.Key && k != col.PrevKey) {
		return 0, fmt.Errorf("engine: estimate with key %q: %w", syncKey, eas.ErrInvalidSyncKey)
	}
	data := col.Data
	if k == col.PrevKey && k != col.Key {
		data = col.PrevData
	}
	o, err := s.offeredFolder(ctx, deviceID, key) // view.go
	if err != nil {
		return 0, err
	}
	if o.Filter != 0 {
		opts.FilterType = o.Filter // as SyncCollection does
	}
	if len(o.Members) > 0 && s.l.dav != nil && len(data) > 0 {
		st, err := decodeDAVState(data, true)
		if err != nil {
			return 0, fmt.Errorf("engine: estimate: %w: %w", err, eas.ErrInvalidSyncKey)
		}
		d := &davSync{s: s, deviceID: deviceID, coll: o.Members[0].Key, class: s.collectionClass(ctx, deviceID, collectionID),
			items: s.l.dav, st: st, view: &o, req: &server.SyncCollection{CollectionID: collectionID, Options: opts}}
		return d.estimate(ctx) // davestimate.go
	}
	if mb, ok := notesMailboxOf(key); ok {
		return s.notesEstimate(ctx, mb, data)
	}
	if !isMail || s.l.mail == nil {
		return 0, nil
	}
	st, err := decodeMailState(data, true)
	if err != nil {
		return 0, err
	}
	ms := &mailSync{s: s, deviceID: deviceID, mailbox: mailbox, now: s.e.opts.Now(), st: st,
		req: &server.SyncCollection{CollectionID: collectionID, Options: opts}}
	if err := ms.collectServerChanges(ctx); err != nil {
		return 0, err
	}
	return len(st.Pending) + len(st.Adds), nil
}
