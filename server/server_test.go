package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// harness is a real HTTP server on loopback with the fake backend; tests
// read like transcripts of what a phone sends and gets.
type harness struct {
	t       *testing.T
	backend *fakeBackend
	srv     *Server
	http    *httptest.Server
	mu      gosync.Mutex
	traces  []Exchange
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, backend: newFakeBackend()}
	h.srv = New(Options{Backend: h.backend, Trace: func(e Exchange) {
		h.mu.Lock()
		h.traces = append(h.traces, e)
		h.mu.Unlock()
	}, MaxRequestBytes: 1 << 20, Throttle: ThrottleOptions{MaxDelay: time.Millisecond}})
	h.http = httptest.NewServer(h.srv)
	t.Cleanup(func() {
		h.http.Close()
		if n := h.srv.panics.Load(); n != 0 {
			t.Errorf("%d handler panics were recovered", n)
		}
	})
	return h
}

func (h *harness) client(version, device string) *easclient.Client {
	c := easclient.New(h.http.URL, "alice", "secret", device)
	c.Version = version
	return c
}

func (h *harness) do(c *easclient.Client, cmd string, body *wbxml.Element) *easclient.Response {
	h.t.Helper()
	r, err := c.Do(context.Background(), cmd, body)
	if err != nil {
		h.t.Fatalf("%s: %v", cmd, err)
	}
	return r
}

func folderSyncReq(key string) *wbxml.Element {
	return wbxml.New(wbxml.NSFolderHierarchy, "FolderSync", wbxml.Text(wbxml.NSFolderHierarchy, "SyncKey", key))
}

func TestOptions(t *testing.T) {
	h := newHarness(t)
	r, err := h.client("16.1", "dev1").Options(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.HTTPStatus != 200 {
		t.Fatalf("OPTIONS: HTTP %d", r.HTTPStatus)
	}
	if got := r.Header.Get("MS-ASProtocolVersions"); got != "12.1,14.0,14.1,16.0,16.1" {
		t.Errorf("versions %q", got)
	}
	cmds := r.Header.Get("MS-ASProtocolCommands")
	for _, c := range []string{"FolderSync", "Provision", "Settings", "FolderCreate"} {
		if !strings.Contains(cmds, c) {
			t.Errorf("commands %q lack %s", cmds, c)
		}
	}
	bad := h.client("16.1", "dev1")
	bad.Password = "nope"
	if r, _ := bad.Options(context.Background()); r.HTTPStatus != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("OPTIONS with a bad password: HTTP %d, WWW-Authenticate %q", r.HTTPStatus, r.Header.Get("WWW-Authenticate"))
	}
}

func TestProvisionThenFolderSync(t *testing.T) {
	for _, v := range []string{"14.0", "14.1", "16.0", "16.1"} {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t)
			c := h.client(v, "dev"+strings.ReplaceAll(v, ".", ""))
			// Before provisioning: status 142 in the command's own root.
			r := h.do(c, "FolderSync", folderSyncReq("0"))
			if r.HTTPStatus != 200 || r.Status() != int(eas.StatusDeviceNotProvisioned) || !r.Root.Is(wbxml.NSFolderHierarchy, "FolderSync") {
				t.Fatalf("unprovisioned FolderSync: HTTP %d status %d", r.HTTPStatus, r.Status())
			}
			doc, err := c.Provision(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if doc.ChildText(wbxml.NSProvision, "AllowCamera") != "1" || c.PolicyKey == "" {
				t.Fatalf("policy doc %s key %q", wbxml.XMLString(doc), c.PolicyKey)
			}
			key, folders, r, err := c.FolderSync(context.Background(), "0")
			if err != nil || r.Status() != 1 || key != "1" || len(folders) != 3 {
				t.Fatalf("FolderSync: %v status %d key %q folders %v", err, r.Status(), key, folders)
			}
			if folders[0].DisplayName != "Inbox" || folders[0].Type != 2 || folders[2].ParentID != "1" {
				t.Errorf("folders %+v", folders)
			}
			// Same key again: no changes, same key.
			key2, folders, r, _ := c.FolderSync(context.Background(), key)
			if r.Status() != 1 || key2 != key || len(folders) != 0 {
				t.Errorf("second FolderSync: status %d key %q changes %d", r.Status(), key2, len(folders))
			}
			// Unknown key: status 9.
			if _, _, r, _ := c.FolderSync(context.Background(), "77"); r.Status() != int(eas.FolderStatusInvalidSyncKey) {
				t.Errorf("unknown key: status %d", r.Status())
			}
			// A wrong policy key: 144.
			good := c.PolicyKey
			c.PolicyKey = "12345"
			if r := h.do(c, "FolderSync", folderSyncReq(key)); r.Status() != int(eas.StatusInvalidPolicyKey) {
				t.Errorf("wrong policy key: status %d", r.Status())
			}
			// A changed policy: 143, then provisioning again fixes it.
			c.PolicyKey = good
			h.backend.mu.Lock()
			h.backend.policy.AllowCamera = false
			h.backend.mu.Unlock()
			if r := h.do(c, "FolderSync", folderSyncReq(key)); r.Status() != int(eas.StatusPolicyRefresh) {
				t.Errorf("changed policy: status %d", r.Status())
			}
			doc, err = c.Provision(context.Background())
			if err != nil || doc.ChildText(wbxml.NSProvision, "AllowCamera") != "0" {
				t.Fatalf("re-provision: %v", err)
			}
			if r := h.do(c, "FolderSync", folderSyncReq(key)); r.Status() != 1 {
				t.Errorf("after re-provision: status %d", r.Status())
			}
			if d := h.backend.device(c.DeviceID); d.Type != "easbridgeTest" || string(d.ProtocolVersion) != v || d.UserAgent == "" {
				t.Errorf("device record %+v", d)
			}
		})
	}
}

