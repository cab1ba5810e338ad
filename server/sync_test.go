package server

import (
	"bytes"
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of server/testdata")

// itemsClient is a provisioned client of the harness.
func (h *harness) itemsClient(version, device string) *easclient.Client {
	h.t.Helper()
	c := h.client(version, device)
	if _, err := c.Provision(context.Background()); err != nil {
		h.t.Fatalf("provision %s: %v", device, err)
	}
	return c
}

// itemsSync sends one Sync and fails the test on a transport error.
func (h *harness) itemsSync(c *easclient.Client, colls []*wbxml.Element, extra ...*wbxml.Element) *easclient.Response {
	h.t.Helper()
	r, err := c.Sync(context.Background(), colls, extra...)
	if err != nil {
		h.t.Fatalf("Sync: %v", err)
	}
	if r.HTTPStatus != 200 {
		h.t.Fatalf("Sync: HTTP %d %s", r.HTTPStatus, r.Body)
	}
	return r
}

func as(name string, children ...*wbxml.Element) *wbxml.Element {
	return wbxml.New(wbxml.NSAirSync, name, children...)
}

func asText(name, text string) *wbxml.Element { return wbxml.Text(wbxml.NSAirSync, name, text) }

func one(t *testing.T, r *easclient.Response) easclient.SyncResult {
	t.Helper()
	if r.Root == nil {
		t.Fatalf("empty answer, HTTP %d", r.HTTPStatus)
	}
	res := easclient.SyncResults(r.Root)
	if len(res) != 1 {
		t.Fatalf("%d collections in %s", len(res), wbxml.XMLString(r.Root))
	}
	return res[0]
}

func opsOf(els []*wbxml.Element) string {
	var b []string
	for _, e := range els {
		b = append(b, e.Name+" "+e.ChildText(wbxml.NSAirSync, "ServerId"))
	}
	return strings.Join(b, ", ")
}

// checkGolden compares XML with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, root *wbxml.Element) {
	t.Helper()
	var b bytes.Buffer
	if err := wbxml.ToXML(&b, root); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server/ -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s differs from the golden file:\n%s", name, b.String())
	}
}

