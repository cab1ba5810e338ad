package app_test

import (
	"context"
	"encoding/base64"
	"sort"
	"strings"
	"testing"

	"easbridge/server/wbxml"
	"easbridge/sync/testenv"
)

// galPhoto is a (truncated) JPEG, enough for a PHOTO property.
var galPhoto = []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F'}

func galCard(uid, fn, n string, lines ...string) []byte {
	return []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nN:" + n + "\r\n" +
		strings.Join(lines, "\r\n") + "\r\nEND:VCARD\r\n")
}

func galEvent(uid string, lines ...string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//gal e2e//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:" + uid + "\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
}

// TestGALAgainstRadicale: Search GAL and ResolveRecipients through the EAS
// endpoint over Radicale: the user's address books (the seed's contacts
// and office books, plus one card), a shared directory configured as
// gal_addressbook, and free/busy from the user's calendars.
func TestGALAgainstRadicale(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	seed := w.seed
	dir := w.dav.MakeAddressBook(t, "alice", "directory", "Directory")
	w.dav.Put(t, "alice", dir+"deborah.vcf", "text/vcard", galCard("dir-deborah", "Deborah Poe", "Poe;Deborah;;;",
		"EMAIL;TYPE=INTERNET,WORK:deborah@contoso.com", "TEL;TYPE=WORK:+1 425 555 0102", "TEL;TYPE=CELL:+1 425 555 0108",
		"ORG:Contoso", "TITLE:Director", "X-OFFICE:B42/1001",
		"PHOTO;ENCODING=b;TYPE=JPEG:"+base64.StdEncoding.EncodeToString(galPhoto)))
	w.dav.Put(t, "alice", dir+"debra.vcf", "text/vcard", galCard("dir-debra", "Debra Winter", "Winter;Debra;;;",
		"EMAIL:debra@contoso.com", "ORG:Contoso"))
	w.dav.Put(t, "alice", seed.Contacts+"smith.vcf", "text/vcard", galCard("c-smith", "Deborah Smith", "Smith;Deborah;;;",
		"EMAIL:dsmith@example.org", "TEL;TYPE=HOME:+49 30 555"))

	// Free/busy on 2030-01-15 (a Tuesday), 08:00–12:00 UTC: a weekly
	// event since December at 08:00, a meeting 09:30–10:30, a transparent
	// one at 11:00 (free) and a tentative one at 11:30.
	w.dav.Put(t, "alice", seed.Work+"weekly.ics", "text/calendar", galEvent("fb-weekly",
		"DTSTART:20291204T080000Z", "DURATION:PT30M", "RRULE:FREQ=WEEKLY"))
	w.dav.Put(t, "alice", seed.Calendar+"meeting.ics", "text/calendar", galEvent("fb-meeting",
		"DTSTART:20300115T093000Z", "DTEND:20300115T103000Z"))
	w.dav.Put(t, "alice", seed.Calendar+"lunch.ics", "text/calendar", galEvent("fb-lunch",
		"DTSTART:20300115T110000Z", "DURATION:PT30M", "TRANSP:TRANSPARENT"))
	w.dav.Put(t, "alice", seed.Work+"maybe.ics", "text/calendar", galEvent("fb-maybe",
		"DTSTART:20300115T113000Z", "DURATION:PT30M", "STATUS:TENTATIVE"))

	w.cfg.Accounts[0].GALAddressBook = strings.TrimSuffix(w.dav.URL, "/") + dir
	w.restart()
	c := w.client("16.1", "galphone")
	if _, err := c.Provision(ctx); err != nil {
		t.Fatal(err)
	}

	// Search GAL.
	ns, g := wbxml.NSSearch, wbxml.NSGAL
	search := func(query string, opts ...*wbxml.Element) (*wbxml.Element, []*wbxml.Element) {
		t.Helper()
		store := wbxml.New(ns, "Store", wbxml.Text(ns, "Name", "GAL"), wbxml.Text(ns, "Query", query),
			wbxml.New(ns, "Options", append([]*wbxml.Element{wbxml.Text(ns, "Range", "0-9")}, opts...)...))
		r, err := c.Do(ctx, "Search", wbxml.New(ns, "Search", store))
		if err != nil || r.Status() != 1 {
			t.Fatalf("Search GAL %q: %v %s", query, err, wbxml.XMLString(r.Root))
		}
		st := r.Root.Child(ns, "Response").Child(ns, "Store")
		if st.ChildText(ns, "Status") != "1" {
			t.Fatalf("Search GAL %q: %s", query, wbxml.XMLString(r.Root))
		}
		var props []*wbxml.Element
		for _, res := range st.All(ns, "Result") {
			if p := res.Child(ns, "Properties"); p != nil {
				props = append(props, p)
			}
		}
		return st, props
	}
	st, props := search("deb", wbxml.New(ns, "Picture", wbxml.Text(ns, "MaxSize", "10240"), wbxml.Text(ns, "MaxPictures", "5")))
	var names []string
	for _, p := range props {
		names = append(names, p.ChildText(g, "DisplayName")+"<"+p.ChildText(g, "EmailAddress")+">")
	}
	if strings.Join(names, ", ") != "Deborah Poe<deborah@contoso.com>, Debra Winter<debra@contoso.com>, Deborah Smith<dsmith@example.org>" ||
		st.ChildText(ns, "Total") != "3" || st.ChildText(ns, "Range") != "0-2" {
		t.Fatalf("Search GAL deb: %v\n%s", names, wbxml.XMLString(st))
	}
	deb := props[0]
	for _, f := range []struct{ name, want string }{
		{"Phone", "+1 425 555 0102"}, {"MobilePhone", "+1 425 555 0108"}, {"Company", "Contoso"}, {"Title", "Director"},
		{"Office", "B42/1001"}, {"FirstName", "Deborah"}, {"LastName", "Poe"}, {"Alias", "deborah"},
	} {
		if got := deb.ChildText(g, f.name); got != f.want {
			t.Errorf("Deborah Poe %s = %q, want %q", f.name, got, f.want)
		}
	}
	if pic := deb.Child(g, "Picture"); pic == nil || pic.ChildText(g, "Status") != "1" ||
		pic.ChildText(g, "Data") != base64.StdEncoding.EncodeToString(galPhoto) {
		t.Errorf("Deborah Poe picture: %s", wbxml.XMLString(deb))
	}
	if pic := props[1].Child(g, "Picture"); pic == nil || pic.ChildText(g, "Status") != "173" {
		t.Errorf("Debra Winter picture: %s", wbxml.XMLString(props[1]))
	}
	// A name from the seed's office book and a company, any case.
	if _, props := search("ERIN"); len(props) != 1 || props[0].ChildText(g, "EmailAddress") != "erin@"+testenv.Domain ||
		props[0].ChildText(g, "Title") != "Manager" {
		t.Errorf("Search GAL erin: %d results", len(props))
	}
	if _, props := search("office ltd"); len(props) != 2 {
		t.Errorf("Search GAL office ltd: %d results, want Erin and Frank", len(props))
	}
	if st, props := search("zebra"); len(props) != 0 || st.ChildText(ns, "Total") != "0" {
		t.Errorf("Search GAL zebra: %s", wbxml.XMLString(st))
	}

	// ResolveRecipients.
	rr := wbxml.NSResolveRecipients
	req := wbxml.New(rr, "ResolveRecipients")
	for _, to := range []string{"deborah@contoso.com", "dsmith@example.org", "deb", "nobody@nowhere.test", "alice@" + testenv.Domain} {
		req.Add(wbxml.Text(rr, "To", to))
	}
	req.Add(wbxml.New(rr, "Options",
		wbxml.Text(rr, "CertificateRetrieval", "2"),
		wbxml.Text(rr, "MaxAmbiguousRecipients", "5"),
		wbxml.New(rr, "Availability", wbxml.Text(rr, "StartTime", "2030-01-15T08:00:00.000Z"), wbxml.Text(rr, "EndTime", "2030-01-15T12:00:00.000Z"))))
	r, err := c.Do(ctx, "ResolveRecipients", req)
	if err != nil || r.Root.ChildText(rr, "Status") != "1" {
		t.Fatalf("ResolveRecipients: %v %s", err, wbxml.XMLString(r.Root))
	}
	got := map[string]string{}
	for _, resp := range r.Root.All(rr, "Response") {
		s := resp.ChildText(rr, "Status") + ":" + resp.ChildText(rr, "RecipientCount")
		var recips []string
		for _, rc := range resp.All(rr, "Recipient") {
			x := rc.ChildText(rr, "Type") + "/" + rc.ChildText(rr, "DisplayName") + "/" + rc.ChildText(rr, "EmailAddress")
			if a := rc.Child(rr, "Availability"); a != nil {
				x += " fb=" + a.ChildText(rr, "Status") + "/" + a.ChildText(rr, "MergedFreeBusy")
			}
			if ce := rc.Child(rr, "Certificates"); ce != nil {
				x += " cert=" + ce.ChildText(rr, "Status")
			}
			recips = append(recips, x)
		}
		sort.Strings(recips)
		got[resp.ChildText(rr, "To")] = s + " " + strings.Join(recips, "; ")
	}
	want := map[string]string{
		"deborah@contoso.com": "1:1 1/Deborah Poe/deborah@contoso.com fb=163/ cert=7",
		"dsmith@example.org":  "1:1 2/Deborah Smith/dsmith@example.org fb=163/ cert=7",
		"deb":                 "2:3 1/Deborah Poe/deborah@contoso.com; 1/Debra Winter/debra@contoso.com; 2/Deborah Smith/dsmith@example.org",
		"nobody@nowhere.test": "4:0 ",
		// 08:00 weekly, 09:30–10:30 meeting, 11:00 transparent, 11:30 tentative.
		"alice@" + testenv.Domain: "1:1 1/alice/alice@" + testenv.Domain + " fb=1/20022001 cert=7",
	}
	for to, w := range want {
		if got[to] != w {
			t.Errorf("To %s: %q, want %q", to, got[to], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d responses: %v", len(got), got)
	}
}
