package davsource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

// ErrInvalidName is wrapped by the error for a folder name the source will
// not send (empty, control characters, not UTF-8). That error is an
// *eas.StatusError with eas.FolderStatusBadRequest.
var ErrInvalidName = errors.New("davsource: invalid folder name")

// kind is what a collection holds.
type kind int

const (
	kindCalendar kind = iota
	kindTasks
	kindNotes
	kindContacts
	numKinds
)

// defaultType and userType are the EAS types of a kind's default folder
// and of its other folders.
func (k kind) defaultType() eas.FolderType {
	return [...]eas.FolderType{eas.FolderCalendar, eas.FolderTasks, eas.FolderNotes, eas.FolderContacts}[k]
}

func (k kind) userType() eas.FolderType {
	return [...]eas.FolderType{eas.FolderUserCalendar, eas.FolderUserTasks, eas.FolderUserNotes, eas.FolderUserContacts}[k]
}

// defaultNames are the last path segments that make a collection its
// kind's default, case-insensitively.
func (k kind) defaultNames() []string {
	switch k {
	case kindCalendar:
		return []string{"calendar", "default", "personal"}
	case kindTasks:
		return []string{"tasks", "default"}
	case kindNotes:
		return []string{"notes", "default"}
	}
	return []string{"contacts", "addressbook", "default", "personal"}
}

// component is the iCalendar component a kind's calendar collection holds.
func (k kind) component() string {
	return [...]string{"VEVENT", "VTODO", "VJOURNAL", ""}[k]
}

func (k kind) prefix() string {
	if k == kindContacts {
		return CardDAVPrefix
	}
	return CalDAVPrefix
}

// kindOfType maps an EAS folder type to a kind; false for types DAV cannot
// hold.
func kindOfType(t eas.FolderType) (kind, bool) {
	for k := kindCalendar; k < numKinds; k++ {
		if t == k.defaultType() || t == k.userType() {
			return k, true
		}
	}
	return 0, false
}

// calendarKind classifies by supported-calendar-component-set (RFC 4791
// §5.2.3); no set means every component, so a calendar.
func calendarKind(comps []string) (kind, bool) {
	has := func(c string) bool {
		for _, x := range comps {
			if strings.EqualFold(strings.TrimSpace(x), c) {
				return true
			}
		}
		return false
	}
	switch {
	case len(comps) == 0 || has("VEVENT"):
		return kindCalendar, true
	case has("VTODO"):
		return kindTasks, true
	case has("VJOURNAL"):
		return kindNotes, true
	}
	return 0, false
}

// collection is one classified DAV collection.
type collection struct {
	path      string
	name      string
	kind      kind
	isDefault bool
	byName    bool // default because of its name, not its position
}

func (c collection) key() string { return c.kind.prefix() + c.path }

func (c collection) folder() source.Folder {
	t := c.kind.userType()
	if c.isDefault {
		t = c.kind.defaultType()
	}
	return source.Folder{Key: c.key(), Name: c.name, Type: t}
}