// TestSyncTranscript is a phone's first minutes with the Inbox: prime the
// key, page through the messages in windows, then send changes of its own.
func TestSyncTranscript(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("14.1", "sync1")
	ctx := context.Background()

	// 1. SyncKey 0: a new key, nothing else (GetChanges is false).
	r := one(t, h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("0", "1")}))
	if r.SyncKey != "1" || r.Status != "1" || len(r.Commands) != 0 || r.MoreAvailable {
		t.Fatalf("initial sync: %+v", r)
	}

	// 2. Windows of 2 over 5 messages: 2, 2, 1; MoreAvailable until the end.
	key := r.SyncKey
	var got []string
	for i, wantMore := range []bool{true, true, false} {
		resp := h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection(key, "1", asText("WindowSize", "2"))})
		if i == 0 {
			checkGolden(t, "sync_window.xml", resp.Root)
		}
		r = one(t, resp)
		if r.Status != "1" || r.MoreAvailable != wantMore || r.SyncKey == key {
			t.Fatalf("window %d: %+v", i, r)
		}
		for _, a := range r.Commands {
			if a.Name != "Add" || a.Child(wbxml.NSAirSync, "ApplicationData").ChildText(wbxml.NSEmail, "Subject") == "" {
				t.Fatalf("window %d: command %s", i, wbxml.XMLString(a))
			}
			got = append(got, a.ChildText(wbxml.NSAirSync, "ServerId"))
		}
		key = r.SyncKey
	}
	if strings.Join(got, " ") != "1:1 1:2 1:3 1:4 1:5" {
		t.Fatalf("added %v", got)
	}

	// 3. Nothing new: the empty answer of MS-ASCMD 4.5.10.
	e := h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection(key, "1")})
	if len(e.Body) != 0 || e.Root != nil {
		t.Fatalf("quiet sync: %d bytes", len(e.Body))
	}

	// 4. The client's own commands, in the order of MS-ASCMD 2.2.3.29.2.
	ae := func(name string, kids ...*wbxml.Element) *wbxml.Element { return as(name, kids...) }
	cmds := ae("Commands",
		ae("Change", asText("ServerId", "1:1"), ae("ApplicationData", wbxml.Text(wbxml.NSEmail, "Read", "1"))),
		ae("Delete", asText("ServerId", "1:2")),
		ae("Add", asText("ClientId", "c-1"), ae("ApplicationData", wbxml.Text(wbxml.NSEmail, "Subject", "Draft"))),
		ae("Fetch", asText("ServerId", "1:3")),
		ae("Change", asText("ServerId", "1:99"), ae("ApplicationData", wbxml.Text(wbxml.NSEmail, "Read", "1"))),
		ae("Delete", asText("ServerId", "1:98")),
	)
	resp := h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection(key, "1", asText("GetChanges", "1"), cmds)})
	checkGolden(t, "sync_client_commands.xml", resp.Root)
	r = one(t, resp)
	// Successful Change and Delete have no response (MS-ASCMD 2.2.3.154).
	if r.Status != "1" || len(r.Commands) != 0 || opsOf(r.Responses) != "Add 1:8, Fetch 1:3, Change 1:99, Delete 1:98" {
		t.Fatalf("client commands: %s", wbxml.XMLString(resp.Root))
	}
	if r.Responses[0].ChildText(wbxml.NSAirSync, "ClientId") != "c-1" || r.Responses[2].ChildText(wbxml.NSAirSync, "Status") != "8" {
		t.Errorf("responses: %s", wbxml.XMLString(resp.Root))
	}
	key = r.SyncKey

	// 5. Changes on the server side: a new message, a read flag, a delete.
	h.backend.mu.Lock()
	it := h.backend.items
	it.add("1", "Fresh", "new", fakeEpoch)
	it.msgs["1:4"].read, it.msgs["1:4"].version = true, 2
	it.remove("1:5")
	h.backend.mu.Unlock()
	r = one(t, h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection(key, "1")}))
	if opsOf(r.Commands) != "Change 1:4, Add 1:9, Delete 1:5" {
		t.Fatalf("server changes: %s", opsOf(r.Commands))
	}
	if r.Commands[2].Has(wbxml.NSAirSync, "ApplicationData") {
		t.Errorf("Delete with data")
	}

	// 6. A key the server does not know: Status 3 and SyncKey 0.
	r = one(t, h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("77", "1")}))
	if r.Status != "3" || r.SyncKey != "0" {
		t.Errorf("unknown key: %+v", r)
	}
	_ = ctx
}

func TestSyncCollectionErrors(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("16.1", "syncerr")
	for _, tc := range []struct {
		id, key, status string
	}{
		{"42", "5", "12"},      // unknown collection: folder hierarchy changed
		{"retry", "5", "16"},   // eas.StatusError: its own status
		{"broken", "5", "5"},   // any other error: server error
		{"down", "5", "16"},    // backend unavailable: retry
		{"1", "9", "3"},        // never primed: invalid key
		{"1", "abc", "3"},      // garbage key
		{"2", "0", "1"},        // a good one among them
		{"3", "0", "1"},        // and another
		{"missing", "0", "12"}, // unknown, even with key 0
	} {
		t.Run(tc.id+"/"+tc.key, func(t *testing.T) {
			r := one(t, h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection(tc.key, tc.id)}))
			if r.Status != tc.status || r.CollectionID != tc.id {
				t.Errorf("status %s, want %s (%+v)", r.Status, tc.status, r)
			}
			if tc.status == "3" && r.SyncKey != "0" {
				t.Errorf("status 3 with key %q", r.SyncKey)
			}
			if (tc.status == "12" || tc.status == "5") && r.SyncKey != tc.key {
				t.Errorf("status %s with key %q, want the client's", tc.status, r.SyncKey)
			}
		})
	}
	// Several collections in one request keep their order and statuses.
	r := h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("0", "1"), easclient.SyncCollection("1", "42"), easclient.SyncCollection("0", "3")})
	res := easclient.SyncResults(r.Root)
	if len(res) != 3 || res[0].Status != "1" || res[1].Status != "12" || res[2].Status != "1" {
		t.Errorf("mixed request: %s", wbxml.XMLString(r.Root))
	}
}

