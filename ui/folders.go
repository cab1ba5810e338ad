package ui

import (
	"context"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
	"easbridge/server/eas"
)

// FolderSource is what the Folders tab needs (app/folders.go and
// app/manage.go); RuntimeSource has it. Every method touches the store:
// the UI calls them off the UI goroutine.
type FolderSource interface {
	KnownUsers(ctx context.Context) ([]string, error)
	Devices(ctx context.Context) ([]eas.Device, error)
	FolderSettings(ctx context.Context, user, deviceID string) ([]app.FolderSetting, error)
	SetFolderSetting(ctx context.Context, user, deviceID string, s app.FolderSetting) error
}

// AllDevices is the device picker's entry for the account-wide defaults.
const AllDevices = "All devices (defaults)"

// Folders is the folders tab: per user, and per device or for all of
// them, which folders sync and how each is offered.
type Folders struct {
	Content fyne.CanvasObject

	User    *widget.Select
	Device  *widget.Select // AllDevices first, then the user's device IDs
	Reload  *widget.Button
	Summary *widget.Label
	List    *fyne.Container
	Rows    []*FolderRow
	Result  *widget.Label // outcome of the last change

	src     FolderSource
	run     *runner
	devices []eas.Device // every device, from the last load
	loading bool         // rows are being filled: no change callbacks
}

// FolderRow is one folder's controls.
type FolderRow struct {
	Setting        app.FolderSetting // as loaded
	Name           *widget.Label
	Synced         *widget.Check  // !Hidden
	Mode           *widget.Select // ModeLabels
	MergeInto      *widget.Select // target folder's name; shown for modes that merge
	IncompleteOnly *widget.Check  // tasks-as-events only
	Filter         *widget.Select // FilterLabels of the offered class
	Inherited      *widget.Label  // device view: "default" or "this device"
	UseDefault     *widget.Button // device view, own value: back to the default (undo icon)

	targets map[string]string // MergeInto label → key
}

// ModeLabels name the folder modes in the picker.
var ModeLabels = map[app.FolderMode]string{
	app.ModePlain:            "Plain",
	app.ModeTasksAsEvents:    "Tasks as events",
	app.ModeNotesAsTasks:     "Notes as tasks",
	app.ModeNotesAsEvents:    "Notes as events",
	app.ModeGroupwareAsEmail: "As e-mail",
	app.ModeMerged:           "Merged into…",
}

// ownFolder is the MergeInto choice of a converted folder kept apart.
const ownFolder = "(own folder)"

// filterChoice is a look-back choice: MS-ASCMD 2.2.3.68.2 FilterType.
type filterChoice struct {
	label string
	value int
}

var phoneFilter = filterChoice{"Phone's choice", 0}

// filterChoices are the look-back values that apply to each offered class.
var filterChoices = map[string][]filterChoice{
	"Email":    {phoneFilter, {"1 day", 1}, {"3 days", 2}, {"1 week", 3}, {"2 weeks", 4}, {"1 month", 5}},
	"Calendar": {phoneFilter, {"2 weeks", 4}, {"1 month", 5}, {"3 months", 6}, {"6 months", 7}},
	"Tasks":    {phoneFilter, {"Incomplete only", 8}},
}

func newFolders(src FolderSource, run *runner) *Folders {
	f := &Folders{src: src, run: run, List: container.NewVBox(), Result: wrapped(""),
		Summary: wrapped("Pick a user: folders are known once one of their devices has synced its folder list.")}
	f.User = widget.NewSelect(nil, func(string) { f.userChanged() })
	f.User.PlaceHolder = "(no user yet)"
	f.Device = widget.NewSelect([]string{AllDevices}, func(string) { f.LoadFolders() })
	f.Device.SetSelected(AllDevices)
	f.Reload = widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), f.Load)
	pickers := container.NewHBox(
		widget.NewLabel("User"), container.New(layout.NewGridWrapLayout(fyne.NewSize(260, f.User.MinSize().Height)), f.User),
		widget.NewLabel("Device"), container.New(layout.NewGridWrapLayout(fyne.NewSize(260, f.Device.MinSize().Height)), f.Device),
		f.Reload,
	)
	top := container.NewVBox(pickers, f.Summary, folderHeader())
	bottom := container.NewVBox(widget.NewSeparator(), f.Result)
	f.Content = container.NewBorder(container.NewPadded(top), bottom, nil, nil, container.NewVScroll(f.List))
	return f
}

