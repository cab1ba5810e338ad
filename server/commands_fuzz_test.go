package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// fuzzCommands are the commands FuzzCommands drives: every registered one
// (TestFuzzCoversEveryCommand). The fuzz input names a command by its index
// here, so a new command is appended, never inserted: the corpus in
// testdata/fuzz keeps its meaning.
var fuzzCommands = []string{
	"Provision", "Settings", "FolderSync", "FolderCreate", "FolderUpdate", "FolderDelete",
	"Sync", "GetItemEstimate", "ItemOperations", "GetAttachment", "MoveItems", "Search",
	"SendMail", "SmartReply", "SmartForward", "ResolveRecipients", "Ping", "MeetingResponse",
}

var fuzzVersions = []string{"12.1", "14.0", "14.1", "16.0", "16.1"}

// Bits of FuzzCommands' flags byte beyond the version index.
const (
	fuzzRFC822    = 0x10 // Content-Type: message/rfc822
	fuzzMultipart = 0x20 // MS-ASAcceptMultiPart: T
)

// fuzzSeeds are valid requests of every command.
func fuzzSeeds() map[string][]*wbxml.Element {
	ns := wbxml.NSComposeMail
	pr := wbxml.NSProvision
	fh := wbxml.NSFolderHierarchy
	st := wbxml.NSSettings
	return map[string][]*wbxml.Element{
		"Provision":  {wbxml.New(pr, "Provision", wbxml.New(pr, "Policies", wbxml.New(pr, "Policy", wbxml.Text(pr, "PolicyType", policyType))))},
		"Settings":   {wbxml.New(st, "Settings", wbxml.New(st, "Oof", wbxml.New(st, "Get", wbxml.Text(st, "BodyType", "Text"))), wbxml.New(st, "UserInformation", wbxml.Empty(st, "Get")))},
		"FolderSync": {folderSyncReq("0"), folderSyncReq("1")},
		"FolderCreate": {wbxml.New(fh, "FolderCreate", wbxml.Text(fh, "SyncKey", "1"), wbxml.Text(fh, "ParentId", "0"),
			wbxml.Text(fh, "DisplayName", "New"), wbxml.Int(fh, "Type", 12))},
		"FolderUpdate": {wbxml.New(fh, "FolderUpdate", wbxml.Text(fh, "SyncKey", "1"), wbxml.Text(fh, "ServerId", "3"),
			wbxml.Text(fh, "ParentId", "0"), wbxml.Text(fh, "DisplayName", "Renamed"))},
		"FolderDelete": {wbxml.New(fh, "FolderDelete", wbxml.Text(fh, "SyncKey", "1"), wbxml.Text(fh, "ServerId", "3"))},
		"Sync": {
			as("Sync", as("Collections", easclient.SyncCollection("0", "1"))),
			as("Sync", as("Collections", easclient.SyncCollection("1", "1", asText("WindowSize", "2"),
				as("Options", asText("FilterType", "3"), wbxml.New(wbxml.NSAirSyncBase, "BodyPreference", wbxml.Text(wbxml.NSAirSyncBase, "Type", "2")))),
				easclient.SyncCollection("1", "3", as("Commands",
					as("Add", asText("ClientId", "c1"), as("ApplicationData", wbxml.Text(wbxml.NSEmail, "Subject", "x"))),
					as("Change", asText("ServerId", "3:6"), as("ApplicationData", wbxml.Text(wbxml.NSEmail, "Read", "1"))),
					as("Delete", asText("ServerId", "3:7")), as("Fetch", asText("ServerId", "3:6"))))),
				asText("WindowSize", "3")),
			as("Sync", as("Collections", easclient.SyncCollection("1", "2")), asText("Wait", "5")),
		},
		"GetItemEstimate": {gie("GetItemEstimate", gie("Collections", estimateColl14("1", "1"), estimateColl121("1", "3")))},
		"ItemOperations": {iop("ItemOperations", fetchServerID("1", "1:1"), fetchLongID("L3:6"), fetchRef("att-1", "0-4"),
			fetchRef("att-unknown", ""), iop("EmptyFolderContents", asText("CollectionId", "2")),
			iop("Move", wbxml.Opaque(wbxml.NSItemOperations, "ConversationId", []byte{1}), iopText("DstFldId", "3")))},
		"MoveItems": {wbxml.New(wbxml.NSMove, "MoveItems", moveOp("1:1", "1", "3"), moveOp("1:2", "1", "1"))},
		"Search": {searchReq("Mailbox", sAnd(asText("Class", "Email"), asText("CollectionId", "1"), sFree("message"),
			sDate("GreaterThan", "2026-03-01T11:30:00.000Z")), "0-1", wbxml.Empty(wbxml.NSSearch, "DeepTraversal"))},
		"SendMail":     {easclient.Compose("SendMail", "m1", []byte(testMIME), true, false)},
		"SmartReply":   {easclient.Compose("SmartReply", "m2", []byte(testMIME), true, true, wbxml.Text(ns, "FolderId", "1"), wbxml.Text(ns, "ItemId", "1:1"))},
		"SmartForward": {easclient.Compose("SmartForward", "m3", []byte(testMIME), false, false, wbxml.Text(ns, "LongId", "L1:2"))},
		"Ping": {wbxml.New(wbxml.NSPing, "Ping", wbxml.Int(wbxml.NSPing, "HeartbeatInterval", 480),
			wbxml.New(wbxml.NSPing, "Folders", wbxml.New(wbxml.NSPing, "Folder",
				wbxml.Text(wbxml.NSPing, "Id", "1"), wbxml.Text(wbxml.NSPing, "Class", "Email"))))},
		"ResolveRecipients": {resolveReq([]string{"deb", "alice@example.test"}, rrText("CertificateRetrieval", "3"),
			availabilityOpt("2026-03-09T08:00:00.000Z", "2026-03-09T10:00:00.000Z"), pictureOpt(wbxml.NSResolveRecipients, 100, 1))},
		"MeetingResponse": {wbxml.New(wbxml.NSMeetingResponse, "MeetingResponse", mrAnswer("1", "1", "1:1"),
			mrAnswer("2", "1", "1:2", mrText("InstanceId", "2026-03-16T09:00:00.000Z"), wbxml.New(wbxml.NSMeetingResponse, "SendResponse")))},
	}
}

