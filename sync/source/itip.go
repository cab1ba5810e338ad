package source

import "strings"

// CalendarLimit is the least a Fetch with TextLimit > 0 brings of an iTIP
// part (see IsITIPPart): meeting invitations carry HTML descriptions and
// long attendee lists, and a cut one cannot be read at all.
const CalendarLimit = 256 << 10

// IsITIPPart reports whether p is the iCalendar part of a meeting message
// (iMIP, RFC 6047 2.4: text/calendar with a method parameter). Fetch
// brings such parts with the text leaves, whatever their disposition, up
// to max(TextLimit, CalendarLimit) octets.
func IsITIPPart(p *Part) bool {
	return p != nil && strings.EqualFold(p.Type, "text") && strings.EqualFold(p.Subtype, "calendar") &&
		strings.TrimSpace(p.Params["method"]) != ""
}

// PartLimit is the fetch limit of a leaf for a TextLimit: CalendarLimit
// at least for iTIP parts, TextLimit for the others.
func PartLimit(p *Part, textLimit int64) int64 {
	if textLimit > 0 && IsITIPPart(p) {
		return max(textLimit, CalendarLimit)
	}
	return textLimit
}
