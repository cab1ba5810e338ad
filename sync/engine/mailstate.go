package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"time"
)

// mailState is what the engine remembers of one Email collection for one
// device and one SyncKey: the messages the device has (UID → hash of their
// flags) and the changes found on the server that it has not been sent yet.
//
// It is encoded compactly (varints, UIDs delta-coded) so that a 10,000
// message folder costs about 60 KB, and the fixed header can be read
// without decoding the view: a no-change Sync never touches the view.
type mailState struct {
	Primed      bool   // the first window was computed (List done)
	Mailbox     string // IMAP name when the state was written
	UIDValidity uint32
	ModSeq      uint64 // HIGHESTMODSEQ reconciled up to; 0 without CONDSTORE
	Filter      int    // FilterType the view was built with
	// CheckedAt (unix ns) is when the server was last read in full for
	// this state: a push watcher that saw nothing since vouches for it.
	CheckedAt int64
	// AgedAt (unix ns) is when the view was last checked for messages
	// that aged out of the Filter's window (mailage.go); 0 never.
	AgedAt int64
	View   *uidView // nil when decoded without it
	// Pending are changes and deletions of messages the device has.
	Pending map[uint32]pending
	// Adds are messages the device does not have yet, newest (highest
	// UID) first; kept as a list so that a 10,000-message first sync
	// costs a few bytes per message and no sorting per window.
	Adds []uint32
	// ClientIDs remembers Adds by ClientId → UID (idempotent Adds).
	ClientIDs map[string]uint32
}

// pending is a server change not yet sent: the message's live flags, or
// its deletion. A Soft deletion removes a message that still exists but
// is outside the Sync's FilterType window (airsync:SoftDelete, MS-ASCMD
// 2.2.3.160).
type pending struct {
	Deleted bool
	Soft    bool
	Flags   []string
}

// mailStateVersion is the encoding written. Version 4 (still read) has no
// AgedAt and no soft deletions.
const (
	mailStateVersion   = 5
	mailStateVersionV4 = 4
)

// Pending entry kinds in the encoding.
const (
	pendingFlags      = 0
	pendingDeleted    = 1
	pendingSoftDelete = 2 // version 5
)

var errBadState = errors.New("engine: corrupt collection state")

func flagsHash(flags []string) uint32 {
	s := slices.Clone(flags)
	sort.Strings(s)
	h := fnv.New32a()
	for _, f := range s {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	v := h.Sum32()
	if v == 0 {
		v = 1 // 0 is never a hash, so a zero value means "unknown"
	}
	return v
}

func (m *mailState) encode() []byte {
	viewBytes := 0
	if m.View != nil {
		viewBytes = len(m.View.base) + 8*len(m.View.over)
	}
	b := make([]byte, 0, 64+viewBytes+len(m.Pending)*16+len(m.Adds)*3)
	b = append(b, mailStateVersion)
	if m.Primed {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, m.Mailbox)
	b = binary.AppendUvarint(b, uint64(m.UIDValidity))
	b = binary.AppendUvarint(b, m.ModSeq)
	b = binary.AppendVarint(b, int64(m.Filter))
	b = binary.AppendVarint(b, m.CheckedAt)
	b = binary.AppendVarint(b, m.AgedAt)
	b = binary.AppendUvarint(b, uint64(len(m.Pending)))
	b = binary.AppendUvarint(b, uint64(len(m.ClientIDs)))
	for _, uid := range sortedKeys(m.Pending) {
		p := m.Pending[uid]
		b = binary.AppendUvarint(b, uint64(uid))
		switch {
		case p.Deleted && p.Soft:
			b = append(b, pendingSoftDelete)
			continue
		case p.Deleted:
			b = append(b, pendingDeleted)
			continue
		}
		b = append(b, pendingFlags)
		b = binary.AppendUvarint(b, uint64(len(p.Flags)))
		for _, f := range p.Flags {
			b = appendString(b, f)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(m.Adds)))
	last := uint32(0)
	for i, uid := range m.Adds {
		if i == 0 {
			b = binary.AppendUvarint(b, uint64(uid))
		} else {
			b = binary.AppendUvarint(b, uint64(last-uid)) // descending
		}
		last = uid
	}
	ids := make([]string, 0, len(m.ClientIDs))
	for id := range m.ClientIDs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		b = appendString(b, id)
		b = binary.AppendUvarint(b, uint64(m.ClientIDs[id]))
	}
	// The view last: fixed 8-byte records sorted by UID, so that it can
	// be used in place (binary search) without decoding.
	if m.View == nil {
		m.View = newView(nil)
	}
	b = m.View.appendEncoded(b)
	return b
}