func TestVersion121Gets449(t *testing.T) {
	h := newHarness(t)
	c := h.client("12.1", "old1")
	if r := h.do(c, "FolderSync", folderSyncReq("0")); r.HTTPStatus != 449 {
		t.Fatalf("12.1 unprovisioned: HTTP %d, want 449", r.HTTPStatus)
	}
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, r, err := c.FolderSync(context.Background(), "0"); err != nil || r.Status() != 1 {
		t.Fatalf("12.1 FolderSync after provision: %v", err)
	}
}

func TestHTTPErrors(t *testing.T) {
	h := newHarness(t)
	c := h.client("16.1", "err1")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	post := func(query string, hdr map[string]string, body []byte) *http.Response {
		req, _ := http.NewRequest("POST", h.http.URL+Path+"?"+query, bytes.NewReader(body))
		req.SetBasicAuth("alice", "secret")
		req.Header.Set("MS-ASProtocolVersion", "16.1")
		req.Header.Set("X-MS-PolicyKey", c.PolicyKey)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	good := "Cmd=FolderSync&User=alice&DeviceId=err1&DeviceType=test"
	fs, _ := wbxml.Encode(folderSyncReq("0"))
	for _, tc := range []struct {
		name  string
		query string
		hdr   map[string]string
		body  []byte
		want  int
	}{
		{"ok", good, nil, fs, 200},
		{"bad wbxml", good, nil, []byte{3, 1, 106, 0, 0x45, 0x99}, 400},
		{"truncated wbxml", good, nil, fs[:len(fs)-2], 400},
		{"wrong root", good, nil, mustEncode(t, wbxml.New(wbxml.NSProvision, "Provision")), 400},
		{"empty body", good, nil, nil, 400},
		{"unknown command", "Cmd=Frobnicate&User=alice&DeviceId=err1&DeviceType=test", nil, fs, 501},
		{"not yet implemented", "Cmd=GetHierarchy&User=alice&DeviceId=err1&DeviceType=test", nil, fs, 501},
		{"unsupported version", good, map[string]string{"MS-ASProtocolVersion": "2.5"}, fs, 400},
		{"no device id", "Cmd=FolderSync&User=alice&DeviceType=test", nil, fs, 400},
		{"bad device id", "Cmd=FolderSync&User=alice&DeviceId=a%2Fb&DeviceType=test", nil, fs, 400},
		{"no query", "", nil, fs, 400},
		{"too large", good, nil, bytes.Repeat([]byte{0}, 2<<20), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := post(tc.query, tc.hdr, tc.body); res.StatusCode != tc.want {
				t.Errorf("HTTP %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
	// Other devices are not disturbed by all of that.
	if _, _, r, err := c.FolderSync(context.Background(), "0"); err != nil || r.Status() != 1 {
		t.Fatalf("FolderSync after bad requests: %v", err)
	}
}

func mustEncode(t *testing.T, e *wbxml.Element) []byte {
	b, err := wbxml.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadAuthThrottled(t *testing.T) {
	h := newHarness(t)
	c := h.client("16.1", "thr1")
	c.Password = "wrong"
	for i := 1; i <= 10; i++ {
		r := h.do(c, "FolderSync", folderSyncReq("0"))
		if r.HTTPStatus != 401 {
			t.Fatalf("attempt %d: HTTP %d, want 401", i, r.HTTPStatus)
		}
	}
	// Blocked now, even with the right password, without asking the backend.
	c.Password = "secret"
	before := h.backend.logins
	r := h.do(c, "FolderSync", folderSyncReq("0"))
	if r.HTTPStatus != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("blocked address: HTTP %d", r.HTTPStatus)
	}
	if h.backend.logins != before {
		t.Error("a blocked address still reached the backend")
	}
}

func TestThrottleDelays(t *testing.T) {
	now := time.Unix(0, 0)
	th := newThrottle(ThrottleOptions{}, func() time.Time { return now })
	var delays []time.Duration
	for range 6 {
		delays = append(delays, th.fail("1.2.3.4"))
	}
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Errorf("failure %d: delay %v, want %v", i+1, delays[i], want[i])
		}
	}
	if b, _ := th.blocked("1.2.3.4"); b {
		t.Error("blocked after 6 failures")
	}
	for range 4 {
		th.fail("1.2.3.4")
	}
	if b, left := th.blocked("1.2.3.4"); !b || left != 15*time.Minute {
		t.Errorf("after 10 failures: blocked %v for %v", b, left)
	}
	if b, _ := th.blocked("5.6.7.8"); b {
		t.Error("another address is blocked")
	}
	now = now.Add(16 * time.Minute)
	if b, _ := th.blocked("1.2.3.4"); b {
		t.Error("still blocked after the block time")
	}
}

func TestBase64Query(t *testing.T) {
	h := newHarness(t)
	c := h.client("14.1", "b64dev")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	// MS-ASHTTP 2.2.1.1.1.1: version 141, command 9 (FolderSync), locale
	// 0x0409, device id, policy key (uint32 LE), device type.
	var b bytes.Buffer
	b.Write([]byte{141, 9, 0x09, 0x04})
	b.WriteByte(byte(len("b64dev")))
	b.WriteString("b64dev")
	pk := make([]byte, 4)
	n, _ := parseUint32(c.PolicyKey)
	binary.LittleEndian.PutUint32(pk, n)
	b.WriteByte(4)
	b.Write(pk)
	b.WriteByte(byte(len("easbridgeTest")))
	b.WriteString("easbridgeTest")
	q := base64.StdEncoding.EncodeToString(b.Bytes())
	req, _ := http.NewRequest("POST", h.http.URL+Path+"?"+url.QueryEscape(q), bytes.NewReader(mustEncode(t, folderSyncReq("0"))))
	req.SetBasicAuth("alice", "secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("base64 FolderSync: HTTP %d", res.StatusCode)
	}
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	root, err := wbxml.Decode(buf.Bytes())
	if err != nil || root.ChildText(wbxml.NSFolderHierarchy, "Status") != "1" {
		t.Fatalf("answer %v %s", err, wbxml.XMLString(root))
	}
}

func parseUint32(s string) (uint32, error) {
	var n uint64
	for _, c := range s {
		n = n*10 + uint64(c-'0')
	}
	return uint32(n), nil
}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		cmd     string
		dev     string
		typ     string
		version string
		pk      string
		wantErr bool
	}{
		{raw: "Cmd=Sync&User=rmjones&DeviceId=v140Device&DeviceType=SmartPhone", cmd: "Sync", dev: "v140Device", typ: "SmartPhone"},
		// The example of MS-ASHTTP 2.2.1.1.1.
		{raw: "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l", cmd: "Sync", dev: "v140Device", typ: "SmartPhone", version: "14.0"},
		{raw: "jAAJBAp2MTQwRGV2aWNl", wantErr: true},
		{raw: "!!!", wantErr: true},
		{raw: "", wantErr: true},
		{raw: "User=x", wantErr: true},
	} {
		q, err := parseQuery(tc.raw)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v", tc.raw, err)
			continue
		}
		if err == nil && (q.Cmd != tc.cmd || q.DeviceID != tc.dev || q.DeviceType != tc.typ || q.Version != tc.version || q.PolicyKey != tc.pk) {
			t.Errorf("%q: got %+v", tc.raw, q)
		}
	}
}

