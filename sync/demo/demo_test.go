package demo

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
)

// testNow is a summer date: Europe/Berlin is on CEST.
var testNow = time.Date(2025, 6, 18, 10, 0, 0, 0, time.UTC)

func hostPort(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %q: %v", rawURL, err)
	}
	return u.Host
}

func TestDemo(t *testing.T) {
	baseline := runtime.NumGoroutine()
	ctx := t.Context()

	d, err := Start(ctx, Options{Now: testNow, Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()

	if d.User != DefaultUser || len(d.Password) != 8 || d.Address != "demo@example.com" {
		t.Errorf("credentials = %q/%q <%s>, want demo/8 chars <demo@example.com>", d.User, d.Password, d.Address)
	}
	for _, u := range []string{d.IMAPURL, d.SMTPURL, d.DAVURL} {
		if !strings.Contains(u, "://127.0.0.1:") {
			t.Errorf("URL %q is not on 127.0.0.1", u)
		}
	}
	if !strings.HasSuffix(d.DAVURL, "/") {
		t.Errorf("DAVURL %q has no trailing slash", d.DAVURL)
	}

	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport}

	t.Run("IMAP", func(t *testing.T) { testIMAP(t, d) })
	t.Run("WrongPassword", func(t *testing.T) { testWrongPassword(t, d, hc) })
	t.Run("DAVDiscovery", func(t *testing.T) { testDAVDiscovery(t, d, hc) })
	t.Run("DAVPut", func(t *testing.T) { testDAVPut(t, d, hc) })
	t.Run("SMTP", func(t *testing.T) { testSMTP(t, d) })

	// Leave connections open across Close: it must cut them.
	idleIMAP := imapLogin(t, d)
	defer idleIMAP.Close()
	if _, err := idleIMAP.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("select: %v", err)
	}
	idleSMTP, err := smtp.Dial(hostPort(t, d.SMTPURL))
	if err != nil {
		t.Fatalf("smtp dial: %v", err)
	}
	defer idleSMTP.Close()
	if err := idleSMTP.Hello("localhost"); err != nil {
		t.Fatalf("smtp hello: %v", err)
	}
	idleHTTP, err := net.Dial("tcp", hostPort(t, d.DAVURL))
	if err != nil {
		t.Fatalf("http dial: %v", err)
	}
	defer idleHTTP.Close()

	done := make(chan error, 1)
	go func() { done <- d.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with connections open")
	}
	closed = true
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	for _, u := range []string{d.IMAPURL, d.SMTPURL, d.DAVURL} {
		if c, err := net.DialTimeout("tcp", hostPort(t, u), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Close", u)
		}
	}

	// The clients notice the closed connections and stop their goroutines.
	idleIMAP.Close()
	idleSMTP.Close()
	idleHTTP.Close()
	transport.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Errorf("%d goroutines after Close, %d before Start:\n%s", n, baseline, buf.String())
	}
}

func imapLogin(t *testing.T, d *Demo) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(hostPort(t, d.IMAPURL), nil)
	if err != nil {
		t.Fatalf("imap dial: %v", err)
	}
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		c.Close()
		t.Fatalf("imap login: %v", err)
	}
	return c
}

