package ui

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
	"easbridge/server/eas"
)

// Policies is the device policy tab: the EASProvisionDoc settings sent to
// devices when they provision. Saving applies from the next Provision:
// devices provisioned under the old policy are asked to provision again.
//
// With a PolicyLevels source the Scope picks the level edited: the global
// policy, one account's or one device's. An account or device shows its
// effective policy with, beside each setting, the level it comes from;
// saving stores at that level the settings that differ from the level
// above.
type Policies struct {
	Content fyne.CanvasObject

	Scope     *widget.Select           // hidden without PolicyLevels
	Checks    map[string]*widget.Check // by toml name of the eas.Policy field
	Numbers   map[string]*widget.Entry // by toml name
	Sources   map[string]*widget.Label // by toml name: "global", "account" or "device"
	Bluetooth *widget.Select
	Inherit   *widget.Button // drop this account's or device's own settings
	Save      *widget.Button
	Revert    *widget.Button
	Result    *widget.Label

	src    Source
	levels PolicyLevels // nil: global only
	run    *runner
	loaded eas.Policy // fields the form does not show are kept from here
	scope  policyScope
	layers app.PolicyLayers
	scopes []policyScope // behind Scope's options
}

// PolicyLevels reads and sets the account and device levels of the
// policy; app.Runtime (RuntimeSource) has them.
type PolicyLevels interface {
	PolicyLayers(ctx context.Context, user, deviceID string) (app.PolicyLayers, error)
	SetAccountPolicy(ctx context.Context, user string, o eas.PolicyOverride) error
	SetDevicePolicy(ctx context.Context, user, deviceID string, o eas.PolicyOverride) error
}

// policyScope is the level edited: user "" for the global policy, device
// "" for an account.
type policyScope struct{ user, device string }

func (s policyScope) String() string {
	switch {
	case s.user == "":
		return GlobalScope
	case s.device == "":
		return "Account " + s.user
	}
	return "Device " + s.device + " (" + s.user + ")"
}

// GlobalScope is the Scope option of the global policy.
const GlobalScope = "Global: every account and device"

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
	{"allow_simple_password", "Allow simple passwords", func(p *eas.Policy) *bool { return &p.AllowSimpleDevicePassword }},
	{"password_recovery_enabled", "Allow password recovery", func(p *eas.Policy) *bool { return &p.PasswordRecoveryEnabled }},
	{"require_device_encryption", "Encrypt the device", func(p *eas.Policy) *bool { return &p.RequireDeviceEncryption }},
	{"require_storage_card_encryption", "Encrypt the storage card", func(p *eas.Policy) *bool { return &p.RequireStorageCardEncryption }},
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
		Sources: map[string]*widget.Label{},
		Result:  wrapped(""),
	}
	p.levels, _ = src.(PolicyLevels)
	source := func(key string) *widget.Label {
		l := widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Italic: true})
		l.Hide()
		p.Sources[key] = l
		return l
	}
	checks := func(fields []policyBool, cols int) fyne.CanvasObject {
		objs := make([]fyne.CanvasObject, 0, len(fields))
		for _, f := range fields {
			c := widget.NewCheck(f.label, nil)
			p.Checks[f.key] = c
			objs = append(objs, container.NewBorder(nil, nil, nil, source(f.key), c))
		}
		return container.NewGridWithColumns(cols, objs...)
	}
	numbers := func(fields []policyInt) *widget.Form {
		form := widget.NewForm()
		for _, f := range fields {
			e := widget.NewEntry()
			e.SetPlaceHolder(f.hint)
			p.Numbers[f.key] = e
			item := widget.NewFormItem(f.label, container.NewBorder(nil, nil, nil, source(f.key), e))
			item.HintText = f.hint
			form.AppendItem(item)
		}
		return form
	}
	p.Bluetooth = widget.NewSelect(BluetoothOptions, nil)
	devForm := numbers(policyDeviceInts)
	devForm.AppendItem(widget.NewFormItem("Bluetooth", container.NewBorder(nil, nil, nil, source("allow_bluetooth"), p.Bluetooth)))

	// Two columns of checks fit half the default window (labels of at most
	// 26 characters); with the level labels beside them, one.
	pwCols := 2
	if p.levels != nil {
		pwCols = 1
	}
	password := widget.NewCard("Password and encryption", "", container.NewVBox(checks(policyPasswordBools, pwCols), numbers(policyPasswordInts)))
	device := widget.NewCard("Allowed on the device", "", container.NewVBox(checks(policyDeviceBools, 2), devForm))

	p.Save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), p.save)
	p.Save.Importance = widget.HighImportance
	p.Revert = widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), p.Load)
	p.Inherit = widget.NewButtonWithIcon("Use inherited values", theme.ContentClearIcon(), p.inherit)
	p.Inherit.Hide()
	p.Scope = widget.NewSelect([]string{GlobalScope}, nil)
	p.Scope.SetSelectedIndex(0)
	p.Scope.OnChanged = func(string) {
		if i := p.Scope.SelectedIndex(); i >= 0 && i < len(p.scopes) {
			p.scope = p.scopes[i]
			p.Load()
		}
	}
	p.scopes = []policyScope{{}}
	note := widget.NewLabelWithStyle("Applied from the next Provision: devices set up under the old policy are asked to accept the new one.",
		fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	note.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(note)
	if p.levels != nil {
		top.Add(widget.NewForm(widget.NewFormItem("Policy of", p.Scope)))
	} else {
		p.Scope.Hide()
	}
	bar := container.NewBorder(nil, nil, nil, container.NewHBox(p.Inherit, p.Revert, p.Save), p.Result)
	body := container.NewGridWithColumns(2, password, device)
	p.Content = container.NewBorder(container.NewPadded(top), container.NewPadded(bar), nil, nil, container.NewVScroll(body))
	p.Load()
	return p
}

