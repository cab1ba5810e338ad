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

// openedCollection is a collection's state as a Sync request's key names it.
type openedCollection struct {
	primed   bool   // the key was 0: the collection starts over, the answer is ready
	data     []byte // the state the key names
	cur      []byte // the current state (differs from data when fromPrev)
	curKey   int    // the current key
	fromPrev bool   // the device repeated its previous key: our answer was lost
}

// openCollection loads a collection's state for a Sync, the same way for
// every kind of collection: key 0 (MS-ASCMD 3.1.5.3) drops the state,
// stores fresh() under key 1 and answers key 1 with no items (primed);
// the current key or the previous one (a lost answer) loads that state;
// any other key is eas.ErrInvalidSyncKey (Status 3).
func (s *session) openCollection(ctx context.Context, deviceID string, req *server.SyncCollection, res *server.SyncCollectionResult,
	fresh func() []byte) (openedCollection, error) {
	if req.SyncKey == "0" {
		if err := s.store().DeleteCollection(ctx, s.l.user, deviceID, req.CollectionID); err != nil {
			return openedCollection{}, err
		}
		if err := s.store().PutCollection(ctx, s.l.user, deviceID, req.CollectionID, 0, 1, fresh()); err != nil {
			return openedCollection{}, fmt.Errorf("engine: prime collection: %w", err)
		}
		res.SyncKey = "1"
		return openedCollection{primed: true}, nil
	}
	col, err := s.store().Collection(ctx, s.l.user, deviceID, req.CollectionID)
	if err != nil {
		return openedCollection{}, fmt.Errorf("engine: collection state: %w", err)
	}
	oc := openedCollection{cur: col.Data, curKey: col.Key}
	k, _ := strconv.Atoi(req.SyncKey)
	switch {
	case k > 0 && k == col.Key:
		oc.data = col.Data
	case k > 0 && k == col.PrevKey:
		oc.data, oc.fromPrev = col.PrevData, true
	default:
		return openedCollection{}, fmt.Errorf("engine: sync key %q for collection %s: %w", req.SyncKey, req.CollectionID, eas.ErrInvalidSyncKey)
	}
	return oc, nil
}
