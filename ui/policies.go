package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/server/eas"
)

// Policies is the device policy tab: the EASProvisionDoc settings sent to
// devices when they provision. Saving applies from the next Provision:
// devices provisioned under the old policy are asked to provision again.
type Policies struct {
	Content fyne.CanvasObject

	Checks    map[string]*widget.Check // by toml name of the eas.Policy field
	Numbers   map[string]*widget.Entry // by toml name
	Bluetooth *widget.Select
	Save      *widget.Button
	Revert    *widget.Button
	Result    *widget.Label

	src    Source
	run    *runner
	loaded eas.Policy // fields the form does not show are kept from here
}

type policyBool struct {
	key, label string
	field      func(*eas.Policy) *bool
}

type policyInt struct {
	key, label, hint string
	field            func(*eas.Policy) *int
}

var policyPasswordBools = []policyBool{
	{"device_password_enabled", "Require a device password", func(p *eas.Policy) *bool { return &p.DevicePasswordEnabled }},
	{"alphanumeric_password_required", "Require letters and digits", func(p *eas.Policy) *bool { return &p.AlphanumericDevicePasswordRequired }},
	{"allow_simple_password", "Allow simple passwords (1234, 1111)", func(p *eas.Policy) *bool { return &p.AllowSimpleDevicePassword }},
	{"password_recovery_enabled", "Allow password recovery", func(p *eas.Policy) *bool { return &p.PasswordRecoveryEnabled }},
	{"require_device_encryption", "Require device encryption", func(p *eas.Policy) *bool { return &p.RequireDeviceEncryption }},
	{"require_storage_card_encryption", "Require storage card encryption", func(p *eas.Policy) *bool { return &p.RequireStorageCardEncryption }},
}

var policyPasswordInts = []policyInt{
	{"min_password_length", "Minimum length", "0 (not set) to 16", func(p *eas.Policy) *int { return &p.MinDevicePasswordLength }},
	{"min_complex_characters", "Complex characters", "1 to 4 character classes", func(p *eas.Policy) *int { return &p.MinDevicePasswordComplexCharacters }},
	{"max_inactivity_seconds", "Lock after inactivity (s)", "0 (not set) to 9999", func(p *eas.Policy) *int { return &p.MaxInactivityTimeDeviceLock }},
	{"max_failed_attempts", "Wipe after failed attempts", "0 (never) or 4 to 16", func(p *eas.Policy) *int { return &p.MaxDevicePasswordFailedAttempts }},
	{"password_expiration_days", "Password expires (days)", "0 = never", func(p *eas.Policy) *int { return &p.DevicePasswordExpiration }},
	{"password_history", "Password history", "0 = no history", func(p *eas.Policy) *int { return &p.DevicePasswordHistory }},
}

var policyDeviceBools = []policyBool{
	{"allow_storage_card", "Storage card", func(p *eas.Policy) *bool { return &p.AllowStorageCard }},
	{"allow_camera", "Camera", func(p *eas.Policy) *bool { return &p.AllowCamera }},
	{"allow_wifi", "Wi-Fi", func(p *eas.Policy) *bool { return &p.AllowWiFi }},
	{"allow_browser", "Browser", func(p *eas.Policy) *bool { return &p.AllowBrowser }},
	{"allow_html_email", "HTML mail", func(p *eas.Policy) *bool { return &p.AllowHTMLEmail }},
	{"attachments_enabled", "Attachments", func(p *eas.Policy) *bool { return &p.AttachmentsEnabled }},
	{"allow_text_messaging", "Text messaging", func(p *eas.Policy) *bool { return &p.AllowTextMessaging }},
	{"allow_pop_imap_email", "POP/IMAP mail", func(p *eas.Policy) *bool { return &p.AllowPOPIMAPEmail }},
	{"allow_consumer_email", "Consumer mail", func(p *eas.Policy) *bool { return &p.AllowConsumerEmail }},
	{"allow_internet_sharing", "Internet sharing", func(p *eas.Policy) *bool { return &p.AllowInternetSharing }},
	{"allow_desktop_sync", "Desktop sync", func(p *eas.Policy) *bool { return &p.AllowDesktopSync }},
	{"allow_unsigned_applications", "Unsigned apps", func(p *eas.Policy) *bool { return &p.AllowUnsignedApplications }},
}

var policyDeviceInts = []policyInt{
	{"max_attachment_size", "Max attachment size (bytes)", "0 = no limit", func(p *eas.Policy) *int { return &p.MaxAttachmentSize }},
}

// BluetoothOptions are the choices of AllowBluetooth, by value.
var BluetoothOptions = []string{"Not allowed", "Hands-free only", "Allowed"}

