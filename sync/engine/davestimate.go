package engine

import (
	"context"
	"fmt"

	"easbridge/sync/calconv"
)

// GetItemEstimate of a DAV folder (MS-ASCMD 2.2.1.9): the number of
// changes the next Sync with the same Options would send.
//
// Implementation notes:
//   - The state is collected as the Sync collects it but never stored. A
//     FilterType other than the state's is not a reason to count every
//     item again (refilter): the estimate counts the pending changes the
//     given filter admits.
//   - Without a filter that can leave objects out, the count is the
//     pending changes. With one (calendar FilterType 1…7, tasks 8), the
//     pending objects are fetched and counted only when the filter
//     admits them or the device has them (they then go as SoftDelete),
//     as window does.

// estimate counts what the next Sync would send.
func (d *davSync) estimate(ctx context.Context) (int, error) {
	if err := d.collect(ctx); err != nil {
		return 0, err
	}
	d.ageOut() // davage.go
	st := d.st
	if !d.filtering() {
		return len(st.Pending), nil
	}
	n := 0
	var fetch []string
	for p, x := range st.Pending {
		if x.Deleted {
			n++
			continue
		}
		fetch = append(fetch, p)
	}
	if len(fetch) == 0 {
		return n, nil
	}
	objs, err := d.get(ctx, fetch)
	if err != nil {
		return 0, fmt.Errorf("engine: estimate: get from %s: %w", d.coll, err)
	}
	for _, o := range objs {
		_, known := st.Items[o.Path]
		// An object the filter cannot read goes to the conversion, as in
		// filteredToEAS: counted.
		if in, err := d.objectInFilter(o); known || err != nil || in {
			n++
		}
	}
	return n, nil
}

// filtering reports whether the Sync's FilterType can leave objects of
// this folder's class out.
func (d *davSync) filtering() bool {
	f := d.req.Options.FilterType
	switch d.class {
	case calconv.ClassCalendar:
		return !filterSince(f, d.s.e.opts.Now()).IsZero()
	case calconv.ClassTasks:
		return f == 8
	}
	return false
}
