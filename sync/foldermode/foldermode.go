// Package foldermode is the model of per-folder sync settings: which source
// folders a device sees, how each is offered (plain, tasks as events, notes
// as tasks or events, groupware as e-mail, merged into another folder) and
// the look-back filter that overrides the phone's.
//
// Settings are kept per user in the state store as JSON: "folders" holds
// the account-wide defaults, "folders:<deviceID>" a device's overrides (a
// device entry for a folder replaces the account-wide entry as a whole).
// "folderlist" is the list of source folders last seen by FolderSync, so
// that settings can be offered for folders a device does not see.
package foldermode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"easbridge/server/eas"
	"easbridge/sync/state"
)

// Mode says how a source folder is offered to the phone.
type Mode string

// Modes.
const (
	Plain             Mode = "plain"
	TasksAsEvents     Mode = "tasks-as-events"
	NotesAsTasks      Mode = "notes-as-tasks"
	NotesAsEvents     Mode = "notes-as-events"
	GroupwareAsEmail  Mode = "groupware-as-email"
	Merged            Mode = "merged"
	settingAccount         = "folders"
	settingDevicePref      = "folders:"
	settingSeen            = "folderlist"
	settingGen             = "folders-generation"
	settingSynced          = "folders-synced:"
)

// Modes lists every mode, for pickers and usage text.
var Modes = []Mode{Plain, TasksAsEvents, NotesAsTasks, NotesAsEvents, GroupwareAsEmail, Merged}

// Setting is one source folder's setting.
type Setting struct {
	Key            string         // source folder key, e.g. "caldav:/alice/tasks/"
	Name           string         // display name as last seen
	Type           eas.FolderType // source type
	Hidden         bool           // not offered to the device(s)
	Mode           Mode
	MergeInto      string // key of the target folder (Merged; and TasksAsEvents/NotesAs* into a folder of the offered class); "" = own folder
	IncompleteOnly bool   // TasksAsEvents: incomplete tasks only
	Filter         int    // look-back override (EAS FilterType); 0 = the phone's own
	Inherited      bool   // read only: the value comes from the account-wide default
}

// Known is a source folder as last seen by FolderSync.
type Known struct {
	Key  string         `json:"key"`
	Name string         `json:"name"`
	Type eas.FolderType `json:"type"`
}

// IsZero reports whether s changes nothing (plain, visible, no filter).
func (s Setting) IsZero() bool {
	return !s.Hidden && (s.Mode == "" || s.Mode == Plain) && s.MergeInto == "" && !s.IncompleteOnly && s.Filter == 0
}

// OfferedClass is the EAS class the folder's items are offered as under
// the setting's mode ("" when the mode does not fit the type).
func (s Setting) OfferedClass() string {
	c := s.Type.Class()
	switch s.Mode {
	case "", Plain, Merged:
		return c
	case TasksAsEvents:
		if c == "Tasks" {
			return "Calendar"
		}
	case NotesAsTasks:
		if c == "Notes" {
			return "Tasks"
		}
	case NotesAsEvents:
		if c == "Notes" {
			return "Calendar"
		}
	case GroupwareAsEmail:
		switch c {
		case "Calendar", "Contacts", "Tasks", "Notes":
			return "Email"
		}
	}
	return ""
}

// OfferedType is the folder type the phone is sent for an own (not merged)
// folder under the mode.
func (s Setting) OfferedType() eas.FolderType {
	switch s.Mode {
	case TasksAsEvents, NotesAsEvents:
		return eas.FolderUserCalendar
	case NotesAsTasks:
		return eas.FolderUserTasks
	case GroupwareAsEmail:
		return eas.FolderUserMail
	}
	return s.Type
}

// IsDAV reports whether a key names a CalDAV or CardDAV collection.
func IsDAV(key string) bool {
	return strings.HasPrefix(key, "caldav:") || strings.HasPrefix(key, "carddav:")
}

// Store reads and writes settings in a state store.
type Store struct{ S state.Store }

func deviceSetting(deviceID string) string {
	if deviceID == "" {
		return settingAccount
	}
	return settingDevicePref + deviceID
}

// Raw returns the entries stored for one scope (deviceID "" = account-wide),
// by folder key.
func (st Store) Raw(ctx context.Context, user, deviceID string) (map[string]Setting, error) {
	b, err := st.S.Setting(ctx, user, deviceSetting(deviceID))
	if errors.Is(err, state.ErrNotFound) {
		return map[string]Setting{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("foldermode: read settings: %w", err)
	}
	m := map[string]Setting{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("foldermode: settings of %s: %w", user, err)
	}
	for k, s := range m {
		s.Key = k
		m[k] = s
	}
	return m, nil
}

func (st Store) putRaw(ctx context.Context, user, deviceID string, m map[string]Setting) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("foldermode: encode settings: %w", err)
	}
	if err := st.S.PutSetting(ctx, user, deviceSetting(deviceID), b); err != nil {
		return fmt.Errorf("foldermode: store settings: %w", err)
	}
	return st.bump(ctx, user)
}

