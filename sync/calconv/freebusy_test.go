package calconv

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fbEvent wraps component lines into a VCALENDAR.
func fbEvent(lines ...string) []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n")
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("END:VCALENDAR\r\n")
	return []byte(b.String())
}

func vevent(lines ...string) []string {
	return append(append([]string{"BEGIN:VEVENT", "UID:fb-1", "DTSTAMP:20260101T000000Z"}, lines...), "END:VEVENT")
}

const fbUser = "alice@example.test"

func TestBusyPeriods(t *testing.T) {
	day := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC) // a Monday
	at := func(d, h, m int) time.Time {
		return day.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	type period struct {
		start, end time.Time
		status     int
	}
	tests := []struct {
		name     string
		data     []byte
		from, to time.Time
		want     []period
	}{
		{"timed busy", fbEvent(vevent("DTSTART:20260309T090000Z", "DTEND:20260309T100000Z")...),
			at(0, 0, 0), at(1, 0, 0), []period{{at(0, 9, 0), at(0, 10, 0), 2}}},
		{"outside the window", fbEvent(vevent("DTSTART:20260309T090000Z", "DTEND:20260309T100000Z")...),
			at(0, 10, 0), at(1, 0, 0), nil},
		{"transparent is free", fbEvent(vevent("DTSTART:20260309T090000Z", "DTEND:20260309T100000Z", "TRANSP:TRANSPARENT")...),
			at(0, 0, 0), at(1, 0, 0), nil},
		{"busy status wins over transp", fbEvent(vevent("DTSTART:20260309T090000Z", "DURATION:PT30M", "TRANSP:TRANSPARENT",
			"X-MICROSOFT-CDO-BUSYSTATUS:OOF")...), at(0, 0, 0), at(1, 0, 0), []period{{at(0, 9, 0), at(0, 9, 30), 3}}},
		{"working elsewhere is free", fbEvent(vevent("DTSTART:20260309T090000Z", "DURATION:PT30M",
			"X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE")...), at(0, 0, 0), at(1, 0, 0), nil},
		{"tentative status", fbEvent(vevent("DTSTART:20260309T090000Z", "DURATION:PT1H", "STATUS:TENTATIVE")...),
			at(0, 0, 0), at(1, 0, 0), []period{{at(0, 9, 0), at(0, 10, 0), 1}}},
		{"cancelled", fbEvent(vevent("DTSTART:20260309T090000Z", "DURATION:PT1H", "STATUS:CANCELLED")...),
			at(0, 0, 0), at(1, 0, 0), nil},
		{"declined by the user", fbEvent(vevent("DTSTART:20260309T090000Z", "DURATION:PT1H", "ORGANIZER:mailto:bob@example.test",
			"ATTENDEE;PARTSTAT=DECLINED:mailto:ALICE@example.test")...), at(0, 0, 0), at(1, 0, 0), nil},
		{"not answered by the user", fbEvent(vevent("DTSTART:20260309T090000Z", "DURATION:PT1H", "ORGANIZER:mailto:bob@example.test",
			"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:alice@example.test")...), at(0, 0, 0), at(1, 0, 0), []period{{at(0, 9, 0), at(0, 10, 0), 1}}},
		{"accepted by the user", fbEvent(vevent("DTSTART:20260309T090000Z", "DURATION:PT1H", "ORGANIZER:mailto:bob@example.test",
			"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.test", "ATTENDEE;PARTSTAT=DECLINED:mailto:carol@example.test")...),
			at(0, 0, 0), at(1, 0, 0), []period{{at(0, 9, 0), at(0, 10, 0), 2}}},
		{"all-day", fbEvent(vevent("DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260311")...),
			at(0, 0, 0), at(3, 0, 0), []period{{at(1, 0, 0), at(2, 0, 0), 2}}},
		{"daily with count, exdate and override", fbEvent(append(vevent("DTSTART:20260309T090000Z", "DURATION:PT15M",
			"RRULE:FREQ=DAILY;COUNT=4", "EXDATE:20260310T090000Z"),
			"BEGIN:VEVENT", "UID:fb-1", "DTSTAMP:20260101T000000Z", "RECURRENCE-ID:20260311T090000Z",
			"DTSTART:20260311T140000Z", "DTEND:20260311T150000Z", "END:VEVENT")...),
			at(0, 0, 0), at(7, 0, 0), []period{
				{at(0, 9, 0), at(0, 9, 15), 2},
				{at(2, 14, 0), at(2, 15, 0), 2},
				{at(3, 9, 0), at(3, 9, 15), 2},
			}},
		{"cancelled override", fbEvent(append(vevent("DTSTART:20260309T090000Z", "DURATION:PT15M", "RRULE:FREQ=DAILY;COUNT=2"),
			"BEGIN:VEVENT", "UID:fb-1", "RECURRENCE-ID:20260310T090000Z", "DTSTART:20260310T090000Z",
			"DURATION:PT15M", "STATUS:CANCELLED", "END:VEVENT")...),
			at(0, 0, 0), at(7, 0, 0), []period{{at(0, 9, 0), at(0, 9, 15), 2}}},
		{"weekly until, window in the middle", fbEvent(vevent("DTSTART:20260302T120000Z", "DURATION:PT1H",
			"RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260311T120000Z")...),
			at(0, 0, 0), at(7, 0, 0), []period{{at(0, 12, 0), at(0, 13, 0), 2}, {at(2, 12, 0), at(2, 13, 0), 2}}},
		{"rdate", fbEvent(vevent("DTSTART:20260309T080000Z", "DURATION:PT30M", "RDATE:20260312T080000Z")...),
			at(0, 0, 0), at(7, 0, 0), []period{{at(0, 8, 0), at(0, 8, 30), 2}, {at(3, 8, 0), at(3, 8, 30), 2}}},
		// 09:00 Berlin every day across the spring-forward night of
		// 2026-03-29: 08:00Z before, 07:00Z after.
		{"daily in a zone across DST", fbEvent(append([]string{
			"BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
			"BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
			"BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
			"END:VTIMEZONE"}, vevent("DTSTART;TZID=Europe/Berlin:20260328T090000", "DTEND;TZID=Europe/Berlin:20260328T093000", "RRULE:FREQ=DAILY")...)...),
			time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), []period{
				{time.Date(2026, 3, 28, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 28, 8, 30, 0, 0, time.UTC), 2},
				{time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 7, 30, 0, 0, time.UTC), 2},
			}},
		{"rule that never matches: DTSTART alone", fbEvent(vevent("DTSTART:20260309T060000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31")...),
			at(0, 0, 0), at(2, 0, 0), []period{{at(0, 6, 0), at(0, 7, 0), 2}}},
		{"endless rule from long ago", fbEvent(vevent("DTSTART:19900101T060000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY")...),
			at(0, 0, 0), at(2, 0, 0), []period{{at(0, 6, 0), at(0, 7, 0), 2}, {at(1, 6, 0), at(1, 7, 0), 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BusyPeriods(tt.data, tt.from, tt.to, fbUser)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d periods %+v, want %+v", len(got), got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if !g.Start.Equal(w.start) || !g.End.Equal(w.end) || g.Status != w.status {
					t.Errorf("period %d: %s–%s %d, want %s–%s %d", i, g.Start, g.End, g.Status, w.start, w.end, w.status)
				}
			}
		})
	}
}

