package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
	"easbridge/sync/source"
)

// Calendar, contact, task and note Sync over CalDAV/CardDAV.
//
// Implementation notes:
//   - ServerIds are "<CollectionId>:<n>", n a per-collection counter kept
//     in the state with each member's path and ETag.
//   - A no-change Sync is one sync-collection REPORT with the stored token
//     (RFC 6578); changes found are queued and sent in windows.
//   - Client writes carry If-Match (changes, deletes) or If-None-Match: *
//     (adds). A 412 means the server changed the item: with Conflict 1
//     (server wins, the default) the client's change is dropped and the
//     server's version is sent; with Conflict 0 it is written again over
//     the new version.
//   - Adds are idempotent by ClientId.

// collectionClass is the EAS class of a folder as this device knows it.
func (s *session) collectionClass(ctx context.Context, deviceID, collectionID string) string {
	h, err := s.store().Hierarchy(ctx, s.l.user, deviceID)
	if err == nil {
		for _, f := range h.Folders {
			if f.ServerID == collectionID {
				return f.Type.Class()
			}
		}
	}
	return ""
}

type davSync struct {
	s        *session
	deviceID string
	req      *server.SyncCollection
	coll     string // folder key
	class    string
	items    source.DAVItems
	view     *offered   // the folder's view (viewdav.go); nil: coll alone, as it is
	pz       *poisonRun // items that keep failing (poison.go)

	st       *davState
	curKey   int
	fromPrev bool
	dirty    bool
	res      server.SyncCollectionResult
}

func (s *session) syncDAV(ctx context.Context, deviceID string, req *server.SyncCollection, key string) (*server.SyncCollectionResult, error) {
	class := s.collectionClass(ctx, deviceID, req.CollectionID)
	if class == "" || class == "Email" || class == "Journal" {
		return s.syncEmpty(ctx, deviceID, req)
	}
	d := &davSync{s: s, deviceID: deviceID, req: req, coll: key, class: class, items: s.l.dav}
	d.res.Class, d.res.Status = class, eas.SyncStatusSuccess
	return d.run(ctx)
}

func (d *davSync) run(ctx context.Context) (*server.SyncCollectionResult, error) {
	oc, err := d.s.openCollection(ctx, d.deviceID, d.req, &d.res, func() []byte {
		return (&davState{NextID: 1, Filter: d.req.Options.FilterType}).encode()
	})
	if err != nil {
		return nil, err
	}
	if oc.primed {
		return &d.res, nil
	}
	d.curKey, d.fromPrev = oc.curKey, oc.fromPrev
	if d.st, err = decodeDAVState(oc.data, true); err != nil {
		// An unreadable state (an older format, damage) makes the device
		// start over with this folder: Status 3, never a crash.
		return nil, fmt.Errorf("engine: collection %s: %w: %w", d.req.CollectionID, err, eas.ErrInvalidSyncKey)
	}
	d.poisonStart(ctx) // poisonhooks.go
	if err := d.applyClientCommands(ctx); err != nil {
		return nil, err
	}
	if d.req.GetChanges {
		d.refilter() // davfilter.go
		if err := d.collect(ctx); err != nil {
			return nil, err
		}
		d.ageOut() // davage.go
		if err := d.window(ctx); err != nil {
			return nil, err
		}
	}
	return d.commit(ctx)
}

func (d *davSync) commit(ctx context.Context) (*server.SyncCollectionResult, error) {
	d.poisonCommit(ctx)
	return d.s.commitCollection(ctx, d.deviceID, d.req, &d.res, d.curKey, d.fromPrev, d.dirty, d.st.encode())
}

// collect brings Pending up to date with the server.
func (d *davSync) collect(ctx context.Context) error {
	if d.view != nil {
		return d.collectView(ctx)
	}
	st := d.st
	tok, err := d.pendChanges(ctx, d.coll, st.Token, nil)
	if err != nil {
		return err
	}
	if tok != st.Token || !st.Primed {
		st.Token, st.Primed = tok, true
		d.dirty = true
	}
	return nil
}

