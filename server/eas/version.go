package eas

import "strings"

// Version is an EAS protocol version as negotiated in MS-ASProtocolVersion
// (MS-ASHTTP 2.2.1.1.2.6).
type Version string

// Supported protocol versions.
const (
	V121 Version = "12.1"
	V140 Version = "14.0"
	V141 Version = "14.1"
	V160 Version = "16.0"
	V161 Version = "16.1"
)

// Versions lists the supported versions, oldest first, as sent in the
// MS-ASProtocolVersions header of an OPTIONS answer.
var Versions = []Version{V121, V140, V141, V160, V161}

// ParseVersion returns the supported version named by s.
func ParseVersion(s string) (Version, bool) {
	s = strings.TrimSpace(s)
	for _, v := range Versions {
		if string(v) == s {
			return v, true
		}
	}
	return "", false
}

// AtLeast reports whether v is the same as or newer than w.
func (v Version) AtLeast(w Version) bool { return v.num() >= w.num() }

func (v Version) num() int {
	switch v {
	case V121:
		return 121
	case V140:
		return 140
	case V141:
		return 141
	case V160:
		return 160
	case V161:
		return 161
	}
	return 0
}