// Column widths of the folder rows.
var (
	nameCol   = fyne.NewSize(190, 36)
	syncCol   = fyne.NewSize(64, 36)
	modeCol   = fyne.NewSize(150, 36)
	targetCol = fyne.NewSize(150, 36)
	filterCol = fyne.NewSize(156, 36)
	incCol    = fyne.NewSize(140, 36)
	markCol   = fyne.NewSize(90, 36)
)

func sized(s fyne.Size, o fyne.CanvasObject) fyne.CanvasObject {
	return container.New(layout.NewGridWrapLayout(s), o)
}

func folderHeader() fyne.CanvasObject {
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	return container.NewHBox(sized(nameCol, bold("Folder")), sized(syncCol, bold("Synced")), sized(modeCol, bold("Mode")),
		sized(targetCol, bold("Into")), sized(filterCol, bold("Look back")), sized(incCol, bold("")), bold("Set for"))
}

// Load reads the users and devices, then the folders of the selection.
func (f *Folders) Load() {
	if f.src == nil {
		f.Summary.SetText("Folder settings are not available here.")
		return
	}
	f.run.Go(func(ctx context.Context) func() {
		users, err := f.src.KnownUsers(ctx)
		var devs []eas.Device
		if err == nil {
			devs, err = f.src.Devices(ctx)
		}
		return func() {
			if err != nil {
				f.setResult("Reading the users failed: "+err.Error(), widget.DangerImportance)
				return
			}
			f.devices = devs
			sel := f.User.Selected
			f.User.SetOptions(users)
			if !slices.Contains(users, sel) {
				sel = ""
				if len(users) > 0 {
					sel = users[0]
				}
			}
			if sel == "" {
				f.User.ClearSelected()
				f.userChanged()
				return
			}
			if sel == f.User.Selected {
				f.userChanged()
			} else {
				f.User.SetSelected(sel) // calls userChanged
			}
		}
	})
}

// userChanged lists the user's devices and loads the folders.
func (f *Folders) userChanged() {
	opts := []string{AllDevices}
	for _, d := range f.devices {
		if strings.EqualFold(d.User, f.User.Selected) {
			opts = append(opts, d.ID)
		}
	}
	f.Device.SetOptions(opts)
	if !slices.Contains(opts, f.Device.Selected) {
		f.Device.SetSelected(AllDevices) // calls LoadFolders
		return
	}
	f.LoadFolders()
}

// deviceID is the selected device, "" for the account-wide defaults.
func (f *Folders) deviceID() string {
	if f.Device.Selected == AllDevices {
		return ""
	}
	return f.Device.Selected
}

// LoadFolders reads the folders of the selected user and device.
func (f *Folders) LoadFolders() {
	user, dev := f.User.Selected, f.deviceID()
	if f.src == nil {
		return
	}
	if user == "" {
		f.setRows(nil, "")
		f.Summary.SetText("No user yet: folders are known once a device has logged in and synced its folder list.")
		return
	}
	f.run.Go(func(ctx context.Context) func() {
		list, err := f.src.FolderSettings(ctx, user, dev)
		return func() {
			if user != f.User.Selected || dev != f.deviceID() {
				return // the selection changed meanwhile
			}
			if err != nil {
				f.setResult("Reading the folders failed: "+err.Error(), widget.DangerImportance)
				return
			}
			f.setRows(list, dev)
			switch {
			case len(list) == 0:
				f.Summary.SetText("No folder known for " + user + " yet: sync the folder list from a device first.")
			case dev == "":
				f.Summary.SetText("Defaults for every device of " + user + ". Devices see changes at their next folder sync.")
			default:
				f.Summary.SetText("Settings of " + dev + " (" + user + "): “default” rows follow the defaults; a change here applies to this device only.")
			}
		}
	})
}

