package ui

import (
	"context"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/app/logbus"
	"easbridge/server/eas"
)

// Source is what the window shows and changes: the runtime's status, its
// exchange log and the management actions of app/manage.go.
// RuntimeSource adapts an *app.Runtime; tests pass a fake.
type Source interface {
	// Status is a snapshot of the server; it may block briefly (it reads
	// the device list from the store), so the UI calls it off the UI
	// goroutine.
	Status(ctx context.Context) app.Status
	// Subscribe, Recent and Clear are those of logbus.Bus.
	Subscribe(ctx context.Context, buf int) <-chan logbus.Exchange
	Recent(n int) []logbus.Exchange
	Clear()

	// Device actions; they touch the store, so the UI calls them off the
	// UI goroutine.
	SetAccess(ctx context.Context, user, id string, a eas.Access) error
	RequestWipe(ctx context.Context, user, id string, accountOnly bool) error
	ForgetDevice(ctx context.Context, user, id string) error

	// Policy is fast; SetPolicy writes a file (called off the UI goroutine).
	Policy() eas.Policy
	SetPolicy(p eas.Policy) error

	// Accounts is fast; TestAccount logs in over the network (off the UI
	// goroutine).
	Accounts() []config.Account
	TestAccount(ctx context.Context, a config.Account, user, password string) []app.CheckResult

	// Fast setters and getters.
	Paused() bool
	SetPaused(bool)
	Redact() bool
	SetRedact(bool)
}

// RuntimeSource is the Source of a running easbridge.
func RuntimeSource(rt *app.Runtime) Source { return runtimeSource{rt} }

type runtimeSource struct{ *app.Runtime }

func (s runtimeSource) Subscribe(ctx context.Context, buf int) <-chan logbus.Exchange {
	return s.Bus.Subscribe(ctx, buf)
}

func (s runtimeSource) Recent(n int) []logbus.Exchange { return s.Bus.Recent(n) }

func (s runtimeSource) Clear() { s.Bus.Clear() }

// The runtime can change accounts and folder settings.
var (
	_ AccountEditor = runtimeSource{}
	_ FolderSource  = runtimeSource{}
)
