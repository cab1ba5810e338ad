package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/sync/foldermode"
	"easbridge/sync/source"
)

// Folder views: what a device is offered, from the source folders, the
// folder settings (sync/foldermode) and the account's class switches.
//
// Implementation notes:
//   - A folder offered as it is keeps its source key, so its ServerId and
//     the device's state survive; a folder offered in another mode gets
//     the view key "view:<mode>[+incomplete]:<source key>" and so a ServerId
//     of its own: a mode change is a FolderSync Delete and Add, never a
//     change of type under the same id.
//   - A folder merged into another disappears; its items come with the
//     target's collection. Each offered collection has members: the
//     folder itself first (where the device's adds go), then the folders
//     merged into it, each with the conversion of its mode.
//   - Invalid leftovers (a target that is gone, hidden or converted) are
//     ignored: the folder is offered on its own.

// Classes are an account's class switches: a class turned off disappears
// from FolderSync for the account's devices. The zero value offers all.
type Classes struct {
	NoEmail, NoContacts, NoCalendar, NoNotes bool // NoCalendar covers tasks too
}

func (c Classes) off(class string) bool {
	switch class {
	case "Email":
		return c.NoEmail
	case "Contacts":
		return c.NoContacts
	case "Calendar", "Tasks":
		return c.NoCalendar
	case "Notes":
		return c.NoNotes
	}
	return false
}

const viewPrefix = "view:"

// viewKey is the key of a folder offered in a mode other than plain.
func viewKey(s foldermode.Setting) string {
	m := string(s.Mode)
	if s.IncompleteOnly {
		m += "+incomplete"
	}
	return viewPrefix + m + ":" + s.Key
}

// parseViewKey splits a view key; ok false for a source key.
func parseViewKey(k string) (mode foldermode.Mode, incompleteOnly bool, src string, ok bool) {
	if !strings.HasPrefix(k, viewPrefix) {
		return "", false, "", false
	}
	m, src, ok := strings.Cut(k[len(viewPrefix):], ":")
	if !ok {
		return "", false, "", false
	}
	m, io := strings.CutSuffix(m, "+incomplete")
	return foldermode.Mode(m), io, src, true
}

// sourceKey is the source folder key behind an offered key.
func sourceKey(k string) string {
	if _, _, src, ok := parseViewKey(k); ok {
		return src
	}
	return k
}

// srcFolder is a source folder by key.
type srcFolder struct {
	Key, ParentKey, Name string
	Type                 eas.FolderType
}

// member is one source collection of an offered collection.
type member struct {
	Key            string
	Mode           foldermode.Mode // Plain: items as they are
	IncompleteOnly bool
}

// offered is one folder as offered to the device.
type offered struct {
	srcFolder          // Key is the offered key; Type the offered type
	Members   []member // DAV collections only; empty for mail
	Filter    int      // look-back override; 0 = the phone's
}

// plan is a device's view.
type plan struct {
	folders []offered
	byKey   map[string]int
}

func (p *plan) lookup(key string) (offered, bool) {
	i, ok := p.byKey[key]
	if !ok {
		return offered{}, false
	}
	return p.folders[i], true
}

