package imapsource

import (
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"easbridge/sync/testenv"
)

// OlderThan finds exactly the messages of the range with an INTERNALDATE
// before t, including those within a day of t (where IMAP's date-only
// SEARCH cannot decide), and none that were expunged.
func TestDovecotOlderThan(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ctx := ctxT(t)
	var cc cmdCounter
	a := countingAccount(t, d, &cc)
	at := time.Date(2026, 11, 20, 12, 30, 0, 0, time.UTC)
	offsets := []time.Duration{-30 * 24 * time.Hour, -25 * time.Hour, -time.Hour, -time.Second, time.Second, time.Hour, 3 * 24 * time.Hour}
	cl := d.Dial(t, "alice")
	defer cl.Close()
	var uids []uint32
	for i, off := range offsets {
		raw := rfc822(append(header("dated "+string(rune('a'+i))), "", "x")...)
		cmd := cl.Append("Archive", int64(len(raw)), &imap.AppendOptions{Time: at.Add(off)})
		if _, err := cmd.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		data, err := cmd.Wait()
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, uint32(data.UID))
	}
	// The one an hour before is expunged by another session.
	if _, err := cl.Select("Archive", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	gone := imap.UIDSetNum(imap.UID(uids[2]))
	if err := cl.Store(gone, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := cl.UIDExpunge(gone).Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		lo, hi uint32
		t      time.Time
		want   []uint32
	}{
		{"all", 1, uids[len(uids)-1], at, []uint32{uids[0], uids[1], uids[3]}},
		{"range", uids[1], uids[4], at, []uint32{uids[1], uids[3]}},
		{"one second later", 1, 1 << 30, at.Add(2 * time.Second), []uint32{uids[0], uids[1], uids[3], uids[4]}},
		{"long ago", 1, 1 << 30, at.AddDate(-1, 0, 0), nil},
		{"empty range", uids[3], uids[1], at, nil},
	} {
		got, err := a.OlderThan(ctx, "Archive", tc.lo, tc.hi, tc.t)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := a.OlderThan(ctx, "No such box", 1, 10, at); err == nil {
		t.Error("missing mailbox: no error")
	}
}