func testIMAP(t *testing.T, d *Demo) {
	c := imapLogin(t, d)
	defer c.Close()

	if !c.Caps().Has(imap.CapSpecialUse) {
		t.Errorf("SPECIAL-USE not advertised: %v", c.Caps())
	}

	list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	attrs := make(map[string][]imap.MailboxAttr)
	var names []string
	for _, l := range list {
		names = append(names, l.Mailbox)
		attrs[l.Mailbox] = l.Attrs
		if l.Delim != '/' {
			t.Errorf("%s: delimiter %q, want '/'", l.Mailbox, l.Delim)
		}
	}
	want := []string{"INBOX", "Archive", "Drafts", "Junk", "Projects", "Projects/Garden", "Sent", "Trash"}
	if !slices.Equal(names, want) {
		t.Errorf("mailboxes = %v, want %v", names, want)
	}
	for box, attr := range map[string]imap.MailboxAttr{
		"Sent": imap.MailboxAttrSent, "Drafts": imap.MailboxAttrDrafts, "Trash": imap.MailboxAttrTrash,
		"Junk": imap.MailboxAttrJunk, "Archive": imap.MailboxAttrArchive, "Projects": imap.MailboxAttrHasChildren,
	} {
		if !slices.Contains(attrs[box], attr) {
			t.Errorf("%s attrs = %v, want %s", box, attrs[box], attr)
		}
	}

	// LIST "" % stops at the delimiter.
	top, err := c.List("", "%", nil).Collect()
	if err != nil {
		t.Fatalf("list %%: %v", err)
	}
	if len(top) != 7 {
		t.Errorf("LIST %% returned %d mailboxes, want 7", len(top))
	}

	// CREATE with a special-use attribute, then RENAME and DELETE it.
	if err := c.Create("Flagged mail", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrFlagged}}).Wait(); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := c.Rename("Flagged mail", "Projects/Flagged", nil).Wait(); err != nil {
		t.Fatalf("rename: %v", err)
	}
	su, err := c.List("", "*", &imap.ListOptions{SelectSpecialUse: true}).Collect()
	if err != nil {
		t.Fatalf("list special-use: %v", err)
	}
	if i := slices.IndexFunc(su, func(l *imap.ListData) bool { return l.Mailbox == "Projects/Flagged" }); i < 0 ||
		!slices.Contains(su[i].Attrs, imap.MailboxAttrFlagged) || len(su) != 6 {
		t.Errorf("LIST (SPECIAL-USE) after create+rename = %+v", su)
	}
	if err := c.Delete("Projects/Flagged").Wait(); err != nil {
		t.Fatalf("delete: %v", err)
	}

	counts := map[string]uint32{"INBOX": 8, "Sent": 2, "Projects/Garden": 2, "Drafts": 1, "Trash": 0}
	for box, n := range counts {
		st, err := c.Status(box, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			t.Fatalf("status %s: %v", box, err)
		}
		if *st.NumMessages != n {
			t.Errorf("%s has %d messages, want %d", box, *st.NumMessages, n)
		}
	}

	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("select: %v", err)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5, 6, 7, 8), &imap.FetchOptions{
		Envelope: true, Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	bySubject := make(map[string]*imapclient.FetchMessageBuffer)
	for _, m := range msgs {
		bySubject[m.Envelope.Subject] = m
		if age := testNow.Sub(m.InternalDate); age < 0 || age > 14*24*time.Hour {
			t.Errorf("%q: internal date %v not within two weeks before %v", m.Envelope.Subject, m.InternalDate, testNow)
		}
	}

	koeln := bySubject["Grüße aus Köln"]
	if koeln == nil {
		t.Fatalf("no message with subject Grüße aus Köln; have %v", keys(bySubject))
	}
	raw := koeln.FindBodySection(section)
	if !bytes.Contains(raw, []byte("Subject: =?utf-8?")) {
		t.Errorf("Köln subject is not RFC 2047 encoded:\n%s", headerOf(raw))
	}
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse Köln message: %v", err)
	}
	var types []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("next part: %v", err)
		}
		ct, _, _ := p.Header.(*mail.InlineHeader).ContentType()
		body, _ := io.ReadAll(p.Body)
		types = append(types, ct)
		if ct == "text/plain" && !strings.Contains(string(body), "Grüße aus Köln") {
			t.Errorf("Köln text part not decoded to UTF-8: %q", body)
		}
	}
	if !slices.Equal(types, []string{"text/plain", "text/html"}) {
		t.Errorf("Köln parts = %v, want text/plain, text/html", types)
	}

	flagged := bySubject["Contract review — please sign by Thursday"]
	if flagged == nil || !slices.Contains(flagged.Flags, imap.FlagFlagged) || slices.Contains(flagged.Flags, imap.FlagSeen) {
		t.Errorf("contract message should be flagged and unread: %+v", flagged)
	}
	if lunch := bySubject["Team lunch on Friday?"]; lunch == nil || !slices.Contains(lunch.Flags, imap.FlagAnswered) {
		t.Errorf("lunch message should be answered: %+v", lunch)
	}

	var invoice *imapclient.FetchMessageBuffer
	for s, m := range bySubject {
		if strings.HasPrefix(s, "Your invoice ") {
			invoice = m
		}
	}
	if invoice == nil {
		t.Fatalf("no invoice message; have %v", keys(bySubject))
	}
	mr, err = mail.CreateReader(bytes.NewReader(invoice.FindBodySection(section)))
	if err != nil {
		t.Fatalf("parse invoice: %v", err)
	}
	foundPDF := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("next part: %v", err)
		}
		if h, ok := p.Header.(*mail.AttachmentHeader); ok {
			name, _ := h.Filename()
			body, _ := io.ReadAll(p.Body)
			foundPDF = strings.HasSuffix(name, ".pdf") && bytes.HasPrefix(body, []byte("%PDF-1.4")) &&
				bytes.HasSuffix(body, []byte("%%EOF\n"))
		}
	}
	if !foundPDF {
		t.Error("invoice has no PDF attachment")
	}

	photo := bySubject["Photo of the new raised bed"]
	if photo == nil {
		t.Fatalf("no photo message; have %v", keys(bySubject))
	}
	raw = photo.FindBodySection(section)
	if !bytes.Contains(headerOf(raw), []byte("multipart/related")) {
		t.Errorf("photo message is not multipart/related:\n%s", headerOf(raw))
	}
	mr, err = mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse photo message: %v", err)
	}
	var htmlRefersToImage, imageOK bool
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("next part: %v", err)
		}
		h := p.Header.(*mail.InlineHeader)
		ct, _, _ := h.ContentType()
		body, _ := io.ReadAll(p.Body)
		switch ct {
		case "text/html":
			htmlRefersToImage = bytes.Contains(body, []byte(`src="cid:raised-bed@easbridge.demo"`))
		case "image/png":
			_, err := png.Decode(bytes.NewReader(body))
			imageOK = err == nil && h.Get("Content-Id") == "<raised-bed@easbridge.demo>"
		}
	}
	if !htmlRefersToImage || !imageOK {
		t.Errorf("photo message: HTML refers to cid %v, inline PNG with Content-ID %v", htmlRefersToImage, imageOK)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func headerOf(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i]
	}
	return raw
}

