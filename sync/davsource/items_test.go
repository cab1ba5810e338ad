package davsource

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

func TestNewPath(t *testing.T) {
	a := NewAccount(Config{URL: "http://dav.test/"}, "alice", "pw", nil)
	hashed := func(uid string) bool {
		p := a.NewPath("caldav:/c/", uid)
		name := strings.TrimSuffix(strings.TrimPrefix(p, "/c/"), ".ics")
		return len(name) == 64 && strings.Trim(name, "0123456789abcdef") == ""
	}
	for uid, want := range map[string]string{
		"abc-123_X.y~z": "/c/abc-123_X.y~z.ics",
		"0a1b":          "/c/0a1b.ics",
	} {
		if got := a.NewPath("caldav:/c/", uid); got != want {
			t.Errorf("NewPath(%q) = %q, want %q", uid, got, want)
		}
	}
	for _, uid := range []string{"a@b", "a/b", "../x", ".hidden", "~x", "", "a b", "ü", "a%40b", "a?b", strings.Repeat("x", maxUIDPath+1)} {
		if !hashed(uid) {
			t.Errorf("NewPath(%q) = %q, want a hash", uid, a.NewPath("caldav:/c/", uid))
		}
	}
	if a.NewPath("caldav:/c/", "a@b") != a.NewPath("caldav:/c/", "a@b") || a.NewPath("caldav:/c/", "a@b") == a.NewPath("caldav:/c/", "a@c") {
		t.Error("NewPath is not a function of the UID")
	}
	if got := a.NewPath("carddav:/books/b", "x"); got != "/books/b/x.vcf" {
		t.Errorf("address book NewPath = %q", got)
	}
}

func TestMemberPaths(t *testing.T) {
	c, err := parseCollection("caldav:/u/Mein Kalender/")
	if err != nil {
		t.Fatal(err)
	}
	for p, ok := range map[string]bool{
		"/u/Mein Kalender/a.ics":          true,
		"/u/Mein%20Kalender/a%40b.ics":    true,
		"/u/Mein%20Kalender/":             false,
		"/u/Mein Kalender/sub/a.ics":      false,
		"/u/Mein Kalender/..":             false,
		"/u/Mein%20Kalender/a%2Fb.ics":    false, // an escaped "/" is still one
		"/u/other/a.ics":                  false,
		"/u/Mein Kalender/../other/a.ics": false,
	} {
		if _, err := c.member(p); (err == nil) != ok {
			t.Errorf("member(%q) = %v, want ok %v", p, err, ok)
		}
	}
	a := NewAccount(Config{URL: "http://dav.test/"}, "alice", "pw", nil)
	for in, want := range map[string]string{
		"/u/Mein Kalender/":         "http://dav.test/u/Mein%20Kalender/",
		"/u/Mein%20Kalender/x.ics":  "http://dav.test/u/Mein%20Kalender/x.ics",
		"/u/c/a%40b.ics":            "http://dav.test/u/c/a%40b.ics", // as the server sent it
		"/u/c/a@b.ics":              "http://dav.test/u/c/a@b.ics",
		"/u/c/100%.ics":             "http://dav.test/u/c/100%25.ics", // not an escaping: escaped here
		"/u/c/caf%C3%A9/x%2Fy.ics":  "http://dav.test/u/c/caf%C3%A9/x%2Fy.ics",
		"/u/c/q?.ics":               "http://dav.test/u/c/q%3F.ics",
		"/u/c/with%20space and.ics": "http://dav.test/u/c/with%20space%20and.ics",
	} {
		if got := a.target(in).String(); got != want {
			t.Errorf("target(%q) = %q, want %q", in, got, want)
		}
	}
	for _, key := range []string{"imap:INBOX", "caldav:relative/", "caldav:"} {
		if _, err := parseCollection(key); err == nil {
			t.Errorf("parseCollection(%q) accepted", key)
		}
	}
}

