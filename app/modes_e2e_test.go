package app_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"easbridge/app"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
	"easbridge/sync/testenv"
)

// modePhone is a provisioned phone that follows the folder hierarchy.
type modePhone struct {
	t   *testing.T
	c   *easclient.Client
	key string
	ids map[string]easclient.Folder // by ServerId
}

func newModePhone(t *testing.T, w *world, id string) *modePhone {
	t.Helper()
	c := w.client("16.1", id)
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := &modePhone{t: t, c: c, key: "0", ids: map[string]easclient.Folder{}}
	p.folderSync()
	return p
}

// folderSync runs FolderSync from the phone's key and returns the changes.
func (p *modePhone) folderSync() (adds, deletes []easclient.Folder) {
	p.t.Helper()
	key, changes, r, err := p.c.FolderSync(context.Background(), p.key)
	if err != nil || r.Status() != 1 {
		p.t.Fatalf("FolderSync %s: %v %s", p.key, err, wbxml.XMLString(r.Root))
	}
	p.key = key
	for _, f := range changes {
		switch f.Change {
		case "Delete":
			deletes = append(deletes, p.ids[f.ServerID])
			delete(p.ids, f.ServerID)
		case "Add":
			adds = append(adds, f)
			p.ids[f.ServerID] = f
		default:
			p.ids[f.ServerID] = f
		}
	}
	return adds, deletes
}

// byType returns the folders of a type, by name.
func (p *modePhone) byType(types ...int) map[string]easclient.Folder {
	out := map[string]easclient.Folder{}
	for _, f := range p.ids {
		for _, ty := range types {
			if f.Type == ty {
				out[f.DisplayName] = f
			}
		}
	}
	return out
}

func (p *modePhone) named(name string, ty int) string {
	p.t.Helper()
	f, ok := p.byType(ty)[name]
	if !ok {
		p.t.Fatalf("no folder %q of type %d in %v", name, ty, p.ids)
	}
	return f.ServerID
}

func names(fs []easclient.Folder) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.DisplayName)
	}
	return out
}

func setMode(t *testing.T, w *world, device string, s app.FolderSetting) {
	t.Helper()
	if err := w.rt.SetFolderSetting(context.Background(), "alice@"+testenv.Domain, device, s); err != nil {
		t.Fatalf("SetFolderSetting %+v: %v", s, err)
	}
}

const (
	calType, userCalType, tasksType, notesType, contactsType, userMailType, userTasksType = 8, 13, 7, 10, 9, 12, 15
)