func testWrongPassword(t *testing.T, d *Demo, hc *http.Client) {
	c, err := imapclient.DialInsecure(hostPort(t, d.IMAPURL), nil)
	if err != nil {
		t.Fatalf("imap dial: %v", err)
	}
	defer c.Close()
	if err := c.Login(d.User, d.Password+"x").Wait(); err == nil {
		t.Error("IMAP login with a wrong password succeeded")
	}
	if err := c.Login("nobody", d.Password).Wait(); err == nil {
		t.Error("IMAP login with a wrong user succeeded")
	}

	sc, err := smtp.Dial(hostPort(t, d.SMTPURL))
	if err != nil {
		t.Fatalf("smtp dial: %v", err)
	}
	defer sc.Close()
	if err := sc.Hello("localhost"); err != nil {
		t.Fatalf("smtp hello: %v", err)
	}
	if err := sc.Auth(sasl.NewPlainClient("", d.User, "wrong")); err == nil {
		t.Error("SMTP AUTH with a wrong password succeeded")
	}
	if err := sc.Mail(d.Address, nil); err == nil {
		t.Error("SMTP MAIL FROM without AUTH succeeded")
	}

	for _, creds := range [][2]string{{"", ""}, {d.User, "wrong"}} {
		req, _ := http.NewRequest("PROPFIND", d.DAVURL+"demo/", nil)
		if creds[0] != "" {
			req.SetBasicAuth(creds[0], creds[1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("PROPFIND: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("PROPFIND with %q: %s, WWW-Authenticate %q; want 401 Basic", creds, resp.Status, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

func davClients(t *testing.T, d *Demo, hc *http.Client) (*webdav.Client, *caldav.Client, *carddav.Client) {
	t.Helper()
	authed := webdav.HTTPClientWithBasicAuth(hc, d.User, d.Password)
	wc, err := webdav.NewClient(authed, d.DAVURL)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := caldav.NewClient(authed, d.DAVURL)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := carddav.NewClient(authed, d.DAVURL)
	if err != nil {
		t.Fatal(err)
	}
	return wc, cc, ac
}

func testDAVDiscovery(t *testing.T, d *Demo, hc *http.Client) {
	ctx := t.Context()

	// The well-known URLs redirect to the principal, without credentials.
	noRedirect := &http.Client{
		Transport:     hc.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, p := range []string{".well-known/caldav", ".well-known/carddav"} {
		resp, err := noRedirect.Get(d.DAVURL + p)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/demo/" {
			t.Errorf("GET %s: %s Location %q, want a redirect to /demo/", p, resp.Status, resp.Header.Get("Location"))
		}
	}

	wc, cc, ac := davClients(t, d, hc)
	principal, err := wc.FindCurrentUserPrincipal(ctx)
	if err != nil {
		t.Fatalf("current-user-principal: %v", err)
	}
	if principal != "/demo/" {
		t.Errorf("principal = %q, want /demo/", principal)
	}

	home, err := cc.FindCalendarHomeSet(ctx, principal)
	if err != nil {
		t.Fatalf("calendar-home-set: %v", err)
	}
	if home != "/demo/calendars/" {
		t.Errorf("calendar home = %q", home)
	}
	cals, err := cc.FindCalendars(ctx, home)
	if err != nil {
		t.Fatalf("find calendars: %v", err)
	}
	gotComps := make(map[string][]string)
	for _, c := range cals {
		gotComps[c.Path] = c.SupportedComponentSet
	}
	wantComps := map[string][]string{
		"/demo/calendars/calendar/": {"VEVENT"},
		"/demo/calendars/tasks/":    {"VTODO"},
		"/demo/calendars/notes/":    {"VJOURNAL"},
	}
	if fmt.Sprint(gotComps) != fmt.Sprint(wantComps) {
		t.Errorf("calendars = %v, want %v", gotComps, wantComps)
	}

	all := &caldav.CalendarQuery{
		CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
		CompFilter:  caldav.CompFilter{Name: "VCALENDAR", Comps: []caldav.CompFilter{{Name: "VEVENT"}}},
	}
	events, err := cc.QueryCalendar(ctx, "/demo/calendars/calendar/", all)
	if err != nil {
		t.Fatalf("query events: %v", err)
	}
	if len(events) != 5 {
		t.Errorf("%d events, want 5", len(events))
	}
	var sawRecurring, sawAllDay, sawAttendees, sawTZ bool
	for _, co := range events {
		if co.ETag == "" {
			t.Errorf("%s has no ETag", co.Path)
		}
		for _, comp := range co.Data.Children {
			switch comp.Name {
			case ical.CompTimezone:
				sawTZ = true
			case ical.CompEvent:
				if comp.Props.Get(ical.PropRecurrenceRule) != nil && len(co.Data.Events()) == 2 {
					sawRecurring = true
				}
				if p := comp.Props.Get(ical.PropDateTimeStart); p != nil && p.ValueType() == ical.ValueDate {
					sawAllDay = true
				}
				if len(comp.Props.Values(ical.PropAttendee)) == 3 {
					sawAttendees = true
				}
			}
		}
	}
	if !sawRecurring || !sawAllDay || !sawAttendees || !sawTZ {
		t.Errorf("recurring with exception %v, all-day %v, attendees %v, VTIMEZONE %v: want all", sawRecurring, sawAllDay, sawAttendees, sawTZ)
	}

	// Time range: the four events between four days ago and three days
	// ahead (the weekly one occurs today); the all-day party is later.
	ranged := *all
	ranged.CompFilter.Comps = []caldav.CompFilter{{Name: "VEVENT", Start: testNow.Add(-4 * 24 * time.Hour), End: testNow.Add(3 * 24 * time.Hour)}}
	inRange, err := cc.QueryCalendar(ctx, "/demo/calendars/calendar/", &ranged)
	if err != nil {
		t.Fatalf("time-range query: %v", err)
	}
	if len(inRange) != 4 {
		var paths []string
		for _, co := range inRange {
			paths = append(paths, co.Path)
		}
		t.Errorf("time-range query: %v, want 4 events", paths)
	}

	for coll, comp := range map[string]string{"/demo/calendars/tasks/": "VTODO", "/demo/calendars/notes/": "VJOURNAL"} {
		q := &caldav.CalendarQuery{
			CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
			CompFilter:  caldav.CompFilter{Name: "VCALENDAR", Comps: []caldav.CompFilter{{Name: comp}}},
		}
		objs, err := cc.QueryCalendar(ctx, coll, q)
		if err != nil {
			t.Fatalf("query %s: %v", coll, err)
		}
		if want := map[string]int{"VTODO": 3, "VJOURNAL": 2}[comp]; len(objs) != want {
			t.Errorf("%s: %d objects, want %d", coll, len(objs), want)
		}
	}

	abHome, err := ac.FindAddressBookHomeSet(ctx, principal)
	if err != nil {
		t.Fatalf("addressbook-home-set: %v", err)
	}
	if abHome != "/demo/contacts/" {
		t.Errorf("address book home = %q", abHome)
	}
	books, err := ac.FindAddressBooks(ctx, abHome)
	if err != nil {
		t.Fatalf("find address books: %v", err)
	}
	if len(books) != 1 || books[0].Path != "/demo/contacts/contacts/" {
		t.Fatalf("address books = %+v, want /demo/contacts/contacts/", books)
	}
	cards, err := ac.QueryAddressBook(ctx, books[0].Path, &carddav.AddressBookQuery{
		DataRequest: carddav.AddressDataRequest{AllProp: true},
	})
	if err != nil {
		t.Fatalf("query address book: %v", err)
	}
	if len(cards) != 5 {
		t.Errorf("%d contacts, want 5", len(cards))
	}
	ao, err := ac.GetAddressObject(ctx, books[0].Path+"anna-schmidt.vcf")
	if err != nil {
		t.Fatalf("get contact: %v", err)
	}
	if fn := ao.Card.PreferredValue("FN"); fn != "Anna Schmidt" {
		t.Errorf("FN = %q", fn)
	}
	if n, p, a := len(ao.Card["EMAIL"]), len(ao.Card["TEL"]), len(ao.Card.Addresses()); n != 2 || p != 2 || a != 2 {
		t.Errorf("Anna has %d emails, %d phones, %d addresses; want 2 each", n, p, a)
	}
	if ao.ETag == "" {
		t.Error("contact has no ETag")
	}
}

func newEvent(uid, summary string, start time.Time) *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropProductID, "-//easbridge//test//EN")
	cal.Props.SetText(ical.PropVersion, "2.0")
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, uid)
	ev.Props.SetDateTime(ical.PropDateTimeStamp, testNow)
	ev.Props.SetDateTime(ical.PropDateTimeStart, start)
	ev.Props.SetDateTime(ical.PropDateTimeEnd, start.Add(time.Hour))
	ev.Props.SetText(ical.PropSummary, summary)
	cal.Children = append(cal.Children, ev.Component)
	return cal
}

func testDAVPut(t *testing.T, d *Demo, hc *http.Client) {
	ctx := t.Context()
	_, cc, _ := davClients(t, d, hc)
	const p = "/demo/calendars/calendar/test-event.ics"

	put, err := cc.PutCalendarObject(ctx, p, newEvent("test-event@example.com", "Test event", testNow.Add(48*time.Hour)))
	if err != nil {
		t.Fatalf("PUT: %v", err)
	}
	got, err := cc.GetCalendarObject(ctx, p)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	if s, _ := got.Data.Events()[0].Props.Text(ical.PropSummary); s != "Test event" {
		t.Errorf("summary = %q", s)
	}
	if got.ETag == "" || got.ETag != put.ETag {
		t.Errorf("ETag after GET %q, after PUT %q", got.ETag, put.ETag)
	}

	// Conditional and invalid PUTs.
	body := func(cal *ical.Calendar) io.Reader {
		var buf bytes.Buffer
		if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
			t.Fatal(err)
		}
		return &buf
	}
	do := func(path string, cal *ical.Calendar, hdr ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, d.DAVURL+strings.TrimPrefix(path, "/"), body(cal))
		req.SetBasicAuth(d.User, d.Password)
		req.Header.Set("Content-Type", ical.MIMEType)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("PUT %s: %v", path, err)
		}
		resp.Body.Close()
		return resp
	}
	changed := newEvent("test-event@example.com", "Test event (changed)", testNow.Add(48*time.Hour))
	if r := do(p, changed, "If-None-Match", "*"); r.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("If-None-Match: * on existing: %s, want 412", r.Status)
	}
	if r := do(p, changed, "If-Match", `"stale"`); r.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("If-Match stale: %s, want 412", r.Status)
	}
	r := do(p, changed, "If-Match", `"`+put.ETag+`"`)
	if r.StatusCode/100 != 2 {
		t.Errorf("If-Match current: %s, want 2xx", r.Status)
	}
	if etag := strings.Trim(r.Header.Get("ETag"), `"`); etag == "" || etag == put.ETag {
		t.Errorf("ETag after change = %q (was %q)", etag, put.ETag)
	}
	if r := do("/demo/calendars/calendar/dup.ics", changed); r.StatusCode != http.StatusConflict {
		t.Errorf("PUT with a duplicate UID: %s, want 409", r.Status)
	}
	todo := newEvent("todo@example.com", "x", testNow)
	todo.Children[0].Name = ical.CompToDo
	todo.Children[0].Props.Del(ical.PropDateTimeEnd)
	if r := do("/demo/calendars/calendar/todo.ics", todo); r.StatusCode != http.StatusConflict {
		t.Errorf("PUT VTODO into a VEVENT calendar: %s, want 409", r.Status)
	}
	if r := do("/demo/calendars/nowhere/x.ics", newEvent("x@example.com", "x", testNow)); r.StatusCode != http.StatusConflict {
		t.Errorf("PUT into a missing calendar: %s, want 409", r.Status)
	}

	objs, err := cc.QueryCalendar(ctx, "/demo/calendars/calendar/", &caldav.CalendarQuery{
		CompFilter: caldav.CompFilter{Name: "VCALENDAR", Comps: []caldav.CompFilter{{Name: "VEVENT"}}},
	})
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if len(objs) != 6 {
		t.Errorf("%d events after PUT, want 6", len(objs))
	}
}