// TestSyncRequestErrors covers the request-level statuses of MS-ASCMD
// 2.2.3.177.17: 4, 13, 14 (with Limit), 15 (with Limit).
func TestSyncRequestErrors(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("14.1", "syncreq")
	coll := easclient.SyncCollection("0", "1")
	ns := wbxml.NSAirSync
	many := make([]*wbxml.Element, maxSyncCollections+1)
	for i := range many {
		many[i] = easclient.SyncCollection("0", strconv.Itoa(i))
	}
	for _, tc := range []struct {
		name   string
		body   *wbxml.Element
		status int
		limit  string
	}{
		{"empty body", nil, 13, ""},
		{"partial", as("Sync", as("Collections", coll), wbxml.Empty(ns, "Partial")), 13, ""},
		{"wait only", as("Sync", asText("Wait", "5")), 13, ""},
		{"wait 0", as("Sync", as("Collections", coll), asText("Wait", "0")), 14, "1"},
		{"wait 60", as("Sync", as("Collections", coll), asText("Wait", "60")), 14, "59"},
		{"heartbeat 30", as("Sync", as("Collections", coll), asText("HeartbeatInterval", "30")), 14, "60"},
		{"heartbeat 4000", as("Sync", as("Collections", coll), asText("HeartbeatInterval", "4000")), 14, "3540"},
		{"wait and heartbeat", as("Sync", as("Collections", coll), asText("Wait", "5"), asText("HeartbeatInterval", "300")), 4, ""},
		{"wait not a number", as("Sync", as("Collections", coll), asText("Wait", "soon")), 4, ""},
		{"too many collections", as("Sync", as("Collections", many...)), 15, strconv.Itoa(maxSyncCollections)},
		{"no sync key", as("Sync", as("Collections", as("Collection", asText("CollectionId", "1")))), 4, ""},
		{"no collection id", as("Sync", as("Collections", as("Collection", asText("SyncKey", "0")))), 4, ""},
		{"bad GetChanges", as("Sync", as("Collections", easclient.SyncCollection("1", "1", asText("GetChanges", "yes")))), 4, ""},
		{"negative window", as("Sync", as("Collections", easclient.SyncCollection("1", "1", asText("WindowSize", "-1")))), 4, ""},
		{"same collection twice", as("Sync", as("Collections", coll, easclient.SyncCollection("1", "1"))), 4, ""},
		{"unknown command", as("Sync", as("Collections", easclient.SyncCollection("1", "1", as("Commands", as("SoftDelete", asText("ServerId", "1")))))), 4, ""},
		{"empty collections", as("Sync", as("Collections")), 4, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.Do(context.Background(), "Sync", tc.body)
			if err != nil || r.HTTPStatus != 200 {
				t.Fatalf("%v HTTP %d", err, r.HTTPStatus)
			}
			if r.Status() != tc.status || r.Root.ChildText(ns, "Limit") != tc.limit || r.Root.Has(ns, "Collections") {
				t.Errorf("answer %s", wbxml.XMLString(r.Root))
			}
		})
	}
	// A valid Wait runs as a normal Sync for now.
	r := h.itemsSync(c, []*wbxml.Element{coll}, asText("Wait", "10"))
	if one(t, r).Status != "1" || r.Status() != 0 {
		t.Errorf("Wait 10: %s", wbxml.XMLString(r.Root))
	}
	// Commands with SyncKey 0: a protocol error of that collection only.
	r = h.itemsSync(c, []*wbxml.Element{
		easclient.SyncCollection("0", "2", as("Commands", as("Delete", asText("ServerId", "2:1")))),
		easclient.SyncCollection("0", "3"),
	})
	res := easclient.SyncResults(r.Root)
	if len(res) != 2 || res[0].Status != "4" || res[1].Status != "1" {
		t.Errorf("commands with key 0: %s", wbxml.XMLString(r.Root))
	}
	// An Add without ClientId, likewise.
	r = h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("1", "3", as("Commands", as("Add", as("ApplicationData"))))})
	if one(t, r).Status != "4" {
		t.Errorf("Add without ClientId: %s", wbxml.XMLString(r.Root))
	}
}

