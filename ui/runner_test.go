package ui

import (
	"context"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"easbridge/app"
)

// syncRunner is a runner that does the work and then its UI part at once on
// the calling goroutine: tests build their windows with it (newWindow), so
// every load and action has finished when the tap or call returns.
func syncRunner(win fyne.Window) *runner {
	r := newRunner(win)
	r.bg = func(f func()) { f() }
	r.ui = func(f func()) { f() }
	return r
}

func TestRunnerHandsResultToUI(t *testing.T) {
	r := newRunner(nil)
	q := make(chan func(), 1)
	r.ui = func(f func()) { q <- f }
	shown := ""
	r.Go(func(ctx context.Context) func() {
		_, bounded := ctx.Deadline()
		text := "loaded"
		if !bounded {
			text = "no deadline"
		}
		return func() { shown = text }
	})
	select {
	case f := <-q:
		if shown != "" {
			t.Fatal("the UI part ran before the UI goroutine ran it")
		}
		f()
	case <-time.After(5 * time.Second):
		t.Fatal("the UI part was never handed over")
	}
	if shown != "loaded" {
		t.Errorf("shown %q", shown)
	}
}

// readLog is a problemSource that records which tab data it was asked for.
type readLog struct{ *problemSource }

func (r readLog) PoisonItems(ctx context.Context) ([]app.PoisonItem, error) {
	r.record("read problems")
	return r.problemSource.PoisonItems(ctx)
}

func (r readLog) OofStates(ctx context.Context) ([]app.OofState, error) {
	r.record("read out of office")
	return r.problemSource.OofStates(ctx)
}

// TestWindowLoadsOnStartAndSelect: building the window reads nothing, even
// with a remembered tab that has data to load; Start loads that tab, and
// selecting a tab loads it again.
func TestWindowLoadsOnStartAndSelect(t *testing.T) {
	problemsTab := TabLogs + 1
	for _, tc := range []struct {
		name     string
		tab      int
		onStart  []string
		selected int
		onSelect []string
	}{
		{"overview", TabOverview, nil, problemsTab, []string{"read problems"}},
		{"accounts", TabAccounts, []string{"read out of office"}, problemsTab, []string{"read problems"}},
		{"problems", problemsTab, []string{"read problems"}, TabAccounts, []string{"read out of office"}},
		{"policies", TabPolicies, nil, TabDevices, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			a.Preferences().SetInt(PrefTab, tc.tab)
			src := readLog{newProblemSource()}
			w := newWindow(a, src, syncRunner)
			if w.Tabs.SelectedIndex() != tc.tab {
				t.Fatalf("tab %d, want %d", w.Tabs.SelectedIndex(), tc.tab)
			}
			if calls := src.Calls(); len(calls) != 0 {
				t.Fatalf("NewWindow read %q", calls)
			}
			w.Start()
			if calls := src.Calls(); !slices.Equal(calls, tc.onStart) {
				t.Errorf("Start read %q, want %q", calls, tc.onStart)
			}
			w.Tabs.SelectIndex(tc.selected)
			if calls := src.Calls()[len(tc.onStart):]; !slices.Equal(calls, tc.onSelect) {
				t.Errorf("selecting tab %d read %q, want %q", tc.selected, calls, tc.onSelect)
			}
			if a.Preferences().Int(PrefTab) != tc.selected {
				t.Errorf("saved tab %d", a.Preferences().Int(PrefTab))
			}
		})
	}
}
