package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"easbridge/app/config"
	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/engine"
	"easbridge/sync/state"
)

// This file holds device access: the configured access rules, the device
// actions shared by the window and `easbridge devices` (DeviceAdmin), and
// the device events the tray and the Devices tab listen to.

// ErrUnknownDevice is returned by the device actions for a device the
// store does not know.
var ErrUnknownDevice = errors.New("unknown device")

// ErrUnknownFolder is returned by Resync for a folder the device's
// hierarchy does not hold.
var ErrUnknownFolder = errors.New("unknown folder")

// accessRules are default_access and [[access_rule]] ready to match.
type accessRules struct {
	rules []config.AccessRule
	def   eas.Access
}

func newAccessRules(c config.Config) accessRules {
	return accessRules{rules: c.AccessRules, def: accessOf(c.DefaultAccess)}
}

func accessOf(action string) eas.Access {
	switch action {
	case config.AccessBlock:
		return eas.AccessBlocked
	case config.AccessQuarantine:
		return eas.AccessQuarantined
	}
	return eas.AccessAllowed
}

// decide is server.Options.AccessRules: the first matching rule, else the
// default.
func (a accessRules) decide(d eas.Device) (eas.Access, eas.AccessBy) {
	for i, r := range a.rules {
		if ruleMatches(r, d) {
			by := eas.AccessBy(r.Label(i + 1)) // "rule N"
			if r.Name != "" {
				by = eas.AccessByRule + eas.AccessBy(" "+r.Name)
			}
			return accessOf(r.Action), by
		}
	}
	return a.def, eas.AccessByDefault
}

func ruleMatches(r config.AccessRule, d eas.Device) bool {
	for _, p := range [][2]string{
		{r.DeviceType, d.Type}, {r.Model, d.Model}, {r.OS, d.OS},
		{r.UserAgent, d.UserAgent}, {r.User, d.User},
	} {
		if p[0] != "" && !globMatch(p[0], p[1]) {
			return false
		}
	}
	return true
}

// globMatch matches s against a glob case-insensitively: '*' is any run of
// characters (slashes too: user agents have them), '?' one character,
// anything else itself. The whole of s must match.
func globMatch(pattern, s string) bool {
	p, t := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(s))
	pi, ti := 0, 0
	star, mark := -1, 0 // last '*' seen and where its run started in t
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			// Let the last '*' take one more character.
			mark++
			pi, ti = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// DeviceAdmin changes devices in the state store: the actions of the
// window and of `easbridge devices`. Both may run while a server uses the
// same store (another process included): every change is one write
// transaction (state.Store.UpdateDevice) and the server merges its own
// changes into the record as it then is, so a phone's request never
// undoes a decision taken here.
type DeviceAdmin struct {
	Store state.Store
	// Global returns the global policy (for checking policy overrides).
	Global func() eas.Policy
	Log    *slog.Logger
	Now    func() time.Time
}

func (a DeviceAdmin) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}

func (a DeviceAdmin) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// Devices lists the known devices, most recently seen first.
func (a DeviceAdmin) Devices(ctx context.Context) ([]eas.Device, error) {
	devs, err := a.Store.Devices(ctx)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(devs, func(i, j int) bool { return devs[i].LastSeen.After(devs[j].LastSeen) })
	return devs, nil
}

// Find returns the device with that id: user may be "" when only one
// user has a device with that id.
func (a DeviceAdmin) Find(ctx context.Context, user, id string) (eas.Device, error) {
	if user != "" {
		d, err := a.Store.Device(ctx, user, id)
		if errors.Is(err, state.ErrNotFound) {
			return d, fmt.Errorf("%w %s of %s", ErrUnknownDevice, id, user)
		}
		return d, err
	}
	devs, err := a.Store.Devices(ctx)
	if err != nil {
		return eas.Device{}, err
	}
	var found []eas.Device
	var users []string
	for _, d := range devs {
		if d.ID == id {
			found = append(found, d)
			users = append(users, d.User)
		}
	}
	switch len(found) {
	case 0:
		return eas.Device{}, fmt.Errorf("%w %s", ErrUnknownDevice, id)
	case 1:
		return found[0], nil
	}
	return eas.Device{}, fmt.Errorf("device %s is known for several users (%s): name the user", id, strings.Join(users, ", "))
}

