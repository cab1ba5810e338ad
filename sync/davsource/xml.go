package davsource

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// XML namespaces.
const (
	nsDAV     = "DAV:"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"  // RFC 4791
	nsCardDAV = "urn:ietf:params:xml:ns:carddav" // RFC 6352
)

// multistatus is the part of a 207 answer (RFC 4918 §14.16) this package
// reads.
type multistatus struct {
	XMLName   xml.Name   `xml:"DAV: multistatus"`
	Responses []response `xml:"DAV: response"`
}

type response struct {
	Hrefs     []string   `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []propstat `xml:"DAV: propstat"`
}

type propstat struct {
	Prop   prop   `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

type prop struct {
	CurrentUserPrincipal *hrefProp `xml:"DAV: current-user-principal"`
	CalendarHomeSet      *hrefProp `xml:"urn:ietf:params:xml:ns:caldav calendar-home-set"`
	AddressbookHomeSet   *hrefProp `xml:"urn:ietf:params:xml:ns:carddav addressbook-home-set"`
	DisplayName          *struct{} `xml:"DAV: displayname"`
}

type hrefProp struct {
	Hrefs           []string  `xml:"DAV: href"`
	Unauthenticated *struct{} `xml:"DAV: unauthenticated"`
}

// path returns the first href's path.
func (h *hrefProp) path() string {
	if h == nil || len(h.Hrefs) == 0 {
		return ""
	}
	return hrefPath(h.Hrefs[0])
}

// statusCode parses "HTTP/1.1 200 OK"; 0 when absent or malformed.
func statusCode(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

func decodeMultistatus(r io.Reader) (*multistatus, error) {
	var ms multistatus
	if err := xml.NewDecoder(io.LimitReader(r, 8<<20)).Decode(&ms); err != nil {
		return nil, fmt.Errorf("decode multistatus: %w", err)
	}
	return &ms, nil
}

// okProps returns the props reported with a 2xx status.
func (r *response) okProps() []prop {
	var l []prop
	for _, ps := range r.Propstats {
		if c := statusCode(ps.Status); c >= 200 && c <= 299 {
			l = append(l, ps.Prop)
		}
	}
	return l
}

// escape returns s as XML character data.
func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Request bodies. Names go through escape.
const (
	propfindPrincipal = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>`

	propfindHomes = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><C:calendar-home-set/><CR:addressbook-home-set/></D:prop></D:propfind>`
)

// mkcalendarBody is an RFC 4791 §5.3.1 MKCALENDAR body.
func mkcalendarBody(name, component string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
		`<D:displayname>` + escape(name) + `</D:displayname>` +
		`<C:supported-calendar-component-set><C:comp name="` + escape(component) + `"/></C:supported-calendar-component-set>` +
		`</D:prop></D:set></C:mkcalendar>`
}

// mkcolAddressBookBody is an RFC 5689 extended MKCOL body for an RFC 6352
// address book.
func mkcolAddressBookBody(name string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>` +
		`<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>` +
		`<D:displayname>` + escape(name) + `</D:displayname>` +
		`</D:prop></D:set></D:mkcol>`
}

// proppatchDisplayName is an RFC 4918 §9.2 PROPPATCH body.
func proppatchDisplayName(name string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>` + escape(name) +
		`</D:displayname></D:prop></D:set></D:propertyupdate>`
}
