package ui

import (
	"context"

	"easbridge/app"
	"easbridge/app/logbus"
)

// Source is what the window shows: the runtime's status and its exchange
// log. RuntimeSource adapts an *app.Runtime; tests pass a fake.
type Source interface {
	// Status is a snapshot of the server; it may block briefly (it reads
	// the device list from the store), so the UI calls it off the UI
	// goroutine.
	Status(ctx context.Context) app.Status
	// Subscribe, Recent and Clear are those of logbus.Bus.
	Subscribe(ctx context.Context, buf int) <-chan logbus.Exchange
	Recent(n int) []logbus.Exchange
	Clear()
}

// RuntimeSource is the Source of a running easbridge.
func RuntimeSource(rt *app.Runtime) Source { return runtimeSource{rt} }

type runtimeSource struct{ rt *app.Runtime }

func (s runtimeSource) Status(ctx context.Context) app.Status { return s.rt.Status(ctx) }

func (s runtimeSource) Subscribe(ctx context.Context, buf int) <-chan logbus.Exchange {
	return s.rt.Bus.Subscribe(ctx, buf)
}

func (s runtimeSource) Recent(n int) []logbus.Exchange { return s.rt.Bus.Recent(n) }

func (s runtimeSource) Clear() { s.rt.Bus.Clear() }
