package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/state"
)

// Poison items: one item that cannot be sent or written never stops its
// folder.
//
// Implementation notes:
//   - Three ways an item fails: its conversion for the phone fails (bad
//     iCalendar, vCard or MIME; Kind "convert"); the phone keeps repeating
//     the previous SyncKey, i.e. it failed to take in the window we sent
//     (Kind "window"); the phone's own Add or Change of it keeps failing
//     (Kind "client").
//   - Each failure is a try. A failing item stays queued (the rest of the
//     window goes on) until PoisonTries tries; then it is set aside: left
//     out of the windows until it changes at the source (a new ETag), a
//     Retry, or forever after SkipPoisonItem. A repeated window is set
//     aside whole on the PoisonTries-th repeat of the same key. A client
//     change set aside is answered Status 6 (conversion error: the client
//     stops resending it, MS-ASCMD 2.2.3.177.17).
//   - The records are one JSON value per user in the settings table
//     (setting "poison"), read once per Sync request and written only
//     when something changed; no schema change. They are per device: each
//     device's window and state are its own.

// DefaultPoisonTries is how many tries an item gets before it is set aside.
const DefaultPoisonTries = 3

const poisonSettingName = "poison"

// Poison kinds.
const (
	PoisonConvert = "convert" // conversion for the phone failed
	PoisonWindow  = "window"  // the phone kept repeating the window's SyncKey
	PoisonClient  = "client"  // the phone's own Add/Change kept failing
)