// update changes a known device atomically.
func (a DeviceAdmin) update(ctx context.Context, user, id string, change func(*eas.Device)) (eas.Device, error) {
	d, err := a.Store.UpdateDevice(ctx, user, id, func(d *eas.Device, found bool) error {
		if !found {
			return fmt.Errorf("%w %s of %s", ErrUnknownDevice, id, user)
		}
		change(d)
		return nil
	})
	if errors.Is(err, ErrUnknownDevice) {
		return d, fmt.Errorf("%w %s of %s", ErrUnknownDevice, id, user)
	}
	return d, err
}

// SetAccess allows, blocks or quarantines a device as the administrator's
// decision: access rules no longer change it. A blocked device gets status
// 129 at its next request, a quarantined one 130 for all but Provision,
// Settings and FolderSync.
func (a DeviceAdmin) SetAccess(ctx context.Context, user, id string, acc eas.Access) error {
	if acc < eas.AccessAllowed || acc > eas.AccessQuarantined {
		return fmt.Errorf("app: unknown access state %d", acc)
	}
	if _, err := a.update(ctx, user, id, func(d *eas.Device) { d.Access, d.AccessBy = acc, eas.AccessByAdmin }); err != nil {
		return err
	}
	a.log().Info("easbridge: device access changed", "user", user, "device", id, "access", acc.String())
	return nil
}

// RequestWipe asks the device to wipe itself (accountOnly: to remove the
// account only, EAS 16.1) at its next request. It goes before a block:
// a blocked phone is still wiped. After the device acknowledges it cannot
// sync again until it is forgotten.
func (a DeviceAdmin) RequestWipe(ctx context.Context, user, id string, accountOnly bool) error {
	w := eas.WipePending
	if accountOnly {
		w = eas.WipeAccountPending
	}
	now := a.now()
	if _, err := a.update(ctx, user, id, func(d *eas.Device) {
		d.Wipe, d.WipeRequested, d.WipeAcknowledged = w, now, time.Time{}
	}); err != nil {
		return err
	}
	a.log().Warn("easbridge: remote wipe requested", "user", user, "device", id, "wipe", w.String())
	return nil
}

// Forget deletes a device, its sync state and its policy override; if it
// comes back it provisions and syncs from scratch, as a new device.
func (a DeviceAdmin) Forget(ctx context.Context, user, id string) error {
	if _, err := a.Find(ctx, user, id); err != nil {
		return err
	}
	if err := a.Store.DeleteDevice(ctx, user, id); err != nil {
		return err
	}
	if err := engine.SetDevicePolicy(ctx, a.Store, eas.Policy{}, user, id, nil); err != nil {
		return err
	}
	a.log().Info("easbridge: device forgotten", "user", user, "device", id)
	return nil
}

// Resync drops the sync state of one folder (collection id) of a device,
// or with folder "" all of it: its next Sync of the folder (FolderSync and
// every Sync) finds its key unknown and starts over. The device stays
// known, provisioned and allowed.
func (a DeviceAdmin) Resync(ctx context.Context, user, id, folder string) error {
	if _, err := a.Find(ctx, user, id); err != nil {
		return err
	}
	var err error
	if folder == "" {
		err = a.Store.DeleteSyncState(ctx, user, id)
	} else if err = a.knownFolder(ctx, user, id, folder); err == nil {
		err = a.Store.DeleteCollection(ctx, user, id, folder)
	}
	if err != nil {
		return err
	}
	a.log().Info("easbridge: device resync", "user", user, "device", id, "folder", folder)
	return nil
}