// pendChanges asks for the changes of collection coll since token (all of
// it when the server no longer knows the token), records them in Pending
// and returns the new token. After a full listing, the items that owns
// (nil: every item) says belong to coll and were not listed are deleted.
func (d *davSync) pendChanges(ctx context.Context, coll, token string, owns func(path string) bool) (string, error) {
	st := d.st
	ch, err := d.items.Changes(ctx, coll, token)
	if errors.Is(err, source.ErrTokenInvalid) {
		ch, err = d.items.Changes(ctx, coll, "")
	}
	if err != nil {
		return "", fmt.Errorf("engine: changes of %s: %w", coll, err)
	}
	listed := map[string]bool{}
	for _, c := range ch.Changed {
		listed[c.Path] = true
		if it, ok := st.Items[c.Path]; ok && it.ETag == c.ETag {
			delete(st.Pending, c.Path) // the device has this version (our own write)
			continue
		}
		st.Pending[c.Path] = davPending{ETag: c.ETag}
	}
	for _, p := range ch.Deleted {
		if _, ok := st.Items[p]; ok {
			st.Pending[p] = davPending{Deleted: true}
		} else {
			delete(st.Pending, p)
		}
	}
	if ch.Full {
		for p := range st.Items {
			if !listed[p] && (owns == nil || owns(p)) {
				st.Pending[p] = davPending{Deleted: true}
			}
		}
	}
	return ch.Token, nil
}

func (d *davSync) serverID(id uint32) string {
	return d.req.CollectionID + ":" + strconv.FormatUint(uint64(id), 10)
}

// window sends up to WindowSize pending changes.
func (d *davSync) window(ctx context.Context) error {
	st := d.st
	d.poisonPrune()
	order, more := pendingOrder(st.Pending, func(x davPending) bool { return x.Deleted }, windowSize(d.req.WindowSize))
	d.res.MoreAvailable = d.res.MoreAvailable || more
	order = d.poisonWindow(order)
	var fetch []string
	for _, p := range order {
		if st.Pending[p].Deleted {
			if it, ok := st.Items[p]; ok {
				d.res.Changes = append(d.res.Changes, server.ServerChange{Op: "Delete", ServerID: d.serverID(it.ID)})
				delete(st.Items, p)
			}
			delete(st.Pending, p)
			continue
		}
		fetch = append(fetch, p)
	}
	if len(fetch) > 0 {
		objs, err := d.get(ctx, fetch)
		if err != nil {
			return fmt.Errorf("engine: get from %s: %w", d.coll, err)
		}
		byPath := make(map[string]source.DAVObject, len(objs))
		for _, o := range objs {
			byPath[o.Path] = o
		}
		opts := d.s.calOptions(d.req)
		for _, p := range fetch {
			o, ok := byPath[p]
			delete(st.Pending, p)
			if !ok {
				continue // gone meanwhile: the next changes call says so
			}
			data, err := d.filteredToEAS(o, opts) // davfilter.go
			if errors.Is(err, errItemNotOffered) {
				if it, known := st.Items[p]; known {
					op := "Delete"
					if errors.Is(err, errOutsideFilter) {
						op = "SoftDelete" // davfilter.go
					}
					d.res.Changes = append(d.res.Changes, server.ServerChange{Op: op, ServerID: d.serverID(it.ID)})
					delete(st.Items, p)
				}
				continue
			}
			if err != nil {
				// SmartSync: one bad item never stops the folder.
				d.poisonConvertFailed(p, o.ETag, err)
				continue
			}
			d.pz.ok(p)
			it, known := st.Items[p]
			if !known {
				it = davItem{ID: st.NextID}
				st.NextID++
			}
			// A ServerId MeetingResponse gave out (meeting.go) is sent as an Add.
			reserved := known && it.ETag == reservedETag
			it.ETag, it.End = o.ETag, d.lastEnd(o) // davage.go
			st.Items[p] = it
			op := "Add"
			if known && !reserved {
				op = "Change"
			}
			d.res.Changes = append(d.res.Changes, server.ServerChange{Op: op, ServerID: d.serverID(it.ID), Data: data})
		}
	}
	if len(st.Pending) > 0 {
		d.res.MoreAvailable = true
	}
	return nil
}

func (s *session) calOptions(req *server.SyncCollection) calconv.Options {
	return calconv.Options{Version: req.Version, BodyPrefs: req.Options.BodyPrefs, UserAddress: s.l.email, Now: s.e.opts.Now()}
}