// PoisonItem is one item that failed, for the window's Problems list.
type PoisonItem struct {
	ID           string `json:"id"`
	User         string `json:"user"`
	DeviceID     string `json:"device"`
	CollectionID string `json:"collection"`
	// Folder is the source folder key (e.g. "caldav:/alice/calendar/").
	Folder string `json:"folder"`
	// Item is the source item: a DAV path, "uid:<n>" for a message, or
	// "<Op>:<id>" for a client command.
	Item string `json:"item"`
	// Version is the item's ETag when it was set aside; a new version
	// gets new tries.
	Version   string    `json:"version,omitempty"`
	Kind      string    `json:"kind"`
	Reason    string    `json:"reason"`
	Tries     int       `json:"tries"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// SetAside: left out of the sync until it changes or is retried.
	SetAside bool `json:"set_aside,omitempty"`
	// Skipped: set aside for good (never retried; still listed).
	Skipped bool `json:"skipped,omitempty"`
	// Retry: asked for from the window; the next Sync of the folder
	// queues the item again and forgets this record.
	Retry bool `json:"retry,omitempty"`
}

// poisonRepeat counts how often a device repeated one SyncKey.
type poisonRepeat struct {
	Key   int `json:"key"`
	Count int `json:"count"`
}

// poisonDoc is the stored value.
type poisonDoc struct {
	Items   []*PoisonItem           `json:"items"`
	Repeats map[string]poisonRepeat `json:"repeats,omitempty"` // device/collection → repeats
}

// poisonBook is one user's records during one request. Changes are
// applied at once to doc and kept as ops; save replays them on the stored
// value under the engine's lock, so that two requests (two devices, or a
// Retry from the window) never overwrite each other's changes.
type poisonBook struct {
	e    *Engine
	user string
	doc  poisonDoc
	ops  []func(*poisonDoc)
	now  time.Time
	idx  map[string]*PoisonItem // doc.Items by ID, built on first lookup
}

func poisonID(device, collection, item string) string {
	return device + "/" + collection + "/" + item
}

func (e *Engine) poisonTries() int {
	if e.opts.PoisonTries > 0 {
		return e.opts.PoisonTries
	}
	return DefaultPoisonTries
}

func (e *Engine) readPoison(ctx context.Context, user string) (poisonDoc, error) {
	var d poisonDoc
	raw, err := e.opts.Store.Setting(ctx, user, poisonSettingName)
	switch {
	case errors.Is(err, state.ErrNotFound):
	case err != nil:
		return d, fmt.Errorf("engine: poison items of %s: %w", user, err)
	default:
		if err := json.Unmarshal(raw, &d); err != nil {
			// A damaged record must not stop syncing: start afresh.
			e.log.Warn("engine: poison records unreadable; starting afresh", "user", user, "err", err)
			d = poisonDoc{}
		}
	}
	if d.Repeats == nil {
		d.Repeats = map[string]poisonRepeat{}
	}
	return d, nil
}

func (e *Engine) loadPoison(ctx context.Context, user string) (*poisonBook, error) {
	d, err := e.readPoison(ctx, user)
	if err != nil {
		return nil, err
	}
	return &poisonBook{e: e, user: user, doc: d, now: e.opts.Now()}, nil
}

// apply changes the records now and again at save.
func (b *poisonBook) apply(f func(*poisonDoc)) {
	f(&b.doc)
	b.ops = append(b.ops, f)
	b.idx = nil
}

// lookup finds a record by ID.
func (b *poisonBook) lookup(id string) *PoisonItem {
	if b.idx == nil {
		b.idx = make(map[string]*PoisonItem, len(b.doc.Items))
		for _, it := range b.doc.Items {
			b.idx[it.ID] = it
		}
	}
	return b.idx[id]
}

func (b *poisonBook) save(ctx context.Context) error {
	if len(b.ops) == 0 {
		return nil
	}
	b.e.poisonMu.Lock()
	defer b.e.poisonMu.Unlock()
	d, err := b.e.readPoison(ctx, b.user)
	if err != nil {
		return err
	}
	for _, f := range b.ops {
		f(&d)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("engine: poison items: %w", err)
	}
	if err := b.e.opts.Store.PutSetting(ctx, b.user, poisonSettingName, raw); err != nil {
		return fmt.Errorf("engine: store poison items of %s: %w", b.user, err)
	}
	b.doc, b.ops, b.idx = d, nil, nil
	return nil
}

func (d *poisonDoc) find(id string) (int, *PoisonItem) {
	for i, it := range d.Items {
		if it.ID == id {
			return i, it
		}
	}
	return -1, nil
}

func (d *poisonDoc) remove(id string) {
	if i, _ := d.find(id); i >= 0 {
		d.Items = append(d.Items[:i], d.Items[i+1:]...)
	}
}

// poisonRun is the view of a book for one Sync of one collection.
type poisonRun struct {
	b        *poisonBook
	device   string
	coll     string // CollectionId
	folder   string // source key
	n        int    // tries before setting aside
	repeated bool   // the device repeated this key PoisonTries times
}

// poisonFor loads the records for a Sync of collection (folder is its
// source key); fromPrev says the device repeated its previous key. A
// failure to read them is logged and syncing goes on without them.
func (s *session) poisonFor(ctx context.Context, deviceID string, req *server.SyncCollection, folder string, fromPrev bool) *poisonRun {
	b, err := s.e.loadPoison(ctx, s.l.user)
	if err != nil {
		s.e.log.Warn("engine: poison records", "user", s.l.user, "err", err)
		b = &poisonBook{e: s.e, user: s.l.user, doc: poisonDoc{Repeats: map[string]poisonRepeat{}}, now: s.e.opts.Now()}
	}
	r := &poisonRun{b: b, device: deviceID, coll: req.CollectionID, folder: folder, n: s.e.poisonTries()}
	rk := deviceID + "/" + req.CollectionID
	key, _ := strconv.Atoi(req.SyncKey)
	prev, had := b.doc.Repeats[rk]
	switch {
	case fromPrev:
		count := 1
		if had && prev.Key == key {
			count = prev.Count + 1
		}
		r.repeated = count >= r.n
		b.apply(func(d *poisonDoc) { d.Repeats[rk] = poisonRepeat{Key: key, Count: count} })
	case had:
		b.apply(func(d *poisonDoc) { delete(d.Repeats, rk) }) // the device moved on
	}
	return r
}

func (r *poisonRun) id(item string) string { return poisonID(r.device, r.coll, item) }

// aside reports whether item (at version; "" when unknown) is set aside.
func (r *poisonRun) aside(item, version string) bool {
	if r == nil || len(r.b.doc.Items) == 0 {
		return false
	}
	it := r.b.lookup(r.id(item))
	if it == nil || !it.SetAside {
		return false
	}
	return it.Skipped || version == "" || it.Version == "" || it.Version == version
}

// retries returns the items a Retry asked to queue again, forgetting
// their records.
func (r *poisonRun) retries() []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, it := range r.b.doc.Items {
		if it.Retry && it.DeviceID == r.device && it.CollectionID == r.coll && it.Kind != PoisonClient {
			out = append(out, it.Item)
		}
	}
	for _, item := range out {
		id := r.id(item)
		r.b.apply(func(d *poisonDoc) { d.remove(id) })
	}
	return out
}

// fail records one failed try of item and reports whether it is now set
// aside.
func (r *poisonRun) fail(item, version, kind, reason string) bool {
	if r == nil {
		return false
	}
	id, now, n := r.id(item), r.b.now, r.n
	rec := PoisonItem{ID: id, User: r.b.user, DeviceID: r.device, CollectionID: r.coll, Folder: r.folder, Item: item}
	var aside bool
	r.b.apply(func(d *poisonDoc) {
		_, it := d.find(id)
		if it != nil && it.Version != version && version != "" && !it.Skipped {
			d.remove(id) // a new version of the item: new tries
			it = nil
		}
		if it == nil {
			it = &PoisonItem{}
			*it = rec
			it.FirstSeen = now
			d.Items = append(d.Items, it)
		}
		it.Version, it.Kind, it.Reason, it.LastSeen, it.Retry = version, kind, reason, now, false
		it.Tries++
		if it.Tries >= n {
			it.SetAside = true
		}
		aside = it.SetAside
	})
	if aside {
		r.b.e.log.Warn("engine: item set aside after repeated failures", "user", r.b.user, "device", r.device,
			"folder", r.folder, "item", item, "reason", reason)
	}
	return aside
}

// ok forgets item after it went through.
func (r *poisonRun) ok(item string) {
	if r == nil {
		return
	}
	if len(r.b.doc.Items) == 0 {
		return
	}
	id := r.id(item)
	if r.b.lookup(id) == nil {
		return
	}
	r.b.apply(func(d *poisonDoc) {
		if _, it := d.find(id); it != nil && !it.Skipped {
			d.remove(id)
		}
	})
}

// setAsideWindow sets aside every item of a window the device kept
// failing to take, and returns the items to send instead (none of them).
func (r *poisonRun) setAsideWindow(items []string, version func(string) string) {
	for _, item := range items {
		if it := r.b.lookup(r.id(item)); it != nil && it.SetAside {
			continue
		}
		reason := fmt.Sprintf("the device repeated SyncKey %d times instead of taking the window with this item", r.n)
		for !r.fail(item, version(item), PoisonWindow, reason) {
		}
	}
}

// clientResults counts the phone's failed Adds and Changes as tries, sets
// aside those that failed PoisonTries times (answered Status 6 so that the
// phone stops resending them) and forgets those that went through.
func (r *poisonRun) clientResults(req *server.SyncCollection, res *server.SyncCollectionResult) {
	if r == nil {
		return
	}
	failed := map[string]bool{}
	for i := range res.Responses {
		resp := &res.Responses[i]
		if resp.Op != "Add" && resp.Op != "Change" {
			continue
		}
		item := clientItem(resp.Op, resp.ServerID, resp.ClientID)
		if resp.Status == eas.SyncStatusSuccess || resp.Status == eas.SyncStatusRetry || item == "" {
			continue
		}
		failed[item] = true
		reason := fmt.Sprintf("the device's %s failed with Status %d", resp.Op, int(resp.Status))
		if r.fail(item, "", PoisonClient, reason) {
			resp.Status = eas.SyncStatusConversionError
		}
	}
	for _, c := range req.Commands {
		if item := clientItem(c.Op, c.ServerID, c.ClientID); item != "" && !failed[item] {
			r.ok(item)
		}
	}
}

func clientItem(op, serverID, clientID string) string {
	switch {
	case op == "Add" && clientID != "":
		return "add:" + clientID
	case op == "Change" && serverID != "":
		return "change:" + serverID
	}
	return ""
}

// PoisonItems lists user's items that failed, oldest first.
func (e *Engine) PoisonItems(ctx context.Context, user string) ([]PoisonItem, error) {
	b, err := e.loadPoison(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]PoisonItem, 0, len(b.doc.Items))
	for _, it := range b.doc.Items {
		out = append(out, *it)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FirstSeen.Before(out[j].FirstSeen) })
	return out, nil
}

// RetryPoisonItem queues an item again at the next Sync of its folder
// (a client change is forgotten: the phone sends it again).
func (e *Engine) RetryPoisonItem(ctx context.Context, user, id string) error {
	var rec PoisonItem
	err := e.editPoison(ctx, user, id, func(d *poisonDoc, it *PoisonItem) {
		rec = *it
		if it.Kind == PoisonClient {
			d.remove(id)
			return
		}
		it.Retry, it.SetAside, it.Skipped, it.Tries = true, false, false, 0
	})
	if err != nil {
		return err
	}
	if uid, ok := mailItemUID(rec.Item); ok && rec.Kind != PoisonClient {
		// A mail folder with nothing queued answers a Sync without
		// reading anything (mailsync.go): queue the message in its state
		// so that the next Sync sends it.
		e.queueMessage(ctx, user, rec.DeviceID, rec.CollectionID, uid)
	}
	return nil
}

// queueMessage adds uid to the new messages of a device's mail collection
// state, in place (same key). Failures only delay the retry to the next
// change in the folder.
func (e *Engine) queueMessage(ctx context.Context, user, deviceID, collectionID string, uid uint32) {
	st := e.opts.Store
	col, err := st.Collection(ctx, user, deviceID, collectionID)
	if err != nil || col.Key == 0 {
		return
	}
	ms, err := decodeMailState(col.Data, true)
	if err != nil || ms.View.Has(uid) {
		return
	}
	ms.dropAdd(uid)
	ms.Adds = append([]uint32{uid}, ms.Adds...)
	if err := st.ReplaceCollection(ctx, user, deviceID, collectionID, col.Key, col.Key, ms.encode()); err != nil {
		e.log.Info("engine: queue retried message", "collection", collectionID, "uid", uid, "err", err)
	}
}

// SkipPoisonItem sets an item aside for good: never retried, still listed.
func (e *Engine) SkipPoisonItem(ctx context.Context, user, id string) error {
	return e.editPoison(ctx, user, id, func(_ *poisonDoc, it *PoisonItem) {
		it.Skipped, it.SetAside, it.Retry = true, true, false
	})
}

func (e *Engine) editPoison(ctx context.Context, user, id string, f func(*poisonDoc, *PoisonItem)) error {
	b, err := e.loadPoison(ctx, user)
	if err != nil {
		return err
	}
	if _, it := b.doc.find(id); it == nil {
		return fmt.Errorf("engine: poison item %q of %s: %w", id, user, eas.ErrNotFound)
	}
	b.apply(func(d *poisonDoc) {
		if _, it := d.find(id); it != nil {
			f(d, it)
		}
	})
	return b.save(ctx)
}
