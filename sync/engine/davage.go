package engine

import (
	"easbridge/sync/calconv"
	"easbridge/sync/source"
)

// Events that age out of a calendar Sync's FilterType window: MS-ASCMD
// 2.2.3.68.2, "the server sends SoftDelete operations for objects on the
// client when they become older than the window".
//
// Implementation notes:
//   - When an event goes to a device whose Sync has a time filter, the
//     end of its last occurrence is kept with the item (davItem.End; 0
//     for a series without end). Each filtered Sync queues the items
//     whose End is not after the window's start; window fetches them and,
//     as they are outside the filter, sends SoftDelete (davfilter.go).
//   - Items sent without a time filter have no End: a filter set later
//     makes refilter look at every item anyway.
//   - Ping does not look at ages: the removal comes with the next Sync.

// ageOut queues the items the device has that ended before the window.
func (d *davSync) ageOut() {
	since := d.windowStart()
	if since == 0 {
		return
	}
	for p, it := range d.st.Items {
		if it.End == 0 || it.End > since {
			continue
		}
		if _, ok := d.st.Pending[p]; !ok {
			d.st.Pending[p] = davPending{ETag: it.ETag}
			d.dirty = true
		}
	}
}

// lastEnd is the End kept for o when it is sent (davItem.End).
func (d *davSync) lastEnd(o source.DAVObject) int64 {
	if d.windowStart() == 0 {
		return 0
	}
	ev, ok, err := d.asEvent(o) // davfilter.go
	if err != nil || !ok {
		return 0
	}
	end, err := calconv.EventLastEnd(ev)
	if err != nil || end.IsZero() {
		return 0
	}
	return end.Unix()
}

// windowStart is the start of a calendar Sync's time window in unix
// seconds; 0 without one.
func (d *davSync) windowStart() int64 {
	if d.class != calconv.ClassCalendar {
		return 0
	}
	since := filterSince(d.req.Options.FilterType, d.s.e.opts.Now())
	if since.IsZero() {
		return 0
	}
	return since.Unix()
}
