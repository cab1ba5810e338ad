package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
	"easbridge/sync/foldermode"
	"easbridge/sync/source"
)

// DAV collections offered through a view (view.go): several member
// collections behind one ServerId, each converted by its mode.
//
// Implementation notes:
//   - Member paths are absolute, so the item ServerIds of the state (one
//     counter per offered collection, keyed by path) stay unique across
//     merged collections; a member's items are those under its
//     collection path.
//   - One sync token per member, kept in the state's Token: the member's
//     own token when the collection is its only plain member (the state
//     stays what it was before views), else "\x01" + a JSON object of
//     member key → token. A member that left (merge undone) has its
//     items deleted on the device; a member that joined starts from a
//     full listing (adds).
//   - Adds go to the first member (the folder itself: the merge target,
//     or the converted source). Changes and deletes go to the item's own
//     collection, converted back by its member's mode.
//   - groupware-as-email is read only: client changes are ignored, a
//     delete removes the message from the device only, adds are refused.

// errItemNotOffered: the item is not offered in this mode (an undated
// task as an event, a completed task with incomplete-only).
var errItemNotOffered = errors.New("engine: item not offered in this mode")

const multiTokenMark = "\x01"

// collectionPath is the path part of a DAV folder key.
func collectionPath(key string) string {
	_, p, _ := strings.Cut(key, ":")
	return p
}

// memberOf returns the member holding path p (the longest collection
// path that is a prefix of p).
func (d *davSync) memberOf(p string) (member, bool) {
	if d.view == nil {
		return member{Key: d.coll, Mode: foldermode.Plain}, true
	}
	best, found := member{}, false
	for _, m := range d.view.Members {
		cp := collectionPath(m.Key)
		if strings.HasPrefix(p, cp) && (!found || len(cp) > len(collectionPath(best.Key))) {
			best, found = m, true
		}
	}
	return best, found
}

// collOf is the collection key of an item path.
func (d *davSync) collOf(p string) string {
	if m, ok := d.memberOf(p); ok {
		return m.Key
	}
	return d.coll
}

// readOnly reports whether the device's changes are not written back.
func (d *davSync) readOnly() bool {
	return d.view != nil && len(d.view.Members) > 0 && d.view.Members[0].Mode == foldermode.GroupwareAsEmail
}

// simpleView reports whether the state keeps a single plain token.
func (d *davSync) simpleView() bool {
	return d.view == nil || (len(d.view.Members) == 1 && d.view.Members[0].Key == d.view.Key)
}

func decodeTokens(tok string, members []member) map[string]string {
	out := map[string]string{}
	if rest, ok := strings.CutPrefix(tok, multiTokenMark); ok {
		_ = json.Unmarshal([]byte(rest), &out)
		return out
	}
	if tok != "" && len(members) > 0 {
		out[members[0].Key] = tok
	}
	return out
}

func encodeTokens(m map[string]string) string {
	b, _ := json.Marshal(m)
	return multiTokenMark + string(b)
}

