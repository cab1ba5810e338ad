package engine

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"easbridge/server"
)

// BenchmarkGALSearch is one Search GAL over a cached address list of
// 2,000 cards (the no-change refresh is one call to the fake source): the
// CPU cost of matching and ranking per look-up.
func BenchmarkGALSearch(b *testing.B) {
	user := newFakeDAV()
	for i := range 2000 {
		user.put(contactsBook, fmt.Sprintf("/alice/contacts/%04d.vcf", i),
			vcard(fmt.Sprintf("Person%04d Smith%d", i, i%50), fmt.Sprintf("Smith%d;Person%04d;;;", i%50, i),
				fmt.Sprintf("EMAIL:p%04d@contoso.com", i), "ORG:Contoso", "TEL;TYPE=WORK:+1 425 555 0102"))
	}
	g := &galBooks{user: user, folders: user, log: slog.New(slog.DiscardHandler), books: map[string]*galBook{}}
	user.folders = user.folders[:0]
	user.folders = append(user.folders, fakeFolder(contactsBook))
	s := &session{e: &Engine{log: slog.New(slog.DiscardHandler)}, l: &login{email: "alice@example.test", gal: g, dav: user}}
	ctx := context.Background()
	if _, total, err := s.SearchGAL(ctx, server.GALQuery{Text: "smith1", Limit: 100}); err != nil || total != 440 {
		b.Fatalf("warm-up: %d %v", total, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, _, err := s.SearchGAL(ctx, server.GALQuery{Text: "smith1", Limit: 100}); err != nil {
			b.Fatal(err)
		}
	}
}
