package engine

import (
	"context"
	"errors"
	"fmt"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/noteconv"
)

// fetchNoteItem serves ItemOperations Fetch (MS-ASCMD 2.2.1.10) of a note
// of an IMAP Notes mailbox by CollectionId and ServerId: ok is false when
// the collection is not one. Sync item statuses of noteSync.load are
// turned into ItemOperations ones (6 not found, 14 conversion failed).
func (s *session) fetchNoteItem(ctx context.Context, deviceID, coll, serverID string, opts server.ItemOptions, v eas.Version) (*wbxml.Element, bool, error) {
	key, err := s.collectionKey(ctx, coll)
	if err != nil {
		return nil, false, nil
	}
	mailbox, ok := notesMailboxOf(key)
	if !ok {
		return nil, false, nil
	}
	if s.l.mail == nil {
		return nil, true, fmt.Errorf("engine: note %s: no mail source: %w", serverID, eas.ErrNotFound)
	}
	col, err := s.store().Collection(ctx, s.l.user, deviceID, coll)
	if err != nil {
		return nil, true, fmt.Errorf("engine: collection state: %w", err)
	}
	st, err := decodeNoteState(col.Data)
	if err != nil {
		return nil, true, fmt.Errorf("engine: note %s: %v: %w", serverID, err, eas.ErrNotFound)
	}
	req := &server.SyncCollection{Version: v, CollectionID: coll, Options: opts}
	n := &noteSync{s: s, deviceID: deviceID, req: req, mailbox: mailbox, mail: s.l.mail, st: st, opts: s.calOptions(req)}
	_, _, note, err := n.load(ctx, serverID)
	if err != nil {
		return nil, true, itemOpsError(serverID, err)
	}
	app, err := noteconv.ToEAS(note, n.opts)
	if err != nil {
		return nil, true, eas.Errorf(eas.ItemOpsStatusConversionFailed, "note %s: %v", serverID, err)
	}
	return wbxml.New(wbxml.NSItemOperations, "Properties", app.Children...), true, nil
}

// itemOpsError maps an error carrying a Sync item status to one the
// ItemOperations handler reads right.
func itemOpsError(serverID string, err error) error {
	st, ok := eas.StatusOf(err)
	switch {
	case ok && st == eas.SyncStatusObjectNotFound, errors.Is(err, eas.ErrNotFound):
		return fmt.Errorf("engine: item %s: %v: %w", serverID, err, eas.ErrNotFound)
	case ok && st == eas.SyncStatusConversionError:
		return eas.Errorf(eas.ItemOpsStatusConversionFailed, "item %s: %v", serverID, err)
	case ok:
		return fmt.Errorf("engine: item %s: %v", serverID, err) // a server error (3)
	}
	return err
}
