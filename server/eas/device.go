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
	Wipe   Wipe

	FirstSeen   time.Time
	LastSeen    time.Time
	LastCommand string
}
