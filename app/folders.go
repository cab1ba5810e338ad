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

	"easbridge/sync/foldermode"
	"easbridge/sync/state"
)

// This file holds the per-folder sync settings the window and the
// `easbridge folders` command change: visibility, look-back filter and the
// folder modes (issue 8, item 4). The model and its checks live in
// sync/foldermode; the engine applies the settings at the device's next
// FolderSync.

// FolderMode says how a source folder is offered to the phone.
type FolderMode = foldermode.Mode

// Folder modes.
const (
	ModePlain            = foldermode.Plain
	ModeTasksAsEvents    = foldermode.TasksAsEvents
	ModeNotesAsTasks     = foldermode.NotesAsTasks
	ModeNotesAsEvents    = foldermode.NotesAsEvents
	ModeGroupwareAsEmail = foldermode.GroupwareAsEmail
	ModeMerged           = foldermode.Merged
)

// FolderModes lists every mode, for pickers.
var FolderModes = foldermode.Modes

// FolderSetting is one source folder's setting:
//
//	Key            source folder key, e.g. "caldav:/alice/tasks/"
//	Name           display name as last seen
//	Type           source type (eas.FolderType)
//	Hidden         not offered to the device(s)
//	Mode           how the folder is offered
//	MergeInto      key of the target folder (ModeMerged; ModeTasksAsEvents and
//	               ModeNotesAs* into a folder of the offered class); "" = own folder
//	IncompleteOnly tasks-as-events: incomplete tasks only
//	Filter         look-back override (EAS FilterType); 0 = the phone's own
//	Inherited      read only: the value comes from the account-wide default.
//	               Given to SetFolderSetting with a device, it removes the
//	               device's own value so that the default applies again.
type FolderSetting = foldermode.Setting

func (r *Runtime) folderStore() foldermode.Store { return foldermode.Store{S: r.Store} }

// knownFolders gathers the source folders known for user: the list the
// engine keeps from FolderSync, and the hierarchies stored for the user's
// devices.
func (r *Runtime) knownFolders(ctx context.Context, user string) (map[string]foldermode.Known, error) {
	out := map[string]foldermode.Known{}
	seen, err := r.folderStore().Seen(ctx, user)
	if err != nil {
		return nil, err
	}
	for _, k := range seen {
		out[k.Key] = k
	}
	devs, err := r.Store.Devices(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: devices: %w", err)
	}
	for _, d := range devs {
		if !strings.EqualFold(d.User, user) {
			continue
		}
		h, err := r.Store.Hierarchy(ctx, d.User, d.ID)
		if err != nil {
			return nil, fmt.Errorf("app: hierarchy of %s: %w", d.ID, err)
		}
		for _, f := range h.Folders {
			key, err := r.Store.FolderKey(ctx, d.User, f.ServerID)
			if errors.Is(err, state.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("app: folder key: %w", err)
			}
			if _, ok := out[key]; !ok && !strings.HasPrefix(key, "view:") {
				// The hierarchy holds the type as offered; the engine's
				// list (above) has the source type and wins.
				out[key] = foldermode.Known{Key: key, Name: f.DisplayName, Type: f.Type}
			}
		}
	}
	return out, nil
}

// FolderSettings lists the folders known for user (from the hierarchies
// stored for their devices and the settings themselves) with their
// settings; deviceID "" = the account-wide defaults. Ordered by class, then
// name.
func (r *Runtime) FolderSettings(ctx context.Context, user, deviceID string) ([]FolderSetting, error) {
	known, err := r.knownFolders(ctx, user)
	if err != nil {
		return nil, err
	}
	eff, err := r.folderStore().Effective(ctx, user, deviceID)
	if err != nil {
		return nil, err
	}
	var out []FolderSetting
	for key, k := range known {
		s, ok := eff[key]
		if !ok {
			s = FolderSetting{Key: key, Mode: ModePlain, Inherited: deviceID != ""}
		}
		s.Name, s.Type = k.Name, k.Type
		if s.Mode == "" {
			s.Mode = ModePlain
		}
		out = append(out, s)
	}
	for key, s := range eff {
		if _, ok := known[key]; !ok {
			if s.Mode == "" {
				s.Mode = ModePlain
			}
			out = append(out, s) // a folder not seen lately keeps its setting
		}
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := out[i].Type.Class(), out[j].Type.Class()
		if ci != cj {
			return ci < cj
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// SetFolderSetting stores one folder's setting for user (deviceID "" =
// account-wide); invalid combinations (a mode that does not fit the folder
// type, MergeInto of another class, merge cycles) are errors with a clear
// message. The devices concerned see the change at their next FolderSync;
// a held Ping answers at once that they should run one.
func (r *Runtime) SetFolderSetting(ctx context.Context, user, deviceID string, s FolderSetting) error {
	if user == "" {
		return errors.New("app: folder setting: a user is required")
	}
	known, err := r.knownFolders(ctx, user)
	if err != nil {
		return err
	}
	if err := r.folderStore().Put(ctx, user, deviceID, s, known); err != nil {
		return err
	}
	if r.Engine != nil {
		r.Engine.FolderSettingsChanged(user, deviceID)
	}
	if r.log != nil {
		r.log.Info("easbridge: folder setting changed", "user", user, "device", deviceID, "folder", s.Key, "mode", s.Mode, "hidden", s.Hidden)
	}
	return nil
}

// KnownUsers lists the users known to the store (the users of its
// devices), sorted, for the UI's pickers.
func (r *Runtime) KnownUsers(ctx context.Context) ([]string, error) {
	devs, err := r.Store.Devices(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: devices: %w", err)
	}
	set := map[string]bool{}
	for _, d := range devs {
		set[d.User] = true
	}
	out := make([]string, 0, len(set))
	for u := range set {
		out = append(out, u)
	}
	sort.Strings(out)
	return out, nil
}

// OpenFolderSettings opens the state store of a data directory for the
// folder settings alone (`easbridge folders`), whether or not an instance
// serves from it: SQLite in WAL mode lets both write, and a running
// instance reads the settings at each FolderSync, Sync and Ping. Only
// the FolderSettings, SetFolderSetting and KnownUsers methods may be used
// on the returned Runtime; close releases the store.
func OpenFolderSettings(ctx context.Context, dataDir string, log *slog.Logger) (rt *Runtime, close func() error, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(dataDir, "state.db")
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("app: no state in %s (has easbridge served from it?): %w", dataDir, err)
	}
	st, err := state.OpenSQLite(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	return &Runtime{Store: st, log: log}, st.Close, nil
}

// FolderModesFor lists the modes that fit a folder, for pickers (the
// others are refused by SetFolderSetting).
func FolderModesFor(s FolderSetting) []FolderMode { return foldermode.ModesFor(s.Key, s.Type) }
