package engine

import (
	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
	"easbridge/sync/source"
)

// Sync filters of DAV collections (MS-ASCMD 2.2.3.70.1 FilterType):
// Calendar 4 (two weeks) … 7 (six months) back, 0 all; Tasks 8
// (incomplete only).
//
// Implementation notes:
//   - Filtering happens when an object is sent: one outside the filter is
//     not sent, and deleted from the device if it has it (the path of
//     errItemNotOffered in window). A recurring event is in while its
//     rule may still produce an occurrence in the window.
//   - A FilterType other than the one in the state makes the next Sync
//     look at everything again: the token is dropped (a full listing
//     brings what the device lacks) and the ETags the device has are
//     forgotten (so every item it has is fetched and checked again).
//     Items that stay in the filter go out as Changes.

// filteredToEAS converts o unless the Sync's filter leaves it out
// (errItemNotOffered). An object the filter cannot read is left to the
// conversion, which skips and logs it.
func (d *davSync) filteredToEAS(o source.DAVObject, opts calconv.Options) (*wbxml.Element, error) {
	if in, err := d.inFilter(o.Data); err == nil && !in {
		return nil, errItemNotOffered
	}
	return d.toEAS(o, opts)
}

func (d *davSync) inFilter(data []byte) (bool, error) {
	f := d.req.Options.FilterType
	switch d.class {
	case calconv.ClassCalendar:
		if since := filterSince(f, d.s.e.opts.Now()); !since.IsZero() {
			return calconv.EventEndsAfter(data, since)
		}
	case calconv.ClassTasks:
		if f == 8 {
			return calconv.TaskIncomplete(data)
		}
	}
	return true, nil
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