// decodeMailState reads a state; withView false leaves View nil (the
// header and the pending changes only).
func decodeMailState(b []byte, withView bool) (*mailState, error) {
	m := &mailState{Pending: map[uint32]pending{}, ClientIDs: map[string]uint32{}}
	if len(b) == 0 {
		m.View = newView(nil)
		return m, nil
	}
	r := stateReader{b: b}
	v := r.byte()
	if v != mailStateVersion && v != mailStateVersionV4 {
		return nil, fmt.Errorf("%w: version %d", errBadState, v)
	}
	m.Primed = r.byte() == 1
	m.Mailbox = r.string()
	m.UIDValidity = uint32(r.uvarint())
	m.ModSeq = r.uvarint()
	m.Filter = int(r.varint())
	m.CheckedAt = r.varint()
	if v >= 5 {
		m.AgedAt = r.varint()
	}
	np := r.uvarint()
	nc := r.uvarint()
	for i := uint64(0); i < np && r.err == nil; i++ {
		uid := uint32(r.uvarint())
		switch kind := r.byte(); {
		case kind == pendingDeleted:
			m.Pending[uid] = pending{Deleted: true}
			continue
		case kind == pendingSoftDelete && v >= 5:
			m.Pending[uid] = pending{Deleted: true, Soft: true}
			continue
		case kind != pendingFlags:
			r.fail()
			continue
		}
		nf := r.uvarint()
		p := pending{Flags: make([]string, 0, min(nf, 64))}
		for j := uint64(0); j < nf && r.err == nil; j++ {
			p.Flags = append(p.Flags, r.string())
		}
		m.Pending[uid] = p
	}
	if na := r.uvarint(); r.err == nil && na > 0 {
		m.Adds = make([]uint32, 0, min(na, 1<<20))
		last := uint32(0)
		for i := uint64(0); i < na && r.err == nil; i++ {
			d := uint32(r.uvarint())
			if i == 0 {
				last = d
			} else {
				last -= d
			}
			m.Adds = append(m.Adds, last)
		}
	}
	for i := uint64(0); i < nc && r.err == nil; i++ {
		id := r.string()
		m.ClientIDs[id] = uint32(r.uvarint())
	}
	if r.err != nil {
		return nil, r.err
	}
	if !withView {
		return m, nil
	}
	nv := r.uvarint()
	if r.err != nil || uint64(len(r.b)-r.i) != nv*8 {
		return nil, fmt.Errorf("%w: view of %d records in %d bytes", errBadState, nv, len(r.b)-r.i)
	}
	m.View = newView(r.b[r.i:])
	return m, r.err
}

func sortedKeys[V any](m map[uint32]V) []uint32 {
	k := make([]uint32, 0, len(m))
	for u := range m {
		k = append(k, u)
	}
	slices.Sort(k)
	return k
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type stateReader struct {
	b   []byte
	i   int
	err error
}

func (r *stateReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated at %d", errBadState, r.i)
	}
}

func (r *stateReader) byte() byte {
	if r.err != nil || r.i >= len(r.b) {
		r.fail()
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *stateReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.i += n
	return v
}

func (r *stateReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.i:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.i += n
	return v
}

func (r *stateReader) uint32() uint32 {
	if r.err != nil || r.i+4 > len(r.b) {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.i:])
	r.i += 4
	return v
}

func (r *stateReader) string() string {
	n := r.uvarint()
	if r.err != nil || uint64(len(r.b)-r.i) < n {
		r.fail()
		return ""
	}
	s := string(r.b[r.i : r.i+int(n)])
	r.i += int(n)
	return s
}

var timeZero = time.Time{}

