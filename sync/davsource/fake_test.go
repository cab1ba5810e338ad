package davsource

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fakeDAV is a small in-memory CalDAV/CardDAV server for error-mapping
// tests: principal /dav/principals/alice/, calendar home /dav/cal/alice/,
// address book home /dav/card/alice/, user alice/alicepw.
type fakeDAV struct {
	t *testing.T

	mu            sync.Mutex
	cals          map[string]fakeCol // path -> collection
	books         map[string]fakeCol
	principalAt   string         // path that answers current-user-principal
	forceStatus   int            // when set, every request gets it
	methodStatus  map[string]int // per-method override
	proppatchProp int            // propstat status for PROPPATCH (207)
	requests      []string       // "METHOD path"
	auths         []string       // Authorization headers seen
}

type fakeCol struct {
	name  string
	comps []string
}

func newFakeDAV(t *testing.T) (*fakeDAV, *httptest.Server) {
	f := &fakeDAV{
		t:           t,
		principalAt: "/dav/",
		cals: map[string]fakeCol{
			"/dav/cal/alice/personal/": {"Personal", []string{"VEVENT", "VTODO"}},
			"/dav/cal/alice/b-work/":   {"", []string{"VEVENT"}},
			"/dav/cal/alice/todo/":     {"To do", []string{"VTODO"}},
			"/dav/cal/alice/all/":      {"Everything", nil},
			"/dav/cal/alice/fb/":       {"Free/busy only", []string{"VFREEBUSY"}},
		},
		books:        map[string]fakeCol{"/dav/card/alice/a-friends/": {"Friends", nil}, "/dav/card/alice/z-work/": {"Work", nil}},
		methodStatus: map[string]int{},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeDAV) set(fn func(f *fakeDAV)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeDAV) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

const msHead = `<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav">`

func (f *fakeDAV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	if f.forceStatus != 0 {
		w.WriteHeader(f.forceStatus)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "alicepw" {
		w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
		http.Error(w, "auth", http.StatusUnauthorized)
		return
	}
	if s := f.methodStatus[r.Method]; s != 0 {
		w.WriteHeader(s)
		return
	}
	p := r.URL.Path
	ms := func(inner string) {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusMultiStatus)
		fmt.Fprint(w, msHead+inner+`</D:multistatus>`)
	}
	switch r.Method {
	case "PROPFIND":
		switch {
		case strings.HasPrefix(p, "/.well-known/"):
			http.Redirect(w, r, "/dav/", http.StatusMovedPermanently)
		case p == f.principalAt && strings.Contains(string(body), "current-user-principal"):
			ms(`<D:response><D:href>` + p + `</D:href><D:propstat><D:prop><D:current-user-principal><D:href>http://` + r.Host + `/dav/principals/alice/</D:href></D:current-user-principal></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
		case p == "/dav/principals/alice/":
			ms(`<D:response><D:href>` + p + `</D:href><D:propstat><D:prop><C:calendar-home-set><D:href>/dav/cal/alice/</D:href></C:calendar-home-set><CR:addressbook-home-set><D:href>/dav/card/alice/</D:href></CR:addressbook-home-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
		case p == "/dav/cal/alice/":
			ms(f.listing(p, f.cals, `<C:calendar/>`, true))
		case p == "/dav/card/alice/":
			ms(f.listing(p, f.books, `<CR:addressbook/>`, false))
		case strings.HasPrefix(p, "/dav/"):
			ms(`<D:response><D:href>` + p + `</D:href><D:propstat><D:prop><D:current-user-principal/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>`)
		default:
			http.NotFound(w, r)
		}
	case "MKCALENDAR", "MKCOL":
		name := between(string(body), "<D:displayname>", "</D:displayname>")
		if r.Method == "MKCALENDAR" {
			f.cals[p] = fakeCol{name, []string{between(string(body), `<C:comp name="`, `"`)}}
		} else {
			f.books[p] = fakeCol{name, nil}
		}
		w.WriteHeader(http.StatusCreated)
	case "PROPPATCH":
		st := f.proppatchProp
		if st == 0 {
			st = 200
			name := between(string(body), "<D:displayname>", "</D:displayname>")
			if c, ok := f.cals[p]; ok {
				c.name = name
				f.cals[p] = c
			} else if c, ok := f.books[p]; ok {
				c.name = name
				f.books[p] = c
			}
		}
		ms(fmt.Sprintf(`<D:response><D:href>%s</D:href><D:propstat><D:prop><D:displayname/></D:prop><D:status>HTTP/1.1 %d %s</D:status></D:propstat></D:response>`, p, st, http.StatusText(st)))
	case http.MethodDelete:
		_, c := f.cals[p]
		_, b := f.books[p]
		if !c && !b {
			http.NotFound(w, r)
			return
		}
		delete(f.cals, p)
		delete(f.books, p)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (f *fakeDAV) listing(home string, cols map[string]fakeCol, rt string, cal bool) string {
	paths := make([]string, 0, len(cols))
	for p := range cols {
		paths = append(paths, p)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(paths))) // servers need not sort
	s := `<D:response><D:href>` + home + `</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
	for _, p := range paths {
		c := cols[p]
		s += `<D:response><D:href>` + p + `</D:href><D:propstat><D:prop><D:resourcetype><D:collection/>` + rt + `</D:resourcetype>`
		if c.name != "" {
			s += `<D:displayname>` + escape(c.name) + `</D:displayname>`
		}
		if cal && len(c.comps) > 0 {
			s += `<C:supported-calendar-component-set>`
			for _, comp := range c.comps {
				s += `<C:comp name="` + comp + `"/>`
			}
			s += `</C:supported-calendar-component-set>`
		}
		s += `</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
	}
	return s
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return s
}
