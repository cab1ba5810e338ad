package eas

import "time"

// Access is a device's access state.
type Access int

// Access states.
const (
	AccessAllowed Access = iota
	AccessBlocked
	AccessQuarantined
)

func (a Access) String() string {
	switch a {
	case AccessAllowed:
		return "allowed"
	case AccessBlocked:
		return "blocked"
	case AccessQuarantined:
		return "quarantined"
	}
	return "unknown"
}

// Wipe is a device's remote-wipe state (MS-ASPROV 3.2.5.1.2).
type Wipe int

// Wipe states.
const (
	WipeNone Wipe = iota
	// WipePending: the next Provision answers with RemoteWipe.
	WipePending
	// WipeAccountPending: the next Provision answers with AccountOnlyRemoteWipe (16.1).
	WipeAccountPending
	// WipeAcknowledged: the device confirmed the full wipe.
	WipeAcknowledged
	// WipeAccountAcknowledged: the device confirmed the account-only wipe.
	WipeAccountAcknowledged
)

func (w Wipe) String() string {
	switch w {
	case WipeNone:
		return "none"
	case WipePending:
		return "wipe-pending"
	case WipeAccountPending:
		return "account-wipe-pending"
	case WipeAcknowledged:
		return "wiped"
	case WipeAccountAcknowledged:
		return "account-wiped"
	}
	return "unknown"
}

// Pending reports whether a wipe waits for the device's acknowledgement.
func (w Wipe) Pending() bool { return w == WipePending || w == WipeAccountPending }

// Wiped reports whether the device acknowledged a wipe and may not sync
// until it is forgotten.
func (w Wipe) Wiped() bool { return w == WipeAcknowledged || w == WipeAccountAcknowledged }

// Device is what the server knows about one (user, DeviceId) pair.
type Device struct {
	User      string // canonical login of the account
	ID        string // DeviceId from the query
	Type      string // DeviceType from the query
	UserAgent string

	// Settings DeviceInformation (MS-ASCMD 2.2.3.44).
	Model          string
	IMEI           string
	FriendlyName   string
	OS             string
	OSLanguage     string
	PhoneNumber    string
	MobileOperator string

	ProtocolVersion Version

	// PolicyHash is Policy.Hash of the policy the device acknowledged.
	PolicyHash string

	// PolicyKey is the key the device acknowledged (phase 2 of Provision);
	// PendingPolicyKey the one sent in phase 1 and not yet acknowledged.
	PolicyKey        uint32
	PendingPolicyKey uint32

	Access Access
	// AccessBy says who decided Access; see AccessBy.
	AccessBy AccessBy
	Wipe     Wipe
	// WipeRequested is when the pending wipe was asked for, WipeAcknowledged
	// when the device confirmed it (MS-ASPROV 3.2.5.1.2.1); zero when not.
	WipeRequested    time.Time
	WipeAcknowledged time.Time

	FirstSeen   time.Time
	LastSeen    time.Time
	LastCommand string
}

// AccessBy records who decided a device's access state: nobody yet (""),
// the configured default ("default"), an access rule ("rule ..." naming
// it), an administrator ("admin", from the window or the CLI) or nobody but
// kept from before access rules existed ("kept"). Rules and the default
// decide again at each request only while Decided is false, so an
// administrator's decision is never undone by a rule.
type AccessBy string

// Who decided; a rule's value is AccessByRule followed by its name.
const (
	AccessByNone    AccessBy = ""
	AccessByDefault AccessBy = "default"
	AccessByRule    AccessBy = "rule"
	AccessByAdmin   AccessBy = "admin"
	AccessByKept    AccessBy = "kept"
)

// Decided reports whether the access state is fixed: set by an
// administrator or kept from before access rules existed.
func (a AccessBy) Decided() bool { return a == AccessByAdmin || a == AccessByKept }

// String is the value, "-" when empty.
func (a AccessBy) String() string {
	if a == "" {
		return "-"
	}
	return string(a)
}

// StatusDeviceQuarantined is the common status sent for the commands a
// quarantined device may not run yet. MS-ASCMD 2.2.2 has no code for
// quarantine (141 is LegacyDeviceOnStrictPolicy, not it): Exchange lets a
// quarantined device provision, send Settings and fetch the folder
// hierarchy, and withholds mailbox data until an administrator decides.
// We answer the withheld commands with 130 AccessDenied ("access to the
// mailbox is denied"), which clients show without wiping their account,
// unlike 129 DeviceIsBlockedForThisUser used for blocked devices. For
// 12.1 clients both become HTTP 403.
const StatusDeviceQuarantined = StatusAccessDenied
