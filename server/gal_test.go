package server

import (
	"fmt"
	"strings"
	"testing"

	"easbridge/server/wbxml"
)

// galReq is Search/Store(Name GAL, Query text, Options(Range, Picture)).
func galReq(query, rng string, picture ...*wbxml.Element) *wbxml.Element {
	ns := wbxml.NSSearch
	s := wbxml.New(ns, "Store", wbxml.Text(ns, "Name", "GAL"), wbxml.Text(ns, "Query", query))
	o := wbxml.New(ns, "Options")
	if rng != "" {
		o.Add(wbxml.Text(ns, "Range", rng))
	}
	o.Add(picture...)
	if len(o.Children) > 0 {
		s.Add(o)
	}
	return wbxml.New(ns, "Search", s)
}

func pictureOpt(space string, maxSize, maxPictures int) *wbxml.Element {
	p := wbxml.New(space, "Picture")
	if maxSize >= 0 {
		p.Add(wbxml.Int(space, "MaxSize", maxSize))
	}
	if maxPictures >= 0 {
		p.Add(wbxml.Int(space, "MaxPictures", maxPictures))
	}
	return p
}

type galResult struct {
	status  string
	names   []string // DisplayName of each result, "(empty)" for the empty Result
	pics    []string // gal:Picture/Status of each result, "" when absent
	rng     string
	total   string
	outerOK bool
}

func (h *harness) searchGAL(version string, req *wbxml.Element) (galResult, *wbxml.Element) {
	h.t.Helper()
	c := h.itemsClient(version, "gal"+strings.ReplaceAll(version, ".", ""))
	r := h.do(c, "Search", req)
	ns := wbxml.NSSearch
	res := galResult{outerOK: r.Status() == 1}
	store := r.Root.Child(ns, "Response").Child(ns, "Store")
	if store == nil {
		h.t.Fatalf("no Store: %s", wbxml.XMLString(r.Root))
	}
	res.status, res.rng, res.total = store.ChildText(ns, "Status"), store.ChildText(ns, "Range"), store.ChildText(ns, "Total")
	for _, e := range store.All(ns, "Result") {
		p := e.Child(ns, "Properties")
		if p == nil {
			res.names = append(res.names, "(empty)")
			continue
		}
		res.names = append(res.names, p.ChildText(wbxml.NSGAL, "DisplayName"))
		pic := ""
		if pe := p.Child(wbxml.NSGAL, "Picture"); pe != nil {
			pic = pe.ChildText(wbxml.NSGAL, "Status")
		}
		res.pics = append(res.pics, pic)
	}
	return res, r.Root
}

func TestSearchGAL(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name    string
		version string
		req     *wbxml.Element
		want    galResult
	}{
		{"prefix of a first name", "16.1", galReq("deb", ""),
			galResult{status: "1", names: []string{"Deborah Poe", "Deborah Smith", "Debra Winter"}, pics: []string{"", "", ""}, rng: "0-2", total: "3"}},
		{"prefix of a last name, any case", "14.0", galReq("POE", "0-9"),
			galResult{status: "1", names: []string{"Deborah Poe"}, pics: []string{""}, rng: "0-0", total: "1"}},
		{"company", "12.1", galReq("contoso", "0-9"),
			galResult{status: "1", names: []string{"Deborah Poe", "Jeff Hay"}, pics: []string{"", ""}, rng: "0-1", total: "2"}},
		{"second page", "16.1", galReq("deb", "1-1"),
			galResult{status: "1", names: []string{"Deborah Smith"}, pics: []string{""}, rng: "1-1", total: "3"}},
		{"past the end", "16.1", galReq("deb", "5-9"),
			galResult{status: "1", names: []string{"(empty)"}, total: "3"}},
		{"no match", "16.1", galReq("zebra", "0-9"),
			galResult{status: "1", names: []string{"(empty)"}, total: "0"}},
		{"entry without address", "16.1", galReq("front", ""),
			galResult{status: "1", names: []string{"Front Desk"}, pics: []string{""}, rng: "0-0", total: "1"}},
		{"pictures: none, too large, limit", "16.1", galReq("deb", "", pictureOpt(wbxml.NSSearch, 8, 1)),
			galResult{status: "1", names: []string{"Deborah Poe", "Deborah Smith", "Debra Winter"}, pics: []string{"1", "173", "174"}, rng: "0-2", total: "3"}},
		{"pictures: limit reached", "14.1", galReq("deb", "", pictureOpt(wbxml.NSSearch, -1, 1)),
			galResult{status: "1", names: []string{"Deborah Poe", "Deborah Smith", "Debra Winter"}, pics: []string{"1", "173", "175"}, rng: "0-2", total: "3"}},
		{"pictures before 14.1: none", "14.0", galReq("deb", "", pictureOpt(wbxml.NSSearch, 0, 0)),
			galResult{status: "1", names: []string{"Deborah Poe", "Deborah Smith", "Debra Winter"}, pics: []string{"", "", ""}, rng: "0-2", total: "3"}},
		{"empty query", "16.1", galReq("  ", ""), galResult{status: "2"}},
		{"long query", "16.1", galReq(strings.Repeat("x", 257), ""), galResult{status: "2"}},
		{"structured query", "16.1", searchReq("GAL", sFree("deb"), ""), galResult{status: "2"}},
		{"bad range", "16.1", galReq("deb", "9-1"), galResult{status: "2"}},
		{"bad picture size", "16.1", galReq("deb", "", wbxml.New(wbxml.NSSearch, "Picture", wbxml.Text(wbxml.NSSearch, "MaxSize", "big"))), galResult{status: "2"}},
		{"backend fails", "16.1", galReq("fail", ""), galResult{status: "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, root := h.searchGAL(tt.version, tt.req)
			if !got.outerOK || got.status != tt.want.status || got.rng != tt.want.rng || got.total != tt.want.total ||
				fmt.Sprint(got.names) != fmt.Sprint(tt.want.names) || fmt.Sprint(got.pics) != fmt.Sprint(tt.want.pics) {
				t.Errorf("got %+v\nwant %+v\n%s", got, tt.want, wbxml.XMLString(root))
			}
		})
	}
	// Every property, in schema order, with the picture.
	_, root := h.searchGAL("16.1", galReq("poe", "0-9", pictureOpt(wbxml.NSSearch, 10240, 5)))
	checkGolden(t, "search_gal.xml", root)
}