func TestBasicAuthForms(t *testing.T) {
	for _, tc := range []struct{ user, want string }{
		{"alice", "alice"}, {`EXAMPLE\alice`, "alice"}, {"alice@example.test", "alice@example.test"}, {" alice ", "alice"},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.SetBasicAuth(tc.user, "pw:with:colons")
		u, p, ok := basicAuth(r)
		if !ok || u != tc.want || p != "pw:with:colons" {
			t.Errorf("%q: got %q %q %v", tc.user, u, p, ok)
		}
	}
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Authorization", "Bearer abc")
	if _, _, ok := basicAuth(r); ok {
		t.Error("Bearer accepted as Basic")
	}
}

func TestRemoteWipe(t *testing.T) {
	h := newHarness(t)
	c := h.client("14.1", "wipe1")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.backend.setDevice("wipe1", func(d *eas.Device) { d.Wipe = eas.WipePending })
	if r := h.do(c, "FolderSync", folderSyncReq("0")); r.Status() != int(eas.StatusRemoteWipeRequested) {
		t.Fatalf("pending wipe: FolderSync status %d, want 140", r.Status())
	}
	ns := wbxml.NSProvision
	r := h.do(c, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, "Policies", wbxml.New(ns, "Policy", wbxml.Text(ns, "PolicyType", policyType)))))
	if !r.Root.Has(ns, "RemoteWipe") {
		t.Fatalf("Provision did not ask for the wipe: %s", wbxml.XMLString(r.Root))
	}
	r = h.do(c, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, "RemoteWipe", wbxml.Text(ns, "Status", "1"))))
	if r.Status() != 1 {
		t.Fatalf("wipe ack: status %d", r.Status())
	}
	if d := h.backend.device("wipe1"); d.Wipe != eas.WipeAcknowledged {
		t.Fatalf("wipe state %v", d.Wipe)
	}
	if r := h.do(c, "FolderSync", folderSyncReq("0")); r.Status() != int(eas.StatusAccessDenied) {
		t.Errorf("wiped device: status %d, want 130", r.Status())
	}
}