// itemPath resolves a client ServerId to a member path of this collection.
func (d *davSync) itemPath(serverID string) (string, davItem, bool) {
	coll, n, ok := parseServerID(serverID)
	if !ok || coll != d.req.CollectionID {
		return "", davItem{}, false
	}
	p, ok := d.st.pathOf(n)
	if !ok {
		return "", davItem{}, false
	}
	return p, d.st.Items[p], true
}

func (d *davSync) applyClientCommands(ctx context.Context) error {
	st := d.st
	opts := d.s.calOptions(d.req)
	serverWins := d.req.Options.Conflict != 0
	for _, c := range d.req.Commands {
		resp := server.ItemResponse{Op: c.Op, ServerID: c.ServerID, ClientID: c.ClientID, Status: eas.SyncStatusSuccess}
		switch c.Op {
		case "Add":
			if p, ok := st.ClientIDs[c.ClientID]; ok && c.ClientID != "" {
				if it, ok := st.Items[p]; ok {
					resp.ServerID = d.serverID(it.ID)
					d.res.Responses = append(d.res.Responses, resp)
					continue
				}
			}
			data, uid, err := d.fromEAS("", c.Data, nil, opts)
			if err != nil {
				resp.Status = eas.SyncStatusConversionError
				d.res.Responses = append(d.res.Responses, resp)
				continue
			}
			p := d.addPath(uid, c.ClientID) // addpath.go
			etag, err := d.items.Put(ctx, d.coll, p, data, "")
			if errors.Is(err, source.ErrPrecondition) && c.ClientID != "" {
				if e, ok := d.adoptAdd(ctx, p); ok {
					etag, err = e, nil
				}
			}
			if err != nil {
				d.s.e.log.Info("engine: client add refused", "collection", d.coll, "err", err)
				if c.ClientID != "" {
					// The PUT may have been stored all the same (the server
					// went away before answering): when a later look finds
					// the object and sends it to the device, the repeated
					// Add answers with its ServerId instead of a second one.
					st.ClientIDs[c.ClientID] = p
				}
				resp.Status = davStatus(err)
				d.res.Responses = append(d.res.Responses, resp)
				continue
			}
			it := davItem{ID: st.NextID, ETag: etag, End: d.lastEnd(source.DAVObject{DAVRef: source.DAVRef{Path: p}, Data: data})} // davage.go
			st.NextID++
			st.Items[p] = it
			delete(st.Pending, p)
			if c.ClientID != "" {
				st.ClientIDs[c.ClientID] = p
			}
			resp.ServerID = d.serverID(it.ID)
			d.res.Responses = append(d.res.Responses, resp)
		case "Change":
			p, it, ok := d.itemPath(c.ServerID)
			if !ok {
				resp.Status = eas.SyncStatusObjectNotFound
				d.res.Responses = append(d.res.Responses, resp)
				continue
			}
			if err := d.change(ctx, p, it, c, opts, serverWins); err != nil {
				resp.Status = statusFor(err, davStatus(err))
				d.res.Responses = append(d.res.Responses, resp)
			}
		case "Delete":
			p, it, ok := d.itemPath(c.ServerID)
			if !ok {
				continue // already gone: nothing to say (MS-ASCMD: no response for success)
			}
			if c.InstanceID != "" {
				// One occurrence: an EXDATE on the stored event.
				if err := d.deleteInstance(ctx, p, it, c.InstanceID, opts); err != nil {
					resp.Status = statusFor(err, davStatus(err))
					d.res.Responses = append(d.res.Responses, resp)
				}
				continue
			}
			if d.readOnly() {
				// Groupware shown as mail: removed from the device only.
				delete(st.Items, p)
				delete(st.Pending, p)
				continue
			}
			ifMatch := it.ETag
			if !serverWins {
				ifMatch = ""
			}
			err := d.items.Delete(ctx, d.collOf(p), p, ifMatch)
			switch {
			case errors.Is(err, source.ErrPrecondition):
				// Changed on the server since: it wins, the device gets it back.
				delete(st.Items, p)
				st.Pending[p] = davPending{}
			case err != nil:
				resp.Status = davStatus(err)
				d.res.Responses = append(d.res.Responses, resp)
			default:
				delete(st.Items, p)
				delete(st.Pending, p)
			}
		case "Fetch":
			p, _, ok := d.itemPath(c.ServerID)
			resp.Status = eas.SyncStatusObjectNotFound
			if ok {
				if objs, err := d.items.Get(ctx, d.collOf(p), []string{p}); err == nil && len(objs) == 1 {
					if data, err := d.toEAS(objs[0], opts); err == nil {
						resp.Status, resp.Data = eas.SyncStatusSuccess, data
					} else {
						resp.Status = eas.SyncStatusConversionError
					}
				}
			}
			d.res.Responses = append(d.res.Responses, resp)
		}
	}
	return nil
}

