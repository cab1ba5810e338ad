package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"easbridge/sync/engine"
)

// PoisonItem is an item that kept failing to sync (sync/engine poison.go),
// for the window's Problems list.
type PoisonItem struct {
	ID       string // pass to RetryPoisonItem / SkipPoisonItem with User
	User     string
	DeviceID string
	// Folder is the source folder (mailbox, collection path).
	Folder string
	// Item is the source item (DAV path, "uid:N", or the phone's command).
	Item string
	// Kind is "convert", "window" or "client".
	Kind   string
	Reason string
	Tries  int
	// State is "failing" (still tried), "set aside", "skipped" (for good)
	// or "retrying" (queued again for the next sync).
	State               string
	FirstSeen, LastSeen time.Time
}

// Poison item states.
const (
	PoisonFailing  = "failing"
	PoisonSetAside = "set aside"
	PoisonSkipped  = "skipped"
	PoisonRetrying = "retrying"
)

// PoisonItems lists the items that kept failing, of every user with a
// device, oldest first.
func (r *Runtime) PoisonItems(ctx context.Context) ([]PoisonItem, error) {
	devs, err := r.Store.Devices(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: poison items: %w", err)
	}
	known := map[string]bool{} // user/device: records of forgotten devices are not shown
	for _, d := range devs {
		known[d.User+"/"+d.ID] = true
	}
	seen := map[string]bool{}
	var out []PoisonItem
	for _, d := range devs {
		if seen[d.User] {
			continue
		}
		seen[d.User] = true
		items, err := r.Engine.PoisonItems(ctx, d.User)
		if err != nil {
			return nil, fmt.Errorf("app: poison items: %w", err)
		}
		for _, it := range items {
			if known[it.User+"/"+it.DeviceID] {
				out = append(out, poisonItem(it))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FirstSeen.Before(out[j].FirstSeen) })
	return out, nil
}

func poisonItem(it engine.PoisonItem) PoisonItem {
	p := PoisonItem{
		ID: it.ID, User: it.User, DeviceID: it.DeviceID, Item: it.Item, Kind: it.Kind, Reason: it.Reason,
		Tries: it.Tries, FirstSeen: it.FirstSeen, LastSeen: it.LastSeen, State: PoisonFailing,
	}
	if _, rest, ok := strings.Cut(it.Folder, ":"); ok {
		p.Folder = rest
	} else {
		p.Folder = it.Folder
	}
	switch {
	case it.Skipped:
		p.State = PoisonSkipped
	case it.Retry:
		p.State = PoisonRetrying
	case it.SetAside:
		p.State = PoisonSetAside
	}
	return p
}

// RetryPoisonItem queues an item again: the next sync of its folder tries
// it anew (a phone's own change is forgotten; the phone sends it again).
func (r *Runtime) RetryPoisonItem(ctx context.Context, user, id string) error {
	if err := r.Engine.RetryPoisonItem(ctx, user, id); err != nil {
		return fmt.Errorf("app: retry: %w", err)
	}
	return nil
}

// SkipPoisonItem sets an item aside for good: never retried, still listed
// as skipped.
func (r *Runtime) SkipPoisonItem(ctx context.Context, user, id string) error {
	if err := r.Engine.SkipPoisonItem(ctx, user, id); err != nil {
		return fmt.Errorf("app: skip: %w", err)
	}
	return nil
}