// TestFuzzCoversEveryCommand: FuzzCommands drives every command of the
// dispatch table, each from at least one valid seed.
func TestFuzzCoversEveryCommand(t *testing.T) {
	seeds := fuzzSeeds()
	for name := range commands {
		if !slices.Contains(fuzzCommands, name) {
			t.Errorf("command %s is not in fuzzCommands (append it)", name)
		}
		if len(seeds[name]) == 0 && name != "GetAttachment" { // no body: seeded with an empty one below
			t.Errorf("command %s has no seed in fuzzSeeds", name)
		}
	}
	for _, name := range fuzzCommands {
		if _, ok := commands[name]; !ok {
			t.Errorf("fuzzCommands names %s, which is not a command", name)
		}
	}
}

// FuzzCommands posts a fuzzed body as any command, in any version, through
// the whole handler with a provisioned device and a fresh fake backend. It
// must never panic, and every answer must be an HTTP error, an empty 200, a
// WBXML document with a Status somewhere (multipart: in part 0), or the
// raw bytes of GetAttachment.
func FuzzCommands(f *testing.F) {
	for cmd, bodies := range fuzzSeeds() {
		i := uint8(slices.Index(fuzzCommands, cmd))
		for _, b := range bodies {
			raw, err := wbxml.Encode(b)
			if err != nil {
				f.Fatalf("seed %s: %v", cmd, err)
			}
			f.Add(i, uint8(4), raw)
			f.Add(i, uint8(0), raw)
			if cmd == "ItemOperations" {
				f.Add(i, uint8(4|fuzzMultipart), raw)
			}
		}
	}
	for _, cmd := range []string{"SendMail", "SmartReply", "SmartForward"} {
		f.Add(uint8(slices.Index(fuzzCommands, cmd)), uint8(0|fuzzRFC822), []byte(testMIME))
	}
	f.Add(uint8(slices.Index(fuzzCommands, "GetAttachment")), uint8(0), []byte{})
	f.Add(uint8(slices.Index(fuzzCommands, "Sync")), uint8(3), []byte{})
	f.Add(uint8(slices.Index(fuzzCommands, "Ping")), uint8(4), []byte{})
	// The golden documents of the codec, for the commands they belong to.
	files, _ := filepath.Glob(filepath.Join("wbxml", "testdata", "*.wbxml"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		root, err := wbxml.Decode(raw)
		if err != nil {
			continue
		}
		if i := slices.Index(fuzzCommands, root.Name); i >= 0 {
			f.Add(uint8(i), uint8(4), raw)
		}
	}

	f.Fuzz(func(t *testing.T, ci, flags uint8, body []byte) {
		cmd := fuzzCommands[int(ci)%len(fuzzCommands)]
		version := fuzzVersions[int(flags&0x0F)%len(fuzzVersions)]
		// The sessions also push (Ping); every known folder has a change
		// waiting, so that a valid Ping answers at once.
		pb := newPingBackend(false)
		pb.push.pending["fuzzdev"] = map[string]bool{"1": true, "2": true, "3": true}
		b := pb.fakeBackend
		b.devices["alice@example.test/fuzzdev"] = eas.Device{
			User: "alice@example.test", ID: "fuzzdev", Type: "fuzz",
			PolicyKey: 4242, PolicyHash: b.policy.Hash(),
		}
		b.key["fuzzdev"] = 1
		for _, coll := range []string{"1", "2", "3"} {
			b.items.state["fuzzdev/"+coll] = &fakeSyncState{key: 1, known: map[string]int{}}
		}
		srv := New(Options{Backend: pb, MaxRequestBytes: 1 << 20, Throttle: ThrottleOptions{MaxDelay: time.Millisecond}})
		q := "Cmd=" + cmd + "&User=alice&DeviceId=fuzzdev&DeviceType=fuzz&AttachmentName=att-1&SaveInSent=T&ItemId=1:1&CollectionId=1"
		req := httptest.NewRequest(http.MethodPost, Path+"?"+q, bytes.NewReader(body))
		req.SetBasicAuth("alice", "secret")
		req.Header.Set("MS-ASProtocolVersion", version)
		req.Header.Set("X-MS-PolicyKey", "4242")
		req.Header.Set("Content-Type", "application/vnd.ms-sync.wbxml")
		if flags&fuzzRFC822 != 0 {
			req.Header.Set("Content-Type", "message/rfc822")
		}
		if flags&fuzzMultipart != 0 {
			req.Header.Set("MS-ASAcceptMultiPart", "T")
		}
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second) // a Ping that waits anyway
		defer cancel()
		req = req.WithContext(ctx)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if n := srv.panics.Load(); n != 0 {
			t.Fatalf("%s %s: %d panics", version, cmd, n)
		}
		if err := checkFuzzAnswer(cmd, rec); err != "" {
			t.Fatalf("%s %s (flags %#x): %s", version, cmd, flags, err)
		}
	})
}

