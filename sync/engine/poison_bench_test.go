package engine

import (
	"context"
	"fmt"
	"testing"

	"easbridge/server"
)

// BenchmarkPoisonPerSync is what the poison records add to one DAV Sync:
// reading the user's records, checking a window of 50 items against them
// and saving nothing (no failure). With 0 and with 100 records.
func BenchmarkPoisonPerSync(b *testing.B) {
	for _, n := range []int{0, 100} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			e := poisonEngine(b)
			s := poisonSession(e)
			ctx := context.Background()
			req := &server.SyncCollection{CollectionID: "7", SyncKey: "4"}
			r := s.poisonFor(ctx, "dev1", req, "caldav:/alice/work/", false)
			for i := range n {
				r.fail(fmt.Sprintf("/alice/work/%d.ics", i), "e1", PoisonConvert, "bad")
			}
			if err := r.b.save(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r := s.poisonFor(ctx, "dev1", req, "caldav:/alice/work/", false)
				for i := range 50 {
					r.aside(fmt.Sprintf("/alice/work/x%d.ics", i), "e1")
				}
				if err := r.b.save(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
