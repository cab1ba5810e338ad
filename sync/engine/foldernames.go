package engine

import (
	"strconv"
	"strings"

	"easbridge/sync/source"
)

// distinctNames gives folders that share a parent and a name (case
// insensitively) distinct display names: an IMAP mailbox named like a DAV
// collection next to it (a "Notes" mailbox beside the DAV server's
// "Notes" journal, a "Calendar" mailbox) is shown as "Notes (mail)", and
// any further clash gets " (2)", " (3)"… Phones key folders by ServerId,
// but several clients list folders by name and mix up equal ones. Only
// the display name changes; keys and ServerIds stay.
func distinctNames(all []source.Folder) []source.Folder {
	type slot struct{ parent, name string }
	taken := make(map[slot]bool, len(all))
	key := func(f source.Folder, name string) slot { return slot{f.ParentKey, strings.ToLower(name)} }
	out := make([]source.Folder, len(all))
	copy(out, all)
	isMail := func(f source.Folder) bool { return strings.HasPrefix(f.Key, "imap:") }
	rename := func(f *source.Folder, base string) {
		name := base
		for n := 2; taken[key(*f, name)]; n++ {
			name = base + " (" + strconv.Itoa(n) + ")"
		}
		taken[key(*f, name)] = true
		f.Name = name
	}
	// Non-mail folders claim their names first (their sources cannot
	// rename), then the mailboxes whose names are free, then the others.
	for i := range out {
		if !isMail(out[i]) {
			rename(&out[i], out[i].Name)
		}
	}
	var clashing []int
	for i := range out {
		if !isMail(out[i]) {
			continue
		}
		if taken[key(out[i], out[i].Name)] {
			clashing = append(clashing, i)
			continue
		}
		taken[key(out[i], out[i].Name)] = true
	}
	for _, i := range clashing {
		rename(&out[i], out[i].Name+" (mail)")
	}
	return out
}
