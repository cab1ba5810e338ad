package app

import (
	"context"
	"sync"
	"time"

	"easbridge/app/mdns"
)

// SetReadHeaderTimeout shortens the header deadline of runtimes started
// afterwards and returns the function that restores it.
func SetReadHeaderTimeout(d time.Duration) (restore func()) {
	old := readHeaderTimeout
	readHeaderTimeout = d
	return func() { readHeaderTimeout = old }
}

// SetEngineClock makes runtimes started afterwards use now as the sync
// engine's clock (FilterType windows, ageing) and returns the function
// that restores the wall clock.
func SetEngineClock(now func() time.Time) (restore func()) {
	old := engineNow
	engineNow = now
	return func() { engineNow = old }
}

// FakeMDNS makes runtimes started afterwards announce themselves (also on
// loopback) through a fake that counts live announcements, instead of
// multicasting; restore undoes it.
func FakeMDNS() (live func() int, restore func()) {
	var mu sync.Mutex
	n := 0
	oldFn, oldLoop := advertiseMDNS, mdnsOnLoopback
	advertiseMDNS = func(ctx context.Context, s mdns.Service, o mdns.Options) (mdns.Advertiser, error) {
		mu.Lock()
		n++
		mu.Unlock()
		return &fakeAdvertiser{close: func() { mu.Lock(); n--; mu.Unlock() }}, nil
	}
	mdnsOnLoopback = true
	return func() int { mu.Lock(); defer mu.Unlock(); return n },
		func() { advertiseMDNS, mdnsOnLoopback = oldFn, oldLoop }
}

type fakeAdvertiser struct {
	once  sync.Once
	close func()
}

func (f *fakeAdvertiser) Close() error { f.once.Do(f.close); return nil }
