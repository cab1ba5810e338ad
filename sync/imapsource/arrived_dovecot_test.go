package imapsource

import (
	"slices"
	"testing"

	"easbridge/sync/testenv"
)

// Arrived sees what another session stored after this one selected the
// mailbox, and never a UID below minUID (which "minUID:*" matches when
// minUID is past the last UID).
func TestDovecotArrived(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := ctxT(t)
	var cc cmdCounter
	a := countingAccount(t, d, &cc)
	old := uint32(d.Append(t, "alice", "Archive", rfc822(append(header("kept twice"), "", "old copy")...)))
	st, err := a.Status(ctx, "Archive")
	if err != nil {
		t.Fatal(err)
	}
	next := st.UIDNext
	if got, err := a.Arrived(ctx, "Archive", next, "<kept.twice@example.test>"); err != nil || len(got) != 0 {
		t.Fatalf("nothing arrived yet: %v %v", got, err)
	}
	// Stored by another session while this one has Archive selected.
	fresh := uint32(d.Append(t, "alice", "Archive", rfc822(append(header("kept twice"), "", "new copy")...)))
	other := uint32(d.Append(t, "alice", "Archive", rfc822(append(header("other"), "", "x")...)))
	for _, tc := range []struct {
		name      string
		minUID    uint32
		messageID string
		want      []uint32
	}{
		{"same Message-ID since UIDNEXT", next, "<kept.twice@example.test>", []uint32{fresh}},
		{"same Message-ID, all", 1, "<kept.twice@example.test>", []uint32{old, fresh}},
		{"any message since UIDNEXT", next, "", []uint32{fresh, other}},
		{"unknown Message-ID", 1, "<nobody@example.test>", nil},
		{"past the last UID", other + 1, "", nil},
	} {
		got, err := a.Arrived(ctx, "Archive", tc.minUID, tc.messageID)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
}