func checkFuzzAnswer(cmd string, rec *httptest.ResponseRecorder) string {
	out := rec.Body.Bytes()
	switch {
	case rec.Code == http.StatusInternalServerError:
		// Allowed where the protocol says so: a vanished attachment
		// (GetAttachment) and a failed 12.1 send.
		if cmd == "GetAttachment" || strings.Contains(string(out), "send failed") {
			return ""
		}
		return "HTTP 500: " + string(out)
	case rec.Code != http.StatusOK, len(out) == 0:
		return ""
	}
	ct := rec.Header().Get("Content-Type")
	doc := out
	switch {
	case strings.Contains(ct, "multipart"):
		parts, err := easclient.ParseMultipart(out)
		if err != nil {
			return err.Error()
		}
		doc = parts[0]
	case strings.Contains(ct, "wbxml"):
	case cmd == "GetAttachment":
		return ""
	default:
		return "answer of type " + ct
	}
	root, err := wbxml.Decode(doc)
	if err != nil {
		return "answer is not WBXML: " + err.Error()
	}
	if !hasStatus(root) {
		return "answer without Status: " + wbxml.XMLString(root)
	}
	return ""
}

func hasStatus(e *wbxml.Element) bool {
	if e.Name == "Status" {
		return true
	}
	for _, c := range e.Children {
		if hasStatus(c) {
			return true
		}
	}
	return false
}

