// Package state keeps easbridge's sync state: devices, stable folder
// ServerIds, the folder hierarchy each device was sent, per-collection sync
// state (current and previous SyncKey), and small per-user settings.
//
// Store is the interface the engine uses; SQLite (modernc.org/sqlite, WAL) is
// the embedded implementation. A PostgreSQL one can follow for several
// instances sharing state: nothing here is cached in memory as the only copy.
package state

import (
	"context"
	"errors"

	"easbridge/server/eas"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("state: not found")

// ErrStaleKey is returned by the Put* methods when the stored current key is
// not the one the caller read (a concurrent request advanced it).
var ErrStaleKey = errors.New("state: sync key changed concurrently")

// Hierarchy is the folder hierarchy state of one device: the folders sent
// with the current key and with the previous one, so that a client that
// repeats the previous key (the answer was lost) gets the same changes.
type Hierarchy struct {
	Key         int
	Folders     []eas.Folder
	PrevKey     int // 0 when none
	PrevFolders []eas.Folder
}

// Collection is the sync state of one (device, collection): an opaque blob
// per key, current and previous, owned by the engine.
type Collection struct {
	Key      int
	Data     []byte
	PrevKey  int
	PrevData []byte
}

// Store is the state store.
type Store interface {
	// Device returns a device; ErrNotFound when unknown.
	Device(ctx context.Context, user, deviceID string) (eas.Device, error)
	// PutDevice inserts or replaces a device.
	PutDevice(ctx context.Context, d eas.Device) error
	// UpdateDevice changes one device atomically: it reads it, calls fn
	// and stores what fn left, so that concurrent changes (a phone's
	// request, an administrator's block or wipe) never undo each other.
	// For an unknown device fn gets one with only User and ID set and
	// found false, and it is created when fn returns nil; an error from fn
	// aborts. It returns the device as stored.
	UpdateDevice(ctx context.Context, user, deviceID string, fn func(d *eas.Device, found bool) error) (eas.Device, error)
	// Devices lists every device of every user, ordered by user then id.
	Devices(ctx context.Context) ([]eas.Device, error)
	// DeleteDevice forgets a device and all of its sync state.
	DeleteDevice(ctx context.Context, user, deviceID string) error
	// DeleteSyncState drops a device's hierarchy and collection states but
	// keeps the device: its next FolderSync and Syncs find their keys
	// unknown and it starts over (a resync).
	DeleteSyncState(ctx context.Context, user, deviceID string) error

	// FolderIDs returns the ServerId of each source folder key of a user,
	// assigning new ones (never reused, short decimal strings) to unknown
	// keys, all in one transaction.
	FolderIDs(ctx context.Context, user string, keys []string) (map[string]string, error)
	// RenameFolderKey moves a ServerId from one source key to another (an
	// IMAP RENAME keeps the ServerId). ErrNotFound when oldKey has none.
	RenameFolderKey(ctx context.Context, user, oldKey, newKey string) error
	// FolderKey returns the source key for a ServerId; ErrNotFound.
	FolderKey(ctx context.Context, user, serverID string) (string, error)

	// Hierarchy returns a device's hierarchy state; the zero value (Key 0)
	// when none was stored.
	Hierarchy(ctx context.Context, user, deviceID string) (Hierarchy, error)
	// PutHierarchy stores a new current hierarchy state with key newKey and
	// folders; the stored current becomes the previous. prevKey is the key
	// the caller read: ErrStaleKey if the stored current key differs.
	// newKey 1 with prevKey 0 resets (FolderSync with SyncKey 0) and also
	// drops the device's collection states.
	PutHierarchy(ctx context.Context, user, deviceID string, prevKey, newKey int, folders []eas.Folder) error

	// Collection returns the state of one collection of a device; zero when
	// none.
	Collection(ctx context.Context, user, deviceID, collectionID string) (Collection, error)
	// PutCollection advances a collection to newKey with data, keeping the
	// stored current as previous; prevKey as in PutHierarchy.
	PutCollection(ctx context.Context, user, deviceID, collectionID string, prevKey, newKey int, data []byte) error
	// ReplaceCollection sets the current state to (newKey, data) when the
	// stored current key is curKey, keeping the previous state: used when a
	// client repeats the previous key (the answer it lost is replaced) and
	// to patch the current state in place (newKey == curKey) after
	// MoveItems. ErrStaleKey when the stored key differs.
	ReplaceCollection(ctx context.Context, user, deviceID, collectionID string, curKey, newKey int, data []byte) error
	// DeleteCollection drops a collection's state (folder deleted, resync).
	DeleteCollection(ctx context.Context, user, deviceID, collectionID string) error

	// Setting returns a per-user value (for example the OOF settings);
	// ErrNotFound when unset.
	Setting(ctx context.Context, user, name string) ([]byte, error)
	// PutSetting stores a per-user value.
	PutSetting(ctx context.Context, user, name string, value []byte) error

	// Close releases the store.
	Close() error
}
