package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	gosync "sync"
	"testing"

	"easbridge/server"
	"easbridge/sync/davsource"
	"easbridge/sync/testenv"
)

// requestLog records the requests of a davsource.Account.
type requestLog struct {
	mu  gosync.Mutex
	log []string
}

func (r *requestLog) hook(method, path string) {
	r.mu.Lock()
	r.log = append(r.log, method+" "+path)
	r.mu.Unlock()
}

func (r *requestLog) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

// TestGALCacheAgainstRadicale runs the address list over a real Radicale:
// the shared book configured by URL is not read twice, a look-up with no
// change costs one REPORT per address book, and a changed card is the
// only one fetched again.
func TestGALCacheAgainstRadicale(t *testing.T) {
	r := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	seed := r.SeedDefault(t, "alice")
	ctx := context.Background()
	dir := r.MakeAddressBook(t, "alice", "directory", "Directory")
	for i := range 30 {
		r.Put(t, "alice", fmt.Sprintf("%sp%02d.vcf", dir, i), "text/vcard", []byte(fmt.Sprintf(
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:p%02d\r\nFN:Person %02d\r\nN:%02d;Person;;;\r\nEMAIL:p%02d@contoso.com\r\nORG:Contoso\r\nEND:VCARD\r\n", i, i, i, i)))
	}

	var userLog, sharedLog requestLog
	log := slog.New(slog.DiscardHandler)
	acct := &Account{
		DAV: &davsource.Config{URL: r.URL, OnRequest: userLog.hook},
		GAL: &davsource.Config{URL: strings.TrimSuffix(r.URL, "/") + dir, OnRequest: sharedLog.hook},
	}
	dav := davsource.NewAccount(*acct.DAV, "alice", "alicepw", log)
	l := &login{user: "alice@" + testenv.Domain, email: "alice@" + testenv.Domain, dav: dav}
	l.openGAL(acct, dav, "alice", "alicepw", log)
	t.Cleanup(l.close)
	t.Cleanup(func() { dav.Close() })
	s := &session{e: &Engine{log: log}, l: l}

	look := func(q string) (string, int) {
		t.Helper()
		got, total, err := s.SearchGAL(ctx, server.GALQuery{Text: q, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		return entrySummary(got), total
	}
	if got, total := look("person"); got != "Person 00<p00@contoso.com>, Person 01<p01@contoso.com>, Person 02<p02@contoso.com>" || total != 30 {
		t.Fatalf("first look-up: %s (%d)", got, total)
	}
	if got, _ := look("carol"); got != "Carol Example<carol@"+testenv.Domain+">c" {
		t.Errorf("the user's contacts: %s", got)
	}
	userLog.take()
	sharedLog.take()

	// No change: one REPORT per address book (contacts and office of the
	// user, the directory once, as the shared book).
	look("erin")
	u, sh := userLog.take(), sharedLog.take()
	if len(sh) != 1 || sh[0] != "REPORT "+dir {
		t.Errorf("shared book requests %v", sh)
	}
	sort.Strings(u)
	if want := []string{"REPORT " + seed.Contacts, "REPORT " + seed.Office}; strings.Join(u, "|") != strings.Join(want, "|") {
		t.Errorf("user book requests %v, want %v", u, want)
	}

	// One changed card: one sync REPORT per book and one multiget.
	r.Put(t, "alice", dir+"p07.vcf", "text/vcard", []byte(
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:p07\r\nFN:Zoe Renamed\r\nN:Renamed;Zoe;;;\r\nEMAIL:p07@contoso.com\r\nEND:VCARD\r\n"))
	if got, total := look("zoe"); got != "Zoe Renamed<p07@contoso.com>" || total != 1 {
		t.Errorf("after a change: %s (%d)", got, total)
	}
	if sh := sharedLog.take(); len(sh) != 2 {
		t.Errorf("shared book requests after one change: %v", sh)
	}
	if _, total := look("person"); total != 29 {
		t.Errorf("person: %d, want 29", total)
	}
}
