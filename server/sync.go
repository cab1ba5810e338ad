package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// Sync limits. MS-ASCMD 2.2.3.199 (WindowSize), 2.2.3.198 (Wait),
// 2.2.3.97 (Limit, for Status 14 and 15). The bounds of HeartbeatInterval
// (2.2.3.88.2: implementation-specific) are Options.PingMinHeartbeat and
// PingMaxHeartbeat, shared with Ping as Exchange shares them.
const (
	defaultWindowSize  = 100
	maxWindowSize      = 512
	maxSyncCollections = 1000
	minWaitMinutes     = 1
	maxWaitMinutes     = 59
)

// syncReq is one parsed Collection of a Sync request.
type syncReq struct {
	req   SyncCollection
	class string // AirSync Class of 12.1
	// window is the collection's own WindowSize, 0 when it has none.
	window int
	// bad is a collection-level protocol error found while parsing.
	bad eas.Status
}

// cmdSync implements Sync, MS-ASCMD 2.2.1.21: per collection, the client's
// commands are applied and up to WindowSize server changes are returned,
// by the session's ItemSync.
//
// Wait and HeartbeatInterval long-poll (syncLongPoll): a request that has
// nothing to tell is held until one of its collections changes or the time
// is up.
//
// Not yet here: the cached request of 12.1+ that an empty Sync or Partial
// refers to (MS-ASCMD 2.2.1.21.1, so both answer Status 13 for now).
func (s *Server) cmdSync(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSAirSync
	is, ok := rq.session.(ItemSync)
	if !ok {
		return s.notSupported(rq, ns, "Sync")
	}
	b := rq.body
	if b == nil {
		// An empty request repeats the cached one; we have none.
		return syncStatus(rq, eas.SyncStatusIncompleteRequest, -1), nil
	}
	// Wait and HeartbeatInterval: both at once is a protocol error, out of
	// range values answer 14 with the nearest acceptable value in Limit
	// (2.2.3.97).
	if b.Has(ns, "Wait") && b.Has(ns, "HeartbeatInterval") {
		return syncStatus(rq, eas.SyncStatusProtocolError, -1), nil
	}
	var hold time.Duration // the long poll, 0 for none
	if b.Has(ns, "Wait") {
		v, ok := b.ChildInt(ns, "Wait")
		switch {
		case !ok:
			return syncStatus(rq, eas.SyncStatusProtocolError, -1), nil
		case v < minWaitMinutes:
			return syncStatus(rq, eas.SyncStatusInvalidWaitOrHeartbeat, minWaitMinutes), nil
		case v > maxWaitMinutes:
			return syncStatus(rq, eas.SyncStatusInvalidWaitOrHeartbeat, maxWaitMinutes), nil
		}
		hold = time.Duration(v) * time.Minute
	}
	if b.Has(ns, "HeartbeatInterval") {
		v, ok := b.ChildInt(ns, "HeartbeatInterval")
		switch {
		case !ok:
			return syncStatus(rq, eas.SyncStatusProtocolError, -1), nil
		case v < s.opts.PingMinHeartbeat:
			return syncStatus(rq, eas.SyncStatusInvalidWaitOrHeartbeat, s.opts.PingMinHeartbeat), nil
		case v > s.opts.PingMaxHeartbeat:
			return syncStatus(rq, eas.SyncStatusInvalidWaitOrHeartbeat, s.opts.PingMaxHeartbeat), nil
		}
		hold = time.Duration(v) * time.Second
	}
	if b.Has(ns, "Partial") || !b.Has(ns, "Collections") {
		// Partial and a request without Collections complete the cached
		// request (2.2.3.131); without one the request is incomplete.
		return syncStatus(rq, eas.SyncStatusIncompleteRequest, -1), nil
	}
	colls := b.Child(ns, "Collections").All(ns, "Collection")
	if len(colls) == 0 {
		return syncStatus(rq, eas.SyncStatusProtocolError, -1), nil
	}
	if len(colls) > maxSyncCollections {
		return syncStatus(rq, eas.SyncStatusTooManyCollections, maxSyncCollections), nil
	}
	budget := -1 // the request-wide WindowSize, -1 when absent
	if b.Has(ns, "WindowSize") {
		w, ok := parseWindowSize(b)
		if !ok {
			return syncStatus(rq, eas.SyncStatusProtocolError, -1), nil
		}
		budget = w
	}
	reqs := make([]*syncReq, 0, len(colls))
	seen := make(map[string]bool, len(colls))
	for _, c := range colls {
		sr, ok := parseSyncCollection(rq, c)
		if !ok || seen[sr.req.CollectionID] {
			return syncStatus(rq, eas.SyncStatusProtocolError, -1), nil
		}
		seen[sr.req.CollectionID] = true
		reqs = append(reqs, sr)
	}

	out, quiet := s.syncCollections(rq, is, reqs, budget)
	if quiet && hold > 0 {
		out, quiet = s.syncLongPoll(rq, is, reqs, budget, hold)
	}
	rq.easStatus = eas.SyncStatusSuccess
	if quiet {
		// MS-ASCMD 4.5.10: no changes, no responses, no errors, keys
		// unchanged — the server may answer with an empty body.
		return nil, nil
	}
	return wbxml.New(ns, "Sync", out), nil
}

