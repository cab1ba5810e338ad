package server

import "context"

// The interfaces of this file are push: Ping (MS-ASCMD 2.2.1.13) and the
// long poll of Sync (Wait, HeartbeatInterval; MS-ASCMD 2.2.3.198,
// 2.2.3.88.2). A Session offers push by implementing Pinger; ping.go
// answers Status 137 "not supported" (HTTP 501 for 12.1) without it.

// PingFolder is one folder a Ping watches.
type PingFolder struct{ ID, Class string }

// Pinger is push (implemented by the engine's session).
type Pinger interface {
	// WaitForChanges blocks until one of folders changes (returns their
	// ids), or ctx ends (returns nil, nil: no change).
	//
	// Errors: eas.ErrNotFound wrapped → some folder is unknown (Status 7
	// "hierarchy changed"); others → server error (Status 8).
	//
	// ctx ends at the heartbeat deadline, when the client disconnects and
	// when a newer Ping or long-polling Sync of the same device supersedes
	// this one; the method must then return promptly. It may report a
	// folder that turns out unchanged (a phone's extra Sync is harmless)
	// but must not miss one that changed after the device's last Sync of
	// it: a change between that Sync and this call counts.
	WaitForChanges(ctx context.Context, deviceID string, folders []PingFolder) ([]string, error)
}

// PingCache keeps the last Ping parameters of each device, so that an
// empty Ping (no body, or no HeartbeatInterval or no Folders) can reuse
// them (MS-ASCMD 3.1.5.8: "The server MUST cache the value of the
// HeartbeatInterval element … [and] the list of included folders"). The
// engine's session implements it over its settings table, which survives
// restarts; when the session lacks it the Server keeps them in memory.
type PingCache interface {
	// PingParams returns the cached parameters; ok is false when there are
	// none. hb is in seconds.
	PingParams(ctx context.Context, user, deviceID string) (hb int, folders []PingFolder, ok bool, err error)
	// SetPingParams replaces the cached parameters.
	SetPingParams(ctx context.Context, user, deviceID string, hb int, folders []PingFolder) error
}
