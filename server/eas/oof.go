package eas

import "time"

// OofState is the out-of-office state, MS-ASCMD 2.2.3.120 OofState.
type OofState int

// Out-of-office states.
const (
	OofDisabled  OofState = 0
	OofGlobal    OofState = 1
	OofTimeBased OofState = 2
)

// OofAudience names the audience of one OofMessage (MS-ASCMD 2.2.3.121).
type OofAudience string

// Audiences.
const (
	OofInternal        OofAudience = "AppliesToInternal"
	OofExternalKnown   OofAudience = "AppliesToExternalKnown"
	OofExternalUnknown OofAudience = "AppliesToExternalUnknown"
)

// OofMessage is the reply for one audience.
type OofMessage struct {
	Audience     OofAudience `json:"audience"`
	Enabled      bool        `json:"enabled"`
	ReplyMessage string      `json:"reply"`
	BodyType     string      `json:"body_type"` // "Text" or "HTML"
}

// Oof is a user's out-of-office setting.
type Oof struct {
	State    OofState     `json:"state"`
	Start    time.Time    `json:"start"`
	End      time.Time    `json:"end"`
	Messages []OofMessage `json:"messages"`
}

// SettingsStatusOofUnavailable answers Settings Oof Get and Set when the
// account has no out-of-office service (no ManageSieve server reachable,
// or one without the vacation extension). MS-ASCMD 2.2.3.177.15 has no
// value of its own for this; 7 "Denied by policy" tells the client that
// the server's configuration refuses the setting (not a transient failure
// to retry, which 4 "Server unavailable" would suggest).
const SettingsStatusOofUnavailable = SettingsStatusDeniedByPolicy