// syncCollections runs the collections of a request and returns their
// Collections element; quiet reports that there is nothing to tell (no
// changes, responses or errors, keys unchanged). budget is the
// request-wide WindowSize, -1 when absent.
func (s *Server) syncCollections(rq *request, is ItemSync, reqs []*syncReq, budget int) (out *wbxml.Element, quiet bool) {
	ns := wbxml.NSAirSync
	out = wbxml.New(ns, "Collections")
	quiet = true // nothing to tell: the empty response is allowed
	for _, sr := range reqs {
		if sr.bad != 0 {
			out.Add(syncCollectionError(rq, sr, sr.bad, sr.req.SyncKey))
			quiet = false
			continue
		}
		req := &sr.req
		win := sr.window
		if win == 0 {
			win = defaultWindowSize
			if budget > 0 {
				win = budget
			}
		}
		throttled := false
		if budget >= 0 {
			switch {
			case budget == 0 && req.GetChanges:
				// The request-wide window is used up: apply the
				// client's commands only, and say there is more.
				req.GetChanges, throttled = false, true
			case budget > 0 && win > budget:
				win = budget
			}
		}
		req.WindowSize = max(win, 1)
		res, err := is.SyncCollection(rq.ctx, rq.device.ID, req)
		if err == nil && res == nil {
			err = errors.New("server: SyncCollection returned no result")
		}
		if err != nil {
			st, key := s.syncErrStatus(rq, req, err)
			out.Add(syncCollectionError(rq, sr, st, key))
			quiet = false
			continue
		}
		if budget > 0 {
			budget = max(budget-len(res.Changes), 0)
		}
		el, changed := syncCollectionElement(rq, sr, res, throttled)
		if changed {
			quiet = false
		}
		out.Add(el)
	}
	return out, quiet
}

// syncLongPoll holds a quiet Sync that asked for Wait or HeartbeatInterval
// (MS-ASCMD 2.2.3.198, 2.2.3.88.2): the session's Pinger watches the
// collections that get changes, and when some change they are synced
// again and only they are answered. The request is answered empty (quiet)
// when the time is up (minus pingWait's margin), when the client goes away
// and when a newer Ping or long poll of the device supersedes it. The
// client's commands were applied by the first run and are not sent again.
// A session without Pinger is answered at once, as before long polls
// existed.
func (s *Server) syncLongPoll(rq *request, is ItemSync, reqs []*syncReq, budget int, hold time.Duration) (*wbxml.Element, bool) {
	p, ok := rq.session.(Pinger)
	if !ok {
		return nil, true
	}
	var folders []PingFolder
	for _, sr := range reqs {
		if sr.bad == 0 && sr.req.GetChanges {
			class := sr.req.Options.Class
			if class == "" {
				class = sr.class
			}
			folders = append(folders, PingFolder{ID: sr.req.CollectionID, Class: class})
		}
		sr.req.Commands = nil
	}
	if len(folders) == 0 {
		return nil, true
	}
	ctx, release := s.hang(rq)
	defer release()
	ctx, cancel := context.WithTimeout(ctx, pingWait(hold))
	defer cancel()
	for {
		changed, err := s.waitForChanges(ctx, p, rq.device.ID, folders)
		switch {
		case err != nil:
			// An unknown collection (eas.ErrNotFound) or a broken
			// backend: one more run tells the client per collection
			// (Status 12, 5, 16).
			if !errors.Is(err, eas.ErrNotFound) {
				s.log.Error("server: sync long poll: wait for changes", "device", rq.device.ID, "err", err)
			}
			return s.syncCollections(rq, is, reqs, budget)
		case len(changed) == 0:
			return nil, true
		}
		var again []*syncReq
		for _, sr := range reqs {
			for _, id := range changed {
				if sr.req.CollectionID == id {
					again = append(again, sr)
					break
				}
			}
		}
		if out, quiet := s.syncCollections(rq, is, again, budget); !quiet {
			return out, false
		}
		// A change the collection's sync did not see (the watcher is
		// coarser than the sync state): keep waiting.
	}
}