// addsSet returns the Adds as a set (for the rare merges).
func (m *mailState) addsSet() map[uint32]bool {
	set := make(map[uint32]bool, len(m.Adds))
	for _, u := range m.Adds {
		set[u] = true
	}
	return set
}

// setAdds stores a set of UIDs as the Adds list, newest first.
func (m *mailState) setAdds(set map[uint32]bool) {
	m.Adds = m.Adds[:0]
	for u := range set {
		m.Adds = append(m.Adds, u)
	}
	slices.Sort(m.Adds)
	slices.Reverse(m.Adds)
}

// dropAdd removes uid from Adds.
func (m *mailState) dropAdd(uid uint32) {
	if i := slices.Index(m.Adds, uid); i >= 0 {
		m.Adds = slices.Delete(m.Adds, i, i+1)
	}
}

// uidView is what the device has: UID → flags hash. The stored records
// (sorted, 8 bytes each) are searched in place; changes of this request
// are kept in an overlay and merged when the state is encoded. A
// 10,000-message view thus costs one copy per Sync, no map building.
type uidView struct {
	base []byte            // records: uid (LE uint32), hash (LE uint32)
	over map[uint32]uint32 // uid → hash; 0 = deleted
}

func newView(base []byte) *uidView {
	return &uidView{base: base, over: map[uint32]uint32{}}
}

func (v *uidView) search(uid uint32) (int, bool) {
	n := len(v.base) / 8
	i := sort.Search(n, func(i int) bool { return binary.LittleEndian.Uint32(v.base[i*8:]) >= uid })
	return i, i < n && binary.LittleEndian.Uint32(v.base[i*8:]) == uid
}

// Get returns the hash the device has for uid.
func (v *uidView) Get(uid uint32) (uint32, bool) {
	if h, ok := v.over[uid]; ok {
		return h, h != 0
	}
	if i, ok := v.search(uid); ok {
		return binary.LittleEndian.Uint32(v.base[i*8+4:]), true
	}
	return 0, false
}

// Has reports whether the device has uid.
func (v *uidView) Has(uid uint32) bool { _, ok := v.Get(uid); return ok }

// Set records that the device has uid with hash h (never 0).
func (v *uidView) Set(uid, h uint32) { v.over[uid] = h }

// Delete records that the device no longer has uid.
func (v *uidView) Delete(uid uint32) { v.over[uid] = 0 }

// Each calls fn for every UID the device has, ascending.
func (v *uidView) Each(fn func(uid, h uint32)) {
	rec := v.appendEncoded(nil)
	_, n := binary.Uvarint(rec)
	for i := n; i+8 <= len(rec); i += 8 {
		fn(binary.LittleEndian.Uint32(rec[i:]), binary.LittleEndian.Uint32(rec[i+4:]))
	}
}

// Len is the number of UIDs the device has.
func (v *uidView) Len() int {
	n := 0
	v.Each(func(uint32, uint32) { n++ })
	return n
}

// appendEncoded appends the merged records, preceded by their count.
func (v *uidView) appendEncoded(b []byte) []byte {
	keys := make([]uint32, 0, len(v.over))
	for u := range v.over {
		keys = append(keys, u)
	}
	slices.Sort(keys)
	out := make([]byte, 0, len(v.base)+len(keys)*8)
	rec := func(uid, h uint32) {
		out = binary.LittleEndian.AppendUint32(out, uid)
		out = binary.LittleEndian.AppendUint32(out, h)
	}
	i, k := 0, 0
	for i < len(v.base) || k < len(keys) {
		var bu uint32
		haveBase := i < len(v.base)
		if haveBase {
			bu = binary.LittleEndian.Uint32(v.base[i:])
		}
		switch {
		case k < len(keys) && (!haveBase || keys[k] < bu):
			if h := v.over[keys[k]]; h != 0 {
				rec(keys[k], h)
			}
			k++
		case k < len(keys) && keys[k] == bu:
			if h := v.over[keys[k]]; h != 0 {
				rec(bu, h)
			}
			k++
			i += 8
		default:
			out = append(out, v.base[i:i+8]...)
			i += 8
		}
	}
	b = binary.AppendUvarint(b, uint64(len(out)/8))
	return append(b, out...)
}