// knownFolder checks that folder is a collection id of the device's
// folder hierarchy, so that a mistyped id is not taken for a resync.
func (a DeviceAdmin) knownFolder(ctx context.Context, user, id, folder string) error {
	h, err := a.Store.Hierarchy(ctx, user, id)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("app: folders of %s: %w", id, err)
	}
	ids := make([]string, 0, len(h.Folders))
	for _, f := range h.Folders {
		if f.ServerID == folder {
			return nil
		}
		ids = append(ids, f.ServerID)
	}
	return fmt.Errorf("%w %s of device %s (its folders: %s)", ErrUnknownFolder, folder, id, strings.Join(ids, " "))
}

// DeviceEventKind says what happened to a device.
type DeviceEventKind string

// Device events.
const (
	// DeviceWaiting: a device entered quarantine and waits for approval.
	DeviceWaiting DeviceEventKind = "waiting"
	// DeviceBlockedByRule: an access rule blocked a device.
	DeviceBlockedByRule DeviceEventKind = "blocked"
	// DeviceWipeAcknowledged: a device confirmed a remote wipe.
	DeviceWipeAcknowledged DeviceEventKind = "wipe-acknowledged"
	// DeviceNew: a device connected for the first time and was allowed.
	DeviceNew DeviceEventKind = "new"
)

// DeviceEvent is a change of a device made by its own request.
type DeviceEvent struct {
	Kind   DeviceEventKind
	Device eas.Device
}

// deviceHub fans device events out to subscribers; a slow subscriber
// loses events rather than delaying a request.
type deviceHub struct {
	mu   gosync.Mutex
	subs map[chan DeviceEvent]struct{}
}

// DeviceEvents delivers device events until ctx ends (then the channel
// is closed). Events that do not fit in buf are dropped.
func (r *Runtime) DeviceEvents(ctx context.Context, buf int) <-chan DeviceEvent {
	h := &r.devHub
	ch := make(chan DeviceEvent, buf)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan DeviceEvent]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
		close(ch)
	})
	return ch
}

func (h *deviceHub) publish(e DeviceEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// deviceChanged is server.Options.DeviceChanged.
func (r *Runtime) deviceChanged(e server.DeviceEvent) {
	d := e.After
	var kind DeviceEventKind
	switch {
	case d.Access == eas.AccessQuarantined && e.Before.Access != eas.AccessQuarantined || e.New && d.Access == eas.AccessQuarantined:
		kind = DeviceWaiting
	case d.Access == eas.AccessBlocked && (e.New || e.Before.Access != eas.AccessBlocked):
		kind = DeviceBlockedByRule
	case d.Wipe.Wiped() && !e.Before.Wipe.Wiped():
		kind = DeviceWipeAcknowledged
	case e.New:
		kind = DeviceNew
	default:
		return
	}
	r.log.Info("easbridge: device event", "event", string(kind), "user", d.User, "device", d.ID, "type", d.Type, "by", d.AccessBy.String())
	r.devHub.publish(DeviceEvent{Kind: kind, Device: d})
}

// OpenDeviceAdmin opens the state store of a data directory for the
// device actions of `easbridge devices`, whether or not a server runs on
// it (SQLite in WAL mode with immediate write transactions and a busy
// timeout: both processes may write). close releases the store.
func OpenDeviceAdmin(ctx context.Context, dataDir string, log *slog.Logger) (a DeviceAdmin, close func() error, err error) {
	path := filepath.Join(dataDir, "state.db")
	if _, err := os.Stat(path); err != nil {
		return DeviceAdmin{}, nil, fmt.Errorf("app: no state in %s (has easbridge served from it?): %w", dataDir, err)
	}
	st, err := state.OpenSQLite(ctx, path)
	if err != nil {
		return DeviceAdmin{}, nil, err
	}
	return DeviceAdmin{Store: st, Log: log}, st.Close, nil
}
