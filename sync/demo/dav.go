package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
)

// DAV layout. The principal is fixed (not derived from the user name) so
// that no path ever needs escaping.
const (
	principalPath = "/demo/"
	calendarHome  = principalPath + "calendars/"
	contactsHome  = principalPath + "contacts/"
)

// newHTTPServer returns the CalDAV/CardDAV server.
func (d *Demo) newHTTPServer(base context.Context) *http.Server {
	store := d.dav
	h := &davHandler{
		user:     d.User,
		password: d.Password,
		cal:      &caldav.Handler{Backend: calBackend{store}},
		card:     &carddav.Handler{Backend: cardBackend{store}},
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(d.log.With("server", "dav").Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
}

// davHandler authenticates and routes DAV requests:
//
//	/.well-known/caldav, /.well-known/carddav  redirect to the principal (no auth)
//	/, /demo/                                  principal (both home sets)
//	/demo/calendars/...                        caldav.Handler
//	/demo/contacts/...                         carddav.Handler
type davHandler struct {
	user, password string
	cal            *caldav.Handler
	card           *carddav.Handler
}

func (h *davHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	// The redirects only reveal the principal path; clients commonly
	// probe them before they send credentials.
	switch p {
	case "/.well-known/caldav":
		h.cal.ServeHTTP(w, r)
		return
	case "/.well-known/carddav":
		h.card.ServeHTTP(w, r)
		return
	}

	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="easbridge demo", charset="UTF-8"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}

	switch {
	case p == "/" || p == principalPath || p == strings.TrimSuffix(principalPath, "/"):
		webdav.ServePrincipal(w, r, &webdav.ServePrincipalOptions{
			CurrentUserPrincipalPath: principalPath,
			HomeSets: []webdav.BackendSuppliedHomeSet{
				caldav.NewCalendarHomeSet(calendarHome),
				carddav.NewAddressBookHomeSet(contactsHome),
			},
			Capabilities: []webdav.Capability{caldav.CapabilityCalendar, carddav.CapabilityAddressBook},
		})
	case under(p, calendarHome):
		h.cal.ServeHTTP(w, r)
	case under(p, contactsHome):
		h.card.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *davHandler) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(h.user))
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(h.password))
	return userOK&passOK == 1
}

// under reports whether p is the collection home or below it.
func under(p, home string) bool {
	return p == strings.TrimSuffix(home, "/") || strings.HasPrefix(p, home)
}

// davStore holds the calendars and address books. Objects are kept encoded
// (the bytes the ETag is computed from) and decoded for each read, so no
// caller can change the stored data through a returned pointer.
type davStore struct {
	clock func() time.Time // for changes after start

	mu        sync.Mutex
	calendars map[string]*davCollection // by path with trailing slash
	books     map[string]*davCollection
}

// davCollection is a calendar or an address book.
type davCollection struct {
	calendar caldav.Calendar     // for calendars
	book     carddav.AddressBook // for address books
	objects  map[string]*davObject
}

type davObject struct {
	data []byte
	uid  string
	etag string
	mod  time.Time
}

func newObject(data []byte, uid string, mod time.Time) *davObject {
	sum := sha256.Sum256(data)
	return &davObject{data: data, uid: uid, etag: hex.EncodeToString(sum[:16]), mod: mod}
}

// Errors with an HTTP status for go-webdav.
func errNotFound(what, p string) error {
	return webdav.NewHTTPError(http.StatusNotFound, fmt.Errorf("demo: no %s at %s", what, p))
}

func errStatus(code int, format string, args ...any) error {
	return webdav.NewHTTPError(code, fmt.Errorf("demo: "+format, args...))
}

// collectionPath normalises a collection path to have a trailing slash.
func collectionPath(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return p
	}
	return p + "/"
}

// splitObjectPath returns an object's cleaned path and its collection path.
func splitObjectPath(p string) (obj, coll string) {
	obj = path.Clean("/" + p)
	return obj, collectionPath(path.Dir(obj))
}

// checkPreconditions applies If-Match and If-None-Match to the object that
// a PUT would replace (nil when it does not exist).
func checkPreconditions(existing *davObject, ifMatch, ifNoneMatch webdav.ConditionalMatch) error {
	if ifNoneMatch.IsSet() && existing != nil && etagListMatches(string(ifNoneMatch), existing.etag) {
		return errStatus(http.StatusPreconditionFailed, "If-None-Match: resource exists")
	}
	if ifMatch.IsSet() && (existing == nil || !etagListMatches(string(ifMatch), existing.etag)) {
		return errStatus(http.StatusPreconditionFailed, "If-Match: ETag does not match")
	}
	return nil
}

