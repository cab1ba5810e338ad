package engine

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// davState is what the engine remembers of one CalDAV/CardDAV collection
// for one device and one SyncKey: the members the device has (path → its
// ServerId number and ETag), the changes not sent yet, and the server's
// sync token. Encoded like mailState: a header first, so the no-change
// path reads only the token.
type davState struct {
	Primed    bool
	Token     string
	NextID    uint32
	Filter    int
	Items     map[string]davItem // path → item the device has
	Pending   map[string]davPending
	ClientIDs map[string]string // ClientId → path
}

type davItem struct {
	ID   uint32
	ETag string
	// End: no occurrence of the event the device got ends after it (unix
	// seconds); 0 when unknown or never. Filtered calendar Syncs remove
	// the item when it ages out of the window (davage.go).
	End int64
}

type davPending struct {
	Deleted bool
	ETag    string
}

// davStateVersion 2 adds davItem.End; version 1 states are still read.
const davStateVersion = 2

func (d *davState) encode() []byte {
	b := []byte{davStateVersion, boolByte(d.Primed)}
	b = appendString(b, d.Token)
	b = binary.AppendUvarint(b, uint64(d.NextID))
	b = binary.AppendVarint(b, int64(d.Filter))
	b = binary.AppendUvarint(b, uint64(len(d.Pending)))
	for _, p := range sortedStrings(d.Pending) {
		x := d.Pending[p]
		b = appendString(b, p)
		b = append(b, boolByte(x.Deleted))
		b = appendString(b, x.ETag)
	}
	b = binary.AppendUvarint(b, uint64(len(d.ClientIDs)))
	for _, id := range sortedStrings(d.ClientIDs) {
		b = appendString(b, id)
		b = appendString(b, d.ClientIDs[id])
	}
	b = binary.AppendUvarint(b, uint64(len(d.Items)))
	for _, p := range sortedStrings(d.Items) {
		it := d.Items[p]
		b = appendString(b, p)
		b = binary.AppendUvarint(b, uint64(it.ID))
		b = appendString(b, it.ETag)
		b = binary.AppendVarint(b, it.End)
	}
	return b
}

func decodeDAVState(b []byte, withItems bool) (*davState, error) {
	d := &davState{Pending: map[string]davPending{}, ClientIDs: map[string]string{}}
	if len(b) == 0 {
		d.Items, d.NextID = map[string]davItem{}, 1
		return d, nil
	}
	r := stateReader{b: b}
	v := r.byte()
	if v != davStateVersion && v != 1 {
		return nil, fmt.Errorf("%w: dav version %d", errBadState, v)
	}
	d.Primed = r.byte() == 1
	d.Token = r.string()
	d.NextID = uint32(r.uvarint())
	d.Filter = int(r.varint())
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		p := r.string()
		del := r.byte() == 1
		d.Pending[p] = davPending{Deleted: del, ETag: r.string()}
	}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		id := r.string()
		d.ClientIDs[id] = r.string()
	}
	if r.err != nil || !withItems {
		return d, r.err
	}
	n := r.uvarint()
	d.Items = make(map[string]davItem, min(n, 1<<20))
	for ; n > 0 && r.err == nil; n-- {
		p := r.string()
		it := davItem{ID: uint32(r.uvarint()), ETag: r.string()}
		if v >= 2 {
			it.End = r.varint()
		}
		d.Items[p] = it
	}
	return d, r.err
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func sortedStrings[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// pathOf finds the member path of a ServerId number.
func (d *davState) pathOf(id uint32) (string, bool) {
	for p, it := range d.Items {
		if it.ID == id {
			return p, true
		}
	}
	return "", false
}
