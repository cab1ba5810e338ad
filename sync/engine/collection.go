package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/state"
)

// commitCollection stores a collection's new state after a Sync and sets
// the key of the answer, the same way for every kind of collection:
//   - the device repeated its previous key (our answer was lost): the lost
//     state is replaced and the previous one kept, so it may repeat again;
//   - anything was sent or the request carried commands: a new key;
//   - only our bookkeeping changed (a new HIGHESTMODSEQ, a token): the same
//     key, state replaced in place;
//   - nothing: the same key, nothing written.
//
// A concurrent request of the same device that advanced the collection
// first makes this one answer Status 16 (retry).
func (s *session) commitCollection(ctx context.Context, deviceID string, req *server.SyncCollection, res *server.SyncCollectionResult,
	curKey int, fromPrev, dirty bool, data []byte) (*server.SyncCollectionResult, error) {
	changed := len(res.Changes) > 0 || len(res.Responses) > 0 || len(req.Commands) > 0
	st, user, coll := s.store(), s.l.user, req.CollectionID
	var err error
	switch {
	case fromPrev:
		res.SyncKey = strconv.Itoa(curKey + 1)
		err = st.ReplaceCollection(ctx, user, deviceID, coll, curKey, curKey+1, data)
	case changed:
		res.SyncKey = strconv.Itoa(curKey + 1)
		err = st.PutCollection(ctx, user, deviceID, coll, curKey, curKey+1, data)
	case dirty:
		res.SyncKey = strconv.Itoa(curKey)
		err = st.ReplaceCollection(ctx, user, deviceID, coll, curKey, curKey, data)
	default:
		res.SyncKey = strconv.Itoa(curKey)
	}
	if errors.Is(err, state.ErrStaleKey) {
		return nil, eas.Errorf(eas.SyncStatusRetry, "collection %s changed concurrently", coll)
	}
	if err != nil {
		return nil, fmt.Errorf("engine: store collection state: %w", err)
	}
	return res, nil
}