// TestFolderVisibilityAgainstRealServers: a hidden folder leaves the phone
// through FolderSync (a held Ping and a Sync tell it to run one) and comes
// back with the same ServerId when shown again; settings per device.
func TestFolderVisibilityAgainstRealServers(t *testing.T) {
	w, seed := davWorld(t)
	ctx := context.Background()
	p := newModePhone(t, w, "visphone1")
	other := newModePhone(t, w, "visphone2")
	workID := p.named("Work", userCalType)
	calID := p.named("Calendar", calType)
	syncAll(t, p.c, calID)

	// A Ping held over the calendar answers Status 7 when the settings change.
	done := make(chan *easclient.PingResult, 1)
	go func() {
		pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		res, _, err := p.c.Ping(pctx, 120, []easclient.PingFolder{{ID: calID, Class: "Calendar"}})
		if err != nil {
			t.Errorf("Ping: %v", err)
		}
		done <- res
	}()
	time.Sleep(1500 * time.Millisecond) // the Ping is held
	setMode(t, w, "visphone1", app.FolderSetting{Key: "caldav:" + seed.Work, Hidden: true})
	select {
	case res := <-done:
		if res == nil || res.Status != 7 {
			t.Fatalf("Ping after the change: %+v, want Status 7", res)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the held Ping did not answer the settings change")
	}
	// Until it runs FolderSync, Sync answers 12.
	if a := syncOnce(t, p.c, calID, "0", 10); a.status != 12 {
		t.Errorf("Sync before FolderSync: status %d, want 12", a.status)
	}
	adds, dels := p.folderSync()
	if len(adds) != 0 || len(dels) != 1 || dels[0].ServerID != workID {
		t.Fatalf("hiding Work: adds %v deletes %v", names(adds), names(dels))
	}
	if a := syncOnce(t, p.c, workID, "0", 10); a.status != 12 {
		t.Errorf("Sync of the hidden folder: status %d, want 12", a.status)
	}
	// The other phone still sees it (the setting was for visphone1 only).
	if adds, dels := other.folderSync(); len(adds)+len(dels) != 0 {
		t.Errorf("other phone: adds %v deletes %v", names(adds), names(dels))
	}
	// Shown again: the same ServerId.
	setMode(t, w, "visphone1", app.FolderSetting{Key: "caldav:" + seed.Work})
	adds, dels = p.folderSync()
	if len(adds) != 1 || adds[0].ServerID != workID || len(dels) != 0 {
		t.Fatalf("showing Work again: adds %+v deletes %v", adds, names(dels))
	}
	// An account-wide default applies to every phone; the window lists it as inherited.
	setMode(t, w, "", app.FolderSetting{Key: "carddav:" + seed.Office, Hidden: true})
	for _, ph := range []*modePhone{p, other} {
		if _, dels := ph.folderSync(); len(dels) != 1 || dels[0].DisplayName != "Office" {
			t.Errorf("account-wide hide: deletes %v", names(dels))
		}
	}
	list, err := w.rt.FolderSettings(ctx, "alice@"+testenv.Domain, "visphone2")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range list {
		if s.Key == "carddav:"+seed.Office {
			found = s.Hidden && s.Inherited && s.Name == "Office"
		}
	}
	if !found || len(list) < 8 {
		t.Errorf("FolderSettings: %+v", list)
	}
	users, err := w.rt.KnownUsers(ctx)
	if err != nil || len(users) != 1 || users[0] != "alice@"+testenv.Domain {
		t.Errorf("KnownUsers: %v %v", users, err)
	}
	// Invalid combinations are refused with a reason.
	if err := w.rt.SetFolderSetting(ctx, "alice@"+testenv.Domain, "", app.FolderSetting{Key: "caldav:" + seed.Work, Mode: app.ModeMerged, MergeInto: "carddav:" + seed.Contacts}); err == nil || !strings.Contains(err.Error(), "cannot merge") {
		t.Errorf("merging a calendar into contacts: %v", err)
	}
}

// TestClassSwitchesAgainstRealServers: turning the calendar class off
// removes calendars and task lists from the phone without a reset.
func TestClassSwitchesAgainstRealServers(t *testing.T) {
	w := newWorld(t)
	p := newModePhone(t, w, "classphone1")
	before := len(p.byType(calType, userCalType, tasksType))
	if before < 3 {
		t.Fatalf("calendars and task lists before: %d", before)
	}
	off := false
	w.cfg.Accounts[0].Classes.Calendar = &off
	w.cfg.Accounts[0].Classes.Email = &off
	w.restart()
	adds, dels := p.folderSync()
	if len(adds) != 0 || len(p.byType(calType, userCalType, tasksType, 2, 12)) != 0 {
		t.Fatalf("after the switch: adds %v, left %v", names(adds), p.ids)
	}
	if len(p.byType(contactsType)) != 1 || len(dels) < before+2 {
		t.Errorf("deletes %v; left %v", names(dels), p.ids)
	}
}

// TestMergedFoldersAgainstRealServers: Work merged into Calendar; the
// phone's new events go to the default calendar, edits to an event stay
// in its own collection; undoing the merge takes its events back out.
func TestMergedFoldersAgainstRealServers(t *testing.T) {
	w, seed := davWorld(t)
	p := newModePhone(t, w, "mergephone1")
	calID, workID := p.named("Calendar", calType), p.named("Work", userCalType)
	key, events := syncAll(t, p.c, calID)
	own := len(events)

	setMode(t, w, "mergephone1", app.FolderSetting{Key: "caldav:" + seed.Work, Mode: app.ModeMerged, MergeInto: "caldav:" + seed.Calendar})
	if _, dels := p.folderSync(); len(dels) != 1 || dels[0].ServerID != workID {
		t.Fatalf("merge: deletes %v", names(dels))
	}
	// The calendar keeps its key; Work's events arrive as adds.
	a := syncOnce(t, p.c, calID, key, 100)
	workEvents := seed.In(seed.Work)
	if a.status != 1 || len(a.adds) != len(workEvents) {
		t.Fatalf("merged sync: status %d, %d adds, want %d", a.status, len(a.adds), len(workEvents))
	}
	key = a.key
	var workItem string
	for id, d := range a.adds {
		if d.ChildText(wbxml.NSCalendar, "Subject") == workEvents[0].Summary {
			workItem = id
		}
		if _, dup := events[id]; dup {
			t.Errorf("ServerId %s used twice across merged collections", id)
		}
	}
	ns, cal := wbxml.NSAirSync, wbxml.NSCalendar
	add := wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", "m-1"), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "StartTime", "20261210T090000Z"), wbxml.Text(cal, "EndTime", "20261210T100000Z"),
		wbxml.Text(cal, "Subject", "Merged add"), wbxml.Text(cal, "UID", "merged-add-1")))
	change := wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", workItem), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "StartTime", "20261211T090000Z"), wbxml.Text(cal, "EndTime", "20261211T100000Z"),
		wbxml.Text(cal, "Subject", "Work edited through the merge")))
	a = syncOnce(t, p.c, calID, key, 100, add, change)
	if a.status != 1 || len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") != "1" {
		t.Fatalf("add and change: %s", wbxml.XMLString(a.root))
	}
	key = a.key
	// A phone without the merge sees the add in Calendar, not in Work.
	plain := newModePhone(t, w, "mergephone2")
	for _, c := range []struct {
		folder string
		want   bool
	}{{"Calendar", true}, {"Work", false}} {
		id := plain.named(c.folder, map[string]int{"Calendar": calType, "Work": userCalType}[c.folder])
		_, got := syncAll(t, plain.c, id)
		has := false
		for _, d := range got {
			has = has || d.ChildText(cal, "Subject") == "Merged add"
		}
		if has != c.want {
			t.Errorf("the phone's add in %s: %v, want %v", c.folder, has, c.want)
		}
	}
	if body, _ := w.dav.Get(t, "alice", workEvents[0].Path); !strings.Contains(string(body), "Work edited through the merge") {
		t.Errorf("the change did not reach the event in Work:\n%s", body)
	}
	// A delete through the merge removes the event from Work.
	a = syncOnce(t, p.c, calID, key, 100, wbxml.New(ns, "Delete", wbxml.Text(ns, "ServerId", workItem)))
	if a.status != 1 || len(a.resp) != 0 {
		t.Fatalf("delete: %s", wbxml.XMLString(a.root))
	}
	key = a.key
	if _, got := syncAll(t, plain.c, plain.named("Work", userCalType)); len(got) != len(workEvents)-1 {
		t.Errorf("Work after the delete: %d events, want %d", len(got), len(workEvents)-1)
	}
	// Undo: Work is back, its events leave the calendar.
	setMode(t, w, "mergephone1", app.FolderSetting{Key: "caldav:" + seed.Work, Inherited: true})
	if adds, _ := p.folderSync(); len(adds) != 1 || adds[0].ServerID != workID {
		t.Fatalf("unmerge: adds %v", names(adds))
	}
	a = syncOnce(t, p.c, calID, key, 100)
	if a.status != 1 || len(a.deletes) != len(workEvents)-1 {
		t.Fatalf("unmerged sync: status %d, %d deletes, want %d", a.status, len(a.deletes), len(workEvents)-1)
	}
	if _, after := syncAll(t, p.c, calID); len(after) != own+1 {
		t.Errorf("calendar after unmerge: %d events, want %d", len(after), own+1)
	}
}