// syncStatus is a request-level Sync answer: Status and, for 14 and 15, the
// Limit (MS-ASCMD 2.2.3.180: Limit and Collections are exclusive).
func syncStatus(rq *request, st eas.Status, limit int) *wbxml.Element {
	ns := wbxml.NSAirSync
	rq.easStatus = st
	e := wbxml.New(ns, "Sync", wbxml.Int(ns, "Status", int(st)))
	if limit >= 0 {
		e.Add(wbxml.Int(ns, "Limit", limit))
	}
	return e
}

// parseWindowSize reads a WindowSize child: absent means the default, 0
// and values above 512 mean 512 (MS-ASCMD 2.2.3.199); anything that is not
// a non-negative integer is a protocol error.
func parseWindowSize(parent *wbxml.Element) (int, bool) {
	ns := wbxml.NSAirSync
	if !parent.Has(ns, "WindowSize") {
		return 0, true
	}
	v, ok := parent.ChildInt(ns, "WindowSize")
	if !ok || v < 0 {
		return 0, false
	}
	if v == 0 || v > maxWindowSize {
		v = maxWindowSize
	}
	return v, true
}

// parseSyncCollection reads one request Collection, MS-ASCMD 2.2.3.29.2. It
// returns false for a collection the request cannot be answered with
// (no SyncKey or CollectionId, a malformed value): the whole request is a
// protocol error then.
func parseSyncCollection(rq *request, c *wbxml.Element) (*syncReq, bool) {
	ns := wbxml.NSAirSync
	if !c.Has(ns, "SyncKey") || idText(c, ns, "CollectionId") == "" {
		return nil, false
	}
	sr := &syncReq{class: idText(c, ns, "Class")}
	r := &sr.req
	r.Version = rq.version
	r.CollectionID = idText(c, ns, "CollectionId")
	r.SyncKey = strings.TrimSpace(idText(c, ns, "SyncKey"))
	if r.SyncKey == "" {
		return nil, false
	}
	initial := r.SyncKey == "0"
	// GetChanges (2.2.3.84): empty or 1 is true, 0 false; absent means
	// true except for SyncKey 0, which never gets changes.
	r.GetChanges = !initial
	if g := c.Child(ns, "GetChanges"); g != nil {
		v, ok := boolValue(g)
		if !ok {
			return nil, false
		}
		r.GetChanges = v && !initial
	}
	// DeletesAsMoves (2.2.3.43): default true.
	r.DeletesAsMoves = true
	if d := c.Child(ns, "DeletesAsMoves"); d != nil {
		v, ok := boolValue(d)
		if !ok {
			return nil, false
		}
		r.DeletesAsMoves = v
	}
	if c.Has(ns, "WindowSize") {
		w, ok := parseWindowSize(c)
		if !ok {
			return nil, false
		}
		sr.window = w
	}
	r.Options = parseItemOptions(pickOptions(c.All(ns, "Options"), sr.class))
	if r.Options.Class == "" {
		r.Options.Class = sr.class
	}
	if cmds := c.Child(ns, "Commands"); cmds != nil {
		for _, e := range cmds.Children {
			cc := ClientCommand{
				Op:       e.Name,
				ServerID: idText(e, ns, "ServerId"),
				ClientID: idText(e, ns, "ClientId"),
				Class:    idText(e, ns, "Class"),
				Data:     e.Child(ns, "ApplicationData"),
				// 16.x: one occurrence of a recurring event (MS-ASAIRS
				// 2.2.2.28 InstanceId in Change and Delete).
				InstanceID: idText(e, wbxml.NSAirSyncBase, "InstanceId"),
			}
			if e.Space != ns {
				return nil, false
			}
			switch e.Name {
			case "Add":
				if cc.ClientID == "" {
					sr.bad = eas.SyncStatusProtocolError
				}
			case "Change", "Delete", "Fetch":
				if cc.ServerID == "" {
					sr.bad = eas.SyncStatusProtocolError
				}
			default:
				return nil, false
			}
			r.Commands = append(r.Commands, cc)
		}
		// A collection that is being initialised has nothing to change
		// (2.2.3.181.4): commands with SyncKey 0 are a protocol error.
		if initial && len(r.Commands) > 0 {
			sr.bad = eas.SyncStatusProtocolError
		}
	}
	return sr, true
}

