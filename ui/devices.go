package ui

import (
	"context"
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/server/eas"
)

// Devices is the second tab: every device the server knows, and what can
// be done to the selected one.
type Devices struct {
	Content fyne.CanvasObject
	Summary *widget.Label
	Table   *widget.Table

	// Waiting lists the quarantined devices with one-click Approve and
	// Block; hidden when none waits.
	Waiting     *fyne.Container
	WaitingRows []*WaitingDevice

	Selected    *widget.Label  // "user / device" of the selection
	Allow       *widget.Button // "Approve" for a quarantined device
	Block       *widget.Button
	Quarantine  *widget.Button
	Resync      *widget.Button // drop the sync state (asks first); hidden without a Resyncer
	Wipe        *widget.Button // remote wipe (asks first)
	AccountWipe *widget.Button // account-only wipe (asks first)
	Forget      *widget.Button // forget the device (asks first)
	Result      *widget.Label  // outcome of the last action

	rows    [][]string
	devs    []eas.Device
	sel     deviceKey // zero: none
	waiting []deviceKey
	// act runs an action on one device (set by bind).
	act func(verb, ask string, dv eas.Device, f func(ctx context.Context, dv eas.Device) error)
	src Source
}

// WaitingDevice is one quarantined device in the Waiting box.
type WaitingDevice struct {
	Device  eas.Device
	Label   *widget.Label
	Approve *widget.Button
	Block   *widget.Button
}

// Resyncer makes a device start its sync over; app.Runtime is one.
type Resyncer interface {
	Resync(ctx context.Context, user, id, folder string) error
}

// DeviceColumns are the Devices table's column titles.
// "EAS" is the protocol version the device speaks.
var DeviceColumns = []string{"User", "Device ID", "Type", "Model", "OS", "EAS", "Last seen", "Access", "Wipe", "Decided by"}

// deviceColumnWidths fit the usual values (a 15-character device ID, a
// date with minutes, "quarantined") in the default window; the table
// scrolls sideways when the window is narrower.
var deviceColumnWidths = []float32{146, 144, 70, 84, 90, 44, 130, 98, 94, 92}

func newDevices() *Devices {
	d := &Devices{Summary: wrapped(noDevices), Selected: widget.NewLabel(noSelection), Result: wrapped("")}
	d.Table = widget.NewTableWithHeaders(
		func() (int, int) { return len(d.rows), len(DeviceColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			text := ""
			if id.Row >= 0 && id.Row < len(d.rows) && id.Col >= 0 && id.Col < len(DeviceColumns) {
				text = d.rows[id.Row][id.Col]
			}
			o.(*widget.Label).SetText(text)
		},
	)
	d.Table.ShowHeaderColumn = false
	d.Table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	d.Table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 && id.Col < len(DeviceColumns) {
			o.(*widget.Label).SetText(DeviceColumns[id.Col])
		}
	}
	for i, w := range deviceColumnWidths {
		d.Table.SetColumnWidth(i, w)
	}
	d.Table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(d.devs) {
			d.sel = keyOf(d.devs[id.Row])
		}
		d.updateActions()
	}
	d.Allow = widget.NewButtonWithIcon("Allow", theme.ConfirmIcon(), nil)
	d.Block = widget.NewButtonWithIcon("Block", theme.CancelIcon(), nil)
	d.Quarantine = widget.NewButtonWithIcon("Quarantine", theme.MediaPauseIcon(), nil)
	d.Resync = widget.NewButtonWithIcon("Resync", theme.ViewRefreshIcon(), nil)
	d.Waiting = container.NewVBox()
	d.Waiting.Hide()
	d.Wipe = widget.NewButtonWithIcon("Remote wipe", theme.WarningIcon(), nil)
	d.Wipe.Importance = widget.DangerImportance
	d.AccountWipe = widget.NewButtonWithIcon("Account-only wipe", theme.AccountIcon(), nil)
	d.AccountWipe.Importance = widget.WarningImportance
	d.Forget = widget.NewButtonWithIcon("Forget", theme.DeleteIcon(), nil)
	d.Selected.TextStyle.Bold = true
	d.Selected.Truncation = fyne.TextTruncateEllipsis
	actions := container.NewBorder(nil, nil, nil,
		container.NewHBox(d.Allow, d.Block, d.Quarantine, widget.NewSeparator(), d.Resync, d.AccountWipe, d.Wipe, d.Forget), d.Selected)
	top := container.NewVBox(container.NewPadded(d.Summary), d.Waiting)
	d.Content = container.NewBorder(top, container.NewVBox(widget.NewSeparator(), actions, d.Result), nil, nil, d.Table)
	d.updateActions()
	return d
}

const noSelection = "Select a device to allow, block, quarantine, resync, wipe or forget it."

