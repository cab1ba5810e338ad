package engine

import (
	"errors"
	"testing"

	"easbridge/server/eas"
	"easbridge/sync/davsource"
	"easbridge/sync/source"
)

// TestPlaceNotes: where the Notes folder comes from, by mode and by what
// the sources list.
func TestPlaceNotes(t *testing.T) {
	journal := source.Folder{Key: "caldav:/alice/journal/", Name: "Journal", Type: eas.FolderNotes}
	tests := []struct {
		name        string
		mode        string
		mailbox     bool // the IMAP Notes mailbox exists
		davJournal  bool
		wantNotes   string // key of the one Notes folder, "" none
		wantCreated bool
	}{
		{name: "auto without journals creates the mailbox", mode: NotesAuto, wantNotes: "imap-notes:Notes", wantCreated: true},
		{name: "auto uses an existing mailbox", mode: "", mailbox: true, wantNotes: "imap-notes:Notes"},
		{name: "auto prefers journals; the mailbox stays mail", mode: NotesAuto, mailbox: true, davJournal: true, wantNotes: journal.Key},
		{name: "imap hides journals", mode: NotesIMAP, mailbox: true, davJournal: true, wantNotes: "imap-notes:Notes"},
		{name: "dav without journals has no notes", mode: NotesDAV, mailbox: true, wantNotes: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.s.l.account.Notes = tc.mode
			f.s.l.account.DAV = &davsource.Config{}
			if tc.mailbox {
				f.mail.folders["imap:Notes"] = source.Folder{Key: "imap:Notes", Name: "Notes", Type: eas.FolderUserMail}
			}
			if tc.davJournal {
				f.dav.folders[journal.Key] = journal
			}
			ch := f.folderSync("d1", "0")
			var notes []string
			mailNotes := false
			for _, x := range ch.Adds {
				k, _ := f.st.FolderKey(t.Context(), "alice@example.test", x.ServerID)
				if x.Type.Class() == "Notes" {
					notes = append(notes, k)
				}
				mailNotes = mailNotes || k == "imap:Notes"
			}
			if (tc.wantNotes == "" && len(notes) != 0) || (tc.wantNotes != "" && (len(notes) != 1 || notes[0] != tc.wantNotes)) {
				t.Errorf("notes folders %v, want %q", notes, tc.wantNotes)
			}
			if mailNotes != (tc.mailbox && tc.wantNotes != "imap-notes:Notes") {
				t.Errorf("the Notes mailbox as a mail folder: %v", mailNotes)
			}
			_, created := f.mail.folders["imap:Notes"]
			if created != (tc.mailbox || tc.wantCreated) {
				t.Errorf("mailbox exists after FolderSync: %v", created)
			}
		})
	}
}

// TestPlaceNotesWhileDAVFails: "auto" keeps its choice while the DAV
// server is down, so the Notes folder does not flip.
func TestPlaceNotesWhileDAVFails(t *testing.T) {
	for _, tc := range []struct {
		name      string
		journal   bool
		wantNotes string
	}{
		{"journals in use", true, "caldav:/alice/journal/"},
		{"IMAP notes in use", false, "imap-notes:Notes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.s.l.account.Notes = NotesAuto
			f.s.l.account.DAV = &davsource.Config{}
			if tc.journal {
				f.dav.folders["caldav:/alice/journal/"] = source.Folder{Key: "caldav:/alice/journal/", Name: "Journal", Type: eas.FolderNotes}
			}
			first := f.folderSync("d1", "0")
			f.dav.fail = errors.New("dav down")
			ch := f.folderSync("d1", first.SyncKey)
			if ch.Count() != 0 {
				t.Fatalf("folders changed while DAV failed: %+v", ch)
			}
			if _, ok := f.mail.folders["imap:Notes"]; ok == tc.journal {
				t.Errorf("IMAP Notes mailbox exists: %v", ok)
			}
			h, _ := f.st.Hierarchy(t.Context(), "alice@example.test", "d1")
			var notes []string
			for _, x := range h.Folders {
				if x.Type.Class() == "Notes" {
					k, _ := f.st.FolderKey(t.Context(), "alice@example.test", x.ServerID)
					notes = append(notes, k)
				}
			}
			if len(notes) != 1 || notes[0] != tc.wantNotes {
				t.Errorf("notes folders %v, want %s", notes, tc.wantNotes)
			}
		})
	}
}
