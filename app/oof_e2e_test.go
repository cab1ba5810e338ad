package app_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/sieve"
	"easbridge/sync/testenv"
)

// oofWorld is easbridge in front of a real Dovecot (no DAV) whose
// ManageSieve is at sieveURL ("" for the default, the IMAP host on 4190).
func oofWorld(t *testing.T, d *testenv.Dovecot, sieveURL string) (*app.Runtime, *easclient.Client) {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLSOff
	cfg.DataDir = t.TempDir()
	cfg.Domain = testenv.Domain
	cfg.Accounts = []config.Account{{
		Name: "test", IMAP: "imap://" + d.IMAPAddr, SMTP: "smtp://" + d.SubmissionAddr,
		Sieve: sieveURL, Login: config.LoginPassthrough,
	}}
	rt, err := app.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	c := easclient.New("http://"+rt.Addr(), "alice", "alicepw", "oofphone")
	c.Version = "16.1"
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rt, c
}

// sieveAs logs in to the rig's ManageSieve as user, as another Sieve
// client (Roundcube, Thunderbird) would.
func sieveAs(t *testing.T, d *testenv.Dovecot, user string) *sieve.Client {
	t.Helper()
	ep, err := sieve.ParseURL("sieve://" + d.SieveAddr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sieve.Dial(context.Background(), ep, sieve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := d.User(t, user)
	if err := c.AuthenticatePlain(u.Name, u.Password); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func oofSet(state eas.OofState, start, end time.Time, internal, external string) *wbxml.Element {
	ns := wbxml.NSSettings
	set := wbxml.New(ns, "Set", wbxml.Int(ns, "OofState", int(state)))
	if state == eas.OofTimeBased {
		set.Add(wbxml.Text(ns, "StartTime", start.UTC().Format("2006-01-02T15:04:05.000Z")),
			wbxml.Text(ns, "EndTime", end.UTC().Format("2006-01-02T15:04:05.000Z")))
	}
	msg := func(aud eas.OofAudience, text string) *wbxml.Element {
		return wbxml.New(ns, "OofMessage", wbxml.Empty(ns, string(aud)), wbxml.Int(ns, "Enabled", 1),
			wbxml.Text(ns, "ReplyMessage", text), wbxml.Text(ns, "BodyType", "Text"))
	}
	if internal != "" {
		set.Add(msg(eas.OofInternal, internal))
	}
	if external != "" {
		set.Add(msg(eas.OofExternalKnown, external), msg(eas.OofExternalUnknown, external))
	}
	return wbxml.New(ns, "Settings", wbxml.New(ns, "Oof", set))
}

func oofGet() *wbxml.Element {
	ns := wbxml.NSSettings
	return wbxml.New(ns, "Settings", wbxml.New(ns, "Oof", wbxml.New(ns, "Get", wbxml.Text(ns, "BodyType", "Text"))))
}

// oofStatus sends a Settings Oof request and returns the Oof Status and
// the Oof element.
func oofDo(t *testing.T, c *easclient.Client, body *wbxml.Element) (int, *wbxml.Element) {
	t.Helper()
	r, err := c.Do(context.Background(), "Settings", body)
	if err != nil || r.Root == nil {
		t.Fatalf("Settings: %v %+v", err, r)
	}
	oof := r.Root.Child(wbxml.NSSettings, "Oof")
	if oof == nil {
		t.Fatalf("Settings answer without Oof: %s", r.Body)
	}
	st, _ := oof.ChildInt(wbxml.NSSettings, "Status")
	return st, oof
}

func activeScript(t *testing.T, d *testenv.Dovecot) string {
	t.Helper()
	name, err := sieveAs(t, d, "alice").Active()
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func TestOofOverManageSieveAgainstDovecot(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	d.CreateMailbox(t, "alice", "Lists")
	// Alice's own rule, made with another Sieve client, is active first.
	own := "require \"fileinto\";\nif header :contains \"X-Club\" \"chess\" { fileinto \"Lists\"; }\n"
	sc := sieveAs(t, d, "alice")
	if err := sc.PutScript("roundcube", own); err != nil {
		t.Fatal(err)
	}
	if err := sc.SetActive("roundcube"); err != nil {
		t.Fatal(err)
	}
	rt, c := oofWorld(t, d, "sieve://"+d.SieveAddr)

	// Before: Get says disabled.
	st, oof := oofDo(t, c, oofGet())
	if st != 1 || oof.Child(wbxml.NSSettings, "Get").ChildText(wbxml.NSSettings, "OofState") != "0" {
		t.Fatalf("Get before Set: status %d %v", st, oof)
	}

	// The phone turns the reply on.
	if st, _ := oofDo(t, c, oofSet(eas.OofGlobal, time.Time{}, time.Time{}, "Internal: back Monday.", "External: I am away.")); st != 1 {
		t.Fatalf("Oof Set: status %d", st)
	}
	if got := activeScript(t, d); got != sieve.ScriptName {
		t.Fatalf("active script %q, want %q", got, sieve.ScriptName)
	}
	script, err := sieveAs(t, d, "alice").GetScript(sieve.ScriptName)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`vacation :days 7`, `"External: I am away."`, `"Internal: back Monday."`, `include :personal "roundcube";`, `address :domain :is "from" "example.test"`} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if got, err := sieveAs(t, d, "alice").GetScript("roundcube"); err != nil || got != own {
		t.Errorf("the user's script changed: %q %v", got, err)
	}

	// Mail from outside gets the external reply, through Dovecot's Sieve.
	d.Deliver(t, "alice", "bob@outside.test", []byte("From: Bob <bob@outside.test>\r\nTo: alice@example.test\r\n"+
		"Subject: lunch?\r\nMessage-ID: <1@outside.test>\r\n\r\nLunch tomorrow?\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msgs, err := d.Sink.Wait(ctx, 1)
	if err != nil {
		t.Fatalf("no vacation reply reached the SMTP sink: %v", err)
	}
	if len(msgs[0].To) != 1 || msgs[0].To[0] != "bob@outside.test" || !strings.Contains(string(msgs[0].Data), "External: I am away.") {
		t.Fatalf("reply: to %v\n%s", msgs[0].To, msgs[0].Data)
	}
	// A colleague gets the internal text.
	d.Deliver(t, "alice", "carol@example.test", []byte("From: Carol <carol@example.test>\r\nTo: alice@example.test\r\n"+
		"Subject: report\r\nMessage-ID: <2@example.test>\r\n\r\nThe report.\r\n"))
	msgs, err = d.Sink.Wait(ctx, 2)
	if err != nil {
		t.Fatalf("no internal reply: %v", err)
	}
	if !strings.Contains(string(msgs[1].Data), "Internal: back Monday.") || msgs[1].To[0] != "carol@example.test" {
		t.Fatalf("internal reply: to %v\n%s", msgs[1].To, msgs[1].Data)
	}
	// Alice's own rule still files the club mail (and vacation answers it).
	d.Deliver(t, "alice", "dave@club.test", []byte("From: dave@club.test\r\nTo: alice@example.test\r\nX-Club: chess night\r\n"+
		"Subject: chess\r\nMessage-ID: <3@club.test>\r\n\r\nThursday.\r\n"))
	if !mailboxHas(t, d, "Lists", "chess") {
		t.Error("the user's included fileinto rule did not run")
	}

	// Get returns what was set.
	st, oof = oofDo(t, c, oofGet())
	get := oof.Child(wbxml.NSSettings, "Get")
	if st != 1 || get == nil || get.ChildText(wbxml.NSSettings, "OofState") != "1" {
		t.Fatalf("Get: status %d %v", st, oof)
	}
	texts := map[string]string{}
	for _, m := range get.All(wbxml.NSSettings, "OofMessage") {
		for _, aud := range []eas.OofAudience{eas.OofInternal, eas.OofExternalKnown, eas.OofExternalUnknown} {
			if m.Has(wbxml.NSSettings, string(aud)) {
				texts[string(aud)] = m.ChildText(wbxml.NSSettings, "ReplyMessage")
			}
		}
	}
	if texts["AppliesToInternal"] != "Internal: back Monday." || texts["AppliesToExternalUnknown"] != "External: I am away." {
		t.Errorf("Get messages %v", texts)
	}
	states, err := rt.OofStates(context.Background())
	if err != nil || len(states) != 1 || states[0].User != "alice@example.test" || states[0].State != "on" || states[0].Err != "" {
		t.Errorf("OofStates = %+v, %v", states, err)
	}

	// Scheduled: the window is in the script and Get reports it.
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	end := start.Add(72 * time.Hour)
	if st, _ := oofDo(t, c, oofSet(eas.OofTimeBased, start, end, "", "External: away this week.")); st != 1 {
		t.Fatalf("time-based Set: status %d", st)
	}
	script, _ = sieveAs(t, d, "alice").GetScript(sieve.ScriptName)
	if !strings.Contains(script, `currentdate :zone "+0000" :value "ge" "iso8601" "`+start.Format("2006-01-02T15:04:05")+`"`) ||
		!strings.Contains(script, `include :personal "roundcube";`) {
		t.Errorf("time-based script:\n%s", script)
	}
	_, oof = oofDo(t, c, oofGet())
	get = oof.Child(wbxml.NSSettings, "Get")
	if get.ChildText(wbxml.NSSettings, "OofState") != "2" || get.ChildText(wbxml.NSSettings, "EndTime") != end.Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("time-based Get: %v", get)
	}
	if states, _ := rt.OofStates(context.Background()); len(states) != 1 || states[0].State != "scheduled" || !states[0].Until.Equal(end) {
		t.Errorf("OofStates = %+v", states)
	}

	// Off: the user's own script is the active one again.
	if st, _ := oofDo(t, c, oofSet(eas.OofDisabled, time.Time{}, time.Time{}, "", "")); st != 1 {
		t.Fatalf("Oof off: status %d", st)
	}
	if got := activeScript(t, d); got != "roundcube" {
		t.Fatalf("active after off: %q, want roundcube", got)
	}
	if _, oof = oofDo(t, c, oofGet()); oof.Child(wbxml.NSSettings, "Get").ChildText(wbxml.NSSettings, "OofState") != "0" {
		t.Errorf("Get after off: %v", oof)
	}
}

func TestOofWithoutManageSieve(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	for _, sieveURL := range []string{config.SieveOff, "sieve://" + freePort(t)} {
		t.Run(sieveURL, func(t *testing.T) {
			rt, c := oofWorld(t, d, sieveURL)
			if st, _ := oofDo(t, c, oofGet()); st != int(eas.SettingsStatusOofUnavailable) {
				t.Errorf("Get: status %d, want %d", st, eas.SettingsStatusOofUnavailable)
			}
			if st, _ := oofDo(t, c, oofSet(eas.OofGlobal, time.Time{}, time.Time{}, "", "away")); st != int(eas.SettingsStatusOofUnavailable) {
				t.Errorf("Set: status %d, want %d", st, eas.SettingsStatusOofUnavailable)
			}
			states, err := rt.OofStates(context.Background())
			if err != nil || len(states) != 1 || !strings.HasPrefix(states[0].Err, "not available") {
				t.Errorf("OofStates = %+v, %v", states, err)
			}
		})
	}
}
