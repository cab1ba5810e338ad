package engine

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/emersion/go-imap/v2"

	"easbridge/sync/imapsource"
	"easbridge/sync/source"
	"easbridge/sync/state"
	"easbridge/sync/testenv"
)

func TestMessageIDOf(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"Subject: x\r\nMessage-ID: <a@b>\r\n\r\n", "<a@b>"},
		{"message-id:   <a@b> \r\n\r\n", "<a@b>"},
		{"Message-ID:\r\n <folded@b>\r\n\r\n", "<folded@b>"},
		{"Subject: none\r\n\r\n", ""},
	} {
		if got := messageIDOf([]byte(tc.header)); got != tc.want {
			t.Errorf("messageIDOf(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

// racingMail is the account with a MOVE that another session's MOVE of the
// same message (a killed easbridge's, still running in Dovecot) beats to
// the destination: the copy lands after the repeat looked for it.
type racingMail struct {
	*imapsource.Account
	before func()
}

func (r racingMail) Move(ctx context.Context, mailbox string, uid uint32, dest string) (uint32, error) {
	r.before()
	return r.Account.Move(ctx, mailbox, uid, dest)
}

// listOnly hides source.ArrivalSearcher: the search falls back to List.
type listOnly struct{ source.Mail }

// The repeat of a MoveItems whose first try's MOVE lands only while the
// repeat moves the message too: the destination ends with one copy, the
// repeat's, which is the answer.
func TestMoveItemRaceWithKilledTry(t *testing.T) {
	dc := testenv.StartDovecot(t, testenv.DovecotOptions{})
	for i, tc := range []struct {
		name     string
		searcher bool
		msg      string
	}{
		{"UID SEARCH HEADER", true, "Message-ID: <race@example.test>\r\n"},
		{"List, no Message-ID", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			subject := "Race " + strconv.Itoa(i)
			dc.Append(t, "alice", "INBOX", []byte("From: bob@example.test\r\nTo: alice@example.test\r\nSubject: "+subject+
				"\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n"+tc.msg+"\r\nHello\r\n"))
			st, err := state.OpenSQLite(ctx, filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			icfg, _ := imapsource.ParseURL("imap://" + dc.IMAPAddr)
			e, err := New(Options{Store: st, Accounts: []Account{{Name: "a", IMAP: icfg, Domain: "example.test"}}, Log: discard()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close() })
			sess, err := e.Login(ctx, "alice", "alicepw")
			if err != nil {
				t.Fatal(err)
			}
			s := sess.(*session)
			const device = "racephone"
			ch, err := s.FolderSync(ctx, device, "0")
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{}
			for _, f := range ch.Adds {
				ids[f.DisplayName] = f.ServerID
			}
			inbox, archive := ids["Inbox"], ids["Archive"]
			uid := findSubject(t, dc, "INBOX", subject)[0]
			serverID := inbox + ":" + strconv.FormatUint(uint64(uid), 10)
			msgs, err := s.l.mail.Fetch(ctx, "INBOX", []uint32{uint32(uid)}, source.FetchSpec{})
			if err != nil || len(msgs) != 1 {
				t.Fatalf("fetch: %v", err)
			}
			// The killed try wrote its intent, sent its MOVE and died.
			s.beginMove(ctx, device, serverID, inbox, archive, "INBOX", "Archive", uint32(uid), msgs[0], nil)
			if in := s.unfinishedMove(ctx, device, serverID, archive); in == nil || in.MessageID != messageIDOf(msgs[0].Header) {
				t.Fatalf("intent %+v", in)
			}
			var m source.Mail = racingMail{s.l.mail.(*imapsource.Account), func() { copyWith(t, dc, uid) }}
			if !tc.searcher {
				m = listOnly{m}
			}
			s.l.mail = m

			dst, err := s.MoveItem(ctx, device, serverID, inbox, archive)
			if err != nil {
				t.Fatalf("MoveItem: %v", err)
			}
			if n := len(findSubject(t, dc, "INBOX", subject)); n != 0 {
				t.Errorf("%d left in the Inbox", n)
			}
			got := findSubject(t, dc, "Archive", subject)
			if len(got) != 1 || dst != archive+":"+strconv.FormatUint(uint64(got[0]), 10) {
				t.Fatalf("Archive has %v, DstMsgId %q", got, dst)
			}
			if in := s.unfinishedMove(ctx, device, serverID, archive); in != nil {
				t.Errorf("intent still unfinished: %+v", in)
			}
		})
	}
}

// copyWith copies INBOX UID uid to the Archive from a session of its own.
func copyWith(t *testing.T, dc *testenv.Dovecot, uid imap.UID) {
	cl := dc.Dial(t, "alice")
	defer cl.Close()
	if _, err := cl.Select("INBOX", nil).Wait(); err != nil {
		t.Error(err)
		return
	}
	if _, err := cl.Copy(imap.UIDSetNum(uid), "Archive").Wait(); err != nil {
		t.Error(err)
	}
}

// findSubject returns the UIDs of mailbox's messages with subject.
func findSubject(t *testing.T, dc *testenv.Dovecot, mailbox, subject string) []imap.UID {
	t.Helper()
	cl := dc.Dial(t, "alice")
	defer cl.Close()
	sd, err := cl.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sd.NumMessages == 0 {
		return nil
	}
	ms, err := cl.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []imap.UID
	for _, m := range ms {
		if m.Envelope != nil && m.Envelope.Subject == subject {
			out = append(out, m.UID)
		}
	}
	return out
}
