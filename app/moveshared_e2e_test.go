package app_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// Two phones of one user move the same message (soak seed 42, round 98):
// phone A's MoveItems copied it to the Archive but Dovecot restarted before
// the expunge (Status 5, the intent stays unfinished), then phone B moved
// it too and the Archive had it twice. B must finish A's move instead: one
// copy, none in the Inbox, B's DstMsgId that copy; A's repeat then gets the
// same copy. The half-done state is made by hand as in
// TestMoveItemsFinishesHalfDoneMove.
func TestMoveItemsFinishesOtherDevicesHalfDoneMove(t *testing.T) {
	cases := []struct {
		name    string
		subject string // "Lunch?" has a Message-ID, "Report" has none
	}{
		{"with Message-ID", "Lunch?"},
		{"without Message-ID", "Report"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := mailWorld(t)
			n := strconv.Itoa(i)
			a, inbox, archive, aInboxKey, aArchiveKey, bySubject := mailPhone(t, w, "sharedA"+n)
			b, bInbox, bArchive, bInboxKey, bArchiveKey, bBySubject := mailPhone(t, w, "sharedB"+n)
			if bInbox != inbox || bArchive != archive || bBySubject[tc.subject] != bySubject[tc.subject] {
				t.Fatalf("the phones name the folders or message differently: %s/%s %s/%s", inbox, archive, bInbox, bArchive)
			}
			srcID := bySubject[tc.subject]
			writeIntent(t, w, "sharedA"+n, srcID, archive, tc.subject)
			made := copyOver(t, w.dovecot, tc.subject, false)

			st, dst := moveItems(t, b, srcID, inbox, archive)
			if st != "3" {
				t.Fatalf("phone B's MoveItems: status %s", st)
			}
			if n := len(uidsOf(t, w.dovecot, "INBOX", tc.subject)); n != 0 {
				t.Errorf("%d copies left in the Inbox", n)
			}
			if got := uidsOf(t, w.dovecot, "Archive", tc.subject); len(got) != 1 || got[0] != made {
				t.Fatalf("Archive has UIDs %v of %q, want only the half-done move's %d", got, tc.subject, made)
			}
			want := archive + ":" + strconv.FormatUint(uint64(made), 10)
			if dst != want {
				t.Errorf("phone B's DstMsgId %q, want %q", dst, want)
			}
			// A repeats its MoveItems: the same copy, still one.
			if st2, dst2 := moveItems(t, a, srcID, inbox, archive); st2 != "3" || dst2 != want {
				t.Errorf("phone A's repeat: status %s, DstMsgId %q, want 3 and %q", st2, dst2, want)
			}
			if got := uidsOf(t, w.dovecot, "Archive", tc.subject); len(got) != 1 {
				t.Errorf("Archive after A's repeat has UIDs %v of %q", got, tc.subject)
			}
			// Both phones moved it themselves: no Delete in the Inbox, no
			// Add in the Archive.
			for _, p := range []struct {
				name                 string
				c                    *easclient.Client
				inboxKey, archiveKey string
			}{{"A", a, aInboxKey, aArchiveKey}, {"B", b, bInboxKey, bArchiveKey}} {
				if s := syncOnce(t, p.c, inbox, p.inboxKey, 100); len(s.adds)+len(s.deletes) != 0 {
					t.Errorf("phone %s's Inbox after the move: %s", p.name, wbxml.XMLString(s.root))
				}
				if s := syncOnce(t, p.c, archive, p.archiveKey, 100); len(s.adds)+len(s.deletes) != 0 {
					t.Errorf("phone %s's Archive after the move: %s", p.name, wbxml.XMLString(s.root))
				}
			}
		})
	}
}

// Two phones of one user move the same message at the same time: one copy
// reaches the Archive, none stays in the Inbox, and every answer that says
// moved names that copy.
func TestConcurrentMoveItemsOfOneMessage(t *testing.T) {
	cases := []string{"Lunch?", "Report"}
	for i, subject := range cases {
		t.Run(subject, func(t *testing.T) {
			w := mailWorld(t)
			n := strconv.Itoa(i)
			a, inbox, archive, _, _, bySubject := mailPhone(t, w, "raceA"+n)
			b, _, _, _, _, _ := mailPhone(t, w, "raceB"+n)
			srcID := bySubject[subject]
			type answer struct{ status, dst string }
			answers := make([]answer, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for j, c := range []*easclient.Client{a, b} {
				wg.Go(func() {
					answers[j].status, answers[j].dst, errs[j] = tryMoveItems(c, srcID, inbox, archive)
				})
			}
			wg.Wait()
			for j, err := range errs {
				if err != nil {
					t.Fatalf("phone %d: %v", j, err)
				}
			}
			if n := len(uidsOf(t, w.dovecot, "INBOX", subject)); n != 0 {
				t.Errorf("%d copies left in the Inbox", n)
			}
			got := uidsOf(t, w.dovecot, "Archive", subject)
			if len(got) != 1 {
				t.Fatalf("Archive has UIDs %v of %q, want one", got, subject)
			}
			want := archive + ":" + strconv.FormatUint(uint64(got[0]), 10)
			moved := 0
			for j, an := range answers {
				switch an.status {
				case "3":
					moved++
					if an.dst != want {
						t.Errorf("phone %d: DstMsgId %q, want %q", j, an.dst, want)
					}
				case "1": // the other phone moved it first
				default:
					t.Errorf("phone %d: status %s", j, an.status)
				}
			}
			if moved == 0 {
				t.Errorf("no phone was told the message moved: %v", answers)
			}
		})
	}
}

// tryMoveItems is moveItems for other goroutines than the test's.
func tryMoveItems(c *easclient.Client, src, srcFolder, dstFolder string) (status, dst string, err error) {
	mv := wbxml.NSMove
	r, err := c.Do(context.Background(), "MoveItems", wbxml.New(mv, "MoveItems", wbxml.New(mv, "Move",
		wbxml.Text(mv, "SrcMsgId", src), wbxml.Text(mv, "SrcFldId", srcFolder), wbxml.Text(mv, "DstFldId", dstFolder))))
	if err != nil {
		return "", "", fmt.Errorf("MoveItems: %w", err)
	}
	if r.Root == nil {
		return "", "", fmt.Errorf("MoveItems: empty answer")
	}
	resp := r.Root.Child(wbxml.NSMove, "Response")
	return resp.ChildText(mv, "Status"), resp.ChildText(mv, "DstMsgId"), nil
}
