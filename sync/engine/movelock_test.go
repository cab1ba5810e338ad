package engine

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// MoveItems of one message run one at a time, of different messages at
// once; the lock's entry goes when nobody holds or waits for it. The test
// holds the first key while the others try theirs.
func TestMoveLocks(t *testing.T) {
	held := moveLockKey("alice", "INBOX", 7)
	for _, tc := range []struct {
		name        string
		keys        []string
		inWhileHeld int32 // how many get in while the test holds held
	}{
		{"same message", []string{held, held}, 0},
		{"other messages", []string{moveLockKey("alice", "INBOX", 8), moveLockKey("alice", "Archive", 7), moveLockKey("bob", "INBOX", 7)}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l moveLocks
			release := l.lock(held)
			var inside, entered, most atomic.Int32
			var wg sync.WaitGroup
			for _, k := range tc.keys {
				wg.Go(func() {
					defer l.lock(k)()
					entered.Add(1)
					n := inside.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					time.Sleep(20 * time.Millisecond)
					inside.Add(-1)
				})
			}
			deadline := time.Now().Add(200 * time.Millisecond)
			for entered.Load() < tc.inWhileHeld && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if tc.inWhileHeld == 0 {
				time.Sleep(100 * time.Millisecond)
			}
			if got := entered.Load(); got != tc.inWhileHeld {
				t.Errorf("%d got in while the message was locked, want %d", got, tc.inWhileHeld)
			}
			release()
			wg.Wait()
			if tc.inWhileHeld == 0 && most.Load() != 1 {
				t.Errorf("%d inside at once, want 1", most.Load())
			}
			if len(l.locks) != 0 {
				t.Errorf("%d lock entries left", len(l.locks))
			}
		})
	}
}

// Moves records written before the intents (and before SrcValidity) still
// decode.
func TestRecordedMoveOldJSON(t *testing.T) {
	for _, tc := range []struct {
		name, json  string
		dst         string
		intent      bool
		srcValidity uint32
	}{
		{"finished, no intent field", `[{"Src":"1:5","DstColl":"2","Dst":"2:9"}]`, "2:9", false, 0},
		{"intent without SrcValidity", `[{"Src":"1:5","DstColl":"2","Dst":"","Intent":{"SrcBox":"INBOX","SrcUID":5,"DstBox":"Archive","DstValidity":3,"DstNext":9,"Size":10,"Date":"2026-01-02T03:04:05Z","Started":"2026-01-02T03:04:05Z"}}]`, "", true, 0},
		{"intent with SrcValidity", `[{"Src":"1:5","DstColl":"2","Dst":"","Intent":{"SrcBox":"INBOX","SrcUID":5,"SrcValidity":4,"DstBox":"Archive","DstValidity":3,"DstNext":9,"Size":10,"Date":"2026-01-02T03:04:05Z","Started":"2026-01-02T03:04:05Z"}}]`, "", true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ms []recordedMove
			if err := json.Unmarshal([]byte(tc.json), &ms); err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 || ms[0].Dst != tc.dst || (ms[0].Intent != nil) != tc.intent {
				t.Fatalf("decoded %+v", ms)
			}
			if tc.intent && ms[0].Intent.SrcValidity != tc.srcValidity {
				t.Errorf("SrcValidity %d, want %d", ms[0].Intent.SrcValidity, tc.srcValidity)
			}
		})
	}
}
