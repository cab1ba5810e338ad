package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/state"
	"easbridge/sync/watch"
)

// Push (MS-ASCMD 2.2.1.13 Ping, and Sync with Wait).
//
// Implementation notes:
//   - One watcher per remote account (watch.Hub), shared by every device
//     and folder of that account; a Ping subscribes to its folders and
//     unsubscribes when it returns.
//   - A change between the device's last Sync of a folder and the Ping
//     counts: each folder is checked against the device's state first
//     (STATUS vs the stored HIGHESTMODSEQ, the DAV token vs the stored
//     one, pending changes), after subscribing so that nothing falls in
//     between.
//   - Watcher events are hints: each is verified with the same cheap check
//     before the Ping answers.

// watchKey names this login's remote account in the hub: one watcher per
// (account, remote user).
func (s *session) watchKey() string { return s.l.account.Name + "\x00" + s.l.remote }

// watchAccount describes this login for the hub.
func (s *session) watchAccount() watch.Account {
	a := watch.Account{Key: s.watchKey()}
	dial, startTLS := s.l.account.IMAP.WatchDial()
	a.IMAP = &watch.IMAPConfig{Dial: dial, StartTLS: startTLS, User: s.l.remote, Password: s.l.password}
	if s.l.dav != nil {
		a.DAVToken = s.l.dav.Token
	}
	return a
}

type pingTarget struct {
	id, key string
	view    *offered // a DAV collection offered through a view (view.go)
}