func (f *Folders) setResult(text string, imp widget.Importance) {
	f.Result.Importance = imp
	f.Result.SetText(text)
}

func (f *Folders) setRows(list []app.FolderSetting, dev string) {
	f.loading = true
	defer func() { f.loading = false }()
	f.Rows = f.Rows[:0]
	objs := make([]fyne.CanvasObject, 0, len(list))
	for _, s := range list {
		r := f.newRow(s, list, dev)
		f.Rows = append(f.Rows, r)
		objs = append(objs, r.box(dev))
	}
	f.List.Objects = objs
	f.List.Refresh()
}

// Row is the row of the folder with that name, nil if none.
func (f *Folders) Row(name string) *FolderRow {
	for _, r := range f.Rows {
		if r.Setting.Name == name {
			return r
		}
	}
	return nil
}

func folderName(s app.FolderSetting) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Key
}

func (f *Folders) newRow(s app.FolderSetting, all []app.FolderSetting, dev string) *FolderRow {
	r := &FolderRow{Setting: s, targets: map[string]string{}}
	r.Name = widget.NewLabel(folderName(s) + " · " + strings.ToLower(s.Type.Class()))
	r.Name.Truncation = fyne.TextTruncateEllipsis
	r.Synced = widget.NewCheck("", nil)
	r.Synced.SetChecked(!s.Hidden)

	var modes []string
	for _, m := range app.FolderModes {
		probe := s
		probe.Mode = m
		if probe.OfferedClass() != "" {
			modes = append(modes, ModeLabels[m])
		}
	}
	if s.Mode == "" {
		s.Mode = app.ModePlain
		r.Setting.Mode = app.ModePlain
	}
	r.Mode = widget.NewSelect(modes, nil)
	r.Mode.SetSelected(ModeLabels[s.Mode])

	r.MergeInto = widget.NewSelect(nil, nil)
	r.IncompleteOnly = widget.NewCheck("Incomplete only", nil)
	r.IncompleteOnly.SetChecked(s.IncompleteOnly)
	r.Filter = widget.NewSelect(nil, nil)
	r.refresh(s, all)

	r.Inherited = widget.NewLabel("")
	r.UseDefault = widget.NewButtonWithIcon("", theme.ContentUndoIcon(), nil) // "use default"
	r.UseDefault.Importance = widget.LowImportance
	switch {
	case dev == "":
		r.Inherited.SetText("all devices")
		r.UseDefault.Hide()
	case s.Inherited:
		r.Inherited.SetText("default")
		r.Inherited.TextStyle.Italic = true
		r.Inherited.Importance = widget.LowImportance
		r.UseDefault.Hide()
	default:
		r.Inherited.SetText("this device")
		r.Inherited.TextStyle.Bold = true
	}

	changed := func() {
		if f.loading {
			return
		}
		f.apply(r, r.Current(all))
	}
	r.Synced.OnChanged = func(bool) { changed() }
	r.Mode.OnChanged = func(string) {
		if !f.loading {
			f.loading = true
			r.refresh(r.Current(all), all) // the targets and filters depend on the mode
			f.loading = false
		}
		changed()
	}
	r.MergeInto.OnChanged = func(string) { changed() }
	r.IncompleteOnly.OnChanged = func(bool) { changed() }
	r.Filter.OnChanged = func(string) { changed() }
	r.UseDefault.OnTapped = func() {
		s := r.Setting
		s.Inherited = true
		f.apply(r, s)
	}
	return r
}