// Effective returns the settings that apply to a device (deviceID "" = the
// account-wide ones): its own entries over the account-wide ones, which are
// marked Inherited.
func (st Store) Effective(ctx context.Context, user, deviceID string) (map[string]Setting, error) {
	acct, err := st.Raw(ctx, user, "")
	if err != nil {
		return nil, err
	}
	if deviceID == "" {
		return acct, nil
	}
	dev, err := st.Raw(ctx, user, deviceID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Setting, len(acct)+len(dev))
	for k, s := range acct {
		s.Inherited = true
		out[k] = s
	}
	for k, s := range dev {
		s.Inherited = false
		out[k] = s
	}
	return out, nil
}

// Seen returns the source folders last seen for user.
func (st Store) Seen(ctx context.Context, user string) ([]Known, error) {
	b, err := st.S.Setting(ctx, user, settingSeen)
	if errors.Is(err, state.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("foldermode: read folder list: %w", err)
	}
	var out []Known
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("foldermode: folder list of %s: %w", user, err)
	}
	return out, nil
}

// PutSeen records the source folders seen for user, writing only when the
// list changed.
func (st Store) PutSeen(ctx context.Context, user string, list []Known) error {
	list = append([]Known(nil), list...)
	sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("foldermode: encode folder list: %w", err)
	}
	old, err := st.S.Setting(ctx, user, settingSeen)
	if err == nil && string(old) == string(b) {
		return nil
	}
	if err := st.S.PutSetting(ctx, user, settingSeen, b); err != nil {
		return fmt.Errorf("foldermode: store folder list: %w", err)
	}
	return nil
}

// Put stores s for one scope after checking it against the other settings
// that would apply with it (types from known). With deviceID set and
// s.Inherited true, the device's entry is removed so that the account-wide
// one applies again. A zero setting removes the entry.
func (st Store) Put(ctx context.Context, user, deviceID string, s Setting, known map[string]Known) error {
	if s.Key == "" {
		return errors.New("foldermode: a folder key is required")
	}
	raw, err := st.Raw(ctx, user, deviceID)
	if err != nil {
		return err
	}
	if deviceID != "" && s.Inherited {
		delete(raw, s.Key)
		return st.putRaw(ctx, user, deviceID, raw)
	}
	s.Inherited = false
	if s.Mode == "" {
		s.Mode = Plain
	}
	if k, ok := known[s.Key]; ok {
		s.Type = k.Type
		if s.Name == "" {
			s.Name = k.Name
		}
	}
	// Check the whole effective set as it would be, for both the scope and,
	// for an account-wide change, every device that inherits it is checked
	// when applied (invalid leftovers are ignored there).
	eff, err := st.Effective(ctx, user, deviceID)
	if err != nil {
		return err
	}
	eff[s.Key] = s
	for k, kn := range known {
		x, ok := eff[k]
		if !ok {
			x = Setting{Key: k, Name: kn.Name, Mode: Plain}
		}
		if x.Type == 0 {
			x.Type = kn.Type
		}
		eff[k] = x
	}
	if err := Validate(s, eff); err != nil {
		return err
	}
	if s.IsZero() && deviceID == "" {
		delete(raw, s.Key)
	} else {
		raw[s.Key] = s
	}
	return st.putRaw(ctx, user, deviceID, raw)
}

