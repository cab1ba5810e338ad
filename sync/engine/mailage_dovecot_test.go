package engine

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/imapsource"
	"easbridge/sync/source"
	"easbridge/sync/state"
	"easbridge/sync/testenv"
)

// appendDated stores a message with the INTERNALDATE date.
func appendDated(t *testing.T, dc *testenv.Dovecot, mailbox, subject string, date time.Time) imap.UID {
	t.Helper()
	raw := []byte("From: bob@example.test\r\nTo: alice@example.test\r\nSubject: " + subject + "\r\nDate: " +
		date.Format(time.RFC1123Z) + "\r\n\r\nhello\r\n")
	cl := dc.Dial(t, "alice")
	defer cl.Close()
	cmd := cl.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Time: date})
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := cmd.Wait()
	if err != nil || data.UID == 0 {
		t.Fatalf("append %s: %v %+v", subject, err, data)
	}
	return data.UID
}

// expunge removes one message from another session.
func expunge(t *testing.T, dc *testenv.Dovecot, mailbox string, uid imap.UID) {
	t.Helper()
	cl := dc.Dial(t, "alice")
	defer cl.Close()
	if _, err := cl.Select(mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := cl.UIDExpunge(imap.UIDSetNum(uid)).Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMailFilterSoftDeleteAgainstDovecot: when the FilterType narrows,
// messages the phone has that are older than the new window leave it by
// SoftDelete and one expunged meanwhile by Delete; with the filter
// unchanged a message that becomes older than the window leaves by
// SoftDelete at the first Sync after the hourly check. Without
// source.MailAger the engine falls back to Delete and no ageing.
func TestMailFilterSoftDeleteAgainstDovecot(t *testing.T) {
	dc := testenv.StartDovecot(t, testenv.DovecotOptions{})
	start := time.Now().UTC().Truncate(time.Second)
	for _, tc := range []struct {
		name       string
		ager       bool
		narrowOld  string // the op that removes "Old" at the filter change
		agedOpsHit int    // SoftDeletes once "Edge" aged out
	}{
		{"MailAger", true, "SoftDelete", 1},
		{"no MailAger", false, "Delete", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			mailbox := "Age" + strconv.FormatBool(tc.ager)
			dc.CreateMailbox(t, "alice", mailbox)
			uids := map[uint32]string{}
			for subject, date := range map[string]time.Time{
				"Old": start.AddDate(0, 0, -30), "Gone": start.AddDate(0, 0, -30),
				"Recent": start.AddDate(0, 0, -1), "Edge": start.AddDate(0, 0, -7).Add(2 * time.Hour),
			} {
				uids[uint32(appendDated(t, dc, mailbox, subject, date))] = subject
			}
			var clock atomic.Int64
			clock.Store(start.UnixNano())
			now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
			st, err := state.OpenSQLite(ctx, filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			icfg, _ := imapsource.ParseURL("imap://" + dc.IMAPAddr)
			e, err := New(Options{Store: st, Now: now, Log: discard(), Accounts: []Account{{Name: "a", IMAP: icfg, Domain: "example.test"}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close() })
			sess, err := e.Login(ctx, "alice", "alicepw")
			if err != nil {
				t.Fatal(err)
			}
			s := sess.(*session)
			if !tc.ager {
				s.l.mail = listOnly{s.l.mail} // hides source.MailAger
			}
			if _, ok := s.l.mail.(source.MailAger); ok != tc.ager {
				t.Fatalf("MailAger %v, want %v", ok, tc.ager)
			}
			const device = "agephone"
			ch, err := s.FolderSync(ctx, device, "0")
			if err != nil {
				t.Fatal(err)
			}
			id := ""
			for _, f := range ch.Adds {
				if f.DisplayName == mailbox {
					id = f.ServerID
				}
			}
			sync := func(key string, filter int) (*server.SyncCollectionResult, map[string][]string) {
				t.Helper()
				res, err := s.SyncCollection(ctx, device, &server.SyncCollection{Version: eas.V161, CollectionID: id, SyncKey: key,
					GetChanges: key != "0", WindowSize: 100, Options: server.ItemOptions{FilterType: filter}})
				if err != nil || res.Status != eas.SyncStatusSuccess {
					t.Fatalf("sync %s: %v %+v", key, err, res)
				}
				ops := map[string][]string{}
				for _, c := range res.Changes {
					_, uid, _ := parseServerID(c.ServerID)
					ops[c.Op] = append(ops[c.Op], uids[uid])
				}
				for _, l := range ops {
					slices.Sort(l)
				}
				return res, ops
			}
			res, _ := sync("0", 0)
			res, ops := sync(res.SyncKey, 0)
			if len(ops["Add"]) != 4 || len(ops) != 1 {
				t.Fatalf("first sync, all: %v", ops)
			}
			for uid, subject := range uids {
				if subject == "Gone" {
					expunge(t, dc, mailbox, imap.UID(uid))
				}
			}

			// One week: "Old" is outside, "Gone" was expunged.
			res, ops = sync(res.SyncKey, 3)
			want := map[string][]string{"Delete": {"Gone"}}
			want[tc.narrowOld] = append(want[tc.narrowOld], "Old")
			for _, l := range want {
				slices.Sort(l)
			}
			if !mapsEqual(ops, want) {
				t.Fatalf("filter change to one week: %v, want %v", ops, want)
			}
			key := res.SyncKey

			// Half an hour later: no check due, nothing to send.
			clock.Store(start.Add(30 * time.Minute).UnixNano())
			if res, ops = sync(key, 3); len(ops) != 0 {
				t.Fatalf("half an hour later: %v", ops)
			}
			key = res.SyncKey

			// Three hours later "Edge" is older than the window.
			clock.Store(start.Add(3 * time.Hour).UnixNano())
			res, ops = sync(key, 3)
			if len(ops["SoftDelete"]) != tc.agedOpsHit || len(ops) > 1 || (tc.agedOpsHit > 0 && ops["SoftDelete"][0] != "Edge") {
				t.Fatalf("three hours later: %v", ops)
			}
			key = res.SyncKey
			// The check is remembered: the next Sync within the hour does
			// not search again.
			col, err := st.Collection(ctx, s.l.user, device, id)
			if err != nil {
				t.Fatal(err)
			}
			saved, err := decodeMailState(col.Data, false)
			if err != nil {
				t.Fatal(err)
			}
			if wantAged := start.Add(3 * time.Hour).UnixNano(); tc.ager && saved.AgedAt != wantAged {
				t.Errorf("AgedAt %d, want %d", saved.AgedAt, wantAged)
			}
			if res, ops = sync(key, 3); len(ops) != 0 {
				t.Fatalf("again: %v", ops)
			}
			// Back to all: what left by SoftDelete comes back.
			_, ops = sync(res.SyncKey, 0)
			wantBack := []string{"Old"}
			if tc.ager {
				wantBack = []string{"Edge", "Old"}
			}
			if !slices.Equal(ops["Add"], wantBack) || len(ops) != 1 {
				t.Fatalf("filter back to all: %v, want Adds %v", ops, wantBack)
			}
		})
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