// pickOptions chooses among the Options of a collection: 14.0+ clients may
// send one per Class (an Email one and an SMS one for the Inbox). The one
// without a Class, or with the collection's Class, wins; SMS is not synced,
// so its Options are taken only when there is nothing else.
func pickOptions(all []*wbxml.Element, class string) *wbxml.Element {
	ns := wbxml.NSAirSync
	if len(all) <= 1 {
		if len(all) == 1 {
			return all[0]
		}
		return nil
	}
	for _, o := range all {
		if c := o.ChildText(ns, "Class"); c == "" || (class != "" && c == class) {
			return o
		}
	}
	for _, o := range all {
		if !strings.EqualFold(o.ChildText(ns, "Class"), "SMS") {
			return o
		}
	}
	return all[0]
}

// syncErrStatus maps a SyncCollection error to the collection Status and
// the SyncKey to answer with (MS-ASCMD 2.2.3.177.17). This is the one place
// where it happens for Sync.
func (s *Server) syncErrStatus(rq *request, req *SyncCollection, err error) (eas.Status, string) {
	if st, ok := eas.StatusOf(err); ok {
		if st == eas.SyncStatusInvalidSyncKey {
			return st, "0"
		}
		return st, req.SyncKey
	}
	switch {
	case errors.Is(err, eas.ErrInvalidSyncKey):
		// Status 3: the client must start over with SyncKey 0.
		return eas.SyncStatusInvalidSyncKey, "0"
	case errors.Is(err, eas.ErrNotFound):
		// An unknown or deleted collection: the client's hierarchy is out
		// of date, it runs FolderSync (Status 12).
		return eas.SyncStatusFolderHierarchyChanged, req.SyncKey
	case errors.Is(err, eas.ErrBackendUnavailable):
		s.log.Warn("server: sync: backend unavailable", "device", rq.device.ID, "collection", req.CollectionID, "err", err)
		return eas.SyncStatusRetry, req.SyncKey
	}
	s.log.Error("server: sync collection failed", "device", rq.device.ID, "collection", req.CollectionID, "err", err)
	return eas.SyncStatusServerError, req.SyncKey
}

// syncCollectionError is a response Collection that carries only a status.
func syncCollectionError(rq *request, sr *syncReq, st eas.Status, key string) *wbxml.Element {
	ns := wbxml.NSAirSync
	c := wbxml.New(ns, "Collection")
	if !rq.version.AtLeast(eas.V140) && sr.class != "" {
		c.Add(wbxml.Text(ns, "Class", sr.class))
	}
	if key != "" {
		c.Add(wbxml.Text(ns, "SyncKey", key))
	}
	return c.Add(wbxml.Text(ns, "CollectionId", sr.req.CollectionID), wbxml.Int(ns, "Status", int(st)))
}

// syncCollectionElement encodes one collection's result. The schema
// (MS-ASCMD 6.46, SyncResponse.xsd) leaves the order of the Collection's
// children free (xs:choice maxOccurs="unbounded"); we write them as
// Exchange does in the examples of 4.5: Class (12.1 only), SyncKey,
// CollectionId, Status, Commands, Responses, MoreAvailable (4.5.8 puts
// MoreAvailable after Commands). changed reports whether the client has to
// be told anything (the key moved, changes, responses, a non-1 status).
func syncCollectionElement(rq *request, sr *syncReq, res *SyncCollectionResult, throttled bool) (el *wbxml.Element, changed bool) {
	ns := wbxml.NSAirSync
	st := res.Status
	if st == 0 {
		st = eas.SyncStatusSuccess
	}
	key := res.SyncKey
	if key == "" {
		key = sr.req.SyncKey
	}
	c := wbxml.New(ns, "Collection")
	if !rq.version.AtLeast(eas.V140) {
		class := res.Class
		if class == "" {
			class = sr.class
		}
		if class != "" {
			c.Add(wbxml.Text(ns, "Class", class))
		}
	}
	c.Add(wbxml.Text(ns, "SyncKey", key),
		wbxml.Text(ns, "CollectionId", sr.req.CollectionID),
		wbxml.Int(ns, "Status", int(st)))
	changed = st != eas.SyncStatusSuccess || key != sr.req.SyncKey || res.MoreAvailable || throttled
	if len(res.Changes) > 0 {
		cmds := wbxml.New(ns, "Commands")
		for _, ch := range res.Changes {
			e := wbxml.New(ns, ch.Op, wbxml.Text(ns, "ServerId", ch.ServerID))
			if (ch.Op == "Add" || ch.Op == "Change") && ch.Data != nil {
				e.Add(reparent(ch.Data, ns, "ApplicationData"))
			}
			cmds.Add(e)
		}
		c.Add(cmds)
		changed = true
	}
	if resp := syncResponses(res.Responses); resp != nil {
		c.Add(resp)
		changed = true
	}
	if res.MoreAvailable || throttled {
		c.Add(wbxml.Empty(ns, "MoreAvailable"))
	}
	return c, changed
}