// etagListMatches reports whether an If-Match/If-None-Match value ("*" or a
// list of possibly weak entity tags) matches etag (weak comparison).
func etagListMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		if strings.Trim(t, `"`) == etag {
			return true
		}
	}
	return false
}

// sortedPaths returns the keys of m in order.
func sortedPaths[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ---- CalDAV ----

// calBackend implements caldav.Backend on a davStore.
type calBackend struct{ s *davStore }

var _ caldav.Backend = calBackend{}

func (calBackend) CurrentUserPrincipal(context.Context) (string, error) { return principalPath, nil }

func (calBackend) CalendarHomeSetPath(context.Context) (string, error) { return calendarHome, nil }

func (b calBackend) CreateCalendar(_ context.Context, cal *caldav.Calendar) error {
	p := collectionPath(cal.Path)
	if collectionPath(path.Dir(strings.TrimSuffix(p, "/"))) != calendarHome {
		return errStatus(http.StatusForbidden, "calendars can only be created in %s", calendarHome)
	}
	c := *cal
	c.Path = p
	if c.Name == "" {
		c.Name = path.Base(p)
	}
	if len(c.SupportedComponentSet) == 0 {
		c.SupportedComponentSet = []string{ical.CompEvent}
	}
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if b.s.calendars[p] != nil {
		return errStatus(http.StatusMethodNotAllowed, "calendar %s exists", p)
	}
	b.s.calendars[p] = &davCollection{calendar: c, objects: make(map[string]*davObject)}
	return nil
}

func (b calBackend) ListCalendars(context.Context) ([]caldav.Calendar, error) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	out := make([]caldav.Calendar, 0, len(b.s.calendars))
	for _, p := range sortedPaths(b.s.calendars) {
		out = append(out, cloneCalendar(b.s.calendars[p].calendar))
	}
	return out, nil
}

func (b calBackend) GetCalendar(_ context.Context, p string) (*caldav.Calendar, error) {
	p = collectionPath(p)
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	c := b.s.calendars[p]
	if c == nil {
		return nil, errNotFound("calendar", p)
	}
	cal := cloneCalendar(c.calendar)
	return &cal, nil
}

func cloneCalendar(c caldav.Calendar) caldav.Calendar {
	c.SupportedComponentSet = slices.Clone(c.SupportedComponentSet)
	return c
}

func (b calBackend) GetCalendarObject(_ context.Context, p string, _ *caldav.CalendarCompRequest) (*caldav.CalendarObject, error) {
	obj, coll := splitObjectPath(p)
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	c := b.s.calendars[coll]
	if c == nil || c.objects[obj] == nil {
		return nil, errNotFound("calendar object", obj)
	}
	return calendarObject(obj, c.objects[obj])
}

func (b calBackend) ListCalendarObjects(_ context.Context, p string, _ *caldav.CalendarCompRequest) ([]caldav.CalendarObject, error) {
	p = collectionPath(p)
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	c := b.s.calendars[p]
	if c == nil {
		return nil, errNotFound("calendar", p)
	}
	out := make([]caldav.CalendarObject, 0, len(c.objects))
	for _, op := range sortedPaths(c.objects) {
		co, err := calendarObject(op, c.objects[op])
		if err != nil {
			return nil, err
		}
		out = append(out, *co)
	}
	return out, nil
}

