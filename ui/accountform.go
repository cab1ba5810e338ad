package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
	"easbridge/app/config"
)

// AccountForm is the modal form that adds or edits an account. The
// checks are the configuration's (config.Validate, run by
// app.Runtime.SaveAccount); each error is shown under its field.
type AccountForm struct {
	PopUp *widget.PopUp
	Title *widget.Label

	Name     *widget.Entry
	IMAP     *widget.Entry
	SMTP     *widget.Entry
	DAV      *widget.Entry
	Domain   *widget.Entry
	Login    *widget.RadioGroup // config.LoginPassthrough or config.LoginStored
	Insecure *widget.Check
	// Classes are the class switches: the classes offered to the
	// account's devices (ClassLabels); one left unchecked leaves FolderSync.
	Classes *widget.CheckGroup
	Users   []*UserRow // stored logins
	AddUser *widget.Button

	Save   *widget.Button
	Cancel *widget.Button
	// Error shows errors that belong to no field (and "Saving…").
	Error *widget.Label
	// Errors are the labels under the fields, by the key of
	// config.FieldError relative to the account ("imap", "user", …).
	Errors map[string]*widget.Label

	previous string
	orig     config.Account  // the account edited: keys the form does not show are kept
	existing map[string]bool // stored users that have passwords (lower case)
	users    *fyne.Container
	usersBox *fyne.Container
}

// UserRow is one stored login of the form.
type UserRow struct {
	EASUser    *widget.Entry
	RemoteUser *widget.Entry
	Local      *widget.Entry // local password: the phone logs in with it
	Remote     *widget.Entry // password on the upstream servers
	Delete     *widget.Button
	Errors     map[string]*widget.Label // "eas_user", "remote_user", "local_password", "remote_password"

	box fyne.CanvasObject
}

func errorLabel() *widget.Label {
	l := wrapped("")
	l.Importance = widget.DangerImportance
	l.Hide()
	return l
}

func newAccountForm(acc *config.Account) *AccountForm {
	f := &AccountForm{
		Title:    widget.NewLabelWithStyle("Add account", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		Name:     widget.NewEntry(),
		IMAP:     widget.NewEntry(),
		SMTP:     widget.NewEntry(),
		DAV:      widget.NewEntry(),
		Domain:   widget.NewEntry(),
		Insecure: widget.NewCheck("Accept any TLS certificate from these servers (self-signed)", nil),
		Classes:  widget.NewCheckGroup(ClassLabels[:], nil),
		Error:    errorLabel(),
		Errors:   map[string]*widget.Label{},
		existing: map[string]bool{},
		users:    container.NewVBox(),
	}
	f.Name.SetPlaceHolder("e.g. home")
	f.IMAP.SetPlaceHolder("imaps://mail.example.com (required)")
	f.SMTP.SetPlaceHolder("smtps://mail.example.com (optional)")
	f.DAV.SetPlaceHolder("https://dav.example.com/ (optional)")
	f.Domain.SetPlaceHolder("example.com: completes logins without @ (optional)")
	f.AddUser = widget.NewButtonWithIcon("Add login", theme.ContentAddIcon(), func() { f.addUser(config.StoredUser{}) })
	f.usersBox = container.NewVBox(
		wrapped("Phones log in with a local name and password; easbridge logs in upstream with the stored user and password (kept in the keychain)."),
		container.NewGridWithColumns(2,
			widget.NewLabelWithStyle("On the phone: login, password", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			widget.NewLabelWithStyle("Upstream: user, password", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})),
		f.users, container.NewHBox(f.AddUser))
	f.Login = widget.NewRadioGroup([]string{config.LoginPassthrough, config.LoginStored}, func(s string) {
		if s == config.LoginStored {
			if len(f.Users) == 0 {
				f.addUser(config.StoredUser{})
			}
			f.usersBox.Show()
		} else {
			f.usersBox.Hide()
		}
	})
	f.Login.Horizontal = true
	f.Login.Required = true
	if acc != nil {
		f.previous, f.orig = acc.Name, *acc
		f.Title.SetText("Edit account " + acc.Name)
		f.Name.SetText(acc.Name)
		f.IMAP.SetText(acc.IMAP)
		f.SMTP.SetText(acc.SMTP)
		f.DAV.SetText(acc.DAV)
		f.Domain.SetText(acc.Domain)
		f.Insecure.SetChecked(acc.InsecureSkipVerify)
		for _, u := range acc.Users {
			f.existing[strings.ToLower(u.EASUser)] = true
			f.addUser(u)
		}
	}
	f.setClasses(f.orig.Classes) // every class on for a new account
	login := config.LoginPassthrough
	if acc != nil && acc.Login == config.LoginStored {
		login = config.LoginStored
	}
	f.Login.SetSelected(login)
	if login != config.LoginStored {
		f.usersBox.Hide()
	}
	f.Save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), nil)
	f.Save.Importance = widget.HighImportance
	f.Cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { f.PopUp.Hide() })
	return f
}

