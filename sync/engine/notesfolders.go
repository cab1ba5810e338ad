package engine

import (
	"context"
	"errors"
	"strings"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

// Where notes live (Account.Notes).
const (
	// NotesAuto: the DAV server's VJOURNAL collections when it has any,
	// else the IMAP Notes mailbox. The default.
	NotesAuto = "auto"
	// NotesDAV: only VJOURNAL collections (no Notes folder without them).
	NotesDAV = "dav"
	// NotesIMAP: the IMAP Notes mailbox; journal collections are hidden.
	NotesIMAP = "imap"
)

// NotesMailbox is the IMAP mailbox that holds notes, created when needed.
const NotesMailbox = "Notes"

// placeNotes decides, during FolderSync, where this account's notes live
// and shapes the folder list for it: with IMAP notes the Notes mailbox
// (created when absent) becomes the default Notes folder, under the key
// "imap-notes:Notes" so that it is never also a mail folder, and DAV
// journal collections are left out. prev is the hierarchy last sent and
// errs the sources' listing errors (in the order of l.sources()): when the
// DAV listing failed, "auto" keeps the decision made then.
func (s *session) placeNotes(ctx context.Context, all []source.Folder, prev []eas.Folder, errs []error) []source.Folder {
	mode := s.l.account.Notes
	if mode == NotesDAV {
		return all
	}
	imapFailed, davFailed := false, false
	for i, ns := range s.l.sources() {
		if i < len(errs) && errs[i] != nil {
			imapFailed = imapFailed || ns.owns("imap:")
			davFailed = davFailed || ns.owns("caldav:")
		}
	}
	if imapFailed {
		return all // its folders are carried over as they were
	}
	if mode != NotesIMAP {
		for _, f := range all {
			if strings.HasPrefix(f.Key, "caldav:") && f.Type.Class() == "Notes" {
				return all
			}
		}
		if davFailed && !s.hadIMAPNotes(ctx, prev) {
			return all // DAV failed this time; its journals were in use
		}
	}
	out := make([]source.Folder, 0, len(all)+1)
	found := false
	for _, f := range all {
		switch {
		case f.ParentKey == "" && strings.EqualFold(f.Key, "imap:"+NotesMailbox):
			found = true
			out = append(out, notesFolder(f.Key[len("imap:"):]))
		case strings.HasPrefix(f.Key, "caldav:") && f.Type.Class() == "Notes":
			// hidden: notes live in IMAP
		default:
			out = append(out, f)
		}
	}
	if !found {
		ns := s.l.sources()[0]
		if _, err := ns.src.CreateFolder(ctx, "", NotesMailbox, eas.FolderUserMail); err != nil && !errors.Is(err, eas.ErrExists) {
			s.e.log.Warn("engine: create the IMAP Notes mailbox", "user", s.l.user, "err", err)
			return all
		}
		s.e.log.Info("engine: created the IMAP Notes mailbox", "user", s.l.user)
		out = append(out, notesFolder(NotesMailbox))
	}
	return out
}

func notesFolder(mailbox string) source.Folder {
	return source.Folder{Key: notesKeyPrefix + mailbox, Name: mailbox, Type: eas.FolderNotes}
}

// hadIMAPNotes reports whether the hierarchy last sent had an IMAP notes
// folder.
func (s *session) hadIMAPNotes(ctx context.Context, prev []eas.Folder) bool {
	for _, f := range prev {
		if f.Type.Class() != "Notes" {
			continue
		}
		if k, err := s.store().FolderKey(ctx, s.l.user, f.ServerID); err == nil && strings.HasPrefix(k, notesKeyPrefix) {
			return true
		}
	}
	return false
}