// resolveReq is ResolveRecipients with To elements and Options children.
func resolveReq(tos []string, opts ...*wbxml.Element) *wbxml.Element {
	ns := wbxml.NSResolveRecipients
	r := wbxml.New(ns, "ResolveRecipients")
	for _, to := range tos {
		r.Add(wbxml.Text(ns, "To", to))
	}
	if len(opts) > 0 {
		r.Add(wbxml.New(ns, "Options", opts...))
	}
	return r
}

func rrText(name, v string) *wbxml.Element { return wbxml.Text(wbxml.NSResolveRecipients, name, v) }

func availabilityOpt(start, end string) *wbxml.Element {
	return wbxml.New(wbxml.NSResolveRecipients, "Availability", rrText("StartTime", start), rrText("EndTime", end))
}

// resolved summarises one Response: "To:Status:RecipientCount:Type/Email…"
// and, per recipient, the Availability, Certificates and Picture statuses.
func resolved(root *wbxml.Element) []string {
	ns := wbxml.NSResolveRecipients
	var out []string
	for _, resp := range root.All(ns, "Response") {
		s := resp.ChildText(ns, "To") + ":" + resp.ChildText(ns, "Status") + ":" + resp.ChildText(ns, "RecipientCount")
		for _, r := range resp.All(ns, "Recipient") {
			s += ":" + r.ChildText(ns, "Type") + "/" + r.ChildText(ns, "EmailAddress")
			if a := r.Child(ns, "Availability"); a != nil {
				s += " fb=" + a.ChildText(ns, "Status") + "/" + a.ChildText(ns, "MergedFreeBusy")
			}
			if c := r.Child(ns, "Certificates"); c != nil {
				s += " cert=" + c.ChildText(ns, "Status")
			}
			if p := r.Child(ns, "Picture"); p != nil {
				s += " pic=" + p.ChildText(ns, "Status")
			}
		}
		out = append(out, s)
	}
	return out
}