// field is an input with its error label below.
func (f *AccountForm) field(key string, w fyne.CanvasObject) fyne.CanvasObject {
	l := errorLabel()
	f.Errors[key] = l
	return container.NewVBox(w, l)
}

func (f *AccountForm) addUser(u config.StoredUser) {
	r := &UserRow{
		EASUser: widget.NewEntry(), RemoteUser: widget.NewEntry(),
		Local: widget.NewPasswordEntry(), Remote: widget.NewPasswordEntry(),
		Errors: map[string]*widget.Label{},
	}
	r.EASUser.SetText(u.EASUser)
	r.RemoteUser.SetText(u.RemoteUser)
	r.EASUser.SetPlaceHolder("login on the phone")
	r.RemoteUser.SetPlaceHolder("upstream user (default: the same)")
	if f.existing[strings.ToLower(u.EASUser)] && u.EASUser != "" {
		r.Local.SetPlaceHolder("(unchanged)")
		r.Remote.SetPlaceHolder("(unchanged)")
	} else {
		r.Local.SetPlaceHolder("password on the phone")
		r.Remote.SetPlaceHolder("upstream password")
	}
	item := func(key string, w fyne.CanvasObject) fyne.CanvasObject {
		l := errorLabel()
		r.Errors[key] = l
		return container.NewVBox(w, l)
	}
	r.Delete = widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { f.removeUser(r) })
	r.Delete.Importance = widget.LowImportance
	grid := container.NewGridWithColumns(2,
		item("eas_user", r.EASUser), item("remote_user", r.RemoteUser),
		item("local_password", r.Local), item("remote_password", r.Remote),
	)
	r.box = container.NewBorder(nil, nil, nil, r.Delete, grid)
	f.Users = append(f.Users, r)
	f.users.Add(r.box)
}

func (f *AccountForm) removeUser(r *UserRow) {
	for i, x := range f.Users {
		if x == r {
			f.Users = append(f.Users[:i:i], f.Users[i+1:]...)
			break
		}
	}
	f.users.Remove(r.box)
}

// Edit is the edit the form describes.
func (f *AccountForm) Edit() app.AccountEdit {
	a := f.orig // the keys not in the form stay as they are
	a.Name, a.IMAP, a.SMTP = strings.TrimSpace(f.Name.Text), strings.TrimSpace(f.IMAP.Text), strings.TrimSpace(f.SMTP.Text)
	a.DAV, a.Domain, a.Login = strings.TrimSpace(f.DAV.Text), strings.TrimSpace(f.Domain.Text), f.Login.Selected
	a.InsecureSkipVerify = f.Insecure.Checked
	a.Classes = f.classes()
	a.Users = nil
	e := app.AccountEdit{Previous: f.previous, Account: a}
	if a.Login != config.LoginStored {
		return e
	}
	e.Passwords = map[string]app.StoredPasswords{}
	for _, r := range f.Users {
		u := config.StoredUser{EASUser: strings.TrimSpace(r.EASUser.Text), RemoteUser: strings.TrimSpace(r.RemoteUser.Text)}
		e.Account.Users = append(e.Account.Users, u)
		if r.Local.Text != "" || r.Remote.Text != "" {
			e.Passwords[u.EASUser] = app.StoredPasswords{Local: r.Local.Text, Remote: r.Remote.Text}
		}
	}
	return e
}

