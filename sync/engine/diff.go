package engine

import (
	"sort"

	"easbridge/server/eas"
)

// diffFolders returns the changes that turn the hierarchy old into new.
// Adds are ordered so that a parent always comes before its children.
func diffFolders(old, new []eas.Folder) (adds, updates []eas.Folder, deletes []string) {
	before := make(map[string]eas.Folder, len(old))
	for _, f := range old {
		before[f.ServerID] = f
	}
	after := make(map[string]bool, len(new))
	for _, f := range new {
		after[f.ServerID] = true
		o, ok := before[f.ServerID]
		switch {
		case !ok:
			adds = append(adds, f)
		case o != f:
			updates = append(updates, f)
		}
	}
	for _, f := range old {
		if !after[f.ServerID] {
			deletes = append(deletes, f.ServerID)
		}
	}
	return orderParentsFirst(adds), orderParentsFirst(updates), deletes
}

// orderParentsFirst sorts folders by depth within the list, then by id, so
// that a client creating them in order always knows the parent.
func orderParentsFirst(fs []eas.Folder) []eas.Folder {
	if len(fs) < 2 {
		return fs
	}
	byID := make(map[string]eas.Folder, len(fs))
	for _, f := range fs {
		byID[f.ServerID] = f
	}
	depth := func(f eas.Folder) int {
		d := 0
		for seen := 0; seen < len(fs); seen++ {
			p, ok := byID[f.ParentID]
			if !ok {
				break
			}
			d++
			f = p
		}
		return d
	}
	sort.SliceStable(fs, func(i, j int) bool {
		di, dj := depth(fs[i]), depth(fs[j])
		if di != dj {
			return di < dj
		}
		return idLess(fs[i].ServerID, fs[j].ServerID)
	})
	return fs
}

// idLess orders decimal ids numerically, others as strings.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
