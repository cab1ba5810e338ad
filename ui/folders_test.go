package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
	"easbridge/server/eas"
)

// folderSource is a fakeSource with folder settings: account-wide ones and
// per-device overrides, merged as the runtime does (a device's own entry
// replaces the default).
type folderSource struct {
	*fakeSource
	fmu      sync.Mutex
	folders  []app.FolderSetting                     // known folders, plain
	defaults map[string]app.FolderSetting            // by key
	devices  map[string]map[string]app.FolderSetting // device → key → setting
	reject   error                                   // SetFolderSetting's answer when set
	sets     []string
}

func newFolderSource() *folderSource {
	st := twoDevices().st
	return &folderSource{
		fakeSource: newFakeSource(st),
		folders: []app.FolderSetting{
			{Key: "imap:INBOX", Name: "Inbox", Type: eas.FolderInbox},
			{Key: "imap:Archive", Name: "Archive", Type: eas.FolderUserMail},
			{Key: "caldav:/u/cal/", Name: "Calendar", Type: eas.FolderCalendar},
			{Key: "caldav:/u/work/", Name: "Work", Type: eas.FolderUserCalendar},
			{Key: "caldav:/u/tasks/", Name: "Chores", Type: eas.FolderTasks},
		},
		defaults: map[string]app.FolderSetting{},
		devices:  map[string]map[string]app.FolderSetting{},
	}
}

func (f *folderSource) KnownUsers(context.Context) ([]string, error) {
	return []string{"demo@demo.easbridge", "u@example.com"}, nil
}

func (f *folderSource) Devices(ctx context.Context) ([]eas.Device, error) {
	return f.Status(ctx).Devices, nil
}

func (f *folderSource) FolderSettings(_ context.Context, user, dev string) ([]app.FolderSetting, error) {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	var out []app.FolderSetting
	for _, k := range f.folders {
		s := k
		s.Mode = app.ModePlain
		if d, ok := f.defaults[k.Key]; ok {
			s = d
		}
		s.Inherited = dev != ""
		if d, ok := f.devices[dev][k.Key]; ok && dev != "" {
			s = d
			s.Inherited = false
		}
		s.Name, s.Type = k.Name, k.Type
		out = append(out, s)
	}
	return out, nil
}

func (f *folderSource) SetFolderSetting(_ context.Context, user, dev string, s app.FolderSetting) error {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	f.sets = append(f.sets, fmt.Sprintf("%s/%s %s hidden=%v mode=%s into=%s inc=%v filter=%d inherited=%v",
		user, dev, s.Key, s.Hidden, s.Mode, s.MergeInto, s.IncompleteOnly, s.Filter, s.Inherited))
	if f.reject != nil {
		return f.reject
	}
	switch {
	case dev == "":
		f.defaults[s.Key] = s
	case s.Inherited:
		delete(f.devices[dev], s.Key)
	default:
		if f.devices[dev] == nil {
			f.devices[dev] = map[string]app.FolderSetting{}
		}
		f.devices[dev][s.Key] = s
	}
	return nil
}

func (f *folderSource) lastSet() string {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	if len(f.sets) == 0 {
		return ""
	}
	return f.sets[len(f.sets)-1]
}

var _ FolderSource = (*folderSource)(nil)

func folderWindow(t *testing.T) (*Window, *folderSource) {
	t.Helper()
	src := newFolderSource()
	w := newWindow(test.NewTempApp(t), src, syncRunner)
	return w, src
}

