package server

// Ping (MS-ASCMD 2.2.1.13) and the machinery it shares with the long poll
// of Sync (sync.go): parameter bounds, the one-hanging-request-per-device
// rule and the wait itself.
//
// Implementation notes (invariants):
//
//   - At most one hanging request (a Ping, or a Sync with Wait or
//     HeartbeatInterval) per (user, device): pushState.hanging maps the
//     pair to the cancel func of the request that waits. A newer one
//     cancels the older with errSuperseded; the older then answers at once
//     as if its heartbeat had expired (Ping Status 1, an empty Sync). Each
//     request removes its own entry when it returns (pointer compare, so a
//     successor's entry is never removed by its predecessor).
//   - The wait ends at the heartbeat minus a margin (pingWait), when the
//     client disconnects (the request context, which net/http cancels) or
//     when superseded. The Pinger is called on the request's goroutine and
//     its return is awaited: this file starts no goroutine, so nothing of a
//     Ping outlives its request.
//   - Cached parameters (MS-ASCMD 3.1.5.8) come from the session's
//     PingCache, else from pushState.params, one entry per (user, device),
//     in memory: lost on restart, after which the phone gets Status 3 and
//     sends its full request. The entry set is bounded by the devices that
//     ever pinged, like the device table.
//   - The HTTP server must not cut a request before the longest heartbeat
//     (PingMaxHeartbeat; 59 min by default): the app's http.Server sets no
//     WriteTimeout, and none may be added without raising it above that.

import (
	"context"
	"errors"
	"sync"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// Ping status codes, MS-ASCMD 2.2.3.177.11.
const (
	pingStatusExpired        eas.Status = 1 // heartbeat expired without changes
	pingStatusChanges        eas.Status = 2 // changes in the folders listed
	pingStatusMissingParams  eas.Status = 3 // no heartbeat or folders, none cached
	pingStatusSyntaxError    eas.Status = 4
	pingStatusBadHeartbeat   eas.Status = 5 // with HeartbeatInterval = the limit
	pingStatusTooManyFolders eas.Status = 6 // with MaxFolders
	pingStatusFolderSync     eas.Status = 7 // folder hierarchy sync required
	pingStatusServerError    eas.Status = 8
)

// Push bounds; see Options for where the defaults come from.
const (
	defaultPingMinHeartbeat = 60   // s, Exchange's MinHeartbeatInterval
	defaultPingMaxHeartbeat = 3540 // s, Exchange's MaxHeartbeatInterval (59 min)
	defaultPingMaxFolders   = 300  // MS-ASCMD 2.2.1.13 example (Status 6)
	// pingHeartbeatFloor is the lowest PingMinHeartbeat production may
	// configure: below it phones would poll rather than push.
	pingHeartbeatFloor = 30
	// pingMaxMargin is how much earlier than its heartbeat a hanging
	// request is answered (see pingWait).
	pingMaxMargin = 5 * time.Second
)

// Cancel causes of a hanging request: a newer one of the same device
// replaced it; the server is shutting down (EndPush).
var (
	errSuperseded = errors.New("server: superseded by a newer request of the same device")
	errShutdown   = errors.New("server: shutting down")
)

// pushDefaults fills the zero push options and applies the floor.
func (o *Options) pushDefaults() {
	if o.PingMinHeartbeat <= 0 {
		o.PingMinHeartbeat = defaultPingMinHeartbeat
	}
	if !o.testShortHeartbeat {
		o.PingMinHeartbeat = max(o.PingMinHeartbeat, pingHeartbeatFloor)
	}
	if o.PingMaxHeartbeat <= 0 {
		o.PingMaxHeartbeat = defaultPingMaxHeartbeat
	}
	o.PingMaxHeartbeat = max(o.PingMaxHeartbeat, o.PingMinHeartbeat)
	if o.PingMaxFolders <= 0 {
		o.PingMaxFolders = defaultPingMaxFolders
	}
}

// pushState is the Server's push state; its zero value is ready.
type pushState struct {
	mu      sync.Mutex
	hanging map[string]*hangingRequest // user\x00device → the waiting request
	params  map[string]pingParams      // user\x00device → cached Ping parameters
	ended   bool                       // EndPush was called
}

type hangingRequest struct{ cancel context.CancelCauseFunc }

type pingParams struct {
	hb      int
	folders []PingFolder
}

func pushKey(user, deviceID string) string { return user + "\x00" + deviceID }

// pingWait is how long a hanging request waits for a heartbeat of hb: hb
// minus a margin of 5 s (10 % for heartbeats under 50 s). The phone arms
// its own timer for about the heartbeat when it sends the request and
// treats a late answer as a dead connection (and then shortens its
// heartbeat or falls back to polling); answering a little early absorbs
// the transit time of request and answer on a slow mobile network.
func pingWait(hb time.Duration) time.Duration {
	return hb - min(pingMaxMargin, hb/10)
}

// hang registers rq as its device's hanging request, ending the previous
// one. The returned context ends when rq's does or when a newer request
// supersedes rq; release must be called when rq stops waiting.
func (s *Server) hang(rq *request) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(rq.ctx)
	me := &hangingRequest{cancel: cancel}
	key := pushKey(rq.session.User(), rq.device.ID)
	p := &s.push
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		cancel(errShutdown)
		return ctx, func() {}
	}
	if p.hanging == nil {
		p.hanging = map[string]*hangingRequest{}
	}
	if old := p.hanging[key]; old != nil {
		old.cancel(errSuperseded)
	}
	p.hanging[key] = me
	p.mu.Unlock()
	return ctx, func() {
		p.mu.Lock()
		if p.hanging[key] == me {
			delete(p.hanging, key)
		}
		p.mu.Unlock()
		cancel(nil)
	}
}