// deviceKey identifies a device.
type deviceKey struct{ user, id string }

func keyOf(d eas.Device) deviceKey { return deviceKey{d.User, d.ID} }

// Selection is the selected device; ok is false without one.
func (d *Devices) Selection() (eas.Device, bool) {
	for _, dv := range d.devs {
		if d.sel != (deviceKey{}) && keyOf(dv) == d.sel {
			return dv, true
		}
	}
	return eas.Device{}, false
}

// Select selects the device of the given row.
func (d *Devices) Select(row int) { d.Table.Select(widget.TableCellID{Row: row, Col: 0}) }

func (d *Devices) updateActions() {
	dv, ok := d.Selection()
	btns := []*widget.Button{d.Allow, d.Block, d.Quarantine, d.Resync, d.Wipe, d.AccountWipe, d.Forget}
	if !ok {
		d.sel = deviceKey{}
		d.Selected.SetText(noSelection)
		for _, b := range btns {
			b.Disable()
		}
		return
	}
	d.Selected.SetText(fmt.Sprintf("%s — %s (%s, %s by %s, wipe: %s)", dv.ID, dv.User, dash(dv.Type), dv.Access, dv.AccessBy, wipeText(dv)))
	for _, b := range btns {
		b.Enable()
	}
	allow := "Allow"
	if dv.Access == eas.AccessQuarantined {
		allow = "Approve"
	}
	if d.Allow.Text != allow {
		d.Allow.SetText(allow)
	}
	switch dv.Access {
	case eas.AccessAllowed:
		d.Allow.Disable()
	case eas.AccessBlocked:
		d.Block.Disable()
	case eas.AccessQuarantined:
		d.Quarantine.Disable()
	}
	if dv.Wipe != eas.WipeNone {
		d.Wipe.Disable()
		d.AccountWipe.Disable()
	}
}

// bind connects the action buttons to src: each runs off the UI goroutine,
// shows its outcome in Result and then calls refresh.
func (d *Devices) bind(src Source, run *runner, refresh func()) {
	d.src = src
	d.act = func(verb, ask string, dv eas.Device, f func(ctx context.Context, dv eas.Device) error) {
		do := func() {
			d.Result.SetText(verb + " " + dv.ID + "…")
			d.Result.Importance = widget.MediumImportance
			run.Go(func(ctx context.Context) func() {
				err := f(ctx, dv)
				return func() {
					if err != nil {
						d.Result.Importance = widget.DangerImportance
						d.Result.SetText(verb + " " + dv.ID + " failed: " + err.Error())
					} else {
						d.Result.Importance = widget.SuccessImportance
						d.Result.SetText(verb + " " + dv.ID + ": done.")
					}
					refresh()
				}
			})
		}
		if ask == "" {
			do()
			return
		}
		run.confirm(verb, fmt.Sprintf(ask, dv.ID, dv.User), do)
	}
	act := func(verb string, ask string, f func(ctx context.Context, dv eas.Device) error) func() {
		return func() {
			if dv, ok := d.Selection(); ok {
				d.act(verb, ask, dv, f)
			}
		}
	}
	d.Allow.OnTapped = func() {
		verb := "Allow"
		if dv, ok := d.Selection(); ok && dv.Access == eas.AccessQuarantined {
			verb = "Approve"
		}
		act(verb, "", setAccess(src, eas.AccessAllowed))()
	}
	d.Block.OnTapped = act("Block", "", setAccess(src, eas.AccessBlocked))
	d.Quarantine.OnTapped = act("Quarantine", "", setAccess(src, eas.AccessQuarantined))
	if rs, ok := src.(Resyncer); ok {
		d.Resync.OnTapped = act("Resync", "Make %s (%s) sync everything again from scratch?\n\nIts folders and items are sent again at its next sync; nothing is deleted on the server.",
			func(ctx context.Context, dv eas.Device) error { return rs.Resync(ctx, dv.User, dv.ID, "") })
	} else {
		d.Resync.Hide()
	}
	d.Wipe.OnTapped = act("Remote wipe", "Erase ALL data on %s (%s)?\n\nThe phone is reset to factory settings the next time it connects. This cannot be undone.",
		func(ctx context.Context, dv eas.Device) error { return src.RequestWipe(ctx, dv.User, dv.ID, false) })
	d.AccountWipe.OnTapped = act("Account-only wipe", "Remove this account and its data from %s (%s)?\n\nThe phone deletes the account the next time it connects (EAS 16.1; older phones are shut out instead).",
		func(ctx context.Context, dv eas.Device) error { return src.RequestWipe(ctx, dv.User, dv.ID, true) })
	d.Forget.OnTapped = act("Forget", "Forget %s (%s) and its sync state?\n\nIf it connects again it must set up and sync from scratch.",
		func(ctx context.Context, dv eas.Device) error { return src.ForgetDevice(ctx, dv.User, dv.ID) })
}