// syncResponses encodes the answers to the client's commands (MS-ASCMD
// 2.2.3.154). The client gets responses for additions and fetches, for
// failed changes and deletions, and for changes that carry data (16.x
// attachments); successful plain changes and deletions are left out.
func syncResponses(rs []ItemResponse) *wbxml.Element {
	ns := wbxml.NSAirSync
	out := wbxml.New(ns, "Responses")
	for _, r := range rs {
		st := r.Status
		if st == 0 {
			st = eas.SyncStatusSuccess
		}
		var e *wbxml.Element
		switch r.Op {
		case "Add":
			e = wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", r.ClientID))
			if r.ServerID != "" {
				e.Add(wbxml.Text(ns, "ServerId", r.ServerID))
			}
			e.Add(wbxml.Int(ns, "Status", int(st)))
		case "Change":
			if st == eas.SyncStatusSuccess && r.Data == nil {
				continue
			}
			e = wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", r.ServerID), wbxml.Int(ns, "Status", int(st)))
			if r.Data != nil {
				e.Add(reparent(r.Data, ns, "ApplicationData"))
			}
		case "Delete":
			if st == eas.SyncStatusSuccess {
				continue
			}
			e = wbxml.New(ns, "Delete", wbxml.Text(ns, "ServerId", r.ServerID), wbxml.Int(ns, "Status", int(st)))
		case "Fetch":
			e = wbxml.New(ns, "Fetch", wbxml.Text(ns, "ServerId", r.ServerID), wbxml.Int(ns, "Status", int(st)))
			if r.Data != nil && st == eas.SyncStatusSuccess {
				e.Add(reparent(r.Data, ns, "ApplicationData"))
			}
		default:
			continue
		}
		out.Add(e)
	}
	if len(out.Children) == 0 {
		return nil
	}
	return out
}

// Helpers shared by the item commands.

// notSupported answers a command the session does not offer: Status 137
// "command not supported" (MS-ASCMD 2.2.2) in the command's root element
// for 14.0+, HTTP 501 for 12.1, which predates the common status codes.
func (s *Server) notSupported(rq *request, space, root string) (*wbxml.Element, error) {
	rq.easStatus = eas.StatusCommandNotSupported
	if !rq.version.AtLeast(eas.V140) {
		return nil, httpErr(http.StatusNotImplemented, "%s is not supported for this account", root)
	}
	return wbxml.New(space, root, wbxml.Int(space, "Status", int(eas.StatusCommandNotSupported))), nil
}

// idText reads an identifier (CollectionId, ServerId, SyncKey, …): EAS
// ids are strings (MS-ASDTYPE 2.7). One sent as OPAQUE with a NUL byte can
// neither be meant nor echoed (WBXML STR_I cannot carry NUL), so it reads
// as absent and the command's "missing id" status applies.
func idText(e *wbxml.Element, space, name string) string {
	s := e.ChildText(space, name)
	if strings.IndexByte(s, 0) >= 0 {
		return ""
	}
	return s
}

// boolValue reads an EAS boolean: empty (an empty tag) and "1" are true,
// "0" false (MS-ASDTYPE 2.1; GetChanges and DeletesAsMoves accept the
// empty form).
func boolValue(e *wbxml.Element) (bool, bool) {
	if e.IsOpaque || len(e.Children) > 0 {
		return false, false
	}
	switch strings.TrimSpace(e.Text) {
	case "", "1":
		return true, true
	case "0":
		return false, true
	}
	return false, false
}

// mimeTruncationBytes maps the MIMETruncation codes of MS-ASCMD 2.2.3.111
// to bytes. Code 0 (truncate all body text) is -1: ItemOptions uses 0 for
// "no truncation"; code 8 and unknown codes are 0.
var mimeTruncationBytes = [...]int{-1, 4096, 5120, 7168, 10240, 20480, 51200, 102400, 0}