// EndPush ends every hanging request at once (Ping answers Status 1, a
// long-polling Sync its empty answer) and makes later ones answer without
// waiting. The app calls it before http.Server.Shutdown, which would
// otherwise wait for every Ping's heartbeat (up to PingMaxHeartbeat).
func (s *Server) EndPush() {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	s.push.ended = true
	for _, h := range s.push.hanging {
		h.cancel(errShutdown)
	}
}

// hangingCount is the number of waiting requests (for tests).
func (s *Server) hangingCount() int {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	return len(s.push.hanging)
}

// waitForChanges runs the Pinger until a watched folder changes or ctx
// ends. It returns the changed ids among folders, in folders' order and
// without duplicates, or nil when ctx ended; it returns an error only while
// ctx is live. A Pinger that returns no change before ctx ends (which its
// contract forbids) is waited out rather than asked again, so that a
// broken one degrades to a plain heartbeat instead of a busy loop.
func (s *Server) waitForChanges(ctx context.Context, p Pinger, deviceID string, folders []PingFolder) ([]string, error) {
	ids, err := p.WaitForChanges(ctx, deviceID, folders)
	if err == nil {
		if got := pickFolders(folders, ids); len(got) > 0 {
			return got, nil
		}
	}
	if ctx.Err() != nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.log.Warn("server: Pinger returned no change before its deadline", "device", deviceID, "ids", ids)
	<-ctx.Done()
	return nil, nil
}

