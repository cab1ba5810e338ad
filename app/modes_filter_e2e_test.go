package app_test

import (
	"fmt"
	"testing"
	"time"

	"easbridge/app"
	"easbridge/server/wbxml"
)

// TestTasksAsEventsFilterAgainstRealServers: a look-back override on a
// task list offered as a calendar dates each task by the event it becomes
// (its due date): a task due two months ago stays off the phone, one due
// in three days comes; without the override both come.
func TestTasksAsEventsFilterAgainstRealServers(t *testing.T) {
	w, seed := davWorld(t)
	now := time.Now().UTC()
	for _, tk := range []struct {
		name, summary string
		due           time.Time
	}{
		{"filter-old", "Renew the passport", now.AddDate(0, -2, 0)},
		{"filter-soon", "Water the plants", now.AddDate(0, 0, 3)},
	} {
		body := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge test//EN\r\nBEGIN:VTODO\r\n"+
			"UID:%s@example.test\r\nDTSTAMP:%s\r\nSUMMARY:%s\r\nDUE:%s\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
			tk.name, now.Format("20060102T150405Z"), tk.summary, tk.due.Format("20060102T150405Z"))
		w.dav.Put(t, "alice", seed.Tasks+tk.name+".ics", "text/calendar", []byte(body))
	}
	p := newModePhone(t, w, "taskfilter1")
	subjects := func(coll string) map[string]bool {
		t.Helper()
		_, evs := syncAll(t, p.c, coll)
		out := map[string]bool{}
		for _, d := range evs {
			out[d.ChildText(wbxml.NSCalendar, "Subject")] = true
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		filter    int
		old, soon bool
	}{
		{"two weeks back", 4, false, true},
		{"all", 0, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setMode(t, w, "taskfilter1", app.FolderSetting{Key: "caldav:" + seed.Tasks, Mode: app.ModeTasksAsEvents, Filter: tc.filter})
			p.folderSync()
			got := subjects(p.named("Tasks", userCalType))
			if got["Renew the passport"] != tc.old || got["Water the plants"] != tc.soon {
				t.Errorf("filter %d: events %v, want old %v soon %v", tc.filter, got, tc.old, tc.soon)
			}
		})
	}
}