// Validate checks one setting against the effective set it belongs to
// (which contains it): the mode fits the type, a merge target exists, is of
// the offered class, is itself offered plainly, and no folder merges into
// a folder that is hidden, merged or converted.
func Validate(s Setting, eff map[string]Setting) error {
	if s.Type == 0 {
		return fmt.Errorf("foldermode: folder %q is not known (run FolderSync from a device first)", s.Key)
	}
	mode := s.Mode
	if mode == "" {
		mode = Plain
	}
	known := false
	for _, m := range Modes {
		known = known || m == mode
	}
	if !known {
		return fmt.Errorf("foldermode: unknown mode %q (one of %s)", s.Mode, modeList())
	}
	class := s.Type.Class()
	if s.OfferedClass() == "" {
		return fmt.Errorf("foldermode: mode %s does not fit %s folder %q", mode, strings.ToLower(class), s.Key)
	}
	if mode != Plain && mode != Merged && !IsDAV(s.Key) {
		return fmt.Errorf("foldermode: mode %s needs a CalDAV/CardDAV folder, %q is not one", mode, s.Key)
	}
	if mode == Merged && s.MergeInto == "" {
		return fmt.Errorf("foldermode: mode merged needs the folder to merge into")
	}
	if s.IncompleteOnly && mode != TasksAsEvents {
		return fmt.Errorf("foldermode: incomplete-only applies to tasks-as-events only")
	}
	if s.Hidden && s.Type == eas.FolderInbox {
		return fmt.Errorf("foldermode: the Inbox cannot be hidden")
	}
	if err := validFilter(s.Filter, s.OfferedClass()); err != nil {
		return err
	}
	if s.MergeInto != "" {
		switch mode {
		case Merged, TasksAsEvents, NotesAsTasks, NotesAsEvents:
		default:
			return fmt.Errorf("foldermode: mode %s cannot merge into another folder", mode)
		}
		if s.MergeInto == s.Key {
			return fmt.Errorf("foldermode: folder %q cannot merge into itself", s.Key)
		}
		if !IsDAV(s.Key) || !IsDAV(s.MergeInto) {
			return fmt.Errorf("foldermode: only CalDAV/CardDAV folders can be merged")
		}
		t, ok := eff[s.MergeInto]
		if !ok || t.Type == 0 {
			return fmt.Errorf("foldermode: merge target %q is not a known folder", s.MergeInto)
		}
		if t.Type.Class() != s.OfferedClass() {
			return fmt.Errorf("foldermode: cannot merge %s items of %q into %s folder %q", strings.ToLower(s.OfferedClass()), s.Key, strings.ToLower(t.Type.Class()), s.MergeInto)
		}
		if t.Hidden || (t.Mode != "" && t.Mode != Plain) {
			return fmt.Errorf("foldermode: merge target %q must be a visible plain folder (it is %s; merges of merges would make a cycle)", s.MergeInto, describe(t))
		}
	}
	// Folders that merge into s stay valid only while s is a visible plain folder.
	if s.Hidden || (mode != Plain) {
		for _, o := range eff {
			if o.Key != s.Key && o.MergeInto == s.Key {
				return fmt.Errorf("foldermode: folder %q merges into %q; change that one first", o.Key, s.Key)
			}
		}
	}
	return nil
}

func describe(t Setting) string {
	if t.Hidden {
		return "hidden"
	}
	return string(t.Mode)
}

func modeList() string {
	var b []string
	for _, m := range Modes {
		b = append(b, string(m))
	}
	return strings.Join(b, ", ")
}

// validFilter checks a look-back override against the offered class,
// MS-ASCMD 2.2.3.68.2 FilterType: e-mail 1–5, calendar 4–7, tasks 8.
func validFilter(f int, class string) error {
	if f == 0 {
		return nil
	}
	ok := false
	switch class {
	case "Email":
		ok = f >= 1 && f <= 5
	case "Calendar":
		ok = f >= 4 && f <= 7
	case "Tasks":
		ok = f == 8
	}
	if !ok {
		return fmt.Errorf("foldermode: filter %d does not apply to %s folders", f, strings.ToLower(class))
	}
	return nil
}

// Generation counts the changes of a user's folder settings; a device
// whose last FolderSync saw an older one must run FolderSync again.
func (st Store) Generation(ctx context.Context, user string) (int, error) {
	return st.intSetting(ctx, user, settingGen)
}

// SyncedGeneration is the generation a device's last FolderSync applied.
func (st Store) SyncedGeneration(ctx context.Context, user, deviceID string) (int, error) {
	return st.intSetting(ctx, user, settingSynced+deviceID)
}

// PutSyncedGeneration records the generation a device's FolderSync
// applied (written only when it changed).
func (st Store) PutSyncedGeneration(ctx context.Context, user, deviceID string, gen int) error {
	cur, err := st.SyncedGeneration(ctx, user, deviceID)
	if err != nil || cur == gen {
		return err
	}
	return st.putInt(ctx, user, settingSynced+deviceID, gen)
}

func (st Store) bump(ctx context.Context, user string) error {
	g, err := st.Generation(ctx, user)
	if err != nil {
		return err
	}
	return st.putInt(ctx, user, settingGen, g+1)
}

func (st Store) intSetting(ctx context.Context, user, name string) (int, error) {
	b, err := st.S.Setting(ctx, user, name)
	if errors.Is(err, state.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("foldermode: read %s: %w", name, err)
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return 0, fmt.Errorf("foldermode: %s: %w", name, err)
	}
	return n, nil
}

func (st Store) putInt(ctx context.Context, user, name string, n int) error {
	b, _ := json.Marshal(n)
	if err := st.S.PutSetting(ctx, user, name, b); err != nil {
		return fmt.Errorf("foldermode: store %s: %w", name, err)
	}
	return nil
}

// ModesFor lists the modes that fit a folder (by its key and type), for
// pickers: plain always; merged for CalDAV/CardDAV folders; the
// conversions for the classes they convert.
func ModesFor(key string, t eas.FolderType) []Mode {
	out := []Mode{Plain}
	if !IsDAV(key) {
		return out
	}
	out = append(out, Merged)
	for _, m := range []Mode{TasksAsEvents, NotesAsTasks, NotesAsEvents, GroupwareAsEmail} {
		if (Setting{Key: key, Type: t, Mode: m}).OfferedClass() != "" {
			out = append(out, m)
		}
	}
	return out
}
