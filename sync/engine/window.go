package engine

import (
	"cmp"
	"slices"
)

// maxWindow is the largest WindowSize, MS-ASCMD 2.2.3.199.
const maxWindow = 512

// windowSize is the number of changes one Sync answer may carry for a
// client's WindowSize (0 or too large: maxWindow).
func windowSize(asked int) int {
	if asked <= 0 || asked > maxWindow {
		return maxWindow
	}
	return asked
}

// pendingOrder lists the keys of pending changes for one window: deletions
// first, then the others, each in key order, at most size of them; more
// reports that some were left for the next window.
func pendingOrder[K cmp.Ordered, V any](pending map[K]V, deleted func(V) bool, size int) (order []K, more bool) {
	var dels, rest []K
	for k, v := range pending {
		if deleted(v) {
			dels = append(dels, k)
		} else {
			rest = append(rest, k)
		}
	}
	slices.Sort(dels)
	slices.Sort(rest)
	order = append(dels, rest...)
	if len(order) > size {
		return order[:size], true
	}
	return order, false
}