func (f *AccountForm) clearErrors() {
	hide := func(l *widget.Label) {
		l.SetText("")
		l.Hide()
	}
	for _, l := range f.Errors {
		hide(l)
	}
	for _, r := range f.Users {
		for _, l := range r.Errors {
			hide(l)
		}
	}
	hide(f.Error)
}

// showErrors puts each field error under its field, the rest in Error.
func (f *AccountForm) showErrors(err error) {
	f.clearErrors()
	var rest []string
	show := func(l *widget.Label, msg string) {
		if l.Text != "" {
			msg = l.Text + "\n" + msg
		}
		l.SetText(msg)
		l.Show()
	}
	fes := app.FieldErrors(err)
	for _, fe := range fes {
		msg := fe.Err.Error()
		if l, ok := f.Errors[fe.Key]; ok {
			show(l, msg)
			continue
		}
		var i int
		var sub string
		if n, _ := fmt.Sscanf(fe.Key, "user[%d].", &i); n == 1 && i >= 0 && i < len(f.Users) {
			_, sub, _ = strings.Cut(fe.Key, ".")
			if l, ok := f.Users[i].Errors[sub]; ok {
				show(l, msg)
				continue
			}
		}
		if fe.Key != "" {
			msg = fe.Key + ": " + msg
		}
		rest = append(rest, msg)
	}
	if len(fes) == 0 {
		rest = append(rest, err.Error())
	}
	if len(rest) > 0 {
		f.Error.Importance = widget.DangerImportance
		show(f.Error, strings.Join(rest, "\n"))
	}
	f.PopUp.Refresh()
}

// FieldError is the error shown under a field ("" when none): keys as in
// Errors, or "user[i].eas_user" and the like for stored logins.
func (f *AccountForm) FieldError(key string) string {
	if l, ok := f.Errors[key]; ok {
		return l.Text
	}
	var i int
	if n, _ := fmt.Sscanf(key, "user[%d].", &i); n == 1 && i >= 0 && i < len(f.Users) {
		_, sub, _ := strings.Cut(key, ".")
		if l, ok := f.Users[i].Errors[sub]; ok {
			return l.Text
		}
	}
	return ""
}

func (f *AccountForm) show(win fyne.Window) {
	form := widget.NewForm(
		widget.NewFormItem("Name", f.field("name", f.Name)),
		widget.NewFormItem("IMAP", f.field("imap", f.IMAP)),
		widget.NewFormItem("SMTP", f.field("smtp", f.SMTP)),
		widget.NewFormItem("CalDAV/CardDAV", f.field("dav", f.DAV)),
		widget.NewFormItem("Domain", f.field("domain", f.Domain)),
		widget.NewFormItem("Login", f.field("login", f.Login)),
		widget.NewFormItem("", f.Insecure),
		widget.NewFormItem("Offered to phones", f.Classes),
	)
	f.Classes.Horizontal = true // four short labels: one line
	users := f.field("user", f.usersBox)
	body := container.NewVScroll(container.NewVBox(form, users))
	buttons := container.NewVBox(f.Error, container.NewHBox(layout.NewSpacer(), f.Cancel, f.Save))
	content := container.NewBorder(f.Title, buttons, nil, nil, body)
	f.PopUp = widget.NewModalPopUp(container.NewPadded(content), win.Canvas())
	size := win.Canvas().Size()
	w, h := float32(640), float32(640)
	if size.Height > 0 && size.Height-40 < h {
		h = max(size.Height-40, 300)
	}
	f.PopUp.Resize(fyne.NewSize(w, h))
	f.PopUp.Show()
}