// TestOpaqueNULIDs: ids sent as OPAQUE with a NUL byte (which WBXML text
// cannot carry back) read as missing ids instead of failing the encoder.
func TestOpaqueNULIDs(t *testing.T) {
	h := newHarness(t)
	nul := []byte("1\x00x")
	for _, v := range []string{"12.1", "14.1"} {
		c := h.itemsClient(v, "nul"+v[:2])
		for _, tc := range []struct {
			cmd  string
			body *wbxml.Element
		}{
			{"Sync", as("Sync", as("Collections", as("Collection", asText("Class", "Email"),
				wbxml.Opaque(wbxml.NSAirSync, "SyncKey", nul), wbxml.Opaque(wbxml.NSAirSync, "CollectionId", nul))))},
			{"Sync", as("Sync", as("Collections", as("Collection", wbxml.Opaque(wbxml.NSAirSync, "Class", nul), asText("SyncKey", "0"), asText("CollectionId", "1"))))},
			{"Sync", as("Sync", as("Collections", easclient.SyncCollection("1", "1", as("Commands", as("Fetch", wbxml.Opaque(wbxml.NSAirSync, "ServerId", nul))))))},
			{"ItemOperations", iop("ItemOperations", iop("Fetch", iopText("Store", "Mailbox"), asText("CollectionId", "1"), wbxml.Opaque(wbxml.NSAirSync, "ServerId", nul)))},
			{"ItemOperations", iop("ItemOperations", iop("EmptyFolderContents", wbxml.Opaque(wbxml.NSAirSync, "CollectionId", nul)))},
			{"MoveItems", wbxml.New(wbxml.NSMove, "MoveItems", wbxml.New(wbxml.NSMove, "Move", wbxml.Opaque(wbxml.NSMove, "SrcMsgId", nul),
				wbxml.Text(wbxml.NSMove, "SrcFldId", "1"), wbxml.Text(wbxml.NSMove, "DstFldId", "3")))},
			{"GetItemEstimate", gie("GetItemEstimate", gie("Collections", gie("Collection", wbxml.Opaque(wbxml.NSItemEstimate, "CollectionId", nul), asText("SyncKey", "1"))))},
			{"SmartReply", easclient.Compose("SmartReply", "n1", []byte(testMIME), false, false, wbxml.Opaque(wbxml.NSComposeMail, "ItemId", nul))},
		} {
			r := h.do(c, tc.cmd, tc.body)
			if v == "12.1" && tc.cmd == "SmartReply" {
				// 12.1 has no ComposeMail status: invalid ids are HTTP 400.
				if r.HTTPStatus != 400 {
					t.Errorf("12.1 SmartReply: HTTP %d", r.HTTPStatus)
				}
				continue
			}
			if r.HTTPStatus != 200 || r.Root == nil || !hasStatus(r.Root) {
				t.Errorf("%s %s: HTTP %d %q", v, tc.cmd, r.HTTPStatus, r.Body)
			}
		}
	}
}
