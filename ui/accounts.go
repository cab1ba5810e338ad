package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
	"easbridge/app/config"
)

// Accounts is the accounts tab: the configured accounts (read-only; they
// come from the configuration file) and a form that tests a login.
type Accounts struct {
	Content fyne.CanvasObject

	List *fyne.Container // one card per configured account

	IMAP     *widget.Entry
	SMTP     *widget.Entry
	DAV      *widget.Entry
	User     *widget.Entry
	Password *widget.Entry
	Insecure *widget.Check
	Test     *widget.Button
	Results  *fyne.Container // one label per CheckResult

	src Source
	run *runner
}

func newAccounts(src Source, run *runner) *Accounts {
	a := &Accounts{
		src: src, run: run,
		List:     container.NewVBox(),
		IMAP:     widget.NewEntry(),
		SMTP:     widget.NewEntry(),
		DAV:      widget.NewEntry(),
		User:     widget.NewEntry(),
		Password: widget.NewPasswordEntry(),
		Insecure: widget.NewCheck("Accept any TLS certificate (self-signed servers)", nil),
		Results:  container.NewVBox(),
	}
	a.IMAP.SetPlaceHolder("imaps://mail.example.com")
	a.SMTP.SetPlaceHolder("smtps://mail.example.com (optional)")
	a.DAV.SetPlaceHolder("https://dav.example.com/ (optional)")
	a.User.SetPlaceHolder("user name on these servers")
	a.Test = widget.NewButtonWithIcon("Test connection", theme.MediaPlayIcon(), a.runTest)
	a.Test.Importance = widget.HighImportance

	accs := src.Accounts()
	if len(accs) == 0 {
		a.List.Add(wrapped("No account configured."))
	}
	for _, acc := range accs {
		a.List.Add(a.accountCard(acc))
	}

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
	left := container.NewVBox(
		widget.NewLabelWithStyle("Configured accounts", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		a.List,
		wrapped("Accounts are edited in the configuration file; restart easbridge after a change."),
	)
	a.Content = container.NewGridWithColumns(2, container.NewVScroll(container.NewPadded(left)), container.NewVScroll(test))
	return a
}

func (a *Accounts) accountCard(acc config.Account) fyne.CanvasObject {
	login := acc.Login
	if login == "" {
		login = config.LoginPassthrough
	}
	form := widget.NewForm(
		widget.NewFormItem("IMAP", selectable(dash(acc.IMAP))),
		widget.NewFormItem("SMTP", selectable(dash(acc.SMTP))),
		widget.NewFormItem("DAV", selectable(dash(acc.DAV))),
		widget.NewFormItem("Login", widget.NewLabel(login)),
	)
	use := widget.NewButtonWithIcon("Test…", theme.MediaPlayIcon(), func() { a.Fill(acc) })
	use.Importance = widget.LowImportance
	return widget.NewCard(acc.Name, "", container.NewBorder(nil, nil, nil, container.NewVBox(use), form))
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