// get fetches members of any member collection, grouped by collection.
func (d *davSync) get(ctx context.Context, paths []string) ([]source.DAVObject, error) {
	by := map[string][]string{}
	var order []string
	for _, p := range paths {
		c := d.collOf(p)
		if _, ok := by[c]; !ok {
			order = append(order, c)
		}
		by[c] = append(by[c], p)
	}
	var out []source.DAVObject
	for _, c := range order {
		objs, err := d.items.Get(ctx, c, by[c])
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// collectView is collect for a view: each member's changes, then the
// items of members that left.
func (d *davSync) collectView(ctx context.Context) error {
	st := d.st
	toks := decodeTokens(st.Token, d.view.Members)
	next := map[string]string{}
	for _, m := range d.view.Members {
		tok, err := d.pendChanges(ctx, m.Key, toks[m.Key], func(p string) bool {
			mm, ok := d.memberOf(p)
			return ok && mm.Key == m.Key
		})
		if err != nil {
			return err
		}
		next[m.Key] = tok
	}
	// Items of collections no longer merged here.
	for p := range st.Items {
		if _, ok := d.memberOf(p); !ok {
			st.Pending[p] = davPending{Deleted: true}
		}
	}
	for p, x := range st.Pending {
		if _, ok := d.memberOf(p); !ok && !x.Deleted {
			delete(st.Pending, p)
		}
	}
	tok := encodeTokens(next)
	if d.simpleView() {
		tok = next[d.view.Members[0].Key]
	}
	if tok != st.Token || !st.Primed {
		st.Token, st.Primed = tok, true
		d.dirty = true
	}
	return nil
}

// viewToken is the token collectView would store now, for Ping's check.
func (s *session) viewToken(ctx context.Context, o offered) (string, error) {
	next := map[string]string{}
	for _, m := range o.Members {
		t, err := s.l.dav.Token(ctx, m.Key)
		if err != nil {
			return "", err
		}
		next[m.Key] = t
	}
	if len(o.Members) == 1 && o.Members[0].Key == o.Key {
		return next[o.Key], nil
	}
	return encodeTokens(next), nil
}

// toEAS converts a fetched member for the device by its member's mode.
func (d *davSync) toEAS(o source.DAVObject, opts calconv.Options) (*wbxml.Element, error) {
	m, _ := d.memberOf(o.Path)
	var data []byte
	var ok bool
	var err error
	switch m.Mode {
	case foldermode.TasksAsEvents:
		if data, ok, err = calconv.TaskAsEvent(o.Data, m.IncompleteOnly); err == nil && !ok {
			return nil, errItemNotOffered
		}
		return chain(err, func() (*wbxml.Element, error) { return calconv.ToEAS(calconv.ClassCalendar, data, opts) })
	case foldermode.NotesAsEvents:
		if data, ok, err = calconv.NoteAsEvent(o.Data); err == nil && !ok {
			return nil, errItemNotOffered
		}
		return chain(err, func() (*wbxml.Element, error) { return calconv.ToEAS(calconv.ClassCalendar, data, opts) })
	case foldermode.NotesAsTasks:
		data, err = calconv.NoteAsTask(o.Data)
		return chain(err, func() (*wbxml.Element, error) { return calconv.ToEAS(calconv.ClassTasks, data, opts) })
	case foldermode.GroupwareAsEmail:
		return d.groupwareMail(o, opts)
	}
	return calconv.ToEAS(d.class, o.Data, opts)
}

func chain(err error, next func() (*wbxml.Element, error)) (*wbxml.Element, error) {
	if err != nil {
		return nil, err
	}
	return next()
}

// fromEAS turns the device's ApplicationData for the item at p (""
// for an Add: the first member) into the object to store, converting
// back by the member's mode.
func (d *davSync) fromEAS(p string, app *wbxml.Element, existing []byte, opts calconv.Options) ([]byte, string, error) {
	m := member{Key: d.coll, Mode: foldermode.Plain}
	if p != "" {
		m, _ = d.memberOf(p)
	} else if d.view != nil && len(d.view.Members) > 0 {
		m = d.view.Members[0]
	}
	now := d.s.e.opts.Now()
	switch m.Mode {
	case foldermode.TasksAsEvents, foldermode.NotesAsEvents, foldermode.NotesAsTasks:
		class := calconv.ClassCalendar
		if m.Mode == foldermode.NotesAsTasks {
			class = calconv.ClassTasks
		}
		var offeredNow []byte
		if existing != nil {
			var err error
			switch m.Mode {
			case foldermode.TasksAsEvents:
				offeredNow, _, err = calconv.TaskAsEvent(existing, false)
			case foldermode.NotesAsEvents:
				offeredNow, _, err = calconv.NoteAsEvent(existing)
			default:
				offeredNow, err = calconv.NoteAsTask(existing)
			}
			if err != nil {
				return nil, "", err
			}
		}
		edited, uid, err := calconv.FromEAS(class, app, offeredNow, opts)
		if err != nil {
			return nil, "", err
		}
		var out []byte
		switch m.Mode {
		case foldermode.TasksAsEvents:
			out, err = calconv.EventToTask(edited, existing, now)
		case foldermode.NotesAsEvents:
			out, err = calconv.EventToNote(edited, existing, now)
		default:
			out, err = calconv.TaskToNote(edited, existing, now)
		}
		return out, uid, err
	case foldermode.GroupwareAsEmail:
		return nil, "", fmt.Errorf("engine: groupware shown as mail is read only: %w", eas.ErrNotSupported)
	}
	return calconv.FromEAS(d.class, app, existing, opts)
}

// syncDAVView syncs a DAV collection offered through a view.
func (s *session) syncDAVView(ctx context.Context, deviceID string, req *server.SyncCollection, o offered) (*server.SyncCollectionResult, error) {
	class := s.collectionClass(ctx, deviceID, req.CollectionID)
	groupware := o.Members[0].Mode == foldermode.GroupwareAsEmail
	if class == "" || class == "Journal" || (class == "Email") != groupware {
		return s.syncEmpty(ctx, deviceID, req)
	}
	d := &davSync{s: s, deviceID: deviceID, req: req, coll: o.Members[0].Key, class: class, items: s.l.dav, view: &o}
	d.res.Class, d.res.Status = class, eas.SyncStatusSuccess
	return d.run(ctx)
}

// hintedView reports whether a watcher hint names one of a view's members.
func (t pingTarget) hintedView(hinted map[string]bool) bool {
	if t.view == nil {
		return false
	}
	for _, m := range t.view.Members {
		if hinted[m.Key] {
			return true
		}
	}
	return false
}
