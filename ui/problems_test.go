package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"easbridge/app"
)

// problemSource is a fakeSource with poison items and out-of-office states;
// Retry and Skip change the items as the runtime does.
type problemSource struct {
	*fakeSource
	pmu    sync.Mutex
	items  []app.PoisonItem
	oof    []app.OofState
	failOn string // an action ("retry", "skip") that fails
}

func (p *problemSource) PoisonItems(context.Context) ([]app.PoisonItem, error) {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	return append([]app.PoisonItem(nil), p.items...), nil
}

func (p *problemSource) change(verb, user, id string, f func(*app.PoisonItem)) error {
	p.record(verb + " " + user + " " + id)
	if p.failOn == verb {
		return errors.New("store is locked")
	}
	p.pmu.Lock()
	defer p.pmu.Unlock()
	for i := range p.items {
		if p.items[i].ID == id && p.items[i].User == user {
			f(&p.items[i])
			return nil
		}
	}
	return errors.New("no such item")
}

func (p *problemSource) RetryPoisonItem(_ context.Context, user, id string) error {
	return p.change("retry", user, id, func(it *app.PoisonItem) { it.State, it.Tries = app.PoisonRetrying, 0 })
}

func (p *problemSource) SkipPoisonItem(_ context.Context, user, id string) error {
	return p.change("skip", user, id, func(it *app.PoisonItem) { it.State = app.PoisonSkipped })
}

func (p *problemSource) OofStates(context.Context) ([]app.OofState, error) { return p.oof, nil }

var (
	_ ProblemSource = (*problemSource)(nil)
	_ OofSource     = (*problemSource)(nil)
)

func newProblemSource() *problemSource {
	when := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	return &problemSource{
		fakeSource: newFakeSource(demoStatus()),
		items: []app.PoisonItem{
			{ID: "IPHONE2/7//alice/work/party.ics", User: "alice@example.com", DeviceID: "IPHONE2", Folder: "/alice/work/",
				Item: "/alice/work/party.ics", Kind: "convert", Tries: 3, State: app.PoisonSetAside,
				Reason:    "calconv: Calendar: line 22: calconv: invalid data: syntax error: components nested too deeply",
				FirstSeen: when, LastSeen: when.Add(2 * time.Minute)},
			{ID: "IPHONE2/2/uid:4711", User: "alice@example.com", DeviceID: "IPHONE2", Folder: "INBOX", Item: "uid:4711",
				Kind: "window", Tries: 3, State: app.PoisonSetAside,
				Reason:    "the device repeated SyncKey 3 times instead of taking the window with this item",
				FirstSeen: when.Add(time.Hour), LastSeen: when.Add(time.Hour)},
			{ID: "ANDROID1/9/change:9:12", User: "bob@example.com", DeviceID: "ANDROID1", Folder: "/bob/contacts/",
				Item: "change:9:12", Kind: "client", Tries: 3, State: app.PoisonSkipped,
				Reason: "the device's Change failed with Status 8", FirstSeen: when.Add(2 * time.Hour), LastSeen: when.Add(2 * time.Hour)},
		},
		oof: []app.OofState{
			{User: "alice@example.com", State: "scheduled", Until: time.Date(2027, 1, 6, 0, 0, 0, 0, time.Local)},
			{User: "bob@example.com", State: "off", Err: "not available: account home has no ManageSieve server"},
			{User: "carol@example.com"},
		},
	}
}

func problemWindow(t *testing.T, src *problemSource) *Window {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	w := newWindow(a, src, syncRunner)
	return w
}

