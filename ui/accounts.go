package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
	"easbridge/app/config"
)

// AccountEditor changes the configured accounts (app/accounts.go);
// RuntimeSource has it. Without it the Accounts tab only lists and tests.
type AccountEditor interface {
	// ConfiguredAccounts is the account list of the configuration (empty
	// while the demo account is served); fast.
	ConfiguredAccounts() []config.Account
	// SaveAccount and RemoveAccount write the configuration file and the
	// keychain: the UI calls them off the UI goroutine.
	SaveAccount(ctx context.Context, e app.AccountEdit) error
	RemoveAccount(ctx context.Context, name string) error
	// ConfigFile is where accounts are saved; fast.
	ConfigFile() string
}

// Accounts is the accounts tab: the configured accounts with add, edit and
// remove (when the source is an AccountEditor), and a form that tests a
// login.
type Accounts struct {
	Content fyne.CanvasObject

	List   *fyne.Container // one card per account
	Add    *widget.Button  // opens the account form (nil without an editor)
	Edit   map[string]*widget.Button
	Remove map[string]*widget.Button
	Result *widget.Label // outcome of the last save or removal
	Form   *AccountForm  // the form last opened, nil before

	IMAP     *widget.Entry
	SMTP     *widget.Entry
	DAV      *widget.Entry
	User     *widget.Entry
	Password *widget.Entry
	Insecure *widget.Check
	Test     *widget.Button
	Results  *fyne.Container // one label per CheckResult

	src    Source
	editor AccountEditor // nil: read-only
	run    *runner
}

func newAccounts(src Source, run *runner) *Accounts {
	a := &Accounts{
		src: src, run: run,
		List:     container.NewVBox(),
		Result:   wrapped(""),
		IMAP:     widget.NewEntry(),
		SMTP:     widget.NewEntry(),
		DAV:      widget.NewEntry(),
		User:     widget.NewEntry(),
		Password: widget.NewPasswordEntry(),
		Insecure: widget.NewCheck("Accept any TLS certificate (self-signed servers)", nil),
		Results:  container.NewVBox(),
	}
	a.Result.Hide() // until there is one
	a.editor, _ = src.(AccountEditor)
	a.IMAP.SetPlaceHolder("imaps://mail.example.com")
	a.SMTP.SetPlaceHolder("smtps://mail.example.com (optional)")
	a.DAV.SetPlaceHolder("https://dav.example.com/ (optional)")
	a.User.SetPlaceHolder("user name on these servers")
	a.Test = widget.NewButtonWithIcon("Test connection", theme.MediaPlayIcon(), a.runTest)
	a.Test.Importance = widget.HighImportance

	form := widget.NewForm(
		widget.NewFormItem("IMAP", a.IMAP),
		widget.NewFormItem("SMTP", a.SMTP),
		widget.NewFormItem("CalDAV/CardDAV", a.DAV),
		widget.NewFormItem("User", a.User),
		widget.NewFormItem("Password", a.Password),
		widget.NewFormItem("", a.Insecure),
	)
	test := widget.NewCard("Test connection", "Logs in to each server, sends nothing, stores nothing.",
		container.NewVBox(form, container.NewHBox(a.Test), a.Results))

	top := container.NewVBox(widget.NewLabelWithStyle("Accounts", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	var note *widget.Label
	if a.editor != nil {
		a.Add = widget.NewButtonWithIcon("Add account", theme.ContentAddIcon(), func() { a.OpenForm(nil) })
		a.Add.Importance = widget.HighImportance
		top = container.NewVBox(container.NewBorder(nil, nil, nil, a.Add, top.Objects[0]))
		note = wrapped("Saved to " + a.editor.ConfigFile() + " (other settings kept); passwords go to the keychain. Phones use the change from their next request.")
	} else {
		note = wrapped("Accounts are edited in the configuration file; restart easbridge after a change.")
	}
	left := container.NewVBox(top, a.List, a.Result, note)
	a.Reload()
	a.Content = container.NewGridWithColumns(2, container.NewVScroll(container.NewPadded(left)), container.NewVScroll(test))
	return a
}

// Reload shows the current account list.
func (a *Accounts) Reload() {
	a.Edit, a.Remove = map[string]*widget.Button{}, map[string]*widget.Button{}
	var objs []fyne.CanvasObject
	if a.editor != nil {
		accs := a.editor.ConfiguredAccounts()
		if len(accs) == 0 {
			objs = append(objs, wrapped("No account configured: the demo account is served (see Overview). Add your own with “Add account”."))
			for _, acc := range a.src.Accounts() { // the demo's servers, to test
				objs = append(objs, a.accountCard(acc, false))
			}
		}
		for _, acc := range accs {
			objs = append(objs, a.accountCard(acc, true))
		}
	} else {
		accs := a.src.Accounts()
		if len(accs) == 0 {
			objs = append(objs, wrapped("No account configured."))
		}
		for _, acc := range accs {
			objs = append(objs, a.accountCard(acc, false))
		}
	}
	a.List.Objects = objs
	a.List.Refresh()
}

func (a *Accounts) accountCard(acc config.Account, editable bool) fyne.CanvasObject {
	login := acc.Login
	if login == "" {
		login = config.LoginPassthrough
	}
	if login == config.LoginStored {
		var names []string
		for _, u := range acc.Users {
			names = append(names, u.EASUser)
		}
		login += " (" + strings.Join(names, ", ") + ")"
	}
	form := widget.NewForm(
		widget.NewFormItem("IMAP", selectable(dash(acc.IMAP))),
		widget.NewFormItem("SMTP", selectable(dash(acc.SMTP))),
		widget.NewFormItem("DAV", selectable(dash(acc.DAV))),
		widget.NewFormItem("Login", widget.NewLabel(login)),
	)
	use := widget.NewButtonWithIcon("Test…", theme.MediaPlayIcon(), func() { a.Fill(acc) })
	use.Importance = widget.LowImportance
	buttons := container.NewVBox(use)
	if editable {
		edit := widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() { a.OpenForm(&acc) })
		edit.Importance = widget.LowImportance
		remove := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { a.confirmRemove(acc.Name) })
		remove.Importance = widget.LowImportance
		a.Edit[acc.Name], a.Remove[acc.Name] = edit, remove
		buttons.Add(edit)
		buttons.Add(remove)
	}
	return widget.NewCard(acc.Name, "", container.NewBorder(nil, nil, nil, buttons, form))
}

