// Package source defines what the sync engine needs from a data source (an
// IMAP account, a CalDAV or CardDAV account): its folders and, later, its
// items. Sources live in their own packages (imapsource, davsource); the
// engine only sees these interfaces.
package source

import (
	"context"

	"easbridge/server/eas"
)

// Folder is one folder (IMAP mailbox, DAV collection) as its source sees it.
type Folder struct {
	// Key identifies the folder within the account and never changes while
	// the folder exists: "imap:" + mailbox name, "caldav:" + collection
	// path, "carddav:" + collection path.
	Key string
	// ParentKey is the Key of the parent folder, "" for top level.
	ParentKey string
	// Name is the display name (the last hierarchy level for IMAP).
	Name string
	// Type is the EAS folder type (default folders 2–10, others 12–17).
	Type eas.FolderType
}

// Folders lists and changes an account's folders.
type Folders interface {
	// Folders lists every folder the source offers.
	Folders(ctx context.Context) ([]Folder, error)
	// CreateFolder creates a folder under parentKey ("" = top level) of the
	// given type. eas.ErrNotSupported when the source cannot hold that type,
	// eas.ErrExists when the name is taken.
	CreateFolder(ctx context.Context, parentKey, name string, typ eas.FolderType) (Folder, error)
	// RenameFolder renames or moves a folder. Its Key may change (IMAP
	// RENAME); the new Folder is returned. eas.ErrSpecialFolder for system
	// folders, eas.ErrNotFound, eas.ErrExists.
	RenameFolder(ctx context.Context, key, newParentKey, newName string) (Folder, error)
	// DeleteFolder deletes a folder. eas.ErrSpecialFolder, eas.ErrNotFound.
	DeleteFolder(ctx context.Context, key string) error
}

// Owns reports whether a folder key belongs to a source with that prefix
// ("imap:", "caldav:", "carddav:").
func Owns(prefix, key string) bool {
	return len(key) >= len(prefix) && key[:len(prefix)] == prefix
}