func TestAccountOnlyWipe(t *testing.T) {
	h := newHarness(t)
	c := h.client("16.1", "awipe1")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.backend.setDevice("awipe1", func(d *eas.Device) { d.Wipe = eas.WipeAccountPending })
	ns := wbxml.NSProvision
	r := h.do(c, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, "Policies", wbxml.New(ns, "Policy", wbxml.Text(ns, "PolicyType", policyType)))))
	if !r.Root.Has(ns, "AccountOnlyRemoteWipe") || r.Root.Has(ns, "RemoteWipe") {
		t.Fatalf("want AccountOnlyRemoteWipe: %s", wbxml.XMLString(r.Root))
	}
	h.do(c, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, "AccountOnlyRemoteWipe", wbxml.Text(ns, "Status", "1"))))
	if d := h.backend.device("awipe1"); d.Wipe != eas.WipeAccountAcknowledged {
		t.Fatalf("wipe state %v", d.Wipe)
	}
	// A 14.1 device with an account-only wipe pending is shut out, not
	// fully wiped.
	old := h.client("14.1", "awipe2")
	if _, err := old.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.backend.setDevice("awipe2", func(d *eas.Device) { d.Wipe = eas.WipeAccountPending })
	if r := h.do(old, "FolderSync", folderSyncReq("0")); r.Status() != int(eas.StatusAccessDenied) {
		t.Errorf("14.1 with account-only wipe: status %d", r.Status())
	}
}