// refresh fits the merge targets, incomplete-only and filter choices to
// the mode of s.
func (r *FolderRow) refresh(s app.FolderSetting, all []app.FolderSetting) {
	class := s.OfferedClass()
	r.targets = map[string]string{}
	var opts []string
	merging := s.Mode == app.ModeMerged
	converting := s.Mode == app.ModeTasksAsEvents || s.Mode == app.ModeNotesAsTasks || s.Mode == app.ModeNotesAsEvents
	if converting {
		opts = append(opts, ownFolder)
	}
	if merging || converting {
		for _, o := range all {
			if o.Key == s.Key || o.Type.Class() != class {
				continue
			}
			label := folderName(o)
			if _, dup := r.targets[label]; dup {
				label += " (" + o.Key + ")"
			}
			r.targets[label] = o.Key
			opts = append(opts, label)
		}
	}
	r.MergeInto.SetOptions(opts)
	r.MergeInto.ClearSelected()
	for label, key := range r.targets {
		if key == s.MergeInto {
			r.MergeInto.SetSelected(label)
		}
	}
	if converting && r.MergeInto.Selected == "" {
		r.MergeInto.SetSelected(ownFolder)
	}
	r.MergeInto.PlaceHolder = "(pick a folder)"
	if merging || converting {
		r.MergeInto.Show()
	} else {
		r.MergeInto.Hide()
	}
	if s.Mode == app.ModeTasksAsEvents {
		r.IncompleteOnly.Show()
	} else {
		r.IncompleteOnly.Hide()
	}
	choices := filterChoices[class]
	labels := make([]string, len(choices))
	r.Filter.ClearSelected()
	for i, c := range choices {
		labels[i] = c.label
	}
	r.Filter.SetOptions(labels)
	for _, c := range choices {
		if c.value == s.Filter {
			r.Filter.SetSelected(c.label)
		}
	}
	if len(choices) == 0 {
		r.Filter.Hide()
	} else {
		r.Filter.Show()
	}
}

// Current is the setting the row's controls describe.
func (r *FolderRow) Current(all []app.FolderSetting) app.FolderSetting {
	s := r.Setting
	s.Inherited = false
	s.Hidden = !r.Synced.Checked
	for m, l := range ModeLabels {
		if l == r.Mode.Selected {
			s.Mode = m
		}
	}
	s.MergeInto = ""
	if r.MergeInto.Visible() {
		s.MergeInto = r.targets[r.MergeInto.Selected]
	}
	s.IncompleteOnly = r.IncompleteOnly.Visible() && r.IncompleteOnly.Checked
	s.Filter = 0
	for _, c := range filterChoices[s.OfferedClass()] {
		if c.label == r.Filter.Selected {
			s.Filter = c.value
		}
	}
	return s
}

func (r *FolderRow) box(dev string) fyne.CanvasObject {
	return container.NewHBox(
		sized(nameCol, r.Name), sized(syncCol, r.Synced), sized(modeCol, r.Mode), sized(targetCol, r.MergeInto),
		sized(filterCol, r.Filter), sized(incCol, r.IncompleteOnly), sized(markCol, r.Inherited), r.UseDefault,
	)
}

// apply stores s off the UI goroutine, then shows the outcome and reloads
// (a refused change goes back to what is stored).
func (f *Folders) apply(r *FolderRow, s app.FolderSetting) {
	if s.Mode == app.ModeMerged && s.MergeInto == "" {
		f.setResult(folderName(s)+": pick the folder to merge into.", widget.WarningImportance)
		return
	}
	user, dev := f.User.Selected, f.deviceID()
	name := folderName(s)
	f.setResult("Saving "+name+"…", widget.MediumImportance)
	f.run.Go(func(ctx context.Context) func() {
		err := f.src.SetFolderSetting(ctx, user, dev, s)
		return func() {
			if err != nil {
				f.setResult(name+": "+err.Error(), widget.DangerImportance)
			} else {
				f.setResult(name+": saved; devices see it at their next folder sync.", widget.SuccessImportance)
			}
			if user == f.User.Selected && dev == f.deviceID() {
				f.reloadKeepingResult()
			}
		}
	})
}

// reloadKeepingResult reloads the rows without touching Result.
func (f *Folders) reloadKeepingResult() {
	text, imp := f.Result.Text, f.Result.Importance
	f.LoadFolders()
	f.Result.Importance = imp
	f.Result.SetText(text)
}