func TestCRLF(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"A\r\nB\r\n":       "A\r\nB\r\n",
		"A\nB\n":           "A\r\nB\r\n",
		"\nA\r\nB\nC":      "\r\nA\r\nB\r\nC",
		"BEGIN:X\nEND:X\n": "BEGIN:X\r\nEND:X\r\n",
	} {
		if got := string(crlf(in)); got != want {
			t.Errorf("crlf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenRejected(t *testing.T) {
	radicale := `<?xml version='1.0' encoding='utf-8'?> <error xmlns="DAV:"><valid-sync-token /></error>`
	sabre := `<?xml version="1.0" encoding="utf-8"?> <d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"> <s:sabredav-version>4.6.0</s:sabredav-version> <d:valid-sync-token/> <s:exception>Sabre\DAV\Exception\InvalidSyncToken</s:exception>`
	unsupported := `<D:error xmlns:D="DAV:"><D:supported-report/></D:error>`
	for _, tc := range []struct {
		code     int
		body     string
		hadToken bool
		want     bool
	}{
		{403, radicale, true, true},
		{409, radicale, true, true},
		{403, sabre, true, true}, // truncated mid-way: the tokens before count
		{412, "", true, true},
		{403, "", true, false},
		{403, `<error xmlns="urn:other"><valid-sync-token/></error>`, true, false},
		{403, unsupported, true, true},
		{403, unsupported, false, false},
		{405, "", true, true},
		{501, "", false, false},
		{404, radicale, true, false},
		{500, radicale, true, false},
	} {
		err := fmt.Errorf("wrapped: %w", &HTTPError{Method: "REPORT", Path: "/c/", Code: tc.code, Body: tc.body})
		if got := tokenRejected(err, tc.hadToken); got != tc.want {
			t.Errorf("tokenRejected(%d %q, %v) = %v, want %v", tc.code, tc.body, tc.hadToken, got, tc.want)
		}
	}
}

// fakeCTag is a CalDAV server without RFC 6578: a collection with a CTag,
// PROPFIND, calendar-multiget, PUT (answering without ETag) and DELETE.
// Hrefs of members are absolute URLs.
type fakeCTag struct {
	mu       sync.Mutex
	col      string
	members  map[string]fakeMember // escaped path → member
	ctag     int
	requests []string
}

type fakeMember struct{ etag, data string }

var hrefRE = regexp.MustCompile(`<D:href>([^<]*)</D:href>`)

func newFakeCTag(t *testing.T) (*fakeCTag, *httptest.Server) {
	f := &fakeCTag{col: "/dav/cal/alice/personal/", ctag: 1, members: map[string]fakeMember{
		"/dav/cal/alice/personal/a.ics":     {`"a1"`, "BEGIN:VCALENDAR\nUID:a\nEND:VCALENDAR\n"},
		"/dav/cal/alice/personal/b%40x.ics": {`"b1"`, "BEGIN:VCALENDAR\r\nUID:b@x\r\nEND:VCALENDAR\r\n"},
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeCTag) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath()+" "+r.Header.Get("Depth"))
	if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "alicepw" {
		http.Error(w, "auth", http.StatusUnauthorized)
		return
	}
	p := r.URL.EscapedPath()
	abs := "http://" + r.Host
	ms := func(inner string) {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusMultiStatus)
		fmt.Fprint(w, msHead+inner+`</D:multistatus>`)
	}
	ok := func(props string) string {
		return `<D:propstat><D:prop>` + props + `</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`
	}
	switch {
	case r.Method == "PROPFIND" && p == f.col && r.Header.Get("Depth") == "0":
		ms(`<D:response><D:href>` + p + `</D:href>` +
			ok(`<CS:getctag xmlns:CS="http://calendarserver.org/ns/">`+strconv.Itoa(f.ctag)+`</CS:getctag>`+
				`<D:supported-report-set><D:supported-report><D:report><C:calendar-multiget/></D:report></D:supported-report></D:supported-report-set>`) +
			`<D:propstat><D:prop><D:sync-token/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>`)
	case r.Method == "PROPFIND" && p == f.col && r.Header.Get("Depth") == "1":
		s := `<D:response><D:href>` + p + `</D:href>` + ok(`<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>`+
			`<CS:getctag xmlns:CS="http://calendarserver.org/ns/">`+strconv.Itoa(f.ctag)+`</CS:getctag>`) + `</D:response>`
		s += `<D:response><D:href>` + p + `sub/</D:href>` + ok(`<D:resourcetype><D:collection/></D:resourcetype>`) + `</D:response>`
		for mp, m := range f.members {
			s += `<D:response><D:href>` + abs + mp + `</D:href>` + ok(`<D:resourcetype/><D:getetag>`+m.etag+`</D:getetag>`) + `</D:response>`
		}
		ms(s)
	case r.Method == "PROPFIND" && r.Header.Get("Depth") == "0":
		m, found := f.members[p]
		if !found {
			http.NotFound(w, r)
			return
		}
		ms(`<D:response><D:href>` + p + `</D:href>` + ok(`<D:getetag>`+m.etag+`</D:getetag>`) + `</D:response>`)
	case r.Method == "REPORT" && strings.Contains(string(body), "calendar-multiget"):
		s := ""
		for _, h := range hrefRE.FindAllStringSubmatch(string(body), -1) {
			if m, found := f.members[h[1]]; found {
				s += `<D:response><D:href>` + abs + h[1] + `</D:href>` + ok(`<D:getetag>`+m.etag+`</D:getetag><C:calendar-data>`+escape(m.data)+`</C:calendar-data>`) + `</D:response>`
			} else {
				s += `<D:response><D:href>` + h[1] + `</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>`
			}
		}
		ms(s)
	case r.Method == "REPORT":
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<D:error xmlns:D="DAV:"><D:supported-report/></D:error>`)
	case r.Method == http.MethodPut:
		m, found := f.members[p]
		if (r.Header.Get("If-None-Match") == "*" && found) || (r.Header.Get("If-Match") != "" && (!found || m.etag != r.Header.Get("If-Match"))) {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		f.ctag++
		f.members[p] = fakeMember{fmt.Sprintf(`"v%d"`, f.ctag), string(body)}
		w.WriteHeader(http.StatusCreated) // no ETag header
	case r.Method == http.MethodDelete:
		m, found := f.members[p]
		switch {
		case !found:
			http.NotFound(w, r)
		case r.Header.Get("If-Match") != "" && r.Header.Get("If-Match") != m.etag:
			w.WriteHeader(http.StatusPreconditionFailed)
		default:
			delete(f.members, p)
			f.ctag++
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func TestFakeItemsCTagFallback(t *testing.T) {
	f, srv := newFakeCTag(t)
	a, cnt := newCountingAccount(t, srv.URL+"/dav/")
	ctx := ctxT(t)
	key := "caldav:/dav/cal/alice/personal/"

	ch := changes(t, a, cnt, key, "", 2) // PROPFIND depth 0, then depth 1
	want := []source.DAVRef{{Path: "/dav/cal/alice/personal/a.ics", ETag: `"a1"`}, {Path: "/dav/cal/alice/personal/b%40x.ics", ETag: `"b1"`}}
	if !ch.Full || ch.Token != "ctag:1" || refs(ch.Changed) != refs(want) || len(ch.Deleted) != 0 {
		t.Fatalf("initial = %+v, want Full ctag:1 %s", ch, refs(want))
	}
	expectNoChange(t, changes(t, a, cnt, key, "ctag:1", 1), "ctag:1")
	if tok, err := a.Token(ctx, key); tok != "ctag:1" || err != nil {
		t.Errorf("Token = %q, %v", tok, err)
	}

	// Put gets its ETag by PROPFIND when the answer has none.
	p := a.NewPath(key, "new")
	m := cnt.mark()
	etag, err := a.Put(ctx, key, p, event("new", "New"), "")
	if err != nil || etag != `"v2"` {
		t.Errorf("Put = %q, %v", etag, err)
	}
	if got := cnt.since(m); strings.Join(got, ",") != "PUT "+p+",PROPFIND "+p {
		t.Errorf("Put sent %v", got)
	}
	_, err = a.Put(ctx, key, p, event("new", "New"), "")
	expectErr(t, "Put create twice", err, source.ErrPrecondition)
	_, err = a.Put(ctx, key, "/dav/cal/alice/personal/a.ics", event("a", "A"), `"old"`)
	expectErr(t, "Put stale", err, source.ErrPrecondition)

	ch2 := changes(t, a, cnt, key, "ctag:1", 2)
	want = append(want, source.DAVRef{Path: p, ETag: `"v2"`})
	if !ch2.Full || ch2.Token != "ctag:2" || refs(ch2.Changed) != refs(want) {
		t.Errorf("after Put = %+v, want Full ctag:2 %s", ch2, refs(want))
	}

	// Get: the absolute-URL hrefs match, LF becomes CRLF.
	objs, err := a.Get(ctx, key, []string{"/dav/cal/alice/personal/b%40x.ics", "/dav/cal/alice/personal/nope.ics", "/dav/cal/alice/personal/a.ics"})
	if err != nil || len(objs) != 2 {
		t.Fatalf("Get = %+v, %v", objs, err)
	}
	if objs[0].Path != "/dav/cal/alice/personal/b%40x.ics" || objs[0].ETag != `"b1"` || string(objs[0].Data) != "BEGIN:VCALENDAR\r\nUID:b@x\r\nEND:VCALENDAR\r\n" ||
		objs[1].Path != "/dav/cal/alice/personal/a.ics" || string(objs[1].Data) != "BEGIN:VCALENDAR\r\nUID:a\r\nEND:VCALENDAR\r\n" {
		t.Errorf("Get = %+v", objs)
	}

	expectErr(t, "Delete stale", a.Delete(ctx, key, p, `"old"`), source.ErrPrecondition)
	if err := a.Delete(ctx, key, p, `"v2"`); err != nil {
		t.Error(err)
	}
	if err := a.Delete(ctx, key, p, `"v2"`); err != nil {
		t.Errorf("Delete of a missing member: %v", err)
	}

	// A sync token on a server without the report: relist.
	_, err = a.Changes(ctx, key, "http://example.test/sync/1")
	expectErr(t, "sync token without sync-collection", err, source.ErrTokenInvalid)

	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, "REPORT") {
			n++
		}
	}
	if n != 2 { // the multiget and the one sync-collection with a token
		t.Errorf("REPORTs: %v", f.requests)
	}
}

// scriptedSync answers sync-collection REPORTs from a script keyed by the
// token sent; the collection supports the report.
type scriptedSync struct {
	mu     sync.Mutex
	script map[string]func(w http.ResponseWriter)
	bodies []string
	depths []string
}

func (s *scriptedSync) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case "PROPFIND":
		w.WriteHeader(http.StatusMultiStatus)
		fmt.Fprint(w, msHead+`<D:response><D:href>`+r.URL.Path+`</D:href><D:propstat><D:prop><D:sync-token>t0</D:sync-token></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
	case "REPORT":
		s.bodies = append(s.bodies, string(body))
		s.depths = append(s.depths, r.Header.Get("Depth"))
		tok := between(string(body), "<D:sync-token>", "</D:sync-token>")
		if f := s.script[tok]; f != nil {
			f(w)
			return
		}
		w.WriteHeader(http.StatusTeapot)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func TestFakeSyncCollection(t *testing.T) {
	const col = "/dav/cal/alice/personal/"
	member := func(name, etag string) string {
		return `<D:response><D:href>` + col + name + `</D:href><D:propstat><D:prop><D:getetag>` + etag + `</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
	}
	gone := func(name string) string {
		return `<D:response><D:href>` + col + name + `</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>`
	}
	truncated := `<D:response><D:href>` + col + `</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status><D:error><D:number-of-matches-within-limits/></D:error></D:response>`
	answer := func(inner, token string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusMultiStatus)
			fmt.Fprint(w, msHead+inner+`<D:sync-token>`+token+`</D:sync-token></D:multistatus>`)
		}
	}
	status := func(code int, body string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(code)
			fmt.Fprint(w, body)
		}
	}
	s := &scriptedSync{script: map[string]func(http.ResponseWriter){
		// Paged initial listing: a, b; then c new, b gone, a changed.
		"":   answer(member("a.ics", `"a1"`)+member("b.ics", `"b1"`)+truncated, "t1"),
		"t1": answer(member("c.ics", `"c1"`)+gone("b.ics")+member("a.ics", `"a2"`)+member("sub/", `"x"`), "t2"),
		"t2": answer("", "t2"),
		// A member with an odd status is skipped.
		"t3":        answer(`<D:response><D:href>`+col+`d.ics</D:href><D:status>HTTP/1.1 403 Forbidden</D:status></D:response>`+gone("e.ics"), "t4"),
		"conflict":  status(http.StatusConflict, `<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>`),
		"forbidden": status(http.StatusForbidden, `<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>`),
		"412":       status(http.StatusPreconditionFailed, ""),
		"denied":    status(http.StatusForbidden, `<D:error xmlns:D="DAV:"><D:need-privileges/></D:error>`),
		"down":      status(http.StatusServiceUnavailable, ""),
		"missing":   status(http.StatusNotFound, ""),
		"loop":      answer(truncated, "loop"),
		"notoken":   answer(member("a.ics", `"a3"`), ""),
		"garbled":   status(http.StatusMultiStatus, "<D:multistatus"),
	}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	a, cnt := newCountingAccount(t, srv.URL+"/")
	ctx := ctxT(t)
	key := "caldav:" + col

	ch := changes(t, a, cnt, key, "", 3) // PROPFIND, two pages
	if !ch.Full || ch.Token != "t2" || refs(ch.Changed) != refs([]source.DAVRef{{Path: col + "a.ics", ETag: `"a2"`}, {Path: col + "c.ics", ETag: `"c1"`}}) ||
		strings.Join(ch.Deleted, ",") != col+"b.ics" {
		t.Errorf("paged = %+v", ch)
	}
	expectNoChange(t, changes(t, a, cnt, key, "t2", 1), "t2")
	ch = changes(t, a, cnt, key, "t3", 1)
	if ch.Full || len(ch.Changed) != 0 || strings.Join(ch.Deleted, ",") != col+"e.ics" || ch.Token != "t4" {
		t.Errorf("t3 = %+v", ch)
	}
	for tok, want := range map[string]error{
		"conflict":  source.ErrTokenInvalid,
		"forbidden": source.ErrTokenInvalid,
		"412":       source.ErrTokenInvalid,
		"denied":    eas.ErrNotFound,
		"down":      eas.ErrBackendUnavailable,
		"missing":   eas.ErrNotFound,
		"loop":      eas.ErrBackendUnavailable,
		"notoken":   eas.ErrBackendUnavailable,
	} {
		_, err := a.Changes(ctx, key, tok)
		expectErr(t, "token "+tok, err, want)
		if tok == "denied" || tok == "down" {
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Errorf("token %s: no HTTPError in %v", tok, err)
			}
		}
	}
	if _, err := a.Changes(ctx, key, "garbled"); err == nil {
		t.Error("garbled answer: no error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range s.depths {
		if d != "0" {
			t.Errorf("REPORT %d sent Depth %q", i, d)
		}
	}
	if b := s.bodies[0]; !strings.Contains(b, `<D:sync-token></D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop>`) {
		t.Errorf("initial body %s", b)
	}
}
