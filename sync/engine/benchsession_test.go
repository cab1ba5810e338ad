package engine

import (
	"context"
	"path/filepath"
	"testing"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/state"
)

// newBenchSession starts an engine with the one account acct on a fresh
// state store, logs alice in and runs the first FolderSync of device
// "benchdev". It returns the session and the ServerIds of the folders by
// display name; the engine and the store close when the benchmark ends.
func newBenchSession(b *testing.B, acct Account) (*session, map[string]string) {
	b.Helper()
	st, err := state.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	e, err := New(Options{Store: st, Accounts: []Account{acct}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	sess, err := e.Login(context.Background(), "alice", "alicepw")
	if err != nil {
		b.Fatal(err)
	}
	s := sess.(*session)
	ch, err := s.FolderSync(context.Background(), "benchdev", "0")
	if err != nil {
		b.Fatal(err)
	}
	ids := map[string]string{}
	for _, f := range ch.Adds {
		ids[f.DisplayName] = f.ServerID
	}
	return s, ids
}

// benchSyncAll primes collection coll for dev and pulls every window of
// 100 (5 KB plain-text truncation, protocol 16.1); it returns the last key
// and how many changes came.
func benchSyncAll(b *testing.B, s *session, dev, coll string, deletesAsMoves bool) (key string, n int) {
	b.Helper()
	ctx := context.Background()
	opts := server.ItemOptions{BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 5120}}, Conflict: 1}
	res, err := s.SyncCollection(ctx, dev, &server.SyncCollection{Version: eas.V161, CollectionID: coll, SyncKey: "0", WindowSize: 100, Options: opts})
	if err != nil {
		b.Fatal(err)
	}
	key = res.SyncKey
	for {
		res, err = s.SyncCollection(ctx, dev, &server.SyncCollection{Version: eas.V161, CollectionID: coll, SyncKey: key,
			GetChanges: true, WindowSize: 100, DeletesAsMoves: deletesAsMoves, Options: opts})
		if err != nil {
			b.Fatal(err)
		}
		n += len(res.Changes)
		key = res.SyncKey
		if !res.MoreAvailable {
			return key, n
		}
	}
}