// change writes a client Change with If-Match on the ETag the device saw.
func (d *davSync) change(ctx context.Context, p string, it davItem, c server.ClientCommand, opts calconv.Options, serverWins bool) error {
	if d.readOnly() {
		return nil // groupware shown as mail: read flags and the like stay on the device
	}
	objs, err := d.items.Get(ctx, d.collOf(p), []string{p})
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		// Deleted on the server meanwhile: the device gets the Delete (it
		// would otherwise keep the item for ever); with server wins that
		// is the whole answer, as for a 412 below.
		d.st.Pending[p] = davPending{Deleted: true}
		if serverWins {
			return nil
		}
		return eas.Errorf(eas.SyncStatusObjectNotFound, "%s is gone", p)
	}
	cur := objs[0]
	if cur.ETag != it.ETag && serverWins {
		d.st.Pending[p] = davPending{ETag: cur.ETag} // the server's version goes to the device
		return nil
	}
	app := c.Data
	if c.InstanceID != "" && app != nil {
		// calconv reads the occurrence from the ApplicationData.
		app = wbxml.New(app.Space, app.Name, app.Children...)
		app.Add(wbxml.Text(wbxml.NSAirSyncBase, "InstanceId", c.InstanceID))
	}
	data, _, err := d.fromEAS(p, app, cur.Data, opts)
	if err != nil {
		return eas.Errorf(eas.SyncStatusConversionError, "%v", err)
	}
	etag, err := d.items.Put(ctx, d.collOf(p), p, data, cur.ETag)
	if errors.Is(err, source.ErrPrecondition) {
		// Changed between our read and our write.
		d.st.Pending[p] = davPending{}
		if serverWins {
			return nil
		}
		return eas.Errorf(eas.SyncStatusConflict, "%s changed concurrently", p)
	}
	if err != nil {
		return err
	}
	it.ETag, it.End = etag, d.lastEnd(source.DAVObject{DAVRef: source.DAVRef{Path: p}, Data: data}) // davage.go
	d.st.Items[p] = it
	delete(d.st.Pending, p)
	return nil
}

// deleteInstance removes one occurrence of a recurring event.
func (d *davSync) deleteInstance(ctx context.Context, p string, it davItem, instanceID string, opts calconv.Options) error {
	objs, err := d.items.Get(ctx, d.collOf(p), []string{p})
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return eas.Errorf(eas.SyncStatusObjectNotFound, "%s is gone", p)
	}
	data, err := calconv.DeleteInstance(objs[0].Data, instanceID, opts)
	if err != nil {
		return eas.Errorf(eas.SyncStatusConversionError, "%v", err)
	}
	etag, err := d.items.Put(ctx, d.collOf(p), p, data, objs[0].ETag)
	if err != nil {
		if errors.Is(err, source.ErrPrecondition) {
			d.st.Pending[p] = davPending{}
			return eas.Errorf(eas.SyncStatusConflict, "%s changed concurrently", p)
		}
		return err
	}
	it.ETag = etag
	d.st.Items[p] = it
	return nil
}

// davStatus maps a DAV write failure to a Sync item status.
func davStatus(err error) eas.Status {
	switch {
	case errors.Is(err, source.ErrPrecondition):
		return eas.SyncStatusConflict
	case errors.Is(err, eas.ErrNotFound):
		return eas.SyncStatusObjectNotFound
	case strings.Contains(err.Error(), "403"), strings.Contains(err.Error(), "415"):
		return eas.SyncStatusConversionError
	}
	return eas.SyncStatusServerError
}