func TestResolveRecipients(t *testing.T) {
	h := newHarness(t)
	ns := wbxml.NSResolveRecipients
	day := availabilityOpt("2026-03-09T08:00:00.000Z", "2026-03-09T11:00:00.000Z")
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("user%d@example.test", i)
	}
	many[0] = "alice@example.test"
	tests := []struct {
		name    string
		version string
		req     *wbxml.Element
		status  string
		want    []string
	}{
		{"address, name, ambiguous, unknown", "14.1", resolveReq([]string{"jeff@contoso.com", "Jeff", "deb", "nobody"}),
			"1", []string{
				"jeff@contoso.com:1:1:1/jeff@contoso.com",
				"Jeff:1:1:1/jeff@contoso.com",
				"deb:2:3:1/deborah@contoso.com:2/dsmith@example.org:1/debra@contoso.com",
				"nobody:4:0",
			}},
		{"partial suggestions", "14.1", resolveReq([]string{"deb"}, rrText("MaxAmbiguousRecipients", "2")),
			"1", []string{"deb:3:3:1/deborah@contoso.com:2/dsmith@example.org"}},
		{"no suggestions wanted", "14.1", resolveReq([]string{"deb"}, rrText("MaxAmbiguousRecipients", "0")),
			"1", []string{"deb:3:3"}},
		{"availability of the user and of others", "14.0", resolveReq([]string{"alice@example.test", "jeff@contoso.com", "down@example.test", "deb"}, day),
			"1", []string{
				"alice@example.test:1:1:1/alice@example.test fb=1/002200",
				"jeff@contoso.com:1:1:1/jeff@contoso.com fb=163/",
				"down@example.test:1:1:1/down@example.test fb=162/",
				"deb:2:3:1/deborah@contoso.com:2/dsmith@example.org:1/debra@contoso.com",
			}},
		{"availability before 14.0 is ignored", "12.1", resolveReq([]string{"alice@example.test"}, day),
			"1", []string{"alice@example.test:1:1:1/alice@example.test"}},
		{"more than 100 addresses with availability", "16.1", resolveReq(many[:101], day),
			"1", nil},
		{"certificates are not kept", "12.1", resolveReq([]string{"jeff@contoso.com", "deb"}, rrText("CertificateRetrieval", "2"), rrText("MaxCertificates", "5")),
			"1", []string{"jeff@contoso.com:1:1:1/jeff@contoso.com cert=7", "deb:2:3:1/deborah@contoso.com:2/dsmith@example.org:1/debra@contoso.com"}},
		{"pictures", "16.1", resolveReq([]string{"deborah@contoso.com", "jeff@contoso.com", "debra@contoso.com"}, pictureOpt(ns, 8, -1)),
			"1", []string{"deborah@contoso.com:1:1:1/deborah@contoso.com pic=1", "jeff@contoso.com:1:1:1/jeff@contoso.com pic=173",
				"debra@contoso.com:1:1:1/debra@contoso.com pic=174"}},
		{"no To", "16.1", resolveReq(nil, rrText("CertificateRetrieval", "1")), "5", nil},
		{"empty To", "16.1", resolveReq([]string{" "}), "5", nil},
		{"To too long", "16.1", resolveReq([]string{strings.Repeat("a", 257)}), "5", nil},
		{"bad certificate retrieval", "16.1", resolveReq([]string{"deb"}, rrText("CertificateRetrieval", "4")), "5", nil},
		{"bad max ambiguous", "16.1", resolveReq([]string{"deb"}, rrText("MaxAmbiguousRecipients", "-1")), "5", nil},
		{"availability without end", "16.1", resolveReq([]string{"deb"}, wbxml.New(ns, "Availability", rrText("StartTime", "2026-03-09T08:00:00.000Z"))), "5", nil},
		{"availability ends before it starts", "16.1", resolveReq([]string{"deb"}, availabilityOpt("2026-03-09T08:00:00.000Z", "2026-03-09T07:00:00.000Z")), "5", nil},
		{"backend fails", "16.1", resolveReq([]string{"jeff", "fail"}), "6", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.itemsClient(tt.version, "rr"+strings.ReplaceAll(tt.version, ".", ""))
			r := h.do(c, "ResolveRecipients", tt.req)
			if got := r.Root.ChildText(ns, "Status"); got != tt.status {
				t.Fatalf("status %s, want %s: %s", got, tt.status, wbxml.XMLString(r.Root))
			}
			got := resolved(r.Root)
			if tt.name == "more than 100 addresses with availability" {
				if len(got) != 101 || got[0] != "alice@example.test:1:1:1/alice@example.test fb=160/" || got[1] != "user1@example.test:4:0" {
					t.Errorf("got %d responses, first %q, %q", len(got), got[0], got[1])
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	// The whole answer in element order: the golden request of the codec's
	// testdata (deborah, jeff@contoso.com; certificates, availability,
	// picture).
	c := h.itemsClient("16.1", "rrgolden")
	r := h.do(c, "ResolveRecipients", resolveReq([]string{"deborah", "jeff@contoso.com"},
		rrText("CertificateRetrieval", "2"), rrText("MaxCertificates", "2"), rrText("MaxAmbiguousRecipients", "3"),
		availabilityOpt("2026-03-09T08:00:00.000Z", "2026-03-09T10:00:00.000Z"), pictureOpt(ns, 10240, 1)))
	checkGolden(t, "resolverecipients.xml", r.Root)
}
