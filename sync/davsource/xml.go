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
	SyncToken string     `xml:"DAV: sync-token"` // RFC 6578 6.4, REPORT only
}

type response struct {
	Hrefs     []string   `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []propstat `xml:"DAV: propstat"`
	Error     *anyNames  `xml:"DAV: error"` // RFC 4918 14.5
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

	// Item sync (items.go).
	ResourceType       *resourceType `xml:"DAV: resourcetype"`
	GetETag            *string       `xml:"DAV: getetag"`
	SyncToken          *string       `xml:"DAV: sync-token"` // RFC 6578 4
	GetCTag            *string       `xml:"http://calendarserver.org/ns/ getctag"`
	SupportedReportSet *reportSet    `xml:"DAV: supported-report-set"`                   // RFC 3253 3.1.5
	CalendarData       *string       `xml:"urn:ietf:params:xml:ns:caldav calendar-data"` // RFC 4791 9.6
	AddressData        *string       `xml:"urn:ietf:params:xml:ns:carddav address-data"` // RFC 6352 10.4
}

type resourceType struct {
	Collection *struct{} `xml:"DAV: collection"`
}

// reportSet is DAV:supported-report-set: supported-report/report/<name>.
type reportSet struct {
	Reports []struct {
		Report anyNames `xml:"DAV: report"`
	} `xml:"DAV: supported-report"`
}

// has reports whether the set names the report space/local.
func (s *reportSet) has(space, local string) bool {
	if s == nil {
		return false
	}
	for _, r := range s.Reports {
		if r.Report.has(space, local) {
			return true
		}
	}
	return false
}

// anyNames collects the names of an element's children, e.g. the
// precondition codes of a DAV:error.
type anyNames struct {
	Children []struct {
		XMLName xml.Name
	} `xml:",any"`
}

func (a *anyNames) has(space, local string) bool {
	if a == nil {
		return false
	}
	for _, c := range a.Children {
		if c.XMLName.Space == space && c.XMLName.Local == local {
			return true
		}
	}
	return false
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
	return decodeMultistatusMax(r, 8<<20)
}

// decodeMultistatusMax decodes a 207 body of at most max bytes; a longer
// one is an error rather than a silently truncated listing.
func decodeMultistatusMax(r io.Reader, max int64) (*multistatus, error) {
	var ms multistatus
	lr := &io.LimitedReader{R: r, N: max + 1}
	if err := xml.NewDecoder(lr).Decode(&ms); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("decode multistatus: answer larger than %d bytes", max)
		}
		return nil, fmt.Errorf("decode multistatus: %w", err)
	}
	return &ms, nil
}

// errorHas reports whether body, the (possibly truncated) text of a
// DAV:error answer (RFC 4918 16), names the precondition space/local. The
// tokens before a truncation still count.
func errorHas(body, space, local string) bool {
	d := xml.NewDecoder(strings.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == space && se.Name.Local == local {
			return true
		}
	}
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