// resolveView computes what is offered from the source folders.
func resolveView(src []srcFolder, eff map[string]foldermode.Setting, cl Classes) *plan {
	byKey := make(map[string]srcFolder, len(src))
	for _, f := range src {
		byKey[f.Key] = f
	}
	setting := func(f srcFolder) foldermode.Setting {
		s := eff[f.Key]
		s.Key, s.Type = f.Key, f.Type
		if s.Mode == "" || s.OfferedClass() == "" || (s.Mode != foldermode.Plain && s.Mode != foldermode.Merged && !foldermode.IsDAV(f.Key)) {
			s.Mode = foldermode.Plain
		}
		return s
	}
	visible := func(f srcFolder) bool {
		s := setting(f)
		return !s.Hidden && !cl.off(f.Type.Class())
	}
	// target returns the folder f merges into, if the merge is valid.
	target := func(f srcFolder) (srcFolder, bool) {
		s := setting(f)
		if s.MergeInto == "" || !foldermode.IsDAV(f.Key) {
			return srcFolder{}, false
		}
		t, ok := byKey[s.MergeInto]
		if !ok || t.Key == f.Key || !visible(t) || !foldermode.IsDAV(t.Key) {
			return srcFolder{}, false
		}
		ts := setting(t)
		if ts.Mode != foldermode.Plain || ts.MergeInto != "" || t.Type.Class() != s.OfferedClass() {
			return srcFolder{}, false
		}
		return t, true
	}
	p := &plan{byKey: make(map[string]int, len(src)), folders: make([]offered, 0, len(src))}
	offKey := make(map[string]string, len(src)) // source key -> offered key, for parents
	for _, f := range src {
		if !visible(f) {
			continue
		}
		if _, merged := target(f); merged {
			continue
		}
		s := setting(f)
		o := offered{srcFolder: f, Filter: s.Filter}
		if s.Mode == foldermode.Merged {
			s.Mode = foldermode.Plain // a merge whose target is not valid
		}
		if s.Mode != foldermode.Plain {
			o.Key, o.Type, o.ParentKey = viewKey(s), s.OfferedType(), ""
		}
		if foldermode.IsDAV(f.Key) {
			o.Members = []member{{Key: f.Key, Mode: s.Mode, IncompleteOnly: s.IncompleteOnly}}
		}
		offKey[f.Key] = o.Key
		p.byKey[o.Key] = len(p.folders)
		p.folders = append(p.folders, o)
	}
	// Members merged into each target, in key order.
	keys := make([]string, 0, len(src))
	for _, f := range src {
		keys = append(keys, f.Key)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := byKey[k]
		if !visible(f) {
			continue
		}
		t, ok := target(f)
		if !ok {
			continue
		}
		i, ok := p.byKey[t.Key]
		if !ok {
			continue
		}
		s := setting(f)
		m := member{Key: f.Key, Mode: s.Mode, IncompleteOnly: s.IncompleteOnly}
		if m.Mode == foldermode.Merged {
			m.Mode = foldermode.Plain
		}
		p.folders[i].Members = append(p.folders[i].Members, m)
	}
	// Parents: the nearest offered ancestor, else the top.
	for i := range p.folders {
		pk := p.folders[i].ParentKey
		for pk != "" {
			if ok, found := offKey[pk]; found {
				pk = ok
				break
			}
			pk = byKey[pk].ParentKey
		}
		p.folders[i].ParentKey = pk
	}
	return p
}

// folderSettings reads the effective settings of a device.
func (s *session) folderSettings(ctx context.Context, deviceID string) (map[string]foldermode.Setting, error) {
	eff, err := foldermode.Store{S: s.store()}.Effective(ctx, s.l.user, deviceID)
	if err != nil {
		return nil, fmt.Errorf("engine: folder settings: %w", err)
	}
	return eff, nil
}

// deviceView is a device's view over the source folders last seen by
// FolderSync (no source is asked), for Sync, Ping and ItemOperations.
type deviceView struct {
	plan  *plan           // nil: everything offered as it is
	known map[string]bool // source keys seen
	stale bool            // settings changed since the device's last FolderSync
	gen   int             // the settings generation it was computed at
}