func (b calBackend) QueryCalendarObjects(ctx context.Context, p string, query *caldav.CalendarQuery) ([]caldav.CalendarObject, error) {
	all, err := b.ListCalendarObjects(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	if query == nil || query.CompFilter.Name == "" {
		return all, nil // no filter: everything (RFC 4791 requires one; be lenient)
	}
	out, err := caldav.Filter(query, all)
	if err != nil {
		return nil, errStatus(http.StatusBadRequest, "calendar query: %v", err)
	}
	return out, nil
}

func (b calBackend) PutCalendarObject(_ context.Context, p string, cal *ical.Calendar, opts *caldav.PutCalendarObjectOptions) (*caldav.CalendarObject, error) {
	if opts == nil {
		opts = &caldav.PutCalendarObjectOptions{}
	}
	obj, err := b.s.putCalendarObject(p, cal, opts.IfMatch, opts.IfNoneMatch, b.s.clock())
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// putCalendarObject validates and stores a calendar object resource.
func (s *davStore) putCalendarObject(p string, cal *ical.Calendar, ifMatch, ifNoneMatch webdav.ConditionalMatch, mod time.Time) (*caldav.CalendarObject, error) {
	obj, coll := splitObjectPath(p)
	compType, uid, err := caldav.ValidateCalendarObject(cal)
	if err != nil || compType == "" || uid == "" {
		return nil, caldav.NewPreconditionError(caldav.PreconditionValidCalendarObjectResource)
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, errStatus(http.StatusBadRequest, "invalid iCalendar data: %v", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calendars[coll]
	if c == nil {
		return nil, errStatus(http.StatusConflict, "no calendar collection at %s", coll)
	}
	if !slices.Contains(c.calendar.SupportedComponentSet, compType) {
		return nil, caldav.NewPreconditionError(caldav.PreconditionSupportedCalendarComponent)
	}
	for op, o := range c.objects {
		if o.uid == uid && op != obj {
			return nil, caldav.NewPreconditionError(caldav.PreconditionNoUIDConflict)
		}
	}
	if err := checkPreconditions(c.objects[obj], ifMatch, ifNoneMatch); err != nil {
		return nil, err
	}
	o := newObject(buf.Bytes(), uid, mod)
	c.objects[obj] = o
	return calendarObject(obj, o)
}

// DeleteCalendarObject deletes an object or, given a calendar's path, the
// whole calendar.
func (b calBackend) DeleteCalendarObject(_ context.Context, p string) error {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if cp := collectionPath(p); b.s.calendars[cp] != nil {
		delete(b.s.calendars, cp)
		return nil
	}
	obj, coll := splitObjectPath(p)
	c := b.s.calendars[coll]
	if c == nil || c.objects[obj] == nil {
		return errNotFound("calendar object", obj)
	}
	delete(c.objects, obj)
	return nil
}

func calendarObject(p string, o *davObject) (*caldav.CalendarObject, error) {
	cal, err := ical.NewDecoder(bytes.NewReader(o.data)).Decode()
	if err != nil {
		return nil, fmt.Errorf("demo: decode stored %s: %w", p, err)
	}
	return &caldav.CalendarObject{
		Path:          p,
		ModTime:       o.mod,
		ContentLength: int64(len(o.data)),
		ETag:          o.etag,
		Data:          cal,
	}, nil
}

// ---- CardDAV ----

// cardBackend implements carddav.Backend on a davStore.
type cardBackend struct{ s *davStore }

var _ carddav.Backend = cardBackend{}

func (cardBackend) CurrentUserPrincipal(context.Context) (string, error) { return principalPath, nil }

func (cardBackend) AddressBookHomeSetPath(context.Context) (string, error) { return contactsHome, nil }

func (b cardBackend) ListAddressBooks(context.Context) ([]carddav.AddressBook, error) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	out := make([]carddav.AddressBook, 0, len(b.s.books))
	for _, p := range sortedPaths(b.s.books) {
		out = append(out, cloneBook(b.s.books[p].book))
	}
	return out, nil
}

func (b cardBackend) GetAddressBook(_ context.Context, p string) (*carddav.AddressBook, error) {
	p = collectionPath(p)
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	c := b.s.books[p]
	if c == nil {
		return nil, errNotFound("address book", p)
	}
	ab := cloneBook(c.book)
	return &ab, nil
}

func cloneBook(ab carddav.AddressBook) carddav.AddressBook {
	ab.SupportedAddressData = slices.Clone(ab.SupportedAddressData)
	return ab
}

func (b cardBackend) CreateAddressBook(_ context.Context, ab *carddav.AddressBook) error {
	p := collectionPath(ab.Path)
	if collectionPath(path.Dir(strings.TrimSuffix(p, "/"))) != contactsHome {
		return errStatus(http.StatusForbidden, "address books can only be created in %s", contactsHome)
	}
	c := cloneBook(*ab)
	c.Path = p
	if c.Name == "" {
		c.Name = path.Base(p)
	}
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if b.s.books[p] != nil {
		return errStatus(http.StatusMethodNotAllowed, "address book %s exists", p)
	}
	b.s.books[p] = &davCollection{book: c, objects: make(map[string]*davObject)}
	return nil
}

func (b cardBackend) DeleteAddressBook(_ context.Context, p string) error {
	p = collectionPath(p)
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if b.s.books[p] == nil {
		return errNotFound("address book", p)
	}
	delete(b.s.books, p)
	return nil
}

func (b cardBackend) GetAddressObject(_ context.Context, p string, _ *carddav.AddressDataRequest) (*carddav.AddressObject, error) {
	obj, coll := splitObjectPath(p)
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	c := b.s.books[coll]
	if c == nil || c.objects[obj] == nil {
		return nil, errNotFound("address object", obj)
	}
	return addressObject(obj, c.objects[obj])
}

func (b cardBackend) ListAddressObjects(_ context.Context, p string, _ *carddav.AddressDataRequest) ([]carddav.AddressObject, error) {
	p = collectionPath(p)
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	c := b.s.books[p]
	if c == nil {
		return nil, errNotFound("address book", p)
	}
	out := make([]carddav.AddressObject, 0, len(c.objects))
	for _, op := range sortedPaths(c.objects) {
		ao, err := addressObject(op, c.objects[op])
		if err != nil {
			return nil, err
		}
		out = append(out, *ao)
	}
	return out, nil
}

func (b cardBackend) QueryAddressObjects(ctx context.Context, p string, query *carddav.AddressBookQuery) ([]carddav.AddressObject, error) {
	all, err := b.ListAddressObjects(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	if query != nil && len(query.PropFilters) == 0 {
		// An empty filter matches everything (RFC 6352 section 10.5);
		// carddav.Filter would match nothing.
		if query.Limit > 0 && len(all) > query.Limit {
			all = all[:query.Limit]
		}
		return all, nil
	}
	out, err := carddav.Filter(query, all)
	if err != nil {
		return nil, errStatus(http.StatusBadRequest, "address book query: %v", err)
	}
	return out, nil
}

func (b cardBackend) PutAddressObject(_ context.Context, p string, card vcard.Card, opts *carddav.PutAddressObjectOptions) (*carddav.AddressObject, error) {
	if opts == nil {
		opts = &carddav.PutAddressObjectOptions{}
	}
	return b.s.putAddressObject(p, card, opts.IfMatch, opts.IfNoneMatch, b.s.clock())
}

// putAddressObject validates and stores a vCard.
func (s *davStore) putAddressObject(p string, card vcard.Card, ifMatch, ifNoneMatch webdav.ConditionalMatch, mod time.Time) (*carddav.AddressObject, error) {
	obj, coll := splitObjectPath(p)
	uid := card.Value(vcard.FieldUID)
	if uid == "" || card.Value(vcard.FieldFormattedName) == "" {
		return nil, carddav.NewPreconditionError(carddav.PreconditionValidAddressData)
	}
	var buf bytes.Buffer
	if err := vcard.NewEncoder(&buf).Encode(card); err != nil {
		return nil, carddav.NewPreconditionError(carddav.PreconditionValidAddressData)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.books[coll]
	if c == nil {
		return nil, errStatus(http.StatusConflict, "no address book at %s", coll)
	}
	for op, o := range c.objects {
		if o.uid == uid && op != obj {
			return nil, carddav.NewPreconditionError(carddav.PreconditionNoUIDConflict)
		}
	}
	if err := checkPreconditions(c.objects[obj], ifMatch, ifNoneMatch); err != nil {
		return nil, err
	}
	o := newObject(buf.Bytes(), uid, mod)
	c.objects[obj] = o
	return addressObject(obj, o)
}

func (b cardBackend) DeleteAddressObject(_ context.Context, p string) error {
	obj, coll := splitObjectPath(p)
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	c := b.s.books[coll]
	if c == nil || c.objects[obj] == nil {
		return errNotFound("address object", obj)
	}
	delete(c.objects, obj)
	return nil
}

func addressObject(p string, o *davObject) (*carddav.AddressObject, error) {
	card, err := vcard.NewDecoder(bytes.NewReader(o.data)).Decode()
	if err != nil {
		return nil, fmt.Errorf("demo: decode stored %s: %w", p, err)
	}
	return &carddav.AddressObject{
		Path:          p,
		ModTime:       o.mod,
		ContentLength: int64(len(o.data)),
		ETag:          o.etag,
		Card:          card,
	}, nil
}
