package app_test

import (
	"context"
	"testing"

	"easbridge/app"
)

// TestClassSwitchSavedFromWindowAgainstRealServers: a class turned off in
// the account form (Runtime.SaveAccount, as the window saves) leaves the
// phone's FolderSync without a restart; turned on again, it comes back.
func TestClassSwitchSavedFromWindowAgainstRealServers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := newModePhone(t, w, "classphone2")
	const userContactsType = 14
	before := p.byType(contactsType, userContactsType) // Contacts and Office
	if len(before) < 2 {
		t.Fatalf("address books before: %v", before)
	}
	acc := w.rt.ConfiguredAccounts()[0]
	off := false
	acc.Classes.Contacts = &off
	if err := w.rt.SaveAccount(ctx, app.AccountEdit{Previous: acc.Name, Account: acc}); err != nil {
		t.Fatal(err)
	}
	adds, dels := p.folderSync()
	if len(adds) != 0 || len(dels) != len(before) || len(p.byType(contactsType, userContactsType)) != 0 {
		t.Fatalf("contacts off: adds %v deletes %v, want the deletes of %d address books", names(adds), names(dels), len(before))
	}
	if len(p.byType(calType)) != 1 {
		t.Errorf("the calendar left with the contacts: %v", p.ids)
	}
	acc.Classes.Contacts = nil
	if err := w.rt.SaveAccount(ctx, app.AccountEdit{Previous: acc.Name, Account: acc}); err != nil {
		t.Fatal(err)
	}
	if adds, dels := p.folderSync(); len(adds) != len(before) || len(dels) != 0 {
		t.Errorf("contacts on again: adds %v deletes %v", names(adds), names(dels))
	}
	for name, f := range p.byType(contactsType, userContactsType) {
		if before[name].ServerID != f.ServerID {
			t.Errorf("%s back as %s, was %s", name, f.ServerID, before[name].ServerID)
		}
	}
}