func setAccess(src Source, a eas.Access) func(ctx context.Context, dv eas.Device) error {
	return func(ctx context.Context, dv eas.Device) error { return src.SetAccess(ctx, dv.User, dv.ID, a) }
}

// setWaiting rebuilds the Waiting box when the set of quarantined devices
// changed.
func (d *Devices) setWaiting() {
	var keys []deviceKey
	var waiting []eas.Device
	for _, dv := range d.devs {
		if dv.Access == eas.AccessQuarantined {
			keys = append(keys, keyOf(dv))
			waiting = append(waiting, dv)
		}
	}
	if slices.Equal(keys, d.waiting) {
		return
	}
	d.waiting = keys
	d.WaitingRows = nil
	objs := []fyne.CanvasObject{}
	if len(waiting) > 0 {
		title := widget.NewLabelWithStyle(countText(len(waiting), "device waits", "devices wait")+" for your approval (quarantined: they may set up, not sync):",
			fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		title.Importance = widget.WarningImportance
		objs = append(objs, title)
	}
	for _, dv := range waiting {
		model := dv.Model
		if model == "" {
			model = dv.Type
		}
		w := &WaitingDevice{Device: dv, Label: widget.NewLabel(fmt.Sprintf("%s — %s (%s, %s)", dv.ID, dv.User, dash(model), dash(dv.OS)))}
		w.Label.Truncation = fyne.TextTruncateEllipsis
		w.Approve = widget.NewButtonWithIcon("Approve", theme.ConfirmIcon(), func() {
			if d.act != nil {
				d.act("Approve", "", w.Device, setAccess(d.src, eas.AccessAllowed))
			}
		})
		w.Approve.Importance = widget.HighImportance
		w.Block = widget.NewButtonWithIcon("Block", theme.CancelIcon(), func() {
			if d.act != nil {
				d.act("Block", "", w.Device, setAccess(d.src, eas.AccessBlocked))
			}
		})
		d.WaitingRows = append(d.WaitingRows, w)
		objs = append(objs, container.NewBorder(nil, nil, nil, container.NewHBox(w.Approve, w.Block), w.Label))
	}
	d.Waiting.Objects = objs
	if len(waiting) == 0 {
		d.Waiting.Hide()
	} else {
		d.Waiting.Show()
	}
	d.Waiting.Refresh()
}

// wipeText is the wipe state with its times.
func wipeText(dv eas.Device) string {
	s := dv.Wipe.String()
	if !dv.WipeRequested.IsZero() {
		s += ", asked " + dv.WipeRequested.Local().Format("2006-01-02 15:04")
	}
	if !dv.WipeAcknowledged.IsZero() {
		s += ", acknowledged " + dv.WipeAcknowledged.Local().Format("2006-01-02 15:04")
	}
	return s
}

const noDevices = "No device has connected yet. On the phone, add an Exchange (ActiveSync) account with the server URL from the Overview tab."

// SetDevices shows devs (in the order given: most recently seen first).
func (d *Devices) SetDevices(devs []eas.Device) {
	rows := make([][]string, len(devs))
	for i, dv := range devs {
		rows[i] = deviceRow(dv)
	}
	d.devs = slices.Clone(devs)
	d.setWaiting()
	if slices.EqualFunc(rows, d.rows, slices.Equal) {
		d.updateActions()
		return
	}
	d.rows = rows
	defer func() {
		// Keep the table's selection on the selected device.
		for i, dv := range d.devs {
			if d.sel != (deviceKey{}) && keyOf(dv) == d.sel {
				d.Table.Select(widget.TableCellID{Row: i, Col: 0})
				d.updateActions()
				return
			}
		}
		d.Table.UnselectAll()
		d.updateActions()
	}()
	if len(rows) == 0 {
		d.Summary.SetText(noDevices)
	} else {
		d.Summary.SetText(countText(len(rows), "device", "devices") + " known, most recently seen first.")
	}
	d.Table.Refresh()
}

// Rows is the table content, one []string per device in DeviceColumns order.
func (d *Devices) Rows() [][]string { return d.rows }

func deviceRow(d eas.Device) []string {
	model := d.Model
	if model == "" {
		model = d.FriendlyName
	}
	seen := "-"
	if !d.LastSeen.IsZero() {
		seen = d.LastSeen.Local().Format("2006-01-02 15:04")
	}
	return []string{
		dash(d.User), dash(d.ID), dash(d.Type), dash(model), dash(d.OS),
		dash(string(d.ProtocolVersion)), seen, d.Access.String(), d.Wipe.String(), d.AccessBy.String(),
	}
}
