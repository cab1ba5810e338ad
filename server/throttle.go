package server

import (
	"net"
	"sync"
	"time"
)

// ThrottleOptions sets how failed logins are slowed and then blocked per
// source address.
type ThrottleOptions struct {
	// FailuresBeforeDelay failures are answered at once; after them each
	// failure is answered after a growing delay (1 s, 2 s, 4 s, at most
	// MaxDelay). Default 3.
	FailuresBeforeDelay int
	// FailuresBeforeBlock failures within Window block the address for
	// BlockFor. Default 10.
	FailuresBeforeBlock int
	// Window is how long a failure counts. Default 15 minutes.
	Window time.Duration
	// BlockFor is how long an address stays blocked. Default 15 minutes.
	BlockFor time.Duration
	// MaxDelay caps the delay of one answer. Default 4 s (short enough that
	// a phone's own request timeout, typically 30–60 s, is not reached).
	MaxDelay time.Duration
}

func (o ThrottleOptions) withDefaults() ThrottleOptions {
	if o.FailuresBeforeDelay <= 0 {
		o.FailuresBeforeDelay = 3
	}
	if o.FailuresBeforeBlock <= 0 {
		o.FailuresBeforeBlock = 10
	}
	if o.Window <= 0 {
		o.Window = 15 * time.Minute
	}
	if o.BlockFor <= 0 {
		o.BlockFor = 15 * time.Minute
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 4 * time.Second
	}
	return o
}

// throttle counts failed logins per source address.
type throttle struct {
	opts ThrottleOptions
	now  func() time.Time

	mu    sync.Mutex
	addrs map[string]*failures
}

type failures struct {
	count        int
	first        time.Time
	blockedUntil time.Time
}

func newThrottle(o ThrottleOptions, now func() time.Time) *throttle {
	return &throttle{opts: o.withDefaults(), now: now, addrs: map[string]*failures{}}
}

// blocked reports whether addr is blocked and for how much longer.
func (t *throttle) blocked(addr string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.addrs[addr]
	if f == nil {
		return false, 0
	}
	now := t.now()
	if now.Before(f.blockedUntil) {
		return true, f.blockedUntil.Sub(now)
	}
	return false, 0
}

// fail records a failed login from addr and returns how long to wait before
// answering.
func (t *throttle) fail(addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.addrs[addr]
	if f == nil || now.Sub(f.first) > t.opts.Window {
		f = &failures{first: now}
		t.addrs[addr] = f
	}
	f.count++
	if f.count >= t.opts.FailuresBeforeBlock {
		f.blockedUntil = now.Add(t.opts.BlockFor)
	}
	// Forget stale entries now and then so the map cannot grow without bound.
	if len(t.addrs) > 10000 {
		for a, g := range t.addrs {
			if now.Sub(g.first) > t.opts.Window && now.After(g.blockedUntil) {
				delete(t.addrs, a)
			}
		}
	}
	over := f.count - t.opts.FailuresBeforeDelay
	if over <= 0 {
		return 0
	}
	d := time.Second << min(over-1, 10)
	return min(d, t.opts.MaxDelay)
}

// succeed forgets the failures of addr.
func (t *throttle) succeed(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.addrs[addr]; f != nil && !t.now().Before(f.blockedUntil) {
		delete(t.addrs, addr)
	}
}

// remoteIP is the address part of r.RemoteAddr.
func remoteIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}