// TestTasksAsEventsAgainstRealServers: a task list as a calendar; a task
// completed through its event is completed in Radicale; incomplete-only
// merged into the calendar sends the completed task's event away.
func TestTasksAsEventsAgainstRealServers(t *testing.T) {
	w, seed := davWorld(t)
	p := newModePhone(t, w, "taskphone1")
	tasksID := p.named("Tasks", tasksType)
	setMode(t, w, "taskphone1", app.FolderSetting{Key: "caldav:" + seed.Tasks, Mode: app.ModeTasksAsEvents})
	adds, dels := p.folderSync()
	if len(dels) != 1 || dels[0].ServerID != tasksID || len(adds) != 1 || adds[0].Type != userCalType || adds[0].DisplayName != "Tasks" {
		t.Fatalf("tasks as events: adds %+v deletes %v", adds, names(dels))
	}
	evID := adds[0].ServerID
	key, events := syncAll(t, p.c, evID)
	tasks := seed.In(seed.Tasks)
	if len(events) != len(tasks) {
		t.Fatalf("%d events for %d tasks", len(events), len(tasks))
	}
	var openID string
	var open testenv.DAVObject
	cal, ns := wbxml.NSCalendar, wbxml.NSAirSync
	for _, o := range tasks {
		if !strings.Contains(string(o.Body), "COMPLETED") {
			open = o
		}
	}
	for id, d := range events {
		subj := d.ChildText(cal, "Subject")
		switch {
		case subj == open.Summary:
			openID = id
		case !strings.HasPrefix(subj, "✔ "):
			t.Errorf("completed task's event %q has no mark", subj)
		}
	}
	if openID == "" {
		t.Fatalf("no event for %q", open.Summary)
	}
	start := events[openID].ChildText(cal, "StartTime")
	done := wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", openID), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "StartTime", start), wbxml.Text(cal, "EndTime", events[openID].ChildText(cal, "EndTime")),
		wbxml.Text(cal, "Subject", open.Summary),
		wbxml.New(cal, "Categories", wbxml.Text(cal, "Category", calconv.CompletedCategory))))
	newTask := wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", "te-1"), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "StartTime", "20261215T000000Z"), wbxml.Text(cal, "EndTime", "20261216T000000Z"),
		wbxml.Text(cal, "AllDayEvent", "1"), wbxml.Text(cal, "Subject", "Buy a tree")))
	a := syncOnce(t, p.c, evID, key, 100, done, newTask)
	if a.status != 1 || len(a.resp) != 1 || a.resp[0].ChildText(ns, "Status") != "1" {
		t.Fatalf("complete through the event, add one: %s", wbxml.XMLString(a.root))
	}
	// The event added on the phone is a task, due that day, for a phone
	// that sees the task list as it is.
	plain := newModePhone(t, w, "taskphone2")
	_, plainTasks := syncAll(t, plain.c, plain.named("Tasks", tasksType))
	added := false
	for _, d := range plainTasks {
		if d.ChildText(wbxml.NSTasks, "Subject") == "Buy a tree" {
			added = strings.HasPrefix(d.ChildText(wbxml.NSTasks, "DueDate"), "2026-12-15")
		}
	}
	if !added || len(plainTasks) != len(tasks)+1 {
		t.Errorf("the added event as a task: found %v among %d tasks", added, len(plainTasks))
	}
	body, _ := w.dav.Get(t, "alice", open.Path)
	if !strings.Contains(string(body), "STATUS:COMPLETED") || !strings.Contains(string(body), "BEGIN:VTODO") || !strings.Contains(string(body), "SUMMARY:"+open.Summary+"\r\n") {
		t.Fatalf("the task in Radicale:\n%s", body)
	}

	// Reopen it on the server, then offer incomplete tasks only, merged
	// into the calendar: one task event among the calendar's.
	w.dav.Put(t, "alice", open.Path, "text/calendar", open.Body)
	calID := p.named("Calendar", calType)
	ckey, calEvents := syncAll(t, p.c, calID)
	setMode(t, w, "taskphone1", app.FolderSetting{Key: "caldav:" + seed.Tasks, Mode: app.ModeTasksAsEvents, MergeInto: "caldav:" + seed.Calendar, IncompleteOnly: true})
	if _, dels := p.folderSync(); len(dels) != 1 || dels[0].ServerID != evID {
		t.Fatalf("merge into the calendar: deletes %v", names(dels))
	}
	a = syncOnce(t, p.c, calID, ckey, 100)
	if a.status != 1 || len(a.adds) != 2 { // the open seeded task and the one added
		t.Fatalf("incomplete tasks merged: %d adds, want 2: %s", len(a.adds), wbxml.XMLString(a.root))
	}
	var taskEv string
	for id, d := range a.adds {
		switch d.ChildText(cal, "Subject") {
		case open.Summary:
			taskEv = id
		case "Buy a tree":
		default:
			t.Errorf("merged task event %q", d.ChildText(cal, "Subject"))
		}
	}
	// Completed elsewhere: the event leaves the calendar.
	w.dav.Put(t, "alice", open.Path, "text/calendar", []byte(strings.Replace(string(open.Body), "STATUS:NEEDS-ACTION", "STATUS:COMPLETED", 1)))
	a = syncOnce(t, p.c, calID, a.key, 100)
	if a.status != 1 || len(a.deletes) != 1 || a.deletes[0] != taskEv {
		t.Fatalf("completed task: deletes %v, want [%s]", a.deletes, taskEv)
	}
	if len(calEvents) == 0 {
		t.Error("calendar was empty")
	}
}

