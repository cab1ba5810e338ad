package calconv

import (
	"errors"
	"strings"
	"testing"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

func eventICS(dtstart, extra string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:r@x\r\nDTSTAMP:20260101T000000Z\r\n" +
		dtstart + "\r\nSUMMARY:R\r\n" + extra + "END:VEVENT\r\nEND:VCALENDAR\r\n")
}

// TestRecurrenceRoundTrip converts an RRULE to EAS, checks the EAS
// elements, and converts the client's echo back as a new event: the
// RRULE comes back in canonical form with the same meaning.
func TestRecurrenceRoundTrip(t *testing.T) {
	tests := []struct {
		name, dtstart, rrule string
		want                 string // Type/Interval/… as "k=v" pairs of the Recurrence element
		back                 string // RRULE written for the echo
	}{
		{"daily interval count", "DTSTART:20260105T090000Z", "FREQ=DAILY;INTERVAL=2;COUNT=10",
			"Type=0 Occurrences=10 Interval=2", "FREQ=DAILY;INTERVAL=2;COUNT=10"},
		{"weekly until", "DTSTART;TZID=Europe/Berlin:20260105T090000", "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20261230T080000Z",
			"Type=1 Until=20261230T080000Z Interval=1 DayOfWeek=42 CalendarType=0 FirstDayOfWeek=1", "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20261230T080000Z"},
		{"weekly default day, wkst", "DTSTART:20260107T090000Z", "FREQ=WEEKLY;INTERVAL=2;WKST=SU",
			"Type=1 Interval=2 DayOfWeek=8 CalendarType=0 FirstDayOfWeek=0", "FREQ=WEEKLY;BYDAY=WE;INTERVAL=2;WKST=SU"},
		{"every weekday", "DTSTART:20260105T090000Z", "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
			"Type=1 Interval=1 DayOfWeek=62 CalendarType=0 FirstDayOfWeek=1", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"monthly by date", "DTSTART:20260115T090000Z", "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=12",
			"Type=2 Occurrences=12 Interval=1 DayOfMonth=15 CalendarType=0", "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=12"},
		{"monthly default date", "DTSTART:20260131T090000Z", "FREQ=MONTHLY",
			"Type=2 Interval=1 DayOfMonth=31 CalendarType=0", "FREQ=MONTHLY;BYMONTHDAY=31"},
		{"monthly last friday", "DTSTART:20260130T150000Z", "FREQ=MONTHLY;BYDAY=-1FR",
			"Type=3 Interval=1 DayOfWeek=32 WeekOfMonth=5 CalendarType=0", "FREQ=MONTHLY;BYDAY=-1FR"},
		{"monthly 2nd tuesday every 3 months", "DTSTART:20260113T150000Z", "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU",
			"Type=3 Interval=3 DayOfWeek=4 WeekOfMonth=2 CalendarType=0", "FREQ=MONTHLY;BYDAY=2TU;INTERVAL=3"},
		{"last weekday of month", "DTSTART:20260130T150000Z", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
			"Type=3 Interval=1 DayOfWeek=62 WeekOfMonth=5 CalendarType=0", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"},
		{"last day of month", "DTSTART:20260131T150000Z", "FREQ=MONTHLY;BYMONTHDAY=-1",
			"Type=3 Interval=1 DayOfWeek=127 WeekOfMonth=5 CalendarType=0", "FREQ=MONTHLY;BYMONTHDAY=-1"},
		{"yearly by date", "DTSTART;VALUE=DATE:20260214", "FREQ=YEARLY",
			"Type=5 Interval=1 DayOfMonth=14 MonthOfYear=2 CalendarType=0", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=14"},
		{"yearly nth weekday (thanksgiving)", "DTSTART;VALUE=DATE:20261126", "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
			"Type=6 Interval=1 DayOfWeek=16 WeekOfMonth=4 MonthOfYear=11 CalendarType=0", "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH"},
		{"yearly last sunday of march until date", "DTSTART;VALUE=DATE:20260329", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=20300101",
			"Type=6 Until=20300101T000000Z Interval=1 DayOfWeek=1 WeekOfMonth=5 MonthOfYear=3 CalendarType=0", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=20300101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dtend := ""
			if strings.Contains(tt.dtstart, "VALUE=DATE") {
				dtend = ""
			}
			ics := eventICS(tt.dtstart, dtend+"RRULE:"+tt.rrule+"\r\n")
			opts := testOpts(eas.V141)
			app, err := ToEAS(ClassCalendar, ics, opts)
			if err != nil {
				t.Fatal(err)
			}
			rec := app.Child(wbxml.NSCalendar, "Recurrence")
			if rec == nil {
				t.Fatal("no Recurrence")
			}
			var got []string
			for _, c := range rec.Children {
				got = append(got, c.Name+"="+c.Text)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("Recurrence %s\nwant       %s", g, tt.want)
			}
			out, _, err := FromEAS(ClassCalendar, app, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := firstVEvent(t, out).get("RRULE").Value; got != tt.back {
				t.Errorf("RRULE %s, want %s", got, tt.back)
			}
			// And the stored event converts to the same Recurrence.
			app2, err := ToEAS(ClassCalendar, out, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !wbxml.Equal(app2.Child(wbxml.NSCalendar, "Recurrence"), rec) {
				t.Errorf("second conversion:\n%s", app2.Child(wbxml.NSCalendar, "Recurrence"))
			}
		})
	}
}

// TestLossyRecurrence: an RRULE EAS can only approximate is kept while
// the client echoes the approximation, and replaced when it changes it.
func TestLossyRecurrence(t *testing.T) {
	tests := []struct{ rrule, wantType string }{
		{"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1", "3"},
		{"FREQ=MONTHLY;BYDAY=1MO,3MO", "3"},
		{"FREQ=MONTHLY;BYDAY=5FR", "3"},
		{"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9,17", "1"},
		{"FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "6"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,15", "2"},
		{"FREQ=DAILY;INTERVAL=2;BYDAY=MO,FR", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.rrule, func(t *testing.T) {
			ics := eventICS("DTSTART:20260105T090000Z", "RRULE:"+tt.rrule+"\r\nX-KEEP:me\r\n")
			opts := testOpts(eas.V141)
			app, err := ToEAS(ClassCalendar, ics, opts)
			if err != nil {
				t.Fatal(err)
			}
			rec := app.Child(wbxml.NSCalendar, "Recurrence")
			if rec == nil || rec.ChildText(wbxml.NSCalendar, "Type") != tt.wantType {
				t.Fatalf("Recurrence %v", rec)
			}
			out, _, err := FromEAS(ClassCalendar, app, ics, opts)
			if err != nil {
				t.Fatal(err)
			}
			ev := firstVEvent(t, out)
			if got := ev.get("RRULE").Value; got != tt.rrule {
				t.Errorf("kept RRULE %s", got)
			}
			if ev.text("X-KEEP") != "me" {
				t.Error("X- property lost")
			}
			// The client changes the interval: the approximation wins.
			setChild(rec, wbxml.NSCalendar, "Interval", "4")
			out, _, err = FromEAS(ClassCalendar, app, ics, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := firstVEvent(t, out).get("RRULE").Value; !strings.Contains(got, "INTERVAL=4") || got == tt.rrule {
				t.Errorf("changed RRULE %s", got)
			}
		})
	}
	// HOURLY has no EAS form: no Recurrence, and the RRULE is kept.
	ics := eventICS("DTSTART:20260105T090000Z", "RRULE:FREQ=HOURLY;INTERVAL=4\r\n")
	app, err := ToEAS(ClassCalendar, ics, testOpts(eas.V141))
	if err != nil || app.Has(wbxml.NSCalendar, "Recurrence") {
		t.Fatalf("HOURLY: %v %v", err, app)
	}
}

const weeklyStart = "DTSTART;TZID=Europe/Berlin:20260302T080000\r\nDTEND;TZID=Europe/Berlin:20260302T083000"

// TestExceptionsFromClient: a new recurring event with a deleted and a
// changed occurrence, then the client drops the change.
func TestExceptionsFromClient(t *testing.T) {
	berlin := encodeTZBlob(blobFor(olson(t, "Europe/Berlin"), testNow))
	for _, v := range []eas.Version{eas.V141, eas.V161} {
		t.Run(string(v), func(t *testing.T) {
			key := "calendar:ExceptionStartTime"
			if v == eas.V161 {
				key = "airsyncbase:InstanceId"
			}
			app := calXML(t, v, `<calendar:Timezone>`+berlin+`</calendar:Timezone>
<calendar:StartTime>20260302T070000Z</calendar:StartTime><calendar:EndTime>20260302T073000Z</calendar:EndTime>
<calendar:Subject>Stand-up</calendar:Subject><calendar:ClientUid>client-uid-1</calendar:ClientUid>
<calendar:Reminder>10</calendar:Reminder>
<calendar:Recurrence><calendar:Type>1</calendar:Type><calendar:Interval>1</calendar:Interval><calendar:DayOfWeek>42</calendar:DayOfWeek><calendar:Occurrences>20</calendar:Occurrences></calendar:Recurrence>
<calendar:Exceptions>
 <calendar:Exception><calendar:Deleted>1</calendar:Deleted><`+key+`>20260304T070000Z</`+key+`></calendar:Exception>
 <calendar:Exception><`+key+`>20260330T060000Z</`+key+`><calendar:Subject>Moved</calendar:Subject>
   <calendar:StartTime>20260330T090000Z</calendar:StartTime><calendar:EndTime>20260330T093000Z</calendar:EndTime></calendar:Exception>
</calendar:Exceptions>`)
			opts := testOpts(v)
			out, uid, err := FromEAS(ClassCalendar, app, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			if uid != "client-uid-1" {
				t.Errorf("uid %q", uid)
			}
			s := unfolded(out)
			for _, want := range []string{
				"RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=20",
				"EXDATE;TZID=Europe/Berlin:20260304T080000",
				"RECURRENCE-ID;TZID=Europe/Berlin:20260330T080000",
				"DTSTART;TZID=Europe/Berlin:20260330T110000",
				"SUMMARY:Moved",
				"TRIGGER:-PT10M",
			} {
				if !strings.Contains(s, want) {
					t.Errorf("missing %s in\n%s", want, s)
				}
			}
			// ToEAS gives the client the same exceptions back.
			back, err := ToEAS(ClassCalendar, out, opts)
			if err != nil {
				t.Fatal(err)
			}
			exs := back.Child(wbxml.NSCalendar, "Exceptions").All(wbxml.NSCalendar, "Exception")
			if len(exs) != 2 || exs[0].ChildText(wbxml.NSCalendar, "Deleted") != "1" ||
				exs[1].ChildText(wbxml.NSCalendar, "Subject") != "Moved" || exs[1].ChildText(wbxml.NSCalendar, "StartTime") != "20260330T090000Z" {
				t.Errorf("exceptions back:\n%s", back.Child(wbxml.NSCalendar, "Exceptions"))
			}
			// The client reverts the moved occurrence and deletes another.
			exl := back.Child(wbxml.NSCalendar, "Exceptions")
			exl.Children = exl.Children[:1]
			exl.Add(wbxml.New(wbxml.NSCalendar, "Exception", wbxml.Int(wbxml.NSCalendar, "Deleted", 1), exceptionKey(v, "20260306T070000Z")))
			out2, _, err := FromEAS(ClassCalendar, back, out, opts)
			if err != nil {
				t.Fatal(err)
			}
			s2 := unfolded(out2)
			if strings.Contains(s2, "RECURRENCE-ID") || !strings.Contains(s2, "EXDATE;TZID=Europe/Berlin:20260304T080000,20260306T080000") {
				t.Errorf("after revert:\n%s", s2)
			}
			// Removing the recurrence makes it a single event again.
			removeChild(back, wbxml.NSCalendar, "Recurrence")
			removeChild(back, wbxml.NSCalendar, "Exceptions")
			out3, _, err := FromEAS(ClassCalendar, back, out, opts)
			if err != nil {
				t.Fatal(err)
			}
			if s3 := unfolded(out3); strings.Contains(s3, "RRULE:FREQ=WEEKLY") || strings.Contains(s3, "EXDATE") || strings.Count(s3, "BEGIN:VEVENT") != 1 {
				t.Errorf("single event:\n%s", s3)
			}
		})
	}
}

func exceptionKey(v eas.Version, at string) *wbxml.Element {
	if v.AtLeast(eas.V160) {
		return wbxml.Text(wbxml.NSAirSyncBase, "InstanceId", at)
	}
	return wbxml.Text(wbxml.NSCalendar, "ExceptionStartTime", at)
}

// TestInstanceChange covers protocol 16.x: a Change of one occurrence
// (InstanceId in the Change, handed in as a child of app) and a Delete of
// one occurrence.
func TestInstanceChange(t *testing.T) {
	stored := readTestdata(t, "event-weekly-exceptions.ics")
	opts := testOpts(eas.V161)
	app := calXML(t, eas.V161, `<airsyncbase:InstanceId>20260309T070000Z</airsyncbase:InstanceId>
<calendar:StartTime>20260309T080000Z</calendar:StartTime><calendar:EndTime>20260309T083000Z</calendar:EndTime>
<calendar:Subject>Stand-up, later</calendar:Subject>`)
	out, uid, err := FromEAS(ClassCalendar, app, stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	if uid != "weekly-1@example.com" {
		t.Errorf("uid %q", uid)
	}
	s := unfolded(out)
	for _, want := range []string{"RECURRENCE-ID;TZID=Europe/Berlin:20260309T080000", "DTSTART;TZID=Europe/Berlin:20260309T090000",
		"SUMMARY:Stand-up\\, later", "RECURRENCE-ID;TZID=Europe/Berlin:20260330T080000", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=30;WKST=MO"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	// Updating the same occurrence again changes the override in place.
	setChild(app, wbxml.NSCalendar, "Subject", "Again")
	out2, _, err := FromEAS(ClassCalendar, app, out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out2), "RECURRENCE-ID;TZID=Europe/Berlin:20260309T080000"); n != 1 || !strings.Contains(string(out2), "SUMMARY:Again") {
		t.Errorf("second change:\n%s", out2)
	}
	// Delete of that occurrence: EXDATE, override gone.
	out3, err := DeleteInstance(out2, "20260309T070000Z", opts)
	if err != nil {
		t.Fatal(err)
	}
	s3 := unfolded(out3)
	if strings.Contains(s3, "20260309T080000\r\nDTSTART") || !strings.Contains(s3, "EXDATE;TZID=Europe/Berlin:20260309T080000") ||
		strings.Contains(s3, "SUMMARY:Again") {
		t.Errorf("after delete:\n%s", s3)
	}
	// An InstanceId needs a recurring stored event.
	if _, _, err := FromEAS(ClassCalendar, app, readTestdata(t, "event-berlin.ics"), opts); !errors.Is(err, ErrInvalid) {
		t.Errorf("instance of a single event: %v", err)
	}
	if _, err := DeleteInstance(readTestdata(t, "event-berlin.ics"), "20260309T070000Z", opts); !errors.Is(err, ErrInvalid) {
		t.Errorf("delete instance of a single event: %v", err)
	}
}