func TestBusyPeriodsErrors(t *testing.T) {
	for name, data := range map[string]string{
		"garbage":  "\x00garbage",
		"no event": "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
		"bad rule": string(fbEvent(vevent("DTSTART:20260309T090000Z", "RRULE:FREQ=SOMETIMES;COUNT=x")...)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := BusyPeriods([]byte(data), time.Unix(0, 0), time.Now(), fbUser)
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Errorf("err %v", err)
			}
		})
	}
}

func TestMergedFreeBusy(t *testing.T) {
	start := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return start.Add(time.Duration(min) * time.Minute) }
	p := func(a, b, st int) BusyPeriod { return BusyPeriod{Start: at(a), End: at(b), Status: st} }
	tests := []struct {
		name    string
		periods []BusyPeriod
		end     time.Time
		want    string
	}{
		{"nothing", nil, at(120), "0000"},
		{"one hour busy", []BusyPeriod{p(30, 90, 2)}, at(120), "0220"},
		{"partial slot counts", []BusyPeriod{p(40, 50, 1)}, at(120), "0100"},
		{"ends on a boundary", []BusyPeriod{p(0, 30, 2)}, at(120), "2000"},
		{"higher digit wins", []BusyPeriod{p(0, 60, 1), p(30, 60, 3), p(15, 45, 2)}, at(120), "2300"},
		{"spans the window", []BusyPeriod{p(-60, 600, 2)}, at(120), "2222"},
		{"before and after", []BusyPeriod{p(-60, 0, 2), p(120, 180, 2)}, at(120), "0000"},
		{"partial last slot", []BusyPeriod{p(60, 70, 2)}, at(75), "002"},
		{"empty window", []BusyPeriod{p(0, 30, 2)}, at(0), ""},
		{"the golden example", []BusyPeriod{p(0, 30, 3), p(30, 90, 2), p(120, 150, 1)}, at(150), "32201"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MergedFreeBusy(tt.periods, start, tt.end); got != tt.want {
				t.Errorf("%q, want %q", got, tt.want)
			}
		})
	}
	// Two years are longer than 32 KB of half hours (682 days): cut, so a
	// period after 700 days is not seen.
	long := MergedFreeBusy([]BusyPeriod{{Start: start.AddDate(0, 0, 700), End: start.AddDate(0, 0, 701), Status: 2}}, start, start.AddDate(2, 0, 0))
	if len(long) != MaxFreeBusyDigits || strings.Trim(long, "0") != "" {
		t.Errorf("long window: %d digits", len(long))
	}
}

