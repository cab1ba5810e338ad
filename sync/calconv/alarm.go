package calconv

import (
	"strings"
	"time"
)

// The reminder of an event or a task is the first VALARM whose ACTION is
// DISPLAY or AUDIO (or missing) and whose TRIGGER falls at or before the
// event's start (for tasks: any time). Other alarms (EMAIL, PROCEDURE,
// later ones) are not shown to the client and are kept as they are.

type alarmRef struct {
	alarm *component
	at    time.Time // when it fires
}

// findAlarm returns the mapped alarm of c; start and end anchor relative
// triggers (RELATED=START/END) in zone z; notAfter, when set, rejects
// alarms that fire after it (an EAS Reminder counts minutes before the
// start).
func findAlarm(cal *calendar, c *component, start, end time.Time, hasStart, hasEnd bool, z *zone, notAfter *time.Time) *alarmRef {
	for _, a := range c.childrenNamed("VALARM") {
		switch strings.ToUpper(a.text("ACTION")) {
		case "", "DISPLAY", "AUDIO":
		default:
			continue
		}
		at, ok := alarmTime(cal, a, start, end, hasStart, hasEnd, z)
		if !ok {
			continue
		}
		if notAfter != nil && at.After(*notAfter) {
			continue
		}
		return &alarmRef{a, at}
	}
	return nil
}

func alarmTime(cal *calendar, a *component, start, end time.Time, hasStart, hasEnd bool, z *zone) (time.Time, bool) {
	p := a.get("TRIGGER")
	if p == nil {
		return time.Time{}, false
	}
	if strings.EqualFold(p.param("VALUE"), "DATE-TIME") || (len(p.Value) >= 15 && !strings.ContainsAny(p.Value, "P")) {
		it, err := cal.parseTime(p, p.Value)
		if err != nil {
			return time.Time{}, false
		}
		return it.t, true
	}
	days, secs, ok := parseDuration(p.Value)
	if !ok {
		return time.Time{}, false
	}
	anchor, have := start, hasStart
	if strings.EqualFold(p.param("RELATED"), "END") {
		anchor, have = end, hasEnd
	}
	if !have {
		return time.Time{}, false
	}
	return addDuration(anchor, z, days, secs), true
}

// setAlarmTrigger points the mapped alarm (or a new DISPLAY alarm) at
// trigger.
func setAlarmTrigger(c *component, ref *alarmRef, trigger *prop) {
	if ref != nil {
		ref.alarm.set(trigger)
		return
	}
	a := &component{Name: "VALARM"}
	a.add(&prop{Name: "ACTION", Value: "DISPLAY"})
	a.add(&prop{Name: "DESCRIPTION", Value: "Reminder"})
	a.add(trigger)
	c.Children = append(c.Children, a)
}

func removeAlarm(c *component, ref *alarmRef) {
	if ref == nil {
		return
	}
	for i, ch := range c.Children {
		if ch == ref.alarm {
			c.Children = append(c.Children[:i], c.Children[i+1:]...)
			return
		}
	}
}