// WaitForChanges implements server.Pinger.
func (s *session) WaitForChanges(ctx context.Context, deviceID string, folders []server.PingFolder) ([]string, error) {
	var targets []pingTarget
	var mailboxes, collections []string
	// Folder settings that change while the Ping is held make it answer
	// Status 7 (folder hierarchy sync required).
	settings := s.e.folders.changed(s.l.user, deviceID)
	view, err := s.deviceView(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	for _, f := range folders {
		key, err := s.store().FolderKey(ctx, s.l.user, f.ID)
		if errors.Is(err, state.ErrNotFound) {
			return nil, fmt.Errorf("engine: ping folder %s: %w", f.ID, eas.ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		o, err := view.offered(key)
		if err != nil {
			return nil, err // not offered any more, or settings changed: Status 7
		}
		if len(o.Members) > 0 && (len(o.Members) > 1 || o.Members[0].Key != key) {
			for _, m := range o.Members {
				collections = append(collections, m.Key)
			}
			targets = append(targets, pingTarget{id: f.ID, key: key, view: &o})
			continue
		}
		switch {
		case strings.HasPrefix(key, "imap:"):
			mailboxes = append(mailboxes, key[len("imap:"):])
		case strings.HasPrefix(key, notesKeyPrefix):
			mailboxes = append(mailboxes, key[len(notesKeyPrefix):])
		case strings.HasPrefix(key, "caldav:"), strings.HasPrefix(key, "carddav:"):
			collections = append(collections, key)
		default:
			continue // the virtual Outbox never changes
		}
		targets = append(targets, pingTarget{id: f.ID, key: key})
	}
	if len(targets) == 0 {
		<-ctx.Done()
		return nil, nil
	}
	// The login (and its connections) must outlive this Ping, which may be
	// held for up to the maximum heartbeat (MS-ASCMD: 3540 s).
	if dl, ok := ctx.Deadline(); ok {
		s.e.keepAlive(s.l, time.Until(dl)+time.Minute)
	} else {
		s.e.keepAlive(s.l, time.Hour)
	}
	acct := s.watchAccount()
	events, err := s.e.hub.Watch(ctx, acct, mailboxes, collections)
	if err != nil {
		return nil, fmt.Errorf("engine: watch: %w", err)
	}
	if changed := s.changedFolders(ctx, deviceID, targets, nil); len(changed) > 0 {
		return changed, nil
	}
	recheck := time.NewTicker(settingsRecheck)
	defer recheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, nil
		case <-settings:
			return nil, errNotOffered
		case <-recheck.C:
			if s.settingsGeneration(ctx) != view.gen {
				return nil, errNotOffered // changed by `easbridge folders`
			}
			continue
		case ev, ok := <-events:
			if !ok {
				return nil, nil
			}
			hinted := map[string]bool{}
			add := func(e watch.Event) {
				if e.Mailbox != "" {
					hinted["imap:"+e.Mailbox] = true
					hinted[notesKeyPrefix+e.Mailbox] = true
				}
				if e.Collection != "" {
					hinted[e.Collection] = true
				}
			}
			add(ev)
		drain:
			for {
				select {
				case e, ok := <-events:
					if !ok {
						break drain
					}
					add(e)
				default:
					break drain
				}
			}
			if changed := s.changedFolders(ctx, deviceID, targets, hinted); len(changed) > 0 {
				return changed, nil
			}
		}
	}
}

// changedFolders returns the ids of targets (only those hinted, when
// hinted is not nil) that have changes the device has not been sent.
func (s *session) changedFolders(ctx context.Context, deviceID string, targets []pingTarget, hinted map[string]bool) []string {
	var out []string
	for _, t := range targets {
		if hinted != nil && !hinted[t.key] && !t.hintedView(hinted) {
			continue
		}
		if s.folderChanged(ctx, deviceID, t) {
			out = append(out, t.id)
		}
	}
	return out
}

func (s *session) folderChanged(ctx context.Context, deviceID string, t pingTarget) bool {
	col, err := s.store().Collection(ctx, s.l.user, deviceID, t.id)
	if err != nil || col.Key == 0 {
		return true // never synced: the device should sync it
	}
	if len(col.Data) == 0 {
		return false // a collection without items (the Outbox, journals)
	}
	if mb, ok := notesMailboxOf(t.key); ok {
		return s.notesChanged(ctx, mb, col.Data)
	}
	if mb, ok := mailboxOf(t.key); ok {
		st, err := decodeMailState(col.Data, false)
		if err != nil || !st.Primed || len(st.Pending) > 0 || len(st.Adds) > 0 {
			return true
		}
		stt, err := s.l.mail.Status(ctx, mb)
		if err != nil {
			return false // the watcher will tell again once the server is back
		}
		return stt.UIDValidity != st.UIDValidity || (st.ModSeq > 0 && stt.HighestModSeq != st.ModSeq)
	}
	st, err := decodeDAVState(col.Data, false)
	if err != nil || !st.Primed || len(st.Pending) > 0 {
		return true
	}
	if t.view != nil {
		tok, err := s.viewToken(ctx, *t.view)
		return err == nil && tok != st.Token
	}
	tok, err := s.l.dav.Token(ctx, t.key)
	if err != nil {
		return false
	}
	return tok != st.Token
}

type pingParams struct {
	Heartbeat int                 `json:"hb"`
	Folders   []server.PingFolder `json:"folders"`
}

// PingParams implements server.PingCache.
func (s *session) PingParams(ctx context.Context, user, deviceID string) (int, []server.PingFolder, bool, error) {
	b, err := s.store().Setting(ctx, s.l.user, "ping/"+deviceID)
	if errors.Is(err, state.ErrNotFound) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, err
	}
	var p pingParams
	if err := json.Unmarshal(b, &p); err != nil {
		return 0, nil, false, nil
	}
	return p.Heartbeat, p.Folders, true, nil
}

// SetPingParams implements server.PingCache.
func (s *session) SetPingParams(ctx context.Context, user, deviceID string, hb int, folders []server.PingFolder) error {
	b, err := json.Marshal(pingParams{Heartbeat: hb, Folders: folders})
	if err != nil {
		return err
	}
	return s.store().PutSetting(ctx, s.l.user, "ping/"+deviceID, b)
}
