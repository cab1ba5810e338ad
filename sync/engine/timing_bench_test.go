package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"easbridge/sync/source"
	"easbridge/sync/state"
)

// timedMail and timedStore measure where an initial sync spends its time.
type timedMail struct {
	source.Mail
	fetch, list time.Duration
}

func (t *timedMail) Fetch(ctx context.Context, mb string, uids []uint32, spec source.FetchSpec) ([]*source.Message, error) {
	s := time.Now()
	defer func() { t.fetch += time.Since(s) }()
	return t.Mail.Fetch(ctx, mb, uids, spec)
}

func (t *timedMail) List(ctx context.Context, mb string, since time.Time) (source.MailboxStatus, []source.MessageState, error) {
	s := time.Now()
	defer func() { t.list += time.Since(s) }()
	return t.Mail.List(ctx, mb, since)
}

type timedStore struct {
	state.Store
	d time.Duration
}

func (t *timedStore) Collection(ctx context.Context, u, d, c string) (state.Collection, error) {
	s := time.Now()
	defer func() { t.d += time.Since(s) }()
	return t.Store.Collection(ctx, u, d, c)
}

func (t *timedStore) PutCollection(ctx context.Context, u, d, c string, p, n int, b []byte) error {
	s := time.Now()
	defer func() { t.d += time.Since(s) }()
	return t.Store.PutCollection(ctx, u, d, c, p, n, b)
}

func benchBreakdown(b *testing.B, env *benchEnv) {
	for _, box := range []string{"Bench1k", "Bench10k"} {
		tm := &timedMail{Mail: env.s.l.mail}
		ts := &timedStore{Store: env.s.e.opts.Store}
		env.s.l.mail = tm
		env.s.e.opts.Store = ts
		s := time.Now()
		env.syncAll(b, "breakdown"+box, env.ids[box])
		total := time.Since(s)
		env.s.l.mail, env.s.e.opts.Store = tm.Mail, ts.Store
		b.Logf("%s: total %v, IMAP fetch %v, IMAP list %v, state store %v, rest (conversion, encoding) %v",
			box, total, tm.fetch, tm.list, ts.d, total-tm.fetch-tm.list-ts.d)
		fmt.Println(box, total, tm.fetch, tm.list, ts.d)
	}
}
