package engine

import (
	"errors"
	"reflect"
	"testing"
)

func TestNoteStateEncoding(t *testing.T) {
	tests := []*noteState{
		{NextID: 1, Items: map[uint32]uint32{}, ClientIDs: map[string]uint32{}},
		{Primed: true, More: true, UIDValidity: 7, UIDNext: 40, Messages: 3, ModSeq: 1 << 40, NextID: 9,
			Items: map[uint32]uint32{3: 1, 17: 0, 39: 8}, ClientIDs: map[string]uint32{"c1": 8}},
	}
	for _, st := range tests {
		got, err := decodeNoteState(st.encode())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, st) {
			t.Errorf("round trip: got %+v, want %+v", got, st)
		}
	}
	for _, bad := range [][]byte{{9}, {noteStateVersion, 1}, tests[1].encode()[:12]} {
		if _, err := decodeNoteState(bad); !errors.Is(err, errBadState) {
			t.Errorf("decode %v: err %v, want errBadState", bad, err)
		}
	}
}

func TestNoteStateAdopt(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur *noteState
		want      *noteState
	}{{
		name: "a change replaced the message of id 2",
		prev: &noteState{NextID: 3, Items: map[uint32]uint32{1: 1, 2: 2}, ClientIDs: map[string]uint32{}},
		cur:  &noteState{NextID: 3, Items: map[uint32]uint32{1: 1, 5: 2}, ClientIDs: map[string]uint32{}},
		want: &noteState{NextID: 3, Items: map[uint32]uint32{1: 1, 5: 2}, ClientIDs: map[string]uint32{}},
	}, {
		name: "a client add is kept, server adds get their numbers again",
		prev: &noteState{NextID: 3, Items: map[uint32]uint32{1: 1, 2: 2}, ClientIDs: map[string]uint32{}},
		cur:  &noteState{NextID: 5, Items: map[uint32]uint32{1: 1, 2: 2, 6: 3, 7: 4}, ClientIDs: map[string]uint32{"c": 3}},
		want: &noteState{NextID: 4, Items: map[uint32]uint32{1: 1, 2: 2, 6: 3}, ClientIDs: map[string]uint32{"c": 3}},
	}, {
		name: "a deleted note stays known to prev",
		prev: &noteState{NextID: 3, Items: map[uint32]uint32{1: 1, 2: 2}, ClientIDs: map[string]uint32{}},
		cur:  &noteState{NextID: 3, Items: map[uint32]uint32{1: 1}, ClientIDs: map[string]uint32{}},
		want: &noteState{NextID: 3, Items: map[uint32]uint32{1: 1, 2: 2}, ClientIDs: map[string]uint32{}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.prev.adopt(tc.cur)
			if !reflect.DeepEqual(tc.prev, tc.want) {
				t.Errorf("got %+v, want %+v", tc.prev, tc.want)
			}
		})
	}
}