// SetDevices offers the accounts and devices of devs as scopes.
func (p *Policies) SetDevices(devs []eas.Device) {
	if p.levels == nil {
		return
	}
	scopes := []policyScope{{}}
	users := map[string]bool{}
	for _, d := range devs {
		if !users[d.User] {
			users[d.User] = true
			scopes = append(scopes, policyScope{user: d.User})
		}
	}
	for _, d := range devs {
		scopes = append(scopes, policyScope{user: d.User, device: d.ID})
	}
	if slices.Equal(scopes, p.scopes) {
		return
	}
	p.scopes = scopes
	opts := make([]string, len(scopes))
	for i, s := range scopes {
		opts[i] = s.String()
	}
	p.Scope.Options = opts
	p.Scope.Refresh()
}

// SelectScope shows the policy of an account (device "") or a device;
// user "" is the global policy.
func (p *Policies) SelectScope(user, device string) {
	for i, s := range p.scopes {
		if s == (policyScope{user, device}) {
			p.Scope.SetSelectedIndex(i) // calls Load
			return
		}
	}
}

// Load shows the current policy of the scope, dropping unsaved edits.
func (p *Policies) Load() {
	p.Result.SetText("")
	if p.scope.user == "" || p.levels == nil {
		p.layers = app.PolicyLayers{}
		p.show(p.src.Policy())
		if p.Inherit.Visible() {
			p.showSources(false)
			p.Inherit.Hide()
			p.Content.Refresh()
		}
		return
	}
	scope := p.scope
	p.run.Go(func(ctx context.Context) func() {
		l, err := p.levels.PolicyLayers(ctx, scope.user, scope.device)
		var eff eas.Policy
		if err == nil {
			eff, err = l.Effective()
		}
		return func() {
			if p.scope != scope {
				return // another scope was picked meanwhile
			}
			if err != nil {
				p.fail(err)
				return
			}
			p.layers = l
			p.show(eff)
			p.showSources(true)
			p.Inherit.Show()
			p.Content.Refresh() // lay out the labels just shown
		}
	})
}

// showSources shows beside each setting the level it comes from.
func (p *Policies) showSources(on bool) {
	for key, l := range p.Sources {
		if !on {
			l.Hide()
			continue
		}
		src := p.layers.Source(key)
		l.SetText(src)
		switch {
		case src == "global":
			l.Importance = widget.LowImportance
		case (src == "device") == (p.scope.device != ""):
			l.Importance = widget.HighImportance // set at this level
		default:
			l.Importance = widget.MediumImportance
		}
		l.Show()
		l.Refresh()
	}
}

// parent is the policy the scope inherits.
func (p *Policies) parent() (eas.Policy, error) {
	if p.scope.device == "" {
		return p.layers.Global, nil
	}
	return p.layers.User.Apply(p.layers.Global)
}

// setLevel stores o as the own settings of scope. It runs off the UI
// goroutine, so it takes the scope rather than reading p.scope.
func (p *Policies) setLevel(ctx context.Context, scope policyScope, o eas.PolicyOverride) error {
	if scope.device == "" {
		return p.levels.SetAccountPolicy(ctx, scope.user, o)
	}
	return p.levels.SetDevicePolicy(ctx, scope.user, scope.device, o)
}

// inherit drops the scope's own settings.
func (p *Policies) inherit() {
	if p.levels == nil || p.scope.user == "" {
		return
	}
	scope := p.scope
	p.run.Go(func(ctx context.Context) func() {
		err := p.setLevel(ctx, scope, nil)
		return func() {
			if err != nil {
				p.fail(err)
				return
			}
			if p.scope == scope {
				p.Load()
				p.Result.Importance = widget.SuccessImportance
				p.Result.SetText(scope.String() + " uses the inherited values again.")
			}
		}
	})
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
	if p.scope.user != "" && p.levels != nil {
		parent, err := p.parent()
		if err != nil {
			p.Save.Enable()
			p.fail(err)
			return
		}
		o, scope := eas.Diff(parent, pol), p.scope
		p.run.Go(func(ctx context.Context) func() {
			err := p.setLevel(ctx, scope, o)
			return func() {
				p.Save.Enable()
				if err != nil {
					p.fail(err)
					return
				}
				if p.scope == scope {
					p.Load()
				}
				p.Result.Importance = widget.SuccessImportance
				p.Result.SetText(fmt.Sprintf("Saved %s: %s. Applied from its next Provision.", scope, countText(len(o), "own setting", "own settings")))
			}
		})
		return
	}
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