// TestGroupwareAsEmailAgainstRealServers: contacts and the calendar as
// mail folders; each message carries the original object, fetched with
// ItemOperations; a delete on the phone leaves Radicale alone.
func TestGroupwareAsEmailAgainstRealServers(t *testing.T) {
	w, seed := davWorld(t)
	ctx := context.Background()
	p := newModePhone(t, w, "gwphone1")
	for _, k := range []string{"carddav:" + seed.Contacts, "caldav:" + seed.Calendar} {
		setMode(t, w, "gwphone1", app.FolderSetting{Key: k, Mode: app.ModeGroupwareAsEmail})
	}
	adds, dels := p.folderSync()
	if len(adds) != 2 || len(dels) != 2 {
		t.Fatalf("groupware as mail: adds %+v deletes %v", adds, names(dels))
	}
	mailFolders := p.byType(userMailType)
	for _, name := range []string{"Contacts", "Calendar"} {
		f, ok := mailFolders[name]
		if !ok {
			t.Fatalf("no mail folder %s in %v", name, p.ids)
		}
		objs := seed.In(seed.Contacts)
		if name == "Calendar" {
			objs = seed.In(seed.Calendar)
		}
		key, msgs := syncAll(t, p.c, f.ServerID)
		if len(msgs) != len(objs) {
			t.Fatalf("%s: %d messages for %d objects", name, len(msgs), len(objs))
		}
		var id, ref string
		for sid, m := range msgs {
			subj := m.ChildText(wbxml.NSEmail, "Subject")
			if subj != objs[0].Summary {
				continue
			}
			id = sid
			if body := m.Child(wbxml.NSAirSyncBase, "Body").ChildText(wbxml.NSAirSyncBase, "Data"); !strings.Contains(body, objs[0].Summary) {
				t.Errorf("%s: body without the summary: %q", name, body)
			}
			att := m.Child(wbxml.NSAirSyncBase, "Attachments").Child(wbxml.NSAirSyncBase, "Attachment")
			ref = att.ChildText(wbxml.NSAirSyncBase, "FileReference")
		}
		if id == "" || ref == "" {
			t.Fatalf("%s: no message with an attachment for %q", name, objs[0].Summary)
		}
		io := wbxml.NSItemOperations
		r, err := p.c.Do(ctx, "ItemOperations", wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch",
			wbxml.Text(io, "Store", "Mailbox"), wbxml.Text(wbxml.NSAirSyncBase, "FileReference", ref))))
		if err != nil {
			t.Fatal(err)
		}
		props := r.Root.Child(io, "Response").Child(io, "Fetch").Child(io, "Properties")
		raw, _ := base64.StdEncoding.DecodeString(props.ChildText(io, "Data"))
		class := calconv.ClassContacts
		if name == "Calendar" {
			class = calconv.ClassCalendar
		}
		if app, err := calconv.ToEAS(class, raw, calconv.Options{}); err != nil || calconv.UIDOf(raw) != objs[0].UID || app == nil {
			t.Fatalf("%s: attachment is not the stored object (%v):\n%s", name, err, raw)
		}
		// The message itself, by CollectionId and ServerId.
		r, err = p.c.Do(ctx, "ItemOperations", wbxml.New(io, "ItemOperations", wbxml.New(io, "Fetch",
			wbxml.Text(io, "Store", "Mailbox"), wbxml.Text(wbxml.NSAirSync, "CollectionId", f.ServerID), wbxml.Text(wbxml.NSAirSync, "ServerId", id))))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Root.Child(io, "Response").Child(io, "Fetch").Child(io, "Properties").ChildText(wbxml.NSEmail, "Subject"); got != objs[0].Summary {
			t.Errorf("%s: fetched message subject %q: %s", name, got, wbxml.XMLString(r.Root))
		}
		// A delete on the phone does not delete the object.
		a := syncOnce(t, p.c, f.ServerID, key, 100, wbxml.New(wbxml.NSAirSync, "Delete", wbxml.Text(wbxml.NSAirSync, "ServerId", id)))
		if a.status != 1 || len(a.resp) != 0 {
			t.Fatalf("%s: delete: %s", name, wbxml.XMLString(a.root))
		}
		if body, _ := w.dav.Get(t, "alice", objs[0].Path); len(body) == 0 {
			t.Errorf("%s: the phone's delete removed %s", name, objs[0].Path)
		}
	}
}

