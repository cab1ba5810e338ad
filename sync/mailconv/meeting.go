package mailconv

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
	"easbridge/sync/source"
)

// Meeting messages (iMIP, RFC 6047): a message whose structure has a
// text/calendar part with a method parameter is a meeting message. Its
// iCalendar object decides the class (MS-ASEMAIL 2.2.2.49 MessageClass):
//
//	METHOD:REQUEST  IPM.Schedule.Meeting.Request   + MeetingRequest
//	METHOD:CANCEL   IPM.Schedule.Meeting.Canceled  + MeetingRequest
//	METHOD:REPLY    IPM.Schedule.Meeting.Resp.Pos / .Tent / .Neg (by PARTSTAT)
//
// The MeetingRequest element (MS-ASEMAIL 2.2.2.48) is built from the
// calconv view of the object: times in the dateTime form (MS-ASDTYPE
// 2.3), the Reminder in seconds, the TimeZone blob, the Email form of
// the recurrence, GlobalObjId from the UID (MS-ASEMAIL 2.2.2.37, 3.1.4.7),
// from 14.0 DisallowNewTimeProposal and from 14.1 email2:MeetingMessageType
// (1 for a first request, 2 for an update: SEQUENCE > 0). A part that is
// missing (not fetched) or does not parse leaves the class from the
// structure and no MeetingRequest: the message still syncs.

const (
	classMeetingCanceled = "IPM.Schedule.Meeting.Canceled"
	classMeetingRespPos  = "IPM.Schedule.Meeting.Resp.Pos"
	classMeetingRespTent = "IPM.Schedule.Meeting.Resp.Tent"
	classMeetingRespNeg  = "IPM.Schedule.Meeting.Resp.Neg"
	// contentClassCalendar is the ContentClass of meeting messages
	// (MS-ASEMAIL 2.2.2.20).
	contentClassCalendar = "urn:content-classes:calendarmessage"
)

// meeting is a parsed meeting message.
type meeting struct {
	inv   *calconv.Invitation
	class string
}

// findITIP returns the first iTIP part of the structure.
func findITIP(p *source.Part, depth int) *source.Part {
	if p == nil || depth > maxDepth {
		return nil
	}
	if source.IsITIPPart(p) {
		return p
	}
	for _, c := range p.Children {
		if f := findITIP(c, depth+1); f != nil {
			return f
		}
	}
	return nil
}

// parseMeeting reads the message's iTIP part; nil when there is none, it
// was not fetched, was cut short, or does not parse.
func (c *converter) parseMeeting() *meeting {
	p := findITIP(c.root, 0)
	if p == nil || p.Body == nil || p.BodyTruncated {
		return nil
	}
	text, _ := partText(p)
	inv, err := calconv.ParseInvitation([]byte(text), c.opts.UserAddress)
	if err != nil {
		return nil
	}
	method := inv.Method
	if method == "" {
		method = strings.ToUpper(strings.TrimSpace(p.Params["method"]))
	}
	m := &meeting{inv: inv}
	switch method {
	case "REQUEST":
		m.class = classMeetingRequest
	case "CANCEL":
		m.class = classMeetingCanceled
	case "REPLY":
		switch inv.AttendeeStatus {
		case calconv.PartstatAccepted:
			m.class = classMeetingRespPos
		case calconv.PartstatTentative:
			m.class = classMeetingRespTent
		case calconv.PartstatDeclined:
			m.class = classMeetingRespNeg
		default:
			return nil
		}
	default:
		return nil // PUBLISH, COUNTER, REFRESH, …: an ordinary message
	}
	return m
}

// hasRequest says whether the message carries a MeetingRequest element:
// requests and cancellations, for the user to answer or to remove.
func (m *meeting) hasRequest() bool {
	return m != nil && (m.class == classMeetingRequest || m.class == classMeetingCanceled)
}