func (a *Accounts) confirmRemove(name string) {
	a.run.confirm("Remove account", fmt.Sprintf("Remove the account %s?\n\nPhones using it can no longer log in; its stored passwords are deleted from the keychain. Mail, calendars and contacts on the servers are not touched.", name), func() {
		a.setResult("Removing "+name+"…", widget.MediumImportance)
		a.run.Go(func(ctx context.Context) func() {
			err := a.editor.RemoveAccount(ctx, name)
			return func() {
				if err != nil {
					a.setResult("Removing "+name+" failed: "+err.Error(), widget.DangerImportance)
					return
				}
				a.setResult("Removed "+name+".", widget.SuccessImportance)
				a.Reload()
			}
		})
	})
}

func (a *Accounts) setResult(text string, imp widget.Importance) {
	a.Result.Importance = imp
	a.Result.SetText(text)
	a.Result.Show()
}

// OpenForm shows the account form over the window: a new account when acc
// is nil, else acc to edit.
func (a *Accounts) OpenForm(acc *config.Account) {
	f := newAccountForm(acc)
	a.Form = f
	f.Save.OnTapped = func() { a.save(f) }
	f.show(a.run.win)
}

func (a *Accounts) save(f *AccountForm) {
	e := f.Edit()
	f.clearErrors()
	f.Save.Disable()
	f.Error.SetText("Saving…")
	f.Error.Importance = widget.MediumImportance
	f.Error.Show()
	a.run.Go(func(ctx context.Context) func() {
		err := a.editor.SaveAccount(ctx, e)
		return func() {
			f.Save.Enable()
			if err != nil {
				f.showErrors(err)
				return
			}
			f.PopUp.Hide()
			a.setResult("Saved "+e.Account.Name+".", widget.SuccessImportance)
			a.Reload()
		}
	})
}

// Fill copies an account's servers into the test form.
func (a *Accounts) Fill(acc config.Account) {
	a.IMAP.SetText(acc.IMAP)
	a.SMTP.SetText(acc.SMTP)
	a.DAV.SetText(acc.DAV)
	a.Insecure.SetChecked(acc.InsecureSkipVerify)
	if len(acc.Users) > 0 && a.User.Text == "" {
		a.User.SetText(acc.Users[0].Remote())
	}
}

// Lines are the results shown, "SERVER: message" each.
func (a *Accounts) Lines() []string {
	var out []string
	for _, o := range a.Results.Objects {
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	}
	return out
}

func (a *Accounts) runTest() {
	acc := config.Account{
		IMAP: strings.TrimSpace(a.IMAP.Text), SMTP: strings.TrimSpace(a.SMTP.Text), DAV: strings.TrimSpace(a.DAV.Text),
		InsecureSkipVerify: a.Insecure.Checked,
	}
	user, pass := strings.TrimSpace(a.User.Text), a.Password.Text
	a.Test.Disable()
	a.Results.Objects = []fyne.CanvasObject{widget.NewLabel("Testing…")}
	a.Results.Refresh()
	a.run.Go(func(ctx context.Context) func() {
		res := a.src.TestAccount(ctx, acc, user, pass)
		return func() { a.showResults(res) }
	})
}

func (a *Accounts) showResults(res []app.CheckResult) {
	a.Test.Enable()
	objs := make([]fyne.CanvasObject, 0, len(res))
	for _, r := range res {
		l := widget.NewLabel(r.String())
		l.Wrapping = fyne.TextWrapWord
		l.Selectable = true
		if r.OK {
			l.Importance = widget.SuccessImportance
		} else {
			l.Importance = widget.DangerImportance
		}
		objs = append(objs, l)
	}
	a.Results.Objects = objs
	a.Results.Refresh()
}