// pickFolders returns the ids of folders that are in ids, once each.
func pickFolders(folders []PingFolder, ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	in := make(map[string]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	var out []string
	for _, f := range folders {
		if in[f.ID] {
			out = append(out, f.ID)
			delete(in, f.ID)
		}
	}
	return out
}

// pingRequest is a parsed Ping request body.
type pingRequest struct {
	hb         int
	hasHB      bool
	folders    []PingFolder
	hasFolders bool
}

// validPingClass reports whether c is a Ping Folder Class (MS-ASCMD
// 2.2.3.27.4).
func validPingClass(c string) bool {
	switch c {
	case "Email", "Calendar", "Contacts", "Tasks", "Notes", "SMS":
		return true
	}
	return false
}

// parsePing reads a Ping request (MS-ASCMD 2.2.3.136): HeartbeatInterval
// and Folders, both optional. Status 4 when a value is malformed: a
// HeartbeatInterval that is no integer, a Folders without Folder, a Folder
// without Id or with an unknown Class. Folders are deduplicated.
func parsePing(b *wbxml.Element) (pingRequest, eas.Status) {
	ns := wbxml.NSPing
	var r pingRequest
	if b == nil {
		return r, 0
	}
	if b.Has(ns, "HeartbeatInterval") {
		v, ok := b.ChildInt(ns, "HeartbeatInterval")
		if !ok {
			return r, pingStatusSyntaxError
		}
		r.hb, r.hasHB = v, true
	}
	fs := b.Child(ns, "Folders")
	if fs == nil {
		return r, 0
	}
	r.hasFolders = true
	seen := make(map[PingFolder]bool, len(fs.Children))
	for _, f := range fs.Children {
		if !f.Is(ns, "Folder") {
			return r, pingStatusSyntaxError
		}
		pf := PingFolder{ID: idText(f, ns, "Id"), Class: f.ChildText(ns, "Class")}
		if pf.ID == "" || !validPingClass(pf.Class) {
			return r, pingStatusSyntaxError
		}
		if !seen[pf] {
			seen[pf] = true
			r.folders = append(r.folders, pf)
		}
	}
	if len(r.folders) == 0 {
		return r, pingStatusSyntaxError
	}
	return r, 0
}

// pingAnswer is a Ping response: Status, then the children given
// (MS-ASCMD 6.30: Status, Folders, MaxFolders, HeartbeatInterval).
func pingAnswer(rq *request, st eas.Status, children ...*wbxml.Element) *wbxml.Element {
	ns := wbxml.NSPing
	rq.easStatus = st
	return wbxml.New(ns, "Ping", wbxml.Int(ns, "Status", int(st))).Add(children...)
}

// cmdPing implements Ping, MS-ASCMD 2.2.1.13: wait until one of the
// folders changes (Status 2 with their ids) or the heartbeat expires
// (Status 1). Missing parameters come from the cache (3.1.5.8).
func (s *Server) cmdPing(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSPing
	p, ok := rq.session.(Pinger)
	if !ok {
		return s.notSupported(rq, ns, "Ping")
	}
	req, st := parsePing(rq.body)
	if st != 0 {
		return pingAnswer(rq, st), nil
	}
	hb, folders := req.hb, req.folders
	if !req.hasHB || !req.hasFolders {
		chb, cfolders, ok, err := s.pingParams(rq)
		if err != nil {
			s.log.Error("server: ping: read cached parameters", "device", rq.device.ID, "err", err)
			return pingAnswer(rq, pingStatusServerError), nil
		}
		if !ok {
			// Status 3: the client sends the whole request again.
			return pingAnswer(rq, pingStatusMissingParams), nil
		}
		if !req.hasHB {
			hb = chb
		}
		if !req.hasFolders {
			folders = cfolders
		}
	}
	if len(folders) == 0 {
		return pingAnswer(rq, pingStatusMissingParams), nil
	}
	switch lo, hi := s.opts.PingMinHeartbeat, s.opts.PingMaxHeartbeat; {
	case hb < lo:
		return pingAnswer(rq, pingStatusBadHeartbeat, wbxml.Int(ns, "HeartbeatInterval", lo)), nil
	case hb > hi:
		return pingAnswer(rq, pingStatusBadHeartbeat, wbxml.Int(ns, "HeartbeatInterval", hi)), nil
	}
	if len(folders) > s.opts.PingMaxFolders {
		return pingAnswer(rq, pingStatusTooManyFolders, wbxml.Int(ns, "MaxFolders", s.opts.PingMaxFolders)), nil
	}
	if req.hasHB || req.hasFolders {
		if err := s.setPingParams(rq, hb, folders); err != nil {
			// The Ping itself can go on; the next empty one gets Status 3.
			s.log.Error("server: ping: cache parameters", "device", rq.device.ID, "err", err)
		}
	}

	ctx, release := s.hang(rq)
	defer release()
	ctx, cancel := context.WithTimeout(ctx, pingWait(time.Duration(hb)*time.Second))
	defer cancel()
	changed, err := s.waitForChanges(ctx, p, rq.device.ID, folders)
	switch {
	case err != nil && errors.Is(err, eas.ErrNotFound):
		return pingAnswer(rq, pingStatusFolderSync), nil
	case err != nil:
		s.log.Error("server: ping: wait for changes", "device", rq.device.ID, "err", err)
		return pingAnswer(rq, pingStatusServerError), nil
	case len(changed) > 0:
		out := wbxml.New(ns, "Folders")
		for _, id := range changed {
			out.Add(wbxml.Text(ns, "Folder", id))
		}
		return pingAnswer(rq, pingStatusChanges, out), nil
	}
	if errors.Is(context.Cause(ctx), errSuperseded) {
		s.log.Debug("server: ping superseded by a newer request", "device", rq.device.ID)
	}
	return pingAnswer(rq, pingStatusExpired), nil
}

// pingParams returns the cached Ping parameters of rq's device.
func (s *Server) pingParams(rq *request) (int, []PingFolder, bool, error) {
	if pc, ok := rq.session.(PingCache); ok {
		return pc.PingParams(rq.ctx, rq.session.User(), rq.device.ID)
	}
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	pp, ok := s.push.params[pushKey(rq.session.User(), rq.device.ID)]
	return pp.hb, pp.folders, ok, nil
}

// setPingParams caches the Ping parameters of rq's device.
func (s *Server) setPingParams(rq *request, hb int, folders []PingFolder) error {
	if pc, ok := rq.session.(PingCache); ok {
		return pc.SetPingParams(rq.ctx, rq.session.User(), rq.device.ID, hb, folders)
	}
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	if s.push.params == nil {
		s.push.params = map[string]pingParams{}
	}
	s.push.params[pushKey(rq.session.User(), rq.device.ID)] = pingParams{hb: hb, folders: append([]PingFolder(nil), folders...)}
	return nil
}