func TestParseCard(t *testing.T) {
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:deb-1\r\nFN:Deborah Poe\r\nN:Poe;Deborah;;;\r\nORG:Contoso;Sales\r\n" +
		"TITLE:Director\r\nX-OFFICE:B42/1001\r\nEMAIL;TYPE=INTERNET:deb@home.example\r\nEMAIL;TYPE=INTERNET,PREF:deborah@contoso.com\r\n" +
		"TEL;TYPE=WORK:+1 425 555 0102\r\nTEL;TYPE=HOME:+1 425 555 0105\r\nTEL;TYPE=CELL:+1 425 555 0108\r\n" +
		"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\r\nEND:VCARD\r\n"
	c, err := ParseCard([]byte(card))
	if err != nil {
		t.Fatal(err)
	}
	want := Card{UID: "deb-1", DisplayName: "Deborah Poe", FirstName: "Deborah", LastName: "Poe", Company: "Contoso",
		Department: "Sales", Title: "Director", Office: "B42/1001", WorkPhone: "+1 425 555 0102", HomePhone: "+1 425 555 0105",
		MobilePhone: "+1 425 555 0108"}
	got := *c
	got.Emails, got.Photo = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("card %+v\nwant %+v", got, want)
	}
	if strings.Join(c.Emails, ",") != "deborah@contoso.com,deb@home.example" {
		t.Errorf("emails %v", c.Emails)
	}
	if len(c.Photo) != 6 || c.Photo[0] != 0xff {
		t.Errorf("photo %x", c.Photo)
	}
	// No FN: the name is composed.
	c, err = ParseCard([]byte("BEGIN:VCARD\r\nVERSION:4.0\r\nN:Hay;Jeff;;;\r\nEMAIL:jeff@contoso.com\r\nEND:VCARD\r\n"))
	if err != nil || c.DisplayName != "Jeff Hay" || c.Emails[0] != "jeff@contoso.com" {
		t.Errorf("composed name: %+v %v", c, err)
	}
	if _, err := ParseCard([]byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("calendar as card: %v", err)
	}
	if _, err := ParseCard([]byte("BEGIN:VCARD\r\nFN")); !errors.Is(err, ErrInvalid) {
		t.Errorf("broken card: %v", err)
	}
}
