package engine

import (
	"reflect"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/sync/sieve"
)

func TestVacationFor(t *testing.T) {
	start := time.Date(2026, 12, 20, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	end := start.Add(96 * time.Hour)
	msg := func(aud eas.OofAudience, on bool, text, bt string) eas.OofMessage {
		return eas.OofMessage{Audience: aud, Enabled: on, ReplyMessage: text, BodyType: bt}
	}
	for _, tc := range []struct {
		name  string
		o     eas.Oof
		email string
		want  sieve.Vacation // Extra is not compared
	}{
		{
			name:  "global, three audiences: unknown wins for external",
			o:     eas.Oof{State: eas.OofGlobal, Messages: []eas.OofMessage{msg(eas.OofInternal, true, "in", "Text"), msg(eas.OofExternalKnown, true, "known", "Text"), msg(eas.OofExternalUnknown, true, "unknown", "HTML")}},
			email: "alice@example.test",
			want: sieve.Vacation{Domain: "example.test", Addresses: []string{"alice@example.test"},
				Internal: sieve.Reply{Enabled: true, Text: "in"}, External: sieve.Reply{Enabled: true, Text: "unknown", HTML: true}},
		},
		{
			name:  "only known contacts: every external sender gets it",
			o:     eas.Oof{State: eas.OofGlobal, Messages: []eas.OofMessage{msg(eas.OofExternalKnown, true, "known", "Text"), msg(eas.OofExternalUnknown, false, "unknown", "Text")}},
			email: "alice@example.test",
			want:  sieve.Vacation{Domain: "example.test", Addresses: []string{"alice@example.test"}, External: sieve.Reply{Enabled: true, Text: "known"}},
		},
		{
			name:  "time-based in UTC, disabled or empty texts off",
			o:     eas.Oof{State: eas.OofTimeBased, Start: start, End: end, Messages: []eas.OofMessage{msg(eas.OofInternal, false, "in", "Text"), msg(eas.OofExternalUnknown, true, "", "Text")}},
			email: "bob@localhost",
			want:  sieve.Vacation{Start: start.UTC(), End: end.UTC(), Addresses: []string{"bob@localhost"}, Internal: sieve.Reply{Text: "in"}, External: sieve.Reply{}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := vacationFor(tc.o, tc.email)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Extra) == 0 {
				t.Error("the phone's settings are not kept")
			}
			v.Extra = nil
			if !reflect.DeepEqual(v, tc.want) {
				t.Errorf("got %+v\nwant %+v", v, tc.want)
			}
		})
	}
}

func TestOofFromVacation(t *testing.T) {
	set := eas.Oof{State: eas.OofGlobal, Messages: []eas.OofMessage{{Audience: eas.OofInternal, Enabled: true, ReplyMessage: "in", BodyType: "Text"}}}
	v, err := vacationFor(set, "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := oofFromVacation(v, true, true); !reflect.DeepEqual(got, set) {
		t.Errorf("active: %+v, want %+v", got, set)
	}
	off := oofFromVacation(v, false, true)
	if off.State != eas.OofDisabled || len(off.Messages) != 1 {
		t.Errorf("inactive: %+v (texts kept, state off)", off)
	}
	if got := oofFromVacation(sieve.Vacation{}, false, false); got.State != eas.OofDisabled || got.Messages != nil {
		t.Errorf("no script: %+v", got)
	}
	// A script without the phone's copy (written by an older version).
	bare := sieve.Vacation{Start: time.Unix(100, 0).UTC(), End: time.Unix(200, 0).UTC(), External: sieve.Reply{Enabled: true, Text: "ext"}}
	got := oofFromVacation(bare, true, true)
	if got.State != eas.OofTimeBased || !got.End.Equal(bare.End) || len(got.Messages) != 3 ||
		got.Messages[1].ReplyMessage != "ext" || got.Messages[2].ReplyMessage != "ext" || got.Messages[0].Enabled {
		t.Errorf("bare script: %+v", got)
	}
}
