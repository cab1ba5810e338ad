package engine

import (
	"context"
	"encoding/json"
	"slices"
)

// Recent moves of a device, so that a repeated MoveItems is answered like
// the first one. A phone whose MoveItems answer was lost sends the same
// request again; the message is no longer in the source, and "invalid
// source" (Status 1) would leave it in the phone's source folder for ever,
// since the source state already forgot it and the destination state
// already counts it as on the phone (found by the soak,
// docs/RELIABILITY.md). The record is a per-user setting
// "moves/<device>": the last maxRecordedMoves moves, source ServerId →
// destination collection and DstMsgId, written after the IMAP MOVE and
// before the states are patched. Before the MOVE the same entry is written
// as an intent (Dst "", Intent set; moveintent.go), so that a MoveItems cut
// short by a crash can be finished without moving the message twice.

const maxRecordedMoves = 64

type recordedMove struct {
	Src, DstColl, Dst string
	Intent            *moveIntent `json:",omitempty"` // set while the move is unfinished (Dst "")
}

func movesSetting(deviceID string) string { return "moves/" + deviceID }

func (s *session) recordedMoves(ctx context.Context, deviceID string) []recordedMove {
	b, err := s.store().Setting(ctx, s.l.user, movesSetting(deviceID))
	if err != nil {
		return nil
	}
	var ms []recordedMove
	if json.Unmarshal(b, &ms) != nil {
		return nil
	}
	return ms
}

// recordMove remembers one move, replacing the entry (an intent) of the
// same source and destination; a failure only costs the idempotence of a
// repeat, so it is logged, not returned.
func (s *session) recordMove(ctx context.Context, deviceID string, m recordedMove) {
	ms := s.recordedMoves(ctx, deviceID)
	ms = slices.DeleteFunc(ms, func(x recordedMove) bool { return x.Src == m.Src && x.DstColl == m.DstColl })
	ms = append(ms, m)
	if len(ms) > maxRecordedMoves {
		ms = ms[len(ms)-maxRecordedMoves:]
	}
	b, err := json.Marshal(ms)
	if err == nil {
		err = s.store().PutSetting(ctx, s.l.user, movesSetting(deviceID), b)
	}
	if err != nil {
		s.e.log.Info("engine: record move", "device", deviceID, "err", err)
	}
}

// repeatedMove returns the DstMsgId of an earlier move of serverID to
// dstCollection by this device.
func (s *session) repeatedMove(ctx context.Context, deviceID, serverID, dstCollection string) (string, bool) {
	ms := s.recordedMoves(ctx, deviceID)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Src == serverID && ms[i].DstColl == dstCollection && ms[i].Dst != "" {
			return ms[i].Dst, true
		}
	}
	return "", false
}