// TestNotesModesAgainstRealServers: notes offered as tasks, then as events; a note
// edited as a task or an event changes the VJOURNAL.
func TestNotesModesAgainstRealServers(t *testing.T) {
	w, seed := davWorld(t)
	p := newModePhone(t, w, "notephone1")
	setMode(t, w, "", app.FolderSetting{Key: "caldav:" + seed.Notes, Mode: app.ModeNotesAsTasks})
	adds, dels := p.folderSync()
	if len(adds) != 1 || adds[0].Type != userTasksType || len(dels) != 1 || dels[0].Type != notesType {
		t.Fatalf("notes as tasks: adds %+v deletes %+v", adds, dels)
	}
	key, items := syncAll(t, p.c, adds[0].ServerID)
	notes := seed.In(seed.Notes)
	if len(items) != len(notes) {
		t.Fatalf("%d tasks for %d notes", len(items), len(notes))
	}
	tk, ns := wbxml.NSTasks, wbxml.NSAirSync
	var id string
	for sid, d := range items {
		if d.ChildText(tk, "Subject") == notes[0].Summary {
			id = sid
		}
	}
	if id == "" {
		t.Fatalf("no task for note %q", notes[0].Summary)
	}
	a := syncOnce(t, p.c, adds[0].ServerID, key, 100, wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", id), wbxml.New(ns, "ApplicationData",
		wbxml.Text(tk, "Subject", "Renamed on the phone"), wbxml.Text(tk, "Complete", "0"))))
	if a.status != 1 || len(a.resp) != 0 {
		t.Fatalf("edit: %s", wbxml.XMLString(a.root))
	}
	body, _ := w.dav.Get(t, "alice", notes[0].Path)
	if !strings.Contains(string(body), "BEGIN:VJOURNAL") || !strings.Contains(string(body), "SUMMARY:Renamed on the phone") {
		t.Fatalf("the note in Radicale:\n%s", body)
	}

	// Notes as events: all-day events on the notes' dates; a move and a
	// rename flow back.
	setMode(t, w, "", app.FolderSetting{Key: "caldav:" + seed.Notes, Mode: app.ModeNotesAsEvents})
	adds, dels = p.folderSync()
	if len(adds) != 1 || adds[0].Type != userCalType || len(dels) != 1 || dels[0].Type != userTasksType {
		t.Fatalf("notes as events: adds %+v deletes %+v", adds, dels)
	}
	key, items = syncAll(t, p.c, adds[0].ServerID)
	cal := wbxml.NSCalendar
	id = ""
	for sid, d := range items {
		if d.ChildText(cal, "Subject") == "Renamed on the phone" && d.ChildText(cal, "AllDayEvent") == "1" {
			id = sid
		}
	}
	if len(items) != len(notes) || id == "" {
		t.Fatalf("%d events for %d notes; renamed one found: %v", len(items), len(notes), id != "")
	}
	a = syncOnce(t, p.c, adds[0].ServerID, key, 100, wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", id), wbxml.New(ns, "ApplicationData",
		wbxml.Text(cal, "StartTime", "20270105T000000Z"), wbxml.Text(cal, "EndTime", "20270106T000000Z"),
		wbxml.Text(cal, "AllDayEvent", "1"), wbxml.Text(cal, "Subject", "Moved note"))))
	if a.status != 1 || len(a.resp) != 0 {
		t.Fatalf("edit as event: %s", wbxml.XMLString(a.root))
	}
	body, _ = w.dav.Get(t, "alice", notes[0].Path)
	if !strings.Contains(string(body), "BEGIN:VJOURNAL") || !strings.Contains(string(body), "SUMMARY:Moved note") || !strings.Contains(string(body), "DTSTART;VALUE=DATE:20270105") {
		t.Fatalf("the note in Radicale after the event edit:\n%s", body)
	}
}

