package engine

import (
	"fmt"

	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
	"easbridge/sync/foldermode"
	"easbridge/sync/source"
)

// Sync filters of DAV collections (MS-ASCMD 2.2.3.70.1 FilterType):
// Calendar 4 (two weeks) … 7 (six months) back, 0 all; Tasks 8
// (incomplete only).
//
// Implementation notes:
//   - Filtering happens when an object is sent: one outside the filter is
//     not sent, and removed from the device if it has it with a
//     SoftDelete (MS-ASCMD 2.2.3.172: out of the filter, not deleted by
//     the user; errOutsideFilter in window). A recurring event is in while its
//     rule may still produce an occurrence in the window.
//   - A FilterType other than the one in the state makes the next Sync
//     look at everything again: the token is dropped (a full listing
//     brings what the device lacks) and the ETags the device has are
//     forgotten (so every item it has is fetched and checked again).
//     Items that stay in the filter go out as Changes.

// errOutsideFilter: the object is outside the Sync's FilterType; a
// device that has it gets a SoftDelete rather than a Delete.
var errOutsideFilter = fmt.Errorf("engine: outside the sync filter: %w", errItemNotOffered)

// filteredToEAS converts o unless the Sync's filter leaves it out
// (errItemNotOffered). An object the filter cannot read is left to the
// conversion, which skips and logs it.
func (d *davSync) filteredToEAS(o source.DAVObject, opts calconv.Options) (*wbxml.Element, error) {
	if in, err := d.objectInFilter(o); err == nil && !in {
		return nil, errOutsideFilter
	}
	return d.toEAS(o, opts)
}

// objectInFilter reports whether o, as offered by its member's mode, is
// inside the Sync's filter: a task or note offered as an event is dated by
// the event it becomes.
func (d *davSync) objectInFilter(o source.DAVObject) (bool, error) {
	f := d.req.Options.FilterType
	data := o.Data
	switch d.class {
	case calconv.ClassCalendar:
		if since := filterSince(f, d.s.e.opts.Now()); !since.IsZero() {
			ev, ok, err := d.asEvent(o)
			if err != nil || !ok {
				return true, err // left to toEAS: not offered, or skipped
			}
			return calconv.EventEndsAfter(ev, since)
		}
	case calconv.ClassTasks:
		if f == 8 {
			return calconv.TaskIncomplete(data)
		}
	}
	return true, nil
}

// asEvent is o as the event offered for it: the object itself, or the
// event its member's mode turns it into (ok false when the mode offers
// none).
func (d *davSync) asEvent(o source.DAVObject) (ev []byte, ok bool, err error) {
	m, _ := d.memberOf(o.Path)
	switch m.Mode {
	case foldermode.TasksAsEvents:
		return calconv.TaskAsEvent(o.Data, m.IncompleteOnly)
	case foldermode.NotesAsEvents:
		return calconv.NoteAsEvent(o.Data)
	}
	return o.Data, true, nil
}

// refilter notices a changed FilterType before changes are collected.
func (d *davSync) refilter() {
	f := d.req.Options.FilterType
	if d.st.Filter == f {
		return
	}
	d.st.Filter, d.dirty = f, true
	if !d.st.Primed {
		return
	}
	d.st.Token = ""
	for p, it := range d.st.Items {
		it.ETag = ""
		d.st.Items[p] = it
	}
}