func (s *session) deviceView(ctx context.Context, deviceID string) (*deviceView, error) {
	fst := foldermode.Store{S: s.store()}
	gen, err := fst.Generation(ctx, s.l.user)
	if err != nil {
		return nil, err
	}
	if gen == 0 && s.classes() == (Classes{}) {
		// No setting was ever made and every class is on: everything is
		// offered as it is (one read, the common case).
		return &deviceView{gen: gen}, nil
	}
	if v := s.e.folders.cached(s.l.user, deviceID, gen, s.classes()); v != nil {
		return v, nil
	}
	eff, err := s.folderSettings(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	seen, err := fst.Seen(ctx, s.l.user)
	if err != nil {
		return nil, err
	}
	synced, err := fst.SyncedGeneration(ctx, s.l.user, deviceID)
	if err != nil {
		return nil, err
	}
	v := &deviceView{known: make(map[string]bool, len(seen)), stale: gen != synced, gen: gen}
	src := make([]srcFolder, 0, len(seen))
	for _, k := range seen {
		src = append(src, srcFolder{Key: k.Key, Name: k.Name, Type: k.Type})
		v.known[k.Key] = true
	}
	v.plan = resolveView(src, eff, s.classes())
	s.e.folders.keep(s.l.user, deviceID, gen, s.classes(), v)
	return v, nil
}

// errNotOffered answers a Sync or Ping of a folder the device is no longer
// offered, or any while its folder settings changed since its last
// FolderSync: Sync Status 12, Ping Status 7, so that it runs FolderSync.
var errNotOffered = fmt.Errorf("engine: folder settings changed: FolderSync needed: %w", eas.ErrNotFound)

// offered checks that key (a collection's folder key) is offered to the
// device and returns how. Folders the engine has no record of (before the
// first FolderSync that records them) are offered as they are.
func (v *deviceView) offered(key string) (offered, error) {
	if v.stale {
		return offered{}, errNotOffered
	}
	if v.plan == nil {
		if strings.HasPrefix(key, viewPrefix) {
			return offered{}, errNotOffered
		}
	} else if o, ok := v.plan.lookup(key); ok {
		return o, nil
	}
	if strings.HasPrefix(key, viewPrefix) || v.known[key] {
		return offered{}, errNotOffered // hidden, merged, converted, class off
	}
	o := offered{srcFolder: srcFolder{Key: key}}
	if foldermode.IsDAV(key) {
		o.Members = []member{{Key: key, Mode: foldermode.Plain}}
	}
	return o, nil
}

// offeredFolder is deviceView(…).offered(key).
func (s *session) offeredFolder(ctx context.Context, deviceID, key string) (offered, error) {
	v, err := s.deviceView(ctx, deviceID)
	if err != nil {
		return offered{}, err
	}
	return v.offered(key)
}

// folderSynced records that the device's FolderSync applied the settings
// of generation gen.
func (s *session) folderSynced(ctx context.Context, deviceID string, gen int) {
	if err := (foldermode.Store{S: s.store()}).PutSyncedGeneration(ctx, s.l.user, deviceID, gen); err != nil {
		s.e.log.Warn("engine: record folder settings applied", "user", s.l.user, "device", deviceID, "err", err)
	}
	s.e.folders.forget(s.l.user, deviceID)
}

// settingsRecheck is how often a held Ping reads the settings generation,
// to notice changes made by another process (`easbridge folders`); changes
// made in this one wake it at once.
const settingsRecheck = time.Minute

// settingsGeneration is the current generation of the user's folder
// settings (0 on error: the device then syncs its folders once more).
func (s *session) settingsGeneration(ctx context.Context) int {
	g, _ := foldermode.Store{S: s.store()}.Generation(ctx, s.l.user)
	return g
}

// isNotOffered reports whether err is errNotOffered.
func isNotOffered(err error) bool { return errors.Is(err, errNotOffered) }

// viewOf records the source folders seen (for the settings UI and for
// Sync, which does not list sources) and returns the device's view of
// them. With partial true (a source failed) the folders last seen of the
// failed sources are kept in the record.
func (s *session) viewOf(ctx context.Context, deviceID string, all []source.Folder, partial bool) (*plan, error) {
	fst := foldermode.Store{S: s.store()}
	known := make([]foldermode.Known, 0, len(all))
	src := make([]srcFolder, 0, len(all))
	have := make(map[string]bool, len(all))
	for _, f := range all {
		known = append(known, foldermode.Known{Key: f.Key, Name: f.Name, Type: f.Type})
		src = append(src, srcFolder{Key: f.Key, ParentKey: f.ParentKey, Name: f.Name, Type: f.Type})
		have[f.Key] = true
	}
	if partial {
		old, err := fst.Seen(ctx, s.l.user)
		if err != nil {
			return nil, err
		}
		for _, k := range old {
			if !have[k.Key] {
				known = append(known, k)
			}
		}
	}
	if err := fst.PutSeen(ctx, s.l.user, known); err != nil {
		return nil, err
	}
	s.e.folders.forget(s.l.user, "") // the views were computed over the old list
	eff, err := s.folderSettings(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	return resolveView(src, eff, s.classes()), nil
}

// classes are the login's account's class switches.
func (s *session) classes() Classes {
	if s.l.account == nil {
		return Classes{}
	}
	return s.l.account.Classes
}
