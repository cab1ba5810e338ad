package calconv

import (
	"testing"
	"time"

	"easbridge/server/eas"
)

// FuzzITIP reads random bytes as a meeting message's iTIP part and
// answers it as alice: no panic; what ParseInvitation accepts gives a
// Recurrences element that encodes; an answer that succeeds is an object
// that parses again, and its REPLY parses with METHOD:REPLY and one
// ATTENDEE.
func FuzzITIP(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint8(0))
	}
	f.Add([]byte(invite), uint8(1))
	f.Add([]byte(singleInvite), uint8(2))
	f.Add([]byte(invite), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		recoverPanics = false
		defer func() { recoverPanics = true }()
		defer slow(t, time.Now())
		inv, err := ParseInvitation(data, "alice@example.com")
		if err != nil {
			return
		}
		if r := inv.RecurrenceElement(eas.V161); r != nil {
			checkText(t, r)
		}
		stored, _, err := EventFromInvitation(data)
		if err != nil {
			return
		}
		a := Answer{User: "alice@example.com", Partstat: []string{PartstatAccepted, PartstatTentative, PartstatDeclined}[int(sel)%3],
			Now: time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)}
		if sel&4 != 0 {
			a.Instance = inv.Start.Add(7 * 24 * time.Hour)
		}
		updated, err := SetPartstat(stored, a)
		if err != nil {
			return
		}
		if _, err := parseObject(updated); err != nil {
			t.Fatalf("SetPartstat wrote an object that does not parse: %v\n%s", err, updated)
		}
		reply, _, err := Reply(updated, a)
		if err != nil {
			return
		}
		root, err := parseObject(reply)
		if err != nil {
			t.Fatalf("REPLY does not parse: %v\n%s", err, reply)
		}
		evs := root.childrenNamed("VEVENT")
		if root.text("METHOD") != "REPLY" || len(evs) != 1 || len(evs[0].all("ATTENDEE")) != 1 {
			t.Fatalf("REPLY:\n%s", reply)
		}
	})
}