func TestProblemsTab(t *testing.T) {
	src := newProblemSource()
	w := problemWindow(t, src)
	tab := w.ProblemsTab()
	if tab == nil || tab.Text != "Problems" {
		t.Fatalf("no Problems tab: %+v", w.Tabs.Items)
	}
	w.Tabs.Select(tab) // loads the list
	p := w.Problems
	if len(p.Rows) != 3 {
		t.Fatalf("%d rows, want 3", len(p.Rows))
	}
	if got := p.Summary.Text; got != "2 items need attention, 1 skipped for good." {
		t.Errorf("summary %q", got)
	}
	r := p.Rows[0]
	if !strings.Contains(r.Title.Text, "/alice/work/party.ics") || !strings.Contains(r.Reason.Text, "nested too deeply") ||
		!strings.HasPrefix(r.State.Text, "Set aside · could not be converted after 3 tries · alice@example.com on IPHONE2") {
		t.Errorf("row 0: %q / %q / %q", r.Title.Text, r.Reason.Text, r.State.Text)
	}
	if p.Rows[2].Skip.Disabled() != true || p.Rows[2].Retry.Disabled() {
		t.Error("a skipped item must offer Retry only")
	}

	// Retry the first: the source is asked, the list reloads.
	test.Tap(p.Rows[0].Retry)
	if calls := src.Calls(); len(calls) == 0 || calls[len(calls)-1] != "retry alice@example.com IPHONE2/7//alice/work/party.ics" {
		t.Fatalf("calls %v", src.Calls())
	}
	if !strings.HasPrefix(p.Rows[0].State.Text, "Retrying") || !p.Rows[0].Retry.Disabled() || p.Result.Text != "Retry: /alice/work/party.ics" {
		t.Errorf("after Retry: %q, retry disabled %v, result %q", p.Rows[0].State.Text, p.Rows[0].Retry.Disabled(), p.Result.Text)
	}
	// Skip the second for good.
	test.Tap(p.Rows[1].Skip)
	if !strings.HasPrefix(p.Rows[1].State.Text, "Skipped") || p.Summary.Text != "1 items need attention, 2 skipped for good." {
		t.Errorf("after Skip: %q, %q", p.Rows[1].State.Text, p.Summary.Text)
	}
	// A failing action says so and changes nothing.
	src.failOn = "skip"
	test.Tap(p.Rows[0].Skip)
	if !strings.Contains(p.Result.Text, "Skip failed: store is locked") || strings.HasPrefix(p.Rows[0].State.Text, "Skipped") {
		t.Errorf("failed Skip: result %q, state %q", p.Result.Text, p.Rows[0].State.Text)
	}
	src.failOn = ""

	// Nothing left: the summary says so.
	src.items = nil
	test.Tap(p.Reload)
	if len(p.Rows) != 0 || p.Summary.Text != "No problems: every item synced." {
		t.Errorf("empty: %d rows, %q", len(p.Rows), p.Summary.Text)
	}
}

func TestOutOfOfficeSection(t *testing.T) {
	src := newProblemSource()
	w := problemWindow(t, src)
	w.Tabs.SelectIndex(TabAccounts)
	var lines []string
	for _, o := range w.Oof.Lines.Objects {
		lines = append(lines, o.(*widget.Label).Text)
	}
	want := []string{
		"alice@example.com: scheduled until 2027-01-06 00:00",
		"bob@example.com: not available: account home has no ManageSieve server",
		"carol@example.com: never set from a phone",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if got, min := w.Oof.Content.Size().Height, w.Oof.Content.MinSize().Height; got < min {
		t.Errorf("out-of-office card %v high, its lines need %v", got, min)
	}
	if got := OofText(app.OofState{State: "on", Err: "sieve: PUTSCRIPT: NO"}); got != "on (last change failed: sieve: PUTSCRIPT: NO)" {
		t.Errorf("OofText = %q", got)
	}
	// Without the runtime's abilities there is no section and no crash.
	plain := NewWindow(test.NewTempApp(t), newFakeSource(demoStatus()))
	if plain.Oof.src != nil || plain.Problems.src != nil || !plain.Problems.Reload.Disabled() {
		t.Error("a source without problems or out of office must show neither")
	}
}

// TestScreenshotProblems renders the Problems tab and the Accounts tab with
// its out-of-office section, like TestScreenshots (-update writes them to
// docs/screenshots).
func TestScreenshotProblems(t *testing.T) {
	src := newProblemSource()
	w := problemWindow(t, src)
	w.SetStatus(src.Status(context.Background()))
	for _, s := range []struct {
		name string
		open func()
	}{
		{"problems", func() { w.Tabs.Select(w.ProblemsTab()) }},
		{"accounts-oof", func() { w.Tabs.SelectIndex(TabAccounts) }},
	} {
		s.open()
		shot(t, w, s.name)
	}
}
