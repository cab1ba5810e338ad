package app_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	imap "github.com/emersion/go-imap/v2"

	"easbridge/server/wbxml"
	"easbridge/sync/testenv"
)

// A MoveItems cut short by a kill (soak seed 7, round 503): the intent was
// written, the IMAP MOVE copied the message (or finished) but easbridge
// died before it answered or recorded the move. The phone's repeat must
// leave exactly one copy in the destination and none in the source, and
// answer with that copy. The half-done state is made by hand: the intent
// in the device's moves record (sync/engine/moveintent.go) and the copy
// made by another IMAP client.
func TestMoveItemsFinishesHalfDoneMove(t *testing.T) {
	cases := []struct {
		name    string
		subject string // "Lunch?" has a Message-ID, "Report" has none
		// before the intent: a copy the user keeps in the Archive on purpose
		keptCopy bool
		// after the intent: "copy" (source stays), "move" (source gone) or "" (nothing happened)
		half string
	}{
		{"copied, source still there", "Lunch?", false, "copy"},
		{"moved, answer lost", "Lunch?", false, "move"},
		{"copied, no Message-ID", "Report", false, "copy"},
		{"moved, no Message-ID", "Report", false, "move"},
		{"nothing done, an older copy kept on purpose", "Lunch?", true, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := mailWorld(t)
			device := "intentphone" + strconv.Itoa(i)
			c, inbox, archive, inboxKey, archiveKey, bySubject := mailPhone(t, w, device)
			srcID := bySubject[tc.subject]
			if tc.keptCopy {
				copyOver(t, w.dovecot, tc.subject, false)
			}
			kept := uidsOf(t, w.dovecot, "Archive", tc.subject)
			writeIntent(t, w, device, srcID, archive, tc.subject)
			var made imap.UID
			if tc.half != "" {
				made = copyOver(t, w.dovecot, tc.subject, tc.half == "move")
			}

			st, dst := moveItems(t, c, srcID, inbox, archive)
			if st != "3" {
				t.Fatalf("MoveItems: status %s", st)
			}
			if n := len(uidsOf(t, w.dovecot, "INBOX", tc.subject)); n != 0 {
				t.Errorf("%d copies left in the Inbox", n)
			}
			got := uidsOf(t, w.dovecot, "Archive", tc.subject)
			if len(got) != len(kept)+1 {
				t.Fatalf("Archive has UIDs %v of %q, want the kept %v and one more", got, tc.subject, kept)
			}
			moved := got[len(got)-1]
			for i := range kept {
				if got[i] != kept[i] {
					t.Errorf("the copy kept on purpose (UID %d) is gone: %v", kept[i], got)
				}
			}
			if made != 0 && moved != made {
				t.Errorf("Archive has UID %d, not the half-done move's %d", moved, made)
			}
			if want := archive + ":" + strconv.FormatUint(uint64(moved), 10); dst != want {
				t.Errorf("DstMsgId %q, want %q", dst, want)
			}
			// The repeat of the repeat gets the same answer.
			if st2, dst2 := moveItems(t, c, srcID, inbox, archive); st2 != "3" || dst2 != dst {
				t.Errorf("third MoveItems: status %s, DstMsgId %q, want 3 and %q", st2, dst2, dst)
			}
			// The phone, which moved it itself, gets no Delete in the Inbox
			// and no second copy in the Archive.
			if a := syncOnce(t, c, inbox, inboxKey, 100); len(a.adds)+len(a.deletes) != 0 {
				t.Errorf("Inbox after the move: %s", wbxml.XMLString(a.root))
			}
			a := syncOnce(t, c, archive, archiveKey, 100)
			if len(a.adds) != len(kept) || len(a.deletes) != 0 {
				t.Errorf("Archive after the move (%d kept copies expected as Adds): %s", len(kept), wbxml.XMLString(a.root))
			}
		})
	}
}

// copyOver copies (or moves) alice's INBOX message with subject to the
// Archive with a client of its own and returns the copy's UID.
func copyOver(t *testing.T, d *testenv.Dovecot, subject string, move bool) imap.UID {
	t.Helper()
	uid, _ := findUID(t, d, "INBOX", subject)
	cl := d.Dial(t, "alice")
	defer cl.Close()
	if _, err := cl.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var dest imap.UIDSet
	if move {
		data, err := cl.Move(imap.UIDSetNum(uid), "Archive").Wait()
		if err != nil {
			t.Fatal(err)
		}
		dest, _ = data.DestUIDs.(imap.UIDSet)
	} else {
		data, err := cl.Copy(imap.UIDSetNum(uid), "Archive").Wait()
		if err != nil {
			t.Fatal(err)
		}
		dest = data.DestUIDs
	}
	uids, ok := dest.Nums()
	if !ok || len(uids) != 1 {
		t.Fatalf("COPYUID %v", dest)
	}
	return uids[0]
}

// uidsOf returns the UIDs of the messages with subject in mailbox, ascending.
func uidsOf(t *testing.T, d *testenv.Dovecot, mailbox, subject string) []imap.UID {
	t.Helper()
	cl := d.Dial(t, "alice")
	defer cl.Close()
	sel, err := cl.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	msgs, err := cl.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []imap.UID
	for _, m := range msgs {
		if m.Envelope != nil && m.Envelope.Subject == subject {
			out = append(out, m.UID)
		}
	}
	return out
}

// writeIntent records, as a killed easbridge would have before its IMAP
// MOVE, the intent of moving srcID (the INBOX message with subject) to the
// Archive: the device's per-user setting "moves/<device>".
func writeIntent(t *testing.T, w *world, device, srcID, dstColl, subject string) {
	t.Helper()
	ctx := context.Background()
	uid, _ := findUID(t, w.dovecot, "INBOX", subject)
	cl := w.dovecot.Dial(t, "alice")
	defer cl.Close()
	sd, err := cl.Status("Archive", &imap.StatusOptions{UIDValidity: true, UIDNext: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	si, err := cl.Status("INBOX", &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := cl.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, Envelope: true, RFC822Size: true, InternalDate: true}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch %q: %v", subject, err)
	}
	msgID := ""
	if id := msgs[0].Envelope.MessageID; id != "" {
		msgID = "<" + id + ">"
	}
	type intent struct {
		SrcBox      string
		SrcUID      uint32
		SrcValidity uint32
		DstBox      string
		DstValidity uint32
		DstNext     uint32
		MessageID   string
		Size        int64
		Date        time.Time
		Started     time.Time
	}
	type move struct {
		Src, DstColl, Dst string
		Intent            intent
	}
	rec, err := json.Marshal([]move{{Src: srcID, DstColl: dstColl, Intent: intent{
		SrcBox: "INBOX", SrcUID: uint32(uid), SrcValidity: si.UIDValidity, DstBox: "Archive", DstValidity: sd.UIDValidity, DstNext: uint32(sd.UIDNext),
		MessageID: msgID, Size: msgs[0].RFC822Size, Date: msgs[0].InternalDate, Started: time.Now(),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	users, err := w.rt.KnownUsers(ctx)
	if err != nil || len(users) != 1 {
		t.Fatalf("users %v: %v", users, err)
	}
	if err := w.rt.Store.PutSetting(ctx, users[0], "moves/"+device, rec); err != nil {
		t.Fatal(err)
	}
}