func TestSettings(t *testing.T) {
	ns := wbxml.NSSettings
	for _, v := range []string{"14.0", "16.1"} {
		h := newHarness(t)
		c := h.client(v, "set"+v[:2])
		if _, err := c.Provision(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := h.do(c, "Settings", wbxml.New(ns, "Settings",
			wbxml.New(ns, "DeviceInformation", wbxml.New(ns, "Set",
				wbxml.Text(ns, "Model", "Pixel 9"), wbxml.Text(ns, "OS", "Android 16"), wbxml.Text(ns, "FriendlyName", "Alice's phone"))),
			wbxml.New(ns, "UserInformation", wbxml.Empty(ns, "Get"))))
		if r.Status() != 1 {
			t.Fatalf("%s Settings: status %d", v, r.Status())
		}
		get := r.Root.Child(ns, "UserInformation").Child(ns, "Get")
		var addr string
		if v == "16.1" {
			addr = get.Child(ns, "Accounts").Child(ns, "Account").Child(ns, "EmailAddresses").ChildText(ns, "PrimarySmtpAddress")
		} else {
			addr = get.Child(ns, "EmailAddresses").ChildText(ns, "SMTPAddress")
		}
		if addr != "alice@example.test" {
			t.Errorf("%s UserInformation: %s", v, wbxml.XMLString(r.Root))
		}
		if d := h.backend.device(c.DeviceID); d.Model != "Pixel 9" || d.OS != "Android 16" || d.FriendlyName != "Alice's phone" {
			t.Errorf("device information not stored: %+v", d)
		}
	}

	h := newHarness(t)
	c := h.client("16.1", "oof1")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	set := wbxml.New(ns, "Settings", wbxml.New(ns, "Oof", wbxml.New(ns, "Set",
		wbxml.Text(ns, "OofState", "2"),
		wbxml.Text(ns, "StartTime", "2026-12-20T08:00:00.000Z"),
		wbxml.Text(ns, "EndTime", "2027-01-03T18:00:00.000Z"),
		wbxml.New(ns, "OofMessage", wbxml.Empty(ns, "AppliesToInternal"), wbxml.Text(ns, "Enabled", "1"),
			wbxml.Text(ns, "ReplyMessage", "Away until January."), wbxml.Text(ns, "BodyType", "Text")))))
	if r := h.do(c, "Settings", set); r.Root.Child(ns, "Oof").ChildText(ns, "Status") != "1" {
		t.Fatalf("Oof set: %s", wbxml.XMLString(r.Root))
	}
	r := h.do(c, "Settings", wbxml.New(ns, "Settings", wbxml.New(ns, "Oof", wbxml.New(ns, "Get", wbxml.Text(ns, "BodyType", "Text")))))
	get := r.Root.Child(ns, "Oof").Child(ns, "Get")
	if get.ChildText(ns, "OofState") != "2" || get.ChildText(ns, "EndTime") != "2027-01-03T18:00:00.000Z" {
		t.Fatalf("Oof get: %s", wbxml.XMLString(r.Root))
	}
	var internal *wbxml.Element
	for _, m := range get.All(ns, "OofMessage") {
		if m.Has(ns, "AppliesToInternal") {
			internal = m
		}
	}
	if internal.ChildText(ns, "ReplyMessage") != "Away until January." || internal.ChildText(ns, "Enabled") != "1" {
		t.Errorf("Oof message: %s", wbxml.XMLString(get))
	}
	// End before start: InvalidArguments.
	bad := wbxml.New(ns, "Settings", wbxml.New(ns, "Oof", wbxml.New(ns, "Set",
		wbxml.Text(ns, "OofState", "2"),
		wbxml.Text(ns, "StartTime", "2027-01-03T18:00:00.000Z"),
		wbxml.Text(ns, "EndTime", "2026-12-20T08:00:00.000Z"))))
	if r := h.do(c, "Settings", bad); r.Root.Child(ns, "Oof").ChildText(ns, "Status") != "5" {
		t.Errorf("bad Oof: %s", wbxml.XMLString(r.Root))
	}
}

func TestFolderOperations(t *testing.T) {
	h := newHarness(t)
	c := h.client("16.1", "fops1")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	key, _, _, _ := c.FolderSync(context.Background(), "0")
	ns := wbxml.NSFolderHierarchy
	create := func(key, parent, name string) *easclient.Response {
		return h.do(c, "FolderCreate", wbxml.New(ns, "FolderCreate", wbxml.Text(ns, "SyncKey", key),
			wbxml.Text(ns, "ParentId", parent), wbxml.Text(ns, "DisplayName", name), wbxml.Int(ns, "Type", 12)))
	}
	r := create(key, "0", "Receipts")
	if r.Status() != 1 || r.Root.ChildText(ns, "ServerId") != "4" || r.Root.ChildText(ns, "SyncKey") != "2" {
		t.Fatalf("FolderCreate: %s", wbxml.XMLString(r.Root))
	}
	if r := create("2", "0", "Receipts"); r.Status() != int(eas.FolderStatusAlreadyExists) {
		t.Errorf("duplicate create: status %d", r.Status())
	}
	if r := create("1", "0", "Other"); r.Status() != int(eas.FolderStatusInvalidSyncKey) {
		t.Errorf("stale key create: status %d", r.Status())
	}
	if r := h.do(c, "FolderCreate", wbxml.New(ns, "FolderCreate", wbxml.Text(ns, "SyncKey", "2"))); r.Status() != int(eas.FolderStatusBadRequest) {
		t.Errorf("malformed create: status %d", r.Status())
	}
	r = h.do(c, "FolderUpdate", wbxml.New(ns, "FolderUpdate", wbxml.Text(ns, "SyncKey", "2"), wbxml.Text(ns, "ServerId", "1"),
		wbxml.Text(ns, "ParentId", "0"), wbxml.Text(ns, "DisplayName", "Renamed")))
	if r.Status() != int(eas.FolderStatusSpecialFolder) {
		t.Errorf("rename inbox: status %d", r.Status())
	}
	r = h.do(c, "FolderDelete", wbxml.New(ns, "FolderDelete", wbxml.Text(ns, "SyncKey", "2"), wbxml.Text(ns, "ServerId", "1")))
	if r.Status() != int(eas.FolderStatusSpecialFolder) {
		t.Errorf("delete inbox: status %d", r.Status())
	}
}

func TestAutodiscover(t *testing.T) {
	h := newHarness(t)
	body := `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006">
<Request><EMailAddress>alice@example.test</EMailAddress>
<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>`
	for _, path := range []string{"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml", "/AutoDiscover/AutoDiscover.xml"} {
		req, _ := http.NewRequest("POST", h.http.URL+path, strings.NewReader(body))
		req.SetBasicAuth("alice", "secret")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(b.String(), "<Url>"+h.http.URL+Path+"</Url>") || !strings.Contains(b.String(), "<Type>MobileSync</Type>") {
			t.Errorf("%s: HTTP %d\n%s", path, res.StatusCode, b.String())
		}
	}
	req, _ := http.NewRequest("POST", h.http.URL+"/autodiscover/autodiscover.xml", strings.NewReader(body))
	res, _ := http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("anonymous autodiscover: HTTP %d", res.StatusCode)
	}
}