func TestFoldersTab(t *testing.T) {
	w, src := folderWindow(t)
	w.Tabs.SelectIndex(TabFolders) // loads
	f := w.Folders
	if f.User.Selected != "demo@demo.easbridge" || f.Device.Selected != AllDevices {
		t.Fatalf("pickers: %q %q", f.User.Selected, f.Device.Selected)
	}
	if len(f.Rows) != 5 || f.Row("Chores") == nil {
		t.Fatalf("%d rows", len(f.Rows))
	}
	chores := f.Row("Chores")
	if !slices.Contains(chores.Mode.Options, ModeLabels[app.ModeTasksAsEvents]) || slices.Contains(chores.Mode.Options, ModeLabels[app.ModeNotesAsTasks]) {
		t.Errorf("task folder modes %q", chores.Mode.Options)
	}
	if chores.MergeInto.Visible() || chores.IncompleteOnly.Visible() {
		t.Error("merge target or incomplete-only shown for a plain folder")
	}

	// Tasks as events into the Work calendar, incomplete only.
	chores.Mode.SetSelected(ModeLabels[app.ModeTasksAsEvents])
	want := "demo@demo.easbridge/ caldav:/u/tasks/ hidden=false mode=tasks-as-events into= inc=false filter=0 inherited=false"
	if got := src.lastSet(); got != want {
		t.Fatalf("set %q\nwant %q", got, want)
	}
	chores = f.Row("Chores") // rows are rebuilt from what is stored
	if chores.Mode.Selected != "Tasks as events" || !chores.MergeInto.Visible() || chores.MergeInto.Selected != ownFolder || !chores.IncompleteOnly.Visible() {
		t.Fatalf("row after the change: mode %q into %q", chores.Mode.Selected, chores.MergeInto.Selected)
	}
	if !slices.Equal(chores.MergeInto.Options, []string{ownFolder, "Calendar", "Work"}) {
		t.Errorf("targets %q", chores.MergeInto.Options)
	}
	if !slices.Contains(chores.Filter.Options, "6 months") {
		t.Errorf("filters of a task folder offered as events: %q", chores.Filter.Options)
	}
	chores.MergeInto.SetSelected("Work")
	f.Row("Chores").IncompleteOnly.SetChecked(true)
	if got := src.lastSet(); !strings.Contains(got, "into=caldav:/u/work/ inc=true") {
		t.Errorf("set %q", got)
	}
	if !strings.Contains(f.Result.Text, "saved") {
		t.Errorf("result %q", f.Result.Text)
	}

	// Hide the archive for every device.
	test.Tap(f.Row("Archive").Synced)
	if got := src.lastSet(); !strings.Contains(got, "imap:Archive hidden=true") || f.Row("Archive").Synced.Checked {
		t.Errorf("set %q", got)
	}

	// One device: values inherited from the defaults say so.
	f.User.SetSelected("u@example.com")
	if !slices.Equal(f.Device.Options, []string{AllDevices, "IPHONE2"}) {
		t.Fatalf("devices %q", f.Device.Options)
	}
	f.Device.SetSelected("IPHONE2")
	arch := f.Row("Archive")
	if arch.Inherited.Text != "default" || arch.UseDefault.Visible() {
		t.Errorf("inherited marker %q", arch.Inherited.Text)
	}
	test.Tap(arch.Synced) // this device only
	if got := src.lastSet(); !strings.HasPrefix(got, "u@example.com/IPHONE2 imap:Archive") {
		t.Errorf("set %q", got)
	}
	arch = f.Row("Archive")
	if arch.Inherited.Text != "this device" || !arch.UseDefault.Visible() {
		t.Errorf("own value marker %q", arch.Inherited.Text)
	}
	test.Tap(arch.UseDefault)
	if got := src.lastSet(); !strings.HasSuffix(got, "inherited=true") || f.Row("Archive").Inherited.Text != "default" {
		t.Errorf("use default: %q, marker %q", got, f.Row("Archive").Inherited.Text)
	}

	// A refused change: the error is shown, the row goes back.
	src.reject = errors.New("foldermode: the Inbox cannot be hidden")
	test.Tap(f.Row("Inbox").Synced)
	if f.Result.Importance != widget.DangerImportance || !strings.Contains(f.Result.Text, "Inbox cannot be hidden") {
		t.Errorf("result %q", f.Result.Text)
	}
	if !f.Row("Inbox").Synced.Checked {
		t.Error("refused change still shown")
	}

	// Merged needs a target before anything is stored.
	src.reject = nil
	n := len(src.sets)
	f.Device.SetSelected(AllDevices)
	f.Row("Work").Mode.SetSelected(ModeLabels[app.ModeMerged])
	if len(src.sets) != n || !strings.Contains(f.Result.Text, "pick the folder") {
		t.Errorf("merged without a target: %d sets, result %q", len(src.sets)-n, f.Result.Text)
	}
	f.Row("Work").MergeInto.SetSelected("Calendar")
	if got := src.lastSet(); !strings.Contains(got, "caldav:/u/work/ hidden=false mode=merged into=caldav:/u/cal/") {
		t.Errorf("set %q", got)
	}
}

func TestFoldersWithoutSource(t *testing.T) {
	w := syncWindow(t, newFakeSource(demoStatus()))
	w.Tabs.SelectIndex(TabFolders)
	if !strings.Contains(w.Folders.Summary.Text, "not available") {
		t.Errorf("summary %q", w.Folders.Summary.Text)
	}
}

func TestWindowRemembersSizeAndTab(t *testing.T) {
	a := test.NewTempApp(t)
	src := newFakeSource(demoStatus())
	w := NewWindow(a, src)
	if got := w.Window.Canvas().Size(); got != DefaultSize {
		t.Fatalf("first size %v", got)
	}
	w.Window.Resize(fyne.NewSize(820, 530))
	w.Tabs.SelectIndex(TabPolicies)
	w.Window.Close()

	w2 := NewWindow(a, src) // same preferences, as after a restart
	if got := w2.Window.Canvas().Size(); got != fyne.NewSize(820, 530) {
		t.Errorf("restored size %v", got)
	}
	if w2.Tabs.SelectedIndex() != TabPolicies {
		t.Errorf("restored tab %d", w2.Tabs.SelectedIndex())
	}

	// A minimised window's size is not kept.
	w2.Window.Resize(fyne.NewSize(10, 10))
	if p := a.Preferences(); p.Float(PrefWidth) != 820 {
		t.Errorf("saved width %v", p.Float(PrefWidth))
	}
}
