package ui

import (
	"slices"
	"testing"

	"easbridge/app/config"
)

// TestAccountFormClassSwitches: the account form shows the account's class
// switches and its edit carries them; classes it does not touch keep their
// stored value.
func TestAccountFormClassSwitches(t *testing.T) {
	on, off := true, false
	ptr := func(b *bool) string {
		if b == nil {
			return "default"
		}
		if *b {
			return "on"
		}
		return "off"
	}
	tests := []struct {
		name  string
		acc   *config.Account
		shown []string
		check []string // the classes left checked by the user; nil: untouched
		want  [4]string
	}{
		{"new account: every class on", nil, ClassLabels[:], nil, [4]string{"default", "default", "default", "default"}},
		{"stored switches shown and kept", &config.Account{Name: "home", Classes: config.AccountClasses{Email: &on, Notes: &off}},
			[]string{"Email", "Contacts", "Calendar and tasks"}, nil, [4]string{"on", "default", "default", "off"}},
		{"calendar turned off", &config.Account{Name: "home"},
			ClassLabels[:], []string{"Email", "Contacts", "Notes"}, [4]string{"default", "default", "off", "default"}},
		{"notes turned back on, email off", &config.Account{Name: "home", Classes: config.AccountClasses{Email: &on, Notes: &off}},
			[]string{"Email", "Contacts", "Calendar and tasks"}, []string{"Contacts", "Calendar and tasks", "Notes"}, [4]string{"off", "default", "default", "default"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccountForm(tc.acc)
			if !slices.Equal(f.Classes.Selected, tc.shown) {
				t.Errorf("checked %q, want %q", f.Classes.Selected, tc.shown)
			}
			if tc.check != nil {
				f.Classes.SetSelected(tc.check)
			}
			c := f.Edit().Account.Classes
			if got := [4]string{ptr(c.Email), ptr(c.Contacts), ptr(c.Calendar), ptr(c.Notes)}; got != tc.want {
				t.Errorf("edit classes %q, want %q", got, tc.want)
			}
		})
	}
}