// parseItemOptions reads an Options element of Sync (MS-ASCMD
// 2.2.3.125.6), ItemOperations (2.2.3.125.3), Search (2.2.3.125.5) or the
// GetItemEstimate Collection: AirSync Class, FilterType, Conflict,
// MIMESupport, MIMETruncation, MaxItems; AirSyncBase BodyPreference and
// BodyPartPreference (MS-ASAIRS 2.2.2.7, 2.2.2.11); RightsManagementSupport.
// Unparseable values are ignored (the defaults apply).
func parseItemOptions(o *wbxml.Element) ItemOptions {
	ns := wbxml.NSAirSync
	opts := ItemOptions{Conflict: 1}
	if o == nil {
		return opts
	}
	opts.Class = o.ChildText(ns, "Class")
	if v, ok := o.ChildInt(ns, "FilterType"); ok && v >= 0 && v <= 8 {
		opts.FilterType = v
	}
	if v, ok := o.ChildInt(ns, "Conflict"); ok && (v == 0 || v == 1) {
		opts.Conflict = v
	}
	if v, ok := o.ChildInt(ns, "MIMESupport"); ok && v >= 0 && v <= 2 {
		opts.MIMESupport = v
	}
	if v, ok := o.ChildInt(ns, "MIMETruncation"); ok && v >= 0 && v < len(mimeTruncationBytes) {
		opts.MIMETruncation = mimeTruncationBytes[v]
	}
	if v, ok := o.ChildInt(ns, "MaxItems"); ok && v > 0 {
		opts.MaxItems = v
	}
	opts.BodyPrefs = parseBodyPrefs(o.All(wbxml.NSAirSyncBase, "BodyPreference"))
	opts.BodyPartPrefs = parseBodyPrefs(o.All(wbxml.NSAirSyncBase, "BodyPartPreference"))
	if rm := o.Child(wbxml.NSRightsManagement, "RightsManagementSupport"); rm != nil {
		opts.RightsManagement, _ = boolValue(rm)
	}
	return opts
}

func parseBodyPrefs(all []*wbxml.Element) []BodyPreference {
	ns := wbxml.NSAirSyncBase
	var out []BodyPreference
	for _, e := range all {
		t, ok := e.ChildInt(ns, "Type")
		if !ok || t < 1 || t > 4 {
			continue
		}
		p := BodyPreference{Type: t}
		if v, ok := e.ChildInt(ns, "TruncationSize"); ok && v > 0 {
			p.TruncationSize = v
		}
		if a := e.Child(ns, "AllOrNone"); a != nil {
			p.AllOrNone, _ = boolValue(a)
		}
		if v, ok := e.ChildInt(ns, "Preview"); ok && v > 0 {
			p.Preview = min(v, 255)
		}
		out = append(out, p)
	}
	return out
}

// reparent returns e as the container space:name: e itself when it already
// is one, else a new container with e's children (or with e, when e is a
// single property). The backend may hand over ApplicationData, Properties
// or any other container for the same item data.
func reparent(e *wbxml.Element, space, name string) *wbxml.Element {
	if e.Is(space, name) {
		return e
	}
	if len(e.Children) == 0 && (e.Text != "" || e.IsOpaque) {
		return wbxml.New(space, name, e)
	}
	return &wbxml.Element{Space: space, Name: name, Children: e.Children}
}

// itemClass guesses the AirSync Class of item data from the code page of
// its properties (an item of class Email is made of Email properties, …),
// for the Class of ItemOperations and Search answers.
func itemClass(e *wbxml.Element) string {
	if e == nil {
		return ""
	}
	for _, c := range e.Children {
		switch c.Space {
		case wbxml.NSEmail, wbxml.NSEmail2:
			return "Email"
		case wbxml.NSCalendar:
			return "Calendar"
		case wbxml.NSContacts, wbxml.NSContacts2:
			return "Contacts"
		case wbxml.NSTasks:
			return "Tasks"
		case wbxml.NSNotes:
			return "Notes"
		}
	}
	return ""
}

// parseRange reads an "m-n" range (MS-ASCMD 2.2.3.143: zero-based,
// inclusive, m <= n).
func parseRange(s string) (start, end int64, ok bool) {
	a, b, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		return 0, 0, false
	}
	m, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || m < 0 || n < m {
		return 0, 0, false
	}
	return m, n, true
}