// lastSegment returns the decoded last path segment of a collection path.
func lastSegment(p string) string {
	s := path.Base(strings.TrimRight(p, "/"))
	if s == "." || s == "/" {
		return ""
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// classify turns the listings into collections: calendars and address books
// sorted by path per kind, one default per kind.
func classify(cals []caldav.Calendar, books []carddav.AddressBook) []collection {
	var cols []collection
	seen := make(map[string]bool)
	add := func(p, name string, k kind) {
		c := collection{path: p, name: strings.TrimSpace(name), kind: k}
		if seen[c.key()] || p == "" {
			return
		}
		seen[c.key()] = true
		if c.name == "" {
			c.name = lastSegment(p)
		}
		cols = append(cols, c)
	}
	for _, cal := range cals {
		if k, ok := calendarKind(cal.SupportedComponentSet); ok {
			add(cal.Path, cal.Name, k)
		}
	}
	for _, b := range books {
		add(b.Path, b.Name, kindContacts)
	}
	sort.SliceStable(cols, func(i, j int) bool {
		if cols[i].kind != cols[j].kind {
			return cols[i].kind < cols[j].kind
		}
		// Without the trailing slash, so that a prefix sorts first
		// ("/u/work/" before "/u/work-2/", though '-' < '/').
		return strings.TrimRight(cols[i].path, "/") < strings.TrimRight(cols[j].path, "/")
	})
	for k := kindCalendar; k < numKinds; k++ {
		first, named := -1, -1
		for i, c := range cols {
			if c.kind != k {
				continue
			}
			if first < 0 {
				first = i
			}
			if named < 0 {
				seg := lastSegment(c.path)
				for _, n := range k.defaultNames() {
					if strings.EqualFold(seg, n) {
						named = i
						break
					}
				}
			}
		}
		switch {
		case named >= 0:
			cols[named].isDefault, cols[named].byName = true, true
		case first >= 0:
			cols[first].isDefault = true
		}
	}
	return cols
}

// collections lists and classifies every calendar and address book. A home
// that has gone (404) drops the cached discovery and is looked up once more.
func (a *Account) collections(ctx context.Context) ([]collection, *Homes, error) {
	for attempt := 0; ; attempt++ {
		h, err := a.discover(ctx, false)
		if err != nil {
			return nil, nil, err
		}
		var cals []caldav.Calendar
		var books []carddav.AddressBook
		if h.CalendarHome != "" {
			cals, err = a.cal.FindCalendars(ctx, h.CalendarHome)
		}
		if err == nil && h.ContactsHome != "" {
			books, err = a.card.FindAddressBooks(ctx, h.ContactsHome)
		}
		if err != nil {
			var he *HTTPError
			if errors.As(err, &he) && (he.Code == http.StatusNotFound || he.Code == http.StatusForbidden) {
				a.forget()
				if attempt == 0 {
					continue
				}
			}
			return nil, nil, mapErr(ctx, "list", err, eas.ErrAuthFailed)
		}
		return classify(cals, books), h, nil
	}
}

// Folders lists every calendar (and tasks and notes collection) and every
// address book.
func (a *Account) Folders(ctx context.Context) ([]source.Folder, error) {
	cols, _, err := a.collections(ctx)
	if err != nil {
		return nil, err
	}
	l := make([]source.Folder, len(cols))
	for i, c := range cols {
		l[i] = c.folder()
	}
	return l, nil
}

func find(cols []collection, key string) (collection, bool) {
	for _, c := range cols {
		if c.key() == key {
			return c, true
		}
	}
	return collection{}, false
}

// nameTaken reports whether another collection of the same family
// (CalDAV or CardDAV) already has name, case-insensitively.
func nameTaken(cols []collection, k kind, name, exceptKey string) bool {
	for _, c := range cols {
		if c.kind.prefix() == k.prefix() && c.key() != exceptKey && strings.EqualFold(c.name, name) {
			return true
		}
	}
	return false
}

func checkName(op, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalidName(op, "empty name")
	case !utf8.ValidString(name):
		return invalidName(op, "name is not valid UTF-8")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return invalidName(op, "name %q contains a control character", name)
	}
	return nil
}

func invalidName(op, format string, args ...any) error {
	return &eas.StatusError{
		Status: eas.FolderStatusBadRequest,
		Err:    fmt.Errorf("davsource: %s: %w: %s", op, ErrInvalidName, fmt.Sprintf(format, args...)),
	}
}

// CreateFolder creates a calendar (MKCALENDAR, RFC 4791 §5.3.1, with the
// component set of the type) or an address book (extended MKCOL, RFC 5689
// §3, RFC 6352 §6.3.1) in the home, at home + a random UUID + "/" (prefixed
// with the segment of the kind's default collection when that default was
// chosen by path order, so that the new one never displaces it). DAV
// folders are top level: parentKey must be "".
func (a *Account) CreateFolder(ctx context.Context, parentKey, name string, typ eas.FolderType) (source.Folder, error) {
	const op = "create folder"
	k, ok := kindOfType(typ)
	if !ok {
		return source.Folder{}, fmt.Errorf("davsource: %s: type %v: %w", op, typ, eas.ErrNotSupported)
	}
	if parentKey != "" {
		return source.Folder{}, fmt.Errorf("davsource: %s: DAV collections are top level, parent %q: %w", op, parentKey, eas.ErrNotSupported)
	}
	if err := checkName(op, name); err != nil {
		return source.Folder{}, err
	}
	name = strings.TrimSpace(name)
	cols, h, err := a.collections(ctx)
	if err != nil {
		return source.Folder{}, err
	}
	if nameTaken(cols, k, name, "") {
		return source.Folder{}, fmt.Errorf("davsource: %s: %q: %w", op, name, eas.ErrExists)
	}
	home, method, body := h.CalendarHome, "MKCALENDAR", ""
	if k == kindContacts {
		home, method, body = h.ContactsHome, "MKCOL", mkcolAddressBookBody(name)
	} else {
		body = mkcalendarBody(name, k.component())
	}
	if home == "" {
		return source.Folder{}, fmt.Errorf("davsource: %s: the server has no home for %s: %w", op, k.prefix(), eas.ErrNotSupported)
	}
	seg := newSegment()
	for _, c := range cols {
		if c.kind == k && c.isDefault && !c.byName {
			// The default is the first by path: a random segment could sort
			// before it and take its place (changing the type of a folder
			// the client already has). Its segment as a prefix sorts after.
			seg = lastSegment(c.path) + "-" + seg
		}
	}
	p := strings.TrimRight(home, "/") + "/" + seg + "/"
	resp, err := a.send(ctx, method, p, "", body)
	if err != nil {
		return source.Folder{}, mapErr(ctx, fmt.Sprintf("%s: %s %s", op, method, p), err, eas.ErrNotSupported)
	}
	resp.Body.Close()
	a.log.Info("davsource: created collection", "key", k.prefix()+p)

	// Report the folder as Folders will (it may have become the default).
	cols, _, err = a.collections(ctx)
	if err != nil {
		return source.Folder{}, err
	}
	for _, c := range cols {
		if c.kind.prefix() == k.prefix() && strings.TrimRight(c.path, "/") == strings.TrimRight(p, "/") {
			return c.folder(), nil
		}
	}
	return source.Folder{}, fmt.Errorf("davsource: %s: %s %s succeeded but the collection is not listed", op, method, p)
}

// RenameFolder sets the displayname (PROPPATCH, RFC 4918 §9.2); the key
// stays. Moving is not supported: newParentKey must be "". Default
// collections may be renamed.
func (a *Account) RenameFolder(ctx context.Context, key, newParentKey, newName string) (source.Folder, error) {
	const op = "rename folder"
	if newParentKey != "" {
		return source.Folder{}, fmt.Errorf("davsource: %s: DAV collections are top level, parent %q: %w", op, newParentKey, eas.ErrNotSupported)
	}
	if err := checkName(op, newName); err != nil {
		return source.Folder{}, err
	}
	newName = strings.TrimSpace(newName)
	cols, _, err := a.collections(ctx)
	if err != nil {
		return source.Folder{}, err
	}
	c, ok := find(cols, key)
	if !ok {
		return source.Folder{}, fmt.Errorf("davsource: %s: %q: %w", op, key, eas.ErrNotFound)
	}
	if c.name == newName {
		return c.folder(), nil
	}
	if nameTaken(cols, c.kind, newName, key) {
		return source.Folder{}, fmt.Errorf("davsource: %s: %q: %w", op, newName, eas.ErrExists)
	}
	resp, err := a.send(ctx, "PROPPATCH", c.path, "", proppatchDisplayName(newName))
	if err != nil {
		return source.Folder{}, mapErr(ctx, op, err, eas.ErrNotSupported)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusMultiStatus {
		ms, err := decodeMultistatus(resp.Body)
		if err != nil {
			return source.Folder{}, fmt.Errorf("davsource: %s: PROPPATCH %s: %w", op, c.path, err)
		}
		for _, r := range ms.Responses {
			for _, ps := range r.Propstats {
				if code := statusCode(ps.Status); ps.Prop.DisplayName != nil && (code < 200 || code > 299) {
					herr := &HTTPError{Method: "PROPPATCH", Path: c.path, Code: code, Body: "displayname: " + ps.Status}
					return source.Folder{}, mapErr(ctx, op, herr, eas.ErrNotSupported)
				}
			}
		}
	}
	c.name = newName
	a.log.Info("davsource: renamed collection", "key", key)
	return c.folder(), nil
}

// DeleteFolder deletes a collection (DELETE, RFC 4918 §9.6). Each kind's
// default collection is eas.ErrSpecialFolder.
func (a *Account) DeleteFolder(ctx context.Context, key string) error {
	const op = "delete folder"
	cols, _, err := a.collections(ctx)
	if err != nil {
		return err
	}
	c, ok := find(cols, key)
	if !ok {
		return fmt.Errorf("davsource: %s: %q: %w", op, key, eas.ErrNotFound)
	}
	if c.isDefault {
		return fmt.Errorf("davsource: %s: %q is the default %s collection: %w", op, key, c.kind.defaultType(), eas.ErrSpecialFolder)
	}
	resp, err := a.send(ctx, http.MethodDelete, c.path, "", "")
	if err != nil {
		return mapErr(ctx, op, err, eas.ErrNotSupported)
	}
	resp.Body.Close()
	a.log.Info("davsource: deleted collection", "key", key)
	return nil
}