// TestFilterOverrideAgainstRealServers: a look-back filter set for the
// Inbox overrides the phone's "all messages"; removing it brings the old
// message.
func TestFilterOverrideAgainstRealServers(t *testing.T) {
	w := newWorld(t)
	c := w.dovecot.Dial(t, "alice")
	for _, m := range []struct {
		subject string
		age     time.Duration
	}{{"Fresh news", 0}, {"Old news", 30 * 24 * time.Hour}} {
		raw := "From: bob@example.test\r\nTo: alice@example.test\r\nSubject: " + m.subject + "\r\n\r\nbody\r\n"
		cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Time: time.Now().Add(-m.age)})
		if _, err := cmd.Write([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	p := newModePhone(t, w, "filterphone1")
	inbox := p.named("Inbox", 2)
	subjects := func() map[string]bool {
		_, msgs := syncAll(t, p.c, inbox)
		out := map[string]bool{}
		for _, m := range msgs {
			out[m.ChildText(wbxml.NSEmail, "Subject")] = true
		}
		return out
	}
	setMode(t, w, "filterphone1", app.FolderSetting{Key: "imap:INBOX", Filter: 3}) // one week
	if adds, dels := p.folderSync(); len(adds)+len(dels) != 0 {
		t.Fatalf("a filter changed the hierarchy: %v %v", names(adds), names(dels))
	}
	if got := subjects(); !got["Fresh news"] || got["Old news"] {
		t.Errorf("with a one-week filter: %v", got)
	}
	setMode(t, w, "filterphone1", app.FolderSetting{Key: "imap:INBOX", Inherited: true})
	p.folderSync()
	if got := subjects(); !got["Fresh news"] || !got["Old news"] {
		t.Errorf("without the filter: %v", got)
	}
}
