package engine

import (
	"encoding/binary"
	"fmt"
)

// noteState is what the engine remembers of an IMAP Notes mailbox for one
// device and one SyncKey: which message (UID) stands for which ServerId
// number, and the mailbox status seen last, so that a Sync with nothing
// new costs one STATUS. A client Change replaces the message (APPEND of
// the new version, expunge of the old): the UID changes, the ServerId
// number stays.
type noteState struct {
	Primed      bool
	UIDValidity uint32
	UIDNext     uint32
	Messages    uint32
	ModSeq      uint64
	// More: the last window left changes unsent; list again next time
	// even when the status did not move.
	More   bool
	NextID uint32
	// Items maps the UID of every message seen to its ServerId number;
	// 0 for a message that could not be read as a note (not on the device).
	Items     map[uint32]uint32
	ClientIDs map[string]uint32 // ClientId → ServerId number
}

const noteStateVersion = 1

func (n *noteState) encode() []byte {
	b := []byte{noteStateVersion, boolByte(n.Primed), boolByte(n.More)}
	b = binary.AppendUvarint(b, uint64(n.UIDValidity))
	b = binary.AppendUvarint(b, uint64(n.UIDNext))
	b = binary.AppendUvarint(b, uint64(n.Messages))
	b = binary.AppendUvarint(b, n.ModSeq)
	b = binary.AppendUvarint(b, uint64(n.NextID))
	b = binary.AppendUvarint(b, uint64(len(n.ClientIDs)))
	for _, id := range sortedStrings(n.ClientIDs) {
		b = appendString(b, id)
		b = binary.AppendUvarint(b, uint64(n.ClientIDs[id]))
	}
	b = binary.AppendUvarint(b, uint64(len(n.Items)))
	for _, uid := range sortedKeys(n.Items) {
		b = binary.AppendUvarint(b, uint64(uid))
		b = binary.AppendUvarint(b, uint64(n.Items[uid]))
	}
	return b
}

func decodeNoteState(b []byte) (*noteState, error) {
	n := &noteState{NextID: 1, Items: map[uint32]uint32{}, ClientIDs: map[string]uint32{}}
	if len(b) == 0 {
		return n, nil
	}
	r := stateReader{b: b}
	if v := r.byte(); v != noteStateVersion {
		return nil, fmt.Errorf("%w: notes version %d", errBadState, v)
	}
	n.Primed = r.byte() == 1
	n.More = r.byte() == 1
	n.UIDValidity = uint32(r.uvarint())
	n.UIDNext = uint32(r.uvarint())
	n.Messages = uint32(r.uvarint())
	n.ModSeq = r.uvarint()
	n.NextID = uint32(r.uvarint())
	for c := r.uvarint(); c > 0 && r.err == nil; c-- {
		id := r.string()
		n.ClientIDs[id] = uint32(r.uvarint())
	}
	for c := r.uvarint(); c > 0 && r.err == nil; c-- {
		uid := uint32(r.uvarint())
		n.Items[uid] = uint32(r.uvarint())
	}
	return n, r.err
}

// uidOf finds the message of a ServerId number.
func (n *noteState) uidOf(id uint32) (uint32, bool) {
	if id == 0 {
		return 0, false
	}
	for uid, x := range n.Items {
		if x == id {
			return uid, true
		}
	}
	return 0, false
}

// adopt takes from cur (the state of the key after prev, whose answer the
// device lost) what the lost request wrote to the server: the messages
// that replaced a ServerId's message and the ClientIds of its Adds, so
// that the repeated request neither duplicates an Add nor misses a Change.
// Numbers the lost answer gave to the server's adds are given again, in
// the same order, so that the repeated answer is the same.
func (n *noteState) adopt(cur *noteState) {
	for uid, id := range cur.Items {
		if id == 0 {
			continue
		}
		if old, ok := n.uidOf(id); ok && old != uid {
			delete(n.Items, old)
			n.Items[uid] = id
		}
	}
	for cid, id := range cur.ClientIDs {
		if _, ok := n.ClientIDs[cid]; ok {
			continue
		}
		if uid, ok := cur.uidOf(id); ok {
			n.Items[uid] = id
			n.ClientIDs[cid] = id
			n.NextID = max(n.NextID, id+1)
		}
	}
}