func TestTraceRedactsCredentials(t *testing.T) {
	h := newHarness(t)
	c := h.client("16.1", "trace1")
	if _, err := c.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.traces) != 2 {
		t.Fatalf("%d traces, want 2", len(h.traces))
	}
	for _, e := range h.traces {
		a := e.RequestHeader.Get("Authorization")
		if strings.Contains(a, base64.StdEncoding.EncodeToString([]byte("alice:secret"))) || a != "Basic [redacted]" {
			t.Errorf("Authorization in trace: %q", a)
		}
		if e.Command != "Provision" || e.User != "alice@example.test" || e.HTTPStatus != 200 || e.Request == nil || e.Response == nil {
			t.Errorf("trace %+v", e)
		}
	}
}

// panicBackend panics in Login, to show a panic stays inside its request.
type panicBackend struct{ *fakeBackend }

func (p panicBackend) Login(ctx context.Context, user, password string) (Session, error) {
	if user == "boom" {
		panic("boom")
	}
	return p.fakeBackend.Login(ctx, user, password)
}

func TestPanicIsContained(t *testing.T) {
	srv := New(Options{Backend: panicBackend{newFakeBackend()}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := easclient.New(hs.URL, "boom", "x", "p1")
	r, err := c.Do(context.Background(), "FolderSync", folderSyncReq("0"))
	if err != nil || r.HTTPStatus != 500 {
		t.Fatalf("panicking request: %v HTTP %d", err, r.HTTPStatus)
	}
	if srv.panics.Load() != 1 {
		t.Fatalf("panics %d", srv.panics.Load())
	}
	ok := easclient.New(hs.URL, "alice", "secret", "p2")
	if _, err := ok.Provision(context.Background()); err != nil {
		t.Fatalf("next request after a panic: %v", err)
	}
}