func testSMTP(t *testing.T, d *Demo) {
	c, err := smtp.Dial(hostPort(t, d.SMTPURL))
	if err != nil {
		t.Fatalf("smtp dial: %v", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		t.Fatalf("hello: %v", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", d.User, d.Password)); err != nil {
		t.Fatalf("AUTH PLAIN: %v", err)
	}
	var h mail.Header
	h.SetAddressList("From", []*mail.Address{{Name: "Demo User", Address: d.Address}})
	h.SetAddressList("To", []*mail.Address{{Address: "anna.schmidt@example.com"}})
	h.SetSubject("Sent from the test")
	h.SetDate(time.Now())
	var msg bytes.Buffer
	w, err := mail.CreateSingleInlineWriter(&msg, h)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Hello Anna!\r\n")
	w.Close()
	if err := c.SendMail(d.Address, []string{"anna.schmidt@example.com"}, &msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Errorf("quit: %v", err)
	}

	ic := imapLogin(t, d)
	defer ic.Close()
	sel, err := ic.Select("Sent", nil).Wait()
	if err != nil {
		t.Fatalf("select Sent: %v", err)
	}
	if sel.NumMessages != 3 {
		t.Fatalf("Sent has %d messages, want 3", sel.NumMessages)
	}
	msgs, err := ic.Fetch(imap.SeqSetNum(sel.NumMessages), &imap.FetchOptions{Envelope: true, Flags: true}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if len(msgs) != 1 || msgs[0].Envelope.Subject != "Sent from the test" || !slices.Contains(msgs[0].Flags, imap.FlagSeen) {
		t.Errorf("last Sent message = %+v", msgs)
	}
}

func TestStartCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if d, err := Start(ctx, Options{}); err == nil {
		d.Close()
		t.Fatal("Start with a canceled context succeeded")
	}
}

func TestOptions(t *testing.T) {
	d, err := Start(t.Context(), Options{User: "alice", Password: "secret"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer d.Close()
	if d.User != "alice" || d.Password != "secret" || d.Address != "alice@example.com" {
		t.Errorf("got %q/%q <%s>", d.User, d.Password, d.Address)
	}
	c, err := imapclient.DialInsecure(hostPort(t, d.IMAPURL), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "secret").Wait(); err != nil {
		t.Errorf("login with given credentials: %v", err)
	}
}

func TestRandomPassword(t *testing.T) {
	seen := make(map[string]bool)
	for range 50 {
		pw, err := randomPassword(8)
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 8 || strings.Trim(pw, passwordAlphabet) != "" {
			t.Errorf("password %q", pw)
		}
		seen[pw] = true
	}
	if len(seen) < 50 {
		t.Errorf("only %d distinct passwords out of 50", len(seen))
	}
}
