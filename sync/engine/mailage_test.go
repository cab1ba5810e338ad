package engine

import (
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"testing"
)

// v4State is a version 4 state written byte by byte as version 4 laid it
// out: no AgedAt, pending kinds 0 (flags) and 1 (deleted) only.
func v4State(pendingKind byte) []byte {
	b := []byte{4, 1}
	b = appendString(b, "INBOX")
	b = binary.AppendUvarint(b, 42)   // UIDVALIDITY
	b = binary.AppendUvarint(b, 9000) // MODSEQ
	b = binary.AppendVarint(b, 3)     // Filter
	b = binary.AppendVarint(b, 1234)  // CheckedAt
	b = binary.AppendUvarint(b, 2)    // pending
	b = binary.AppendUvarint(b, 0)    // client ids
	b = binary.AppendUvarint(b, 1)
	b = append(b, pendingKind)
	b = binary.AppendUvarint(b, 5)
	b = append(b, 0)
	b = binary.AppendUvarint(b, 1)
	b = appendString(b, `\Seen`)
	b = binary.AppendUvarint(b, 1) // adds
	b = binary.AppendUvarint(b, 99)
	b = binary.AppendUvarint(b, 1) // view
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 7)
	return b
}

func TestMailStateV4Decodes(t *testing.T) {
	got, err := decodeMailState(v4State(pendingDeleted), true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]pending{1: {Deleted: true}, 5: {Flags: []string{`\Seen`}}}
	if !reflect.DeepEqual(got.Pending, want) || got.AgedAt != 0 || got.CheckedAt != 1234 || got.Filter != 3 ||
		got.ModSeq != 9000 || !reflect.DeepEqual(got.Adds, []uint32{99}) || !reflect.DeepEqual(viewMap(got.View), map[uint32]uint32{1: 7}) {
		t.Fatalf("v4 decoded as %+v view %v", got, viewMap(got.View))
	}
	// Written again, it is a version 5 state with the same content.
	again, err := decodeMailState(got.encode(), true)
	if err != nil || again.encode()[0] != mailStateVersion || !reflect.DeepEqual(again.Pending, want) {
		t.Fatalf("v4 → v5: %+v %v", again, err)
	}
	// Version 4 had no soft deletions.
	if _, err := decodeMailState(v4State(pendingSoftDelete), true); !errors.Is(err, errBadState) {
		t.Errorf("v4 with kind 2: %v", err)
	}
}

func TestMailStateV5SoftAndAgedAt(t *testing.T) {
	tests := []struct {
		name    string
		agedAt  int64
		pending map[uint32]pending
	}{
		{"none", 0, map[uint32]pending{}},
		{"soft", 1764669600123456789, map[uint32]pending{3: {Deleted: true, Soft: true}}},
		{"mixed", -1, map[uint32]pending{
			1: {Deleted: true}, 2: {Deleted: true, Soft: true}, 4: {Flags: []string{"Work"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &mailState{Primed: true, Mailbox: "INBOX", Filter: 3, AgedAt: tt.agedAt, Pending: tt.pending,
				ClientIDs: map[string]uint32{}, View: viewOf(map[uint32]uint32{1: 2, 2: 3, 3: 4})}
			b := m.encode()
			if b[0] != 5 {
				t.Fatalf("version %d", b[0])
			}
			for _, withView := range []bool{true, false} {
				got, err := decodeMailState(b, withView)
				if err != nil {
					t.Fatal(err)
				}
				if got.AgedAt != tt.agedAt || !reflect.DeepEqual(got.Pending, tt.pending) {
					t.Fatalf("withView %v: AgedAt %d pending %+v", withView, got.AgedAt, got.Pending)
				}
			}
		})
	}
	// An unknown pending kind is damage, not a flags entry.
	b := (&mailState{Pending: map[uint32]pending{1: {Deleted: true, Soft: true}}, View: viewOf(nil)}).encode()
	k := slices.Index(b, pendingSoftDelete)
	b[k] = 7
	if _, err := decodeMailState(b, true); !errors.Is(err, errBadState) {
		t.Errorf("kind 7: %v", err)
	}
}
