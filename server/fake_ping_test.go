package server

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"

	"easbridge/server/eas"
)

// The push side of the fake backend. pingBackend wraps a fakeBackend and
// hands out sessions that also implement Pinger (and, with cache set,
// PingCache), backed by one fakePush:
//
//   - signal(ids…) marks folders changed for every device that called
//     WaitForChanges before; that device's waiting or next call that
//     watches one of them returns it (and clears it for the device);
//   - folder "broken" makes WaitForChanges fail with a plain error, a
//     folder the fake backend does not know with eas.ErrNotFound;
//   - waiters() is the number of WaitForChanges calls in progress, so that
//     tests know when a request is parked.

var (
	_ Pinger    = (*fakePingSession)(nil)
	_ PingCache = (*fakeCachingPingSession)(nil)
)

type pingBackend struct {
	*fakeBackend
	push  *fakePush
	cache bool // sessions implement PingCache
}

func newPingBackend(cache bool) *pingBackend {
	b := newFakeBackend()
	return &pingBackend{fakeBackend: b, push: newFakePush(b), cache: cache}
}

func (b *pingBackend) Login(ctx context.Context, user, password string) (Session, error) {
	s, err := b.fakeBackend.Login(ctx, user, password)
	if err != nil {
		return nil, err
	}
	ps := fakePingSession{fakeSession: s.(*fakeSession), push: b.push}
	if b.cache {
		return &fakeCachingPingSession{ps}, nil
	}
	return &ps, nil
}

type fakePush struct {
	b *fakeBackend

	mu      gosync.Mutex
	pending map[string]map[string]bool // device → folder id → changed, not reported yet
	wake    chan struct{}              // closed and replaced by every signal
	waiting int
	calls   int
	last    []PingFolder // folders of the last WaitForChanges
	params  map[string]pingParams
}

func newFakePush(b *fakeBackend) *fakePush {
	return &fakePush{b: b, pending: map[string]map[string]bool{}, wake: make(chan struct{}), params: map[string]pingParams{}}
}

func (p *fakePush) signal(ids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, dev := range p.pending {
		for _, id := range ids {
			dev[id] = true
		}
	}
	close(p.wake)
	p.wake = make(chan struct{})
}

func (p *fakePush) waiters() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiting
}

func (p *fakePush) lastFolders() []PingFolder {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PingFolder(nil), p.last...)
}

type fakePingSession struct {
	*fakeSession
	push *fakePush
}

func (s *fakePingSession) WaitForChanges(ctx context.Context, deviceID string, folders []PingFolder) ([]string, error) {
	p := s.push
	for _, f := range folders {
		if f.ID == "broken" {
			return nil, errors.New("fake: push on fire")
		}
		s.b.mu.Lock()
		known := s.b.hasFolder(f.ID)
		s.b.mu.Unlock()
		if !known {
			return nil, fmt.Errorf("fake: folder %s: %w", f.ID, eas.ErrNotFound)
		}
	}
	p.mu.Lock()
	if p.pending[deviceID] == nil {
		p.pending[deviceID] = map[string]bool{}
	}
	pending := p.pending[deviceID]
	p.calls++
	p.waiting++
	p.last = append([]PingFolder(nil), folders...)
	defer func() {
		p.mu.Lock()
		p.waiting--
		p.mu.Unlock()
	}()
	for {
		var got []string
		for _, f := range folders {
			if pending[f.ID] {
				got = append(got, f.ID)
				delete(pending, f.ID)
			}
		}
		wake := p.wake
		p.mu.Unlock()
		if len(got) > 0 {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-wake:
		}
		p.mu.Lock()
	}
}

type fakeCachingPingSession struct{ fakePingSession }

func (s *fakeCachingPingSession) PingParams(ctx context.Context, user, deviceID string) (int, []PingFolder, bool, error) {
	p := s.push
	p.mu.Lock()
	defer p.mu.Unlock()
	pp, ok := p.params[pushKey(user, deviceID)]
	return pp.hb, pp.folders, ok, nil
}

func (s *fakeCachingPingSession) SetPingParams(ctx context.Context, user, deviceID string, hb int, folders []PingFolder) error {
	p := s.push
	p.mu.Lock()
	defer p.mu.Unlock()
	p.params[pushKey(user, deviceID)] = pingParams{hb: hb, folders: append([]PingFolder(nil), folders...)}
	return nil
}