func newPolicies(src Source, run *runner) *Policies {
	p := &Policies{
		src: src, run: run,
		Checks:  map[string]*widget.Check{},
		Numbers: map[string]*widget.Entry{},
		Result:  wrapped(""),
	}
	checks := func(fields []policyBool, cols int) fyne.CanvasObject {
		objs := make([]fyne.CanvasObject, 0, len(fields))
		for _, f := range fields {
			c := widget.NewCheck(f.label, nil)
			p.Checks[f.key] = c
			objs = append(objs, c)
		}
		return container.NewGridWithColumns(cols, objs...)
	}
	numbers := func(fields []policyInt) *widget.Form {
		form := widget.NewForm()
		for _, f := range fields {
			e := widget.NewEntry()
			e.SetPlaceHolder(f.hint)
			p.Numbers[f.key] = e
			item := widget.NewFormItem(f.label, e)
			item.HintText = f.hint
			form.AppendItem(item)
		}
		return form
	}
	p.Bluetooth = widget.NewSelect(BluetoothOptions, nil)
	devForm := numbers(policyDeviceInts)
	devForm.AppendItem(widget.NewFormItem("Bluetooth", p.Bluetooth))

	password := widget.NewCard("Password and encryption", "", container.NewVBox(checks(policyPasswordBools, 2), numbers(policyPasswordInts)))
	device := widget.NewCard("Allowed on the device", "", container.NewVBox(checks(policyDeviceBools, 2), devForm))

	p.Save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), p.save)
	p.Save.Importance = widget.HighImportance
	p.Revert = widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), p.Load)
	note := widget.NewLabelWithStyle("Applied from the next Provision: devices set up under the old policy are asked to accept the new one.",
		fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	note.Wrapping = fyne.TextWrapWord
	bar := container.NewBorder(nil, nil, nil, container.NewHBox(p.Revert, p.Save), p.Result)
	body := container.NewGridWithColumns(2, password, device)
	p.Content = container.NewBorder(container.NewPadded(note), container.NewPadded(bar), nil, nil, container.NewVScroll(body))
	p.Load()
	return p
}

// Load shows the current policy, dropping unsaved edits.
func (p *Policies) Load() {
	p.show(p.src.Policy())
	p.Result.SetText("")
}

func (p *Policies) show(pol eas.Policy) {
	p.loaded = pol
	for _, f := range append(append([]policyBool{}, policyPasswordBools...), policyDeviceBools...) {
		p.Checks[f.key].SetChecked(*f.field(&pol))
	}
	for _, f := range append(append([]policyInt{}, policyPasswordInts...), policyDeviceInts...) {
		p.Numbers[f.key].SetText(strconv.Itoa(*f.field(&pol)))
	}
	if pol.AllowBluetooth >= 0 && pol.AllowBluetooth < len(BluetoothOptions) {
		p.Bluetooth.SetSelectedIndex(pol.AllowBluetooth)
	}
}

// Read is the policy the form shows; an error names a field that is not a
// number. Range checks are eas.Policy.Validate's, on Save.
func (p *Policies) Read() (eas.Policy, error) {
	pol := p.loaded
	for _, f := range append(append([]policyBool{}, policyPasswordBools...), policyDeviceBools...) {
		*f.field(&pol) = p.Checks[f.key].Checked
	}
	for _, f := range append(append([]policyInt{}, policyPasswordInts...), policyDeviceInts...) {
		text := strings.TrimSpace(p.Numbers[f.key].Text)
		if text == "" {
			text = "0"
		}
		n, err := strconv.Atoi(text)
		if err != nil {
			return pol, fmt.Errorf("%s: %q is not a whole number", f.label, p.Numbers[f.key].Text)
		}
		*f.field(&pol) = n
	}
	if i := p.Bluetooth.SelectedIndex(); i >= 0 {
		pol.AllowBluetooth = i
	}
	return pol, nil
}

func (p *Policies) save() {
	pol, err := p.Read()
	if err == nil {
		err = pol.Validate()
	}
	if err != nil {
		p.fail(err)
		return
	}
	p.Save.Disable()
	p.Result.Importance = widget.MediumImportance
	p.Result.SetText("Saving…")
	p.run.Go(func(context.Context) func() {
		err := p.src.SetPolicy(pol)
		return func() {
			p.Save.Enable()
			if err != nil {
				p.fail(err)
				return
			}
			p.loaded = pol
			p.Result.Importance = widget.SuccessImportance
			p.Result.SetText("Saved. Applied from the next Provision of each device.")
		}
	})
}

func (p *Policies) fail(err error) {
	p.Result.Importance = widget.DangerImportance
	p.Result.SetText("Not saved: " + strings.TrimPrefix(err.Error(), "eas: "))
}
