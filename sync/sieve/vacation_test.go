package sieve

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	start := time.Date(2026, 12, 20, 8, 0, 0, 0, time.UTC)
	end := time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC)
	in := Reply{Enabled: true, Text: "Back on the 6th.\nAsk Bob."}
	ex := Reply{Enabled: true, Text: `I am "away".`}
	for _, tc := range []struct {
		name    string
		v       Vacation
		has     []string
		hasNot  []string
		wantErr bool
	}{
		{
			name: "global, both audiences, include",
			v:    Vacation{Domain: "example.test", Internal: in, External: ex, Include: "roundcube", Addresses: []string{"alice@example.test"}, Subject: "Away"},
			has: []string{
				`require ["vacation", "include"];`,
				`if address :domain :is "from" "example.test" {`,
				`  vacation :days 7 :subject "Away" :addresses ["alice@example.test"] "Back on the 6th.` + "\r\n" + `Ask Bob.";`,
				`} else {`,
				`  vacation :days 7 :subject "Away" :addresses ["alice@example.test"] "I am \"away\".";`,
				`include :personal "roundcube";`,
			},
			hasNot: []string{"currentdate"},
		},
		{
			name: "time-based, external only",
			v:    Vacation{Start: start, End: end, Domain: "example.test", External: ex, Days: 1},
			has: []string{
				`require ["vacation", "date", "relational"];`,
				`if allof (currentdate :zone "+0000" :value "ge" "iso8601" "2026-12-20T08:00:00",`,
				`currentdate :zone "+0000" :value "lt" "iso8601" "2027-01-06T00:00:00") {`,
				`  if not address :domain :is "from" "example.test" {`,
				`    vacation :days 1 "I am \"away\".";`,
			},
			hasNot: []string{"include", `} else {`},
		},
		{
			name:   "no domain: one reply for all",
			v:      Vacation{Internal: in},
			has:    []string{`vacation :days 7 "Back on the 6th.`},
			hasNot: []string{"address :domain"},
		},
		{
			name: "html",
			v:    Vacation{External: Reply{Enabled: true, HTML: true, Text: "<p>away</p>"}},
			has:  []string{`vacation :days 7 :mime "Content-Type: text/html; charset=utf-8` + "\r\n\r\n<p>away</p>\";"},
		},
		{name: "window backwards", v: Vacation{Start: end, End: start}, wantErr: true},
		{name: "include self", v: Vacation{Include: ScriptName}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Render(tc.v)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error; script:\n%s", s)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.has {
				if !strings.Contains(s, h) {
					t.Errorf("script lacks %q:\n%s", h, s)
				}
			}
			for _, h := range tc.hasNot {
				if strings.Contains(s, h) {
					t.Errorf("script has %q:\n%s", h, s)
				}
			}
			back, ok, err := ParseScript(s)
			if err != nil || !ok {
				t.Fatalf("ParseScript: %v %v", ok, err)
			}
			if !reflect.DeepEqual(back, tc.v) {
				t.Errorf("read back %+v, want %+v", back, tc.v)
			}
		})
	}
}

func TestParseScriptForeign(t *testing.T) {
	if _, ok, err := ParseScript("require \"fileinto\";\nfileinto \"x\";\n"); ok || err != nil {
		t.Errorf("a user's script read as ours: %v %v", ok, err)
	}
	if _, ok, err := ParseScript(settingsPrefix + "{broken\n"); !ok || err == nil {
		t.Errorf("damaged settings: ok %v err %v", ok, err)
	}
}

func TestEnableDisableVacation(t *testing.T) {
	v := Vacation{Domain: "example.test", External: Reply{Enabled: true, Text: "away"}}
	withInclude := v
	withInclude.Include = "mine"
	ours, err := Render(withInclude)
	if err != nil {
		t.Fatal(err)
	}
	lit := func(s string) string { return "{" + itoa(len(s)) + "}\r\n" + s + "\r\n" }
	steps := []step{
		// Enable: the user's "mine" is active; ours is stored and activated.
		{"LISTSCRIPTS\r\n", "\"mine\" ACTIVE\r\nOK\r\n"},
		{"PUTSCRIPT \"easbridge\" {" + itoa(len(ours)) + "+}\r\n" + ours + "\r\n", "OK\r\n"},
		{"SETACTIVE \"easbridge\"\r\n", "OK\r\n"},
		// Read back.
		{"LISTSCRIPTS\r\n", "\"mine\"\r\n\"easbridge\" ACTIVE\r\nOK\r\n"},
		{"GETSCRIPT \"easbridge\"\r\n", lit(ours) + "OK\r\n"},
		// Disable: "mine" is active again.
		{"LISTSCRIPTS\r\n", "\"mine\"\r\n\"easbridge\" ACTIVE\r\nOK\r\n"},
		{"GETSCRIPT \"easbridge\"\r\n", lit(ours) + "OK\r\n"},
		{"SETACTIVE \"mine\"\r\n", "OK\r\n"},
	}
	c, err := NewClient(scripted(t, dovecotGreeting, steps), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnableVacation(c, v); err != nil {
		t.Fatal(err)
	}
	got, active, found, err := ReadVacation(c)
	if err != nil || !active || !found || got.Include != "mine" || got.External.Text != "away" {
		t.Fatalf("ReadVacation = %+v %v %v %v", got, active, found, err)
	}
	if err := DisableVacation(c); err != nil {
		t.Fatal(err)
	}
}

func TestEnableVacationNeedsExtensions(t *testing.T) {
	noInclude := strings.Replace(dovecotGreeting, " include", "", 1)
	c, err := NewClient(scripted(t, noInclude, []step{{"LISTSCRIPTS\r\n", "\"mine\" ACTIVE\r\nOK\r\n"}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnableVacation(c, Vacation{External: Reply{Enabled: true, Text: "x"}}); err != ErrNoInclude {
		t.Errorf("err = %v, want ErrNoInclude", err)
	}
	noVacation := strings.Replace(dovecotGreeting, " vacation", "", 1)
	c, err = NewClient(scripted(t, noVacation, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnableVacation(c, Vacation{}); err != ErrNoVacation {
		t.Errorf("err = %v, want ErrNoVacation", err)
	}
}