// TestSyncParameters checks what reaches the backend: defaults, windows,
// options.
func TestSyncParameters(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("16.1", "syncpar")
	last := func() SyncCollection {
		h.backend.mu.Lock()
		defer h.backend.mu.Unlock()
		l := h.backend.items.lastSync
		return l[len(l)-1]
	}
	h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("0", "1", asText("GetChanges", ""))})
	if l := last(); l.GetChanges || l.WindowSize != 100 || !l.DeletesAsMoves || l.Version != eas.V161 || l.Options.Conflict != 1 {
		t.Errorf("key 0 defaults: %+v", l)
	}
	ab := func(name string, kids ...*wbxml.Element) *wbxml.Element {
		return wbxml.New(wbxml.NSAirSyncBase, name, kids...)
	}
	abt := func(name, v string) *wbxml.Element { return wbxml.Text(wbxml.NSAirSyncBase, name, v) }
	h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("1", "1",
		asText("DeletesAsMoves", "0"), asText("GetChanges", "0"), asText("WindowSize", "0"),
		as("Options", asText("Class", "SMS"), asText("FilterType", "1")),
		as("Options", asText("Class", "Email"), asText("FilterType", "3"), asText("Conflict", "0"),
			asText("MIMESupport", "2"), asText("MIMETruncation", "1"), asText("MaxItems", "20"),
			ab("BodyPreference", abt("Type", "2"), abt("TruncationSize", "5120"), abt("AllOrNone", "1"), abt("Preview", "300")),
			ab("BodyPreference", abt("Type", "4")),
			ab("BodyPartPreference", abt("Type", "2"), abt("TruncationSize", "512")),
			wbxml.Text(wbxml.NSRightsManagement, "RightsManagementSupport", "1")),
	)})
	l := last()
	o := l.Options
	if l.GetChanges || l.DeletesAsMoves || l.WindowSize != 512 {
		t.Errorf("collection flags: %+v", l)
	}
	if o.Class != "Email" || o.FilterType != 3 || o.Conflict != 0 || o.MIMESupport != 2 || o.MIMETruncation != 4096 || o.MaxItems != 20 || !o.RightsManagement {
		t.Errorf("options %+v", o)
	}
	if len(o.BodyPrefs) != 2 || o.BodyPrefs[0] != (BodyPreference{Type: 2, TruncationSize: 5120, AllOrNone: true, Preview: 255}) || o.BodyPrefs[1].Type != 4 {
		t.Errorf("body preferences %+v", o.BodyPrefs)
	}
	if len(o.BodyPartPrefs) != 1 || o.BodyPartPrefs[0].TruncationSize != 512 {
		t.Errorf("body part preferences %+v", o.BodyPartPrefs)
	}

	// A request-wide WindowSize of 3 over two collections with 5 and 2
	// changes: the first gets 3, the second none (and MoreAvailable).
	h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("0", "3")})
	// (GetChanges 0 above left the key of collection 1 at 1.)
	r := h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection("1", "1"), easclient.SyncCollection("1", "3")}, asText("WindowSize", "3"))
	res := easclient.SyncResults(r.Root)
	if len(res) != 2 || len(res[0].Commands) != 3 || !res[0].MoreAvailable || len(res[1].Commands) != 0 || !res[1].MoreAvailable {
		t.Fatalf("global window: %s", wbxml.XMLString(r.Root))
	}
	if l := last(); l.GetChanges {
		t.Errorf("second collection asked for changes beyond the window")
	}
	// The next round gets the rest, 2 and 2.
	r = h.itemsSync(c, []*wbxml.Element{easclient.SyncCollection(res[0].SyncKey, "1"), easclient.SyncCollection(res[1].SyncKey, "3")}, asText("WindowSize", "10"))
	res = easclient.SyncResults(r.Root)
	if len(res[0].Commands) != 2 || res[0].MoreAvailable || len(res[1].Commands) != 2 || res[1].MoreAvailable {
		t.Fatalf("second round: %s", wbxml.XMLString(r.Root))
	}
}

