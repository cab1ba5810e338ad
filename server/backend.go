package server

import (
	"context"

	"easbridge/server/eas"
)

// The interfaces below are what the protocol needs from the bridge. They are
// defined here, by their consumer; sync/engine implements them over IMAP,
// DAV and the state store. Nothing in server/ knows about those.

// Backend authenticates users and keeps devices.
type Backend interface {
	// Login checks a user's credentials and opens a session. It returns an
	// error wrapping eas.ErrAuthFailed for wrong credentials and
	// eas.ErrBackendUnavailable when the account's servers cannot be
	// reached. user is the login as the client sent it, without any
	// "DOMAIN\" prefix.
	Login(ctx context.Context, user, password string) (Session, error)
	// Devices is the device registry.
	Devices() DeviceStore
	// Policy is the effective policy for a device.
	Policy(ctx context.Context, user, deviceID string) (eas.Policy, error)
}

// DeviceStore keeps what the server knows about devices.
type DeviceStore interface {
	// Device returns a device; an error wrapping eas.ErrNotFound when unknown.
	Device(ctx context.Context, user, deviceID string) (eas.Device, error)
	// UpdateDevice changes one device atomically: it reads the stored
	// device, calls fn and stores what fn left, so that a request never
	// undoes a change made meanwhile (an administrator's block or wipe).
	// For an unknown device fn gets one with only User and ID set and
	// found false; it is created when fn returns nil. An error from fn
	// aborts the update. It returns the device as stored.
	UpdateDevice(ctx context.Context, user, deviceID string, fn func(d *eas.Device, found bool) error) (eas.Device, error)
}

// Session is one authenticated user's view of their data, for the length
// of a request.
type Session interface {
	// User is the canonical login; devices are recorded under it.
	User() string
	// Email is the user's primary SMTP address.
	Email() string
	// DisplayName is the user's name for UserInformation and Autodiscover.
	DisplayName() string

	Hierarchy
	OofStore
}

// Hierarchy is the folder hierarchy of a user as one device sees it
// (MS-ASCMD FolderSync, FolderCreate, FolderUpdate, FolderDelete). Keys are
// the FolderSync SyncKeys; an unknown key is an error wrapping
// eas.ErrInvalidSyncKey.
type Hierarchy interface {
	FolderSync(ctx context.Context, deviceID, syncKey string) (eas.FolderChanges, error)
	FolderCreate(ctx context.Context, deviceID, syncKey, parentID, name string, typ eas.FolderType) (newKey, serverID string, err error)
	FolderUpdate(ctx context.Context, deviceID, syncKey, serverID, parentID, name string) (newKey string, err error)
	FolderDelete(ctx context.Context, deviceID, syncKey, serverID string) (newKey string, err error)
}

// OofStore keeps the out-of-office settings (MS-ASCMD Settings Oof).
type OofStore interface {
	Oof(ctx context.Context) (eas.Oof, error)
	SetOof(ctx context.Context, o eas.Oof) error
}