// element is Email:MeetingRequest (MS-ASEMAIL 2.2.2.48), children in the
// order of the MS-ASEMAIL schema.
func (m *meeting) element(v eas.Version) *wbxml.Element {
	const E = wbxml.NSEmail
	inv := m.inv
	e := wbxml.New(E, "MeetingRequest",
		txt(E, "AllDayEvent", boolText(inv.AllDay)),             // 2.2.2.2
		txt(E, "StartTime", inv.Start.UTC().Format(dateFormat))) // 2.2.2.73
	stamp := inv.DtStamp
	if stamp.IsZero() {
		stamp = inv.Start
	}
	e.Add(txt(E, "DtStamp", stamp.UTC().Format(dateFormat)), // 2.2.2.30
		txt(E, "EndTime", inv.End.UTC().Format(dateFormat))) // 2.2.2.32
	// 2.2.2.39 InstanceType: 0 single, 1 recurring master, 3 exception.
	switch {
	case !inv.RecurrenceID.IsZero():
		e.Add(wbxml.Int(E, "InstanceType", 3))
	case inv.Recurring():
		e.Add(wbxml.Int(E, "InstanceType", 1))
	default:
		e.Add(wbxml.Int(E, "InstanceType", 0))
	}
	if inv.Location != "" {
		if v.AtLeast(eas.V160) {
			// MS-ASEMAIL 2.2.2.46: airsyncbase:Location from 16.0.
			e.Add(wbxml.New(wbxml.NSAirSyncBase, "Location", txt(wbxml.NSAirSyncBase, "DisplayName", inv.Location)))
		} else {
			e.Add(txt(E, "Location", inv.Location))
		}
	}
	if inv.Organizer != "" {
		e.Add(txt(E, "Organizer", formatAddress(address{Name: inv.OrganizerCN, Addr: inv.Organizer}))) // 2.2.2.57
	}
	if !inv.RecurrenceID.IsZero() {
		e.Add(txt(E, "RecurrenceId", inv.RecurrenceID.UTC().Format(dateFormat))) // 2.2.2.61
	}
	if inv.Reminder >= 0 {
		e.Add(wbxml.Int(E, "Reminder", inv.Reminder*60)) // 2.2.2.63: seconds
	}
	e.Add(txt(E, "ResponseRequested", boolText(inv.ResponseRequested && m.class == classMeetingRequest))) // 2.2.2.66
	if r := inv.RecurrenceElement(v); r != nil {
		e.Add(r) // 2.2.2.62
	}
	e.Add(wbxml.Int(E, "Sensitivity", inv.Sensitivity), // 2.2.2.71
		wbxml.Int(E, "BusyStatus", inv.BusyStatus),                                     // 2.2.2.13
		txt(E, "TimeZone", inv.TimeZone),                                               // 2.2.2.78
		txt(E, "GlobalObjId", base64.StdEncoding.EncodeToString(GlobalObjID(inv.UID)))) // 2.2.2.37
	if v.AtLeast(eas.V140) {
		e.Add(txt(E, "DisallowNewTimeProposal", boolText(inv.DisallowNewTime))) // 2.2.2.27
	}
	if v.AtLeast(eas.V141) {
		// 2.2.2.47; its WBXML token (Email2 0x13) came with 14.1, so a
		// 14.0 client could not even decode it. 0 unspecified
		// (cancellations), 1 first request, 2 full update.
		mt := 0
		if m.class == classMeetingRequest {
			mt = 1
			if inv.Sequence > 0 {
				mt = 2
			}
		}
		e.Add(wbxml.Int(wbxml.NSEmail2, "MeetingMessageType", mt))
	}
	return e
}

// outlookClassID starts every GlobalObjId (MS-ASEMAIL 2.2.2.37 CLASSID).
var outlookClassID = []byte{0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08}

// GlobalObjID is the GlobalObjId of a meeting UID (MS-ASEMAIL 2.2.2.37,
// the reverse of 3.1.4.7): a UID that is the hex form of an Outlook id
// is that id; any other UID is wrapped as a vCal-Uid (CLASSID, no
// instance date, zero time, length, "vCal-Uid", version 1, the UID and a
// NUL).
func GlobalObjID(uid string) []byte {
	if len(uid) >= 2*len(outlookClassID) && len(uid)%2 == 0 {
		if b, err := hex.DecodeString(uid); err == nil && string(b[:len(outlookClassID)]) == string(outlookClassID) {
			return b
		}
	}
	data := make([]byte, 0, 12+len(uid)+1)
	data = append(data, "vCal-Uid"...)
	data = append(data, 1, 0, 0, 0)
	data = append(data, uid...)
	data = append(data, 0)
	out := make([]byte, 0, 40+len(data))
	out = append(out, outlookClassID...)
	out = append(out, make([]byte, 4+8+8)...) // INSTDATE, NOW, RESERVED
	out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
	return append(out, data...)
}

// ITIPText returns the decoded iCalendar text of a fetched message's iTIP
// part (the first text/calendar part with a method parameter); false when
// there is none or it was not fetched whole.
func ITIPText(m *source.Message) ([]byte, bool) {
	if m == nil {
		return nil, false
	}
	root := m.Root
	if root == nil && len(m.Raw) > 0 {
		root = parseStructure(m.Raw, m.RawTruncated)
	}
	p := findITIP(root, 0)
	if p == nil || p.Body == nil || p.BodyTruncated {
		return nil, false
	}
	text, _ := partText(p)
	return []byte(text), true
}