// TestSync121 checks the 12.1 form: Class in the request and the answer,
// the MIMETruncation codes.
func TestSync121(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("12.1", "sync121")
	coll := func(key string, kids ...*wbxml.Element) *wbxml.Element {
		return as("Collection", append([]*wbxml.Element{asText("Class", "Email"), asText("SyncKey", key), asText("CollectionId", "1")}, kids...)...)
	}
	r := one(t, h.itemsSync(c, []*wbxml.Element{coll("0")}))
	if r.Class != "Email" || r.SyncKey != "1" {
		t.Fatalf("12.1 initial: %+v", r)
	}
	resp := h.itemsSync(c, []*wbxml.Element{coll("1", as("Options", asText("FilterType", "0"), asText("MIMETruncation", "0")))})
	r = one(t, resp)
	if r.Class != "Email" || len(r.Commands) != 5 || resp.Root.Child(wbxml.NSAirSync, "Collections").Children[0].Children[0].Name != "Class" {
		t.Fatalf("12.1 sync: %s", wbxml.XMLString(resp.Root))
	}
	h.backend.mu.Lock()
	l := h.backend.items.lastSync[len(h.backend.items.lastSync)-1]
	h.backend.mu.Unlock()
	if l.Options.Class != "Email" || l.Options.MIMETruncation != -1 {
		t.Errorf("12.1 options %+v", l.Options)
	}
	// 14.x answers carry no Class.
	c14 := h.itemsClient("14.0", "sync140")
	if r := one(t, h.itemsSync(c14, []*wbxml.Element{coll("0")})); r.Class != "" {
		t.Errorf("14.0 answer with Class %q", r.Class)
	}
}

// TestItemsNotSupported: a session without the item interfaces.
func TestItemsNotSupported(t *testing.T) {
	b := newFakeBackend()
	srv := New(Options{Backend: bareBackend{b}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for _, v := range []string{"12.1", "14.1"} {
		c := easclient.New(hs.URL, "alice", "secret", "bare"+v[:2])
		c.Version = v
		if _, err := c.Provision(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			cmd  string
			body *wbxml.Element
		}{
			{"Sync", as("Sync", as("Collections", easclient.SyncCollection("0", "1")))},
			{"GetItemEstimate", wbxml.New(wbxml.NSItemEstimate, "GetItemEstimate", wbxml.New(wbxml.NSItemEstimate, "Collections"))},
			{"ItemOperations", wbxml.New(wbxml.NSItemOperations, "ItemOperations")},
			{"MoveItems", wbxml.New(wbxml.NSMove, "MoveItems")},
			{"Search", searchReq("Mailbox", wbxml.Text(wbxml.NSSearch, "FreeText", "x"), "")},
			{"SendMail", easclient.Compose("SendMail", "1", []byte("x"), false, false)},
		} {
			r, err := c.Do(context.Background(), tc.cmd, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if v == "12.1" && r.HTTPStatus != 501 {
				t.Errorf("%s %s: HTTP %d, want 501", v, tc.cmd, r.HTTPStatus)
			}
			if v == "14.1" && r.Status() != int(eas.StatusCommandNotSupported) {
				t.Errorf("%s %s: status %d, want 137", v, tc.cmd, r.Status())
			}
		}
		if r, _ := c.GetAttachment(context.Background(), "att-1"); r.HTTPStatus != 501 {
			t.Errorf("%s GetAttachment: HTTP %d", v, r.HTTPStatus)
		}
	}
	if n := srv.panics.Load(); n != 0 {
		t.Errorf("%d panics", n)
	}
}
