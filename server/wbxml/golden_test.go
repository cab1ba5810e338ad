package wbxml

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.wbxml from testdata/*.xml")

// goldenSources says which specification example each golden document was
// written from. The .xml files are the sources (in the canonical ToXML form);
// the .wbxml files are generated from them with
//
//	go test ./server/wbxml/ -run TestGolden -update
var goldenSources = map[string]string{
	"airnotify-synthetic":                      "synthetic: code page 3 is no longer in use ([MS-ASWBXML] 2.1.2.1.4) and no spec has an example; uses its tags",
	"find-gal-request":                         "[MS-ASCMD] 2.2.1.2 Find, GAL search request (16.1)",
	"find-request":                             "[MS-ASCMD] 2.2.1.2 Find, mailbox search request (16.1)",
	"find-response":                            "[MS-ASCMD] 2.2.1.2 Find response",
	"foldercreate-request":                     "[MS-ASCMD] 4.3 FolderCreate request",
	"foldercreate-response":                    "[MS-ASCMD] 4.3 FolderCreate response",
	"folderdelete-request":                     "[MS-ASCMD] 2.2.1.3 FolderDelete request",
	"foldersync-changes-response":              "[MS-ASCMD] 2.2.1.5 FolderSync response with Update and Delete",
	"foldersync-initial-request":               "[MS-ASCMD] 4.5.1 initial FolderSync request",
	"foldersync-response":                      "[MS-ASCMD] 4.5.1 initial FolderSync response",
	"folderupdate-request":                     "[MS-ASCMD] 2.2.1.6 FolderUpdate request",
	"getitemestimate-request":                  "[MS-ASCMD] 4.6 GetItemEstimate request",
	"getitemestimate-response":                 "[MS-ASCMD] 4.6 GetItemEstimate response",
	"itemoperations-documentlibrary-request":   "[MS-ASDOC] 4.2 ItemOperations fetch of a document",
	"itemoperations-documentlibrary-response":  "[MS-ASDOC] 4.2 ItemOperations fetch response",
	"itemoperations-emptyfolder-move-request":  "[MS-ASCMD] 4.8.1/4.8.6 EmptyFolderContents and conversation Move",
	"itemoperations-emptyfolder-move-response": "[MS-ASCMD] 4.8.1/4.8.6 responses",
	"itemoperations-fetch-request":             "[MS-ASCMD] 4.8.3/4.8.4 ItemOperations Fetch of an item and an attachment",
	"itemoperations-fetch-response":            "[MS-ASCMD] 4.8.3/4.8.4 ItemOperations Fetch responses",
	"itemoperations-multipart-response":        "[MS-ASCMD] 2.2.1.10.1 multipart ItemOperations response (Part)",
	"legacy-v25-sync-request":                  "[MS-ASCMD] protocol 2.5 Sync request (Truncation, RTFTruncation)",
	"legacy-v25-sync-response":                 "[MS-ASEMAIL]/[MS-ASCNTC]/[MS-ASCAL]/[MS-ASTASK] protocol 2.5 bodies and attachments",
	"meetingresponse-request":                  "[MS-ASCMD] 4.9 MeetingResponse request with a proposed new time (16.1)",
	"meetingresponse-response":                 "[MS-ASCMD] 4.9 MeetingResponse response",
	"moveitems-request":                        "[MS-ASCMD] 4.10 MoveItems request",
	"moveitems-response":                       "[MS-ASCMD] 4.10 MoveItems response",
	"ping-limits-response":                     "[MS-ASCMD] 2.2.1.13 Ping response, Status 6 with MaxFolders",
	"ping-request":                             "[MS-ASCMD] 4.11 Ping request",
	"ping-response":                            "[MS-ASCMD] 4.11 Ping response",
	"provision-accountonlyremotewipe-response": "[MS-ASPROV] 4.3 account-only remote wipe (16.1)",
	"provision-ack-request":                    "[MS-ASPROV] 4.1 policy acknowledgement",
	"provision-initial-request":                "[MS-ASPROV] 4.1 initial Provision request with settings:DeviceInformation",
	"provision-remotewipe-ack-request":         "[MS-ASPROV] 4.2 remote wipe acknowledgement",
	"provision-response":                       "[MS-ASPROV] 4.1 Provision response with EASProvisionDoc",
	"resolverecipients-request":                "[MS-ASCMD] 4.12 ResolveRecipients request",
	"resolverecipients-response":               "[MS-ASCMD] 4.12 ResolveRecipients response",
	"search-conversation-request":              "[MS-ASCMD] 2.2.1.16 Search by ConversationId",
	"search-documentlibrary-request":           "[MS-ASDOC] 4.1 Search of a document library",
	"search-documentlibrary-response":          "[MS-ASDOC] 4.1 Search response",
	"search-gal-request":                       "[MS-ASCMD] 4.14.1 Search of the GAL",
	"search-gal-response":                      "[MS-ASCMD] 4.14.1 GAL Search response",
	"search-mailbox-request":                   "[MS-ASCMD] 4.14.2 Search of the mailbox",
	"search-mailbox-response":                  "[MS-ASCMD] 4.14.2 mailbox Search response",
	"sendmail-error-response":                  "[MS-ASCMD] 2.2.1.17 SendMail response with a status",
	"sendmail-request":                         "[MS-ASCMD] 4.15 SendMail request (MIME as OPAQUE)",
	"settings-oof-get-request":                 "[MS-ASCMD] 4.16.1 Settings Oof Get request",
	"settings-oof-get-response":                "[MS-ASCMD] 4.16.1 Settings Oof Get response",
	"settings-set-request":                     "[MS-ASCMD] 4.16 Settings Set (Oof, DevicePassword, DeviceInformation), UserInformation Get, [MS-ASRM] 4.1 RightsManagementInformation",
	"settings-set-response":                    "[MS-ASCMD] 4.16 Settings responses, [MS-ASRM] 4.1 templates",
	"smartforward-request":                     "[MS-ASCMD] 2.2.1.19 SmartForward with Forwardees (16.0+)",
	"smartreply-request":                       "[MS-ASCMD] 4.17 SmartReply request (MIME as text, CRLF line ends)",
	"sync-calendar-add-request":                "[MS-ASCAL] 4.x client adds an all-day event (ClientUid, attachments 16.0)",
	"sync-calendar-response":                   "[MS-ASCAL] 4.1 calendar item with attendees, recurrence, exceptions, location (16.x)",
	"sync-client-changes-request":              "[MS-ASCMD] 4.5.x client Change/Delete/Fetch, [MS-ASEMAIL] draft add and send (16.0)",
	"sync-client-changes-response":             "[MS-ASCMD] 4.5.x Sync Responses",
	"sync-contacts-add-request":                "[MS-ASCNTC] 4.x client adds a contact with Contacts and Contacts2 properties",
	"sync-contacts-initial-request":            "[MS-ASCMD] 2.2.3.176 Supported, recipient information cache with MaxItems",
	"sync-contacts-response":                   "[MS-ASWBXML] 4.2 example: server response with a new contact",
	"sync-email-request":                       "[MS-ASEMAIL] 4.1 Sync request with options",
	"sync-email-response":                      "[MS-ASEMAIL] 4.1 Sync response with a new email",
	"sync-initial-request":                     "[MS-ASCMD] 4.5.2 initial Sync request",
	"sync-limit-response":                      "[MS-ASCMD] 2.2.3.94 Limit in a Sync response (Status 14)",
	"sync-meeting-request-response":            "[MS-ASEMAIL] 4.3 meeting request",
	"sync-notes-response":                      "[MS-ASNOTE] 4.1 Sync response with a note",
	"sync-rm-response":                         "[MS-ASRM] 4.3 Sync response with a protected message",
	"sync-tasks-response":                      "[MS-ASTASK] 4.2 Sync response with a changed, a new and a deleted task",
	"sync-voicemail-response":                  "[MS-ASEMAIL] 4.x voice mail message (Email2 Um* elements)",
	"sync-wait-request":                        "[MS-ASCMD] 2.2.3.190 Wait and 2.2.3.129 Partial",
	"validatecert-request":                     "[MS-ASCMD] 4.18 ValidateCert request",
	"validatecert-response":                    "[MS-ASCMD] 4.18 ValidateCert response",
}

type golden struct {
	name      string
	xml, wbxm []byte
}

func loadGolden(t testing.TB) []golden {
	t.Helper()
	files, err := filepath.Glob("testdata/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []golden
	for _, f := range files {
		x, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		w, err := os.ReadFile(strings.TrimSuffix(f, ".xml") + ".wbxml")
		if err != nil && !*update {
			t.Fatalf("%s: %v (run go test ./server/wbxml/ -run TestGolden -update)", name, err)
		}
		out = append(out, golden{name: name, xml: x, wbxm: w})
	}
	if len(out) < 30 {
		t.Fatalf("%d golden documents, want at least 30", len(out))
	}
	return out
}

func TestGolden(t *testing.T) {
	docs := loadGolden(t)
	var used [NumPages]bool
	for _, g := range docs {
		t.Run(g.name, func(t *testing.T) {
			if goldenSources[g.name] == "" {
				t.Errorf("no entry in goldenSources for %s", g.name)
			}
			tree, err := FromXML(bytes.NewReader(g.xml))
			if err != nil {
				t.Fatalf("FromXML: %v", err)
			}
			var canon bytes.Buffer
			if err := ToXML(&canon, tree); err != nil {
				t.Fatalf("ToXML: %v", err)
			}
			if !bytes.Equal(canon.Bytes(), g.xml) {
				t.Errorf("testdata/%s.xml is not in canonical ToXML form; it should read:\n%s", g.name, canon.Bytes())
			}
			enc, err := Encode(tree)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if *update {
				if err := os.WriteFile("testdata/"+g.name+".wbxml", enc, 0o644); err != nil {
					t.Fatal(err)
				}
				g.wbxm = enc
			}
			if !bytes.Equal(enc, g.wbxm) {
				t.Fatalf("Encode(FromXML(%s.xml)) differs from %s.wbxml\n got % X\nwant % X", g.name, g.name, enc, g.wbxm)
			}
			dec, err := Decode(g.wbxm)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !Equal(dec, tree) {
				t.Fatalf("Decode(%s.wbxml) differs from the XML tree:\n%s", g.name, XMLString(dec))
			}
			var back bytes.Buffer
			if err := ToXML(&back, dec); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back.Bytes(), g.xml) {
				t.Errorf("ToXML(Decode(%s.wbxml)) differs from %s.xml:\n%s", g.name, g.name, back.Bytes())
			}
			again, err := Encode(dec)
			if err != nil || !bytes.Equal(again, g.wbxm) {
				t.Errorf("Encode(Decode(%s.wbxml)) does not give the same bytes (err %v)", g.name, err)
			}
			markPages(dec, &used)
		})
	}
	for p, ok := range used {
		if !ok {
			t.Errorf("no golden document uses code page %d (%s)", p, pages[p].space)
		}
	}
	for name := range goldenSources {
		if _, err := os.Stat("testdata/" + name + ".xml"); err != nil {
			t.Errorf("goldenSources names %s, which has no testdata/%s.xml", name, name)
		}
	}
}

func markPages(e *Element, used *[NumPages]bool) {
	p, _ := PageOf(e.Space)
	used[p] = true
	for _, c := range e.Children {
		markPages(c, used)
	}
}

// TestSpecExampleBytes checks the encoding of the [MS-ASWBXML] 4.2 example
// ("server response that contains a new contact") byte for byte against the
// bytes printed in the specification.
func TestSpecExampleBytes(t *testing.T) {
	want := []byte{
		0x03, 0x01, 0x6A, 0x00, 0x45, 0x5C, 0x4F, 0x50, 0x03, 0x43, 0x6F, 0x6E, 0x74, 0x61, 0x63, 0x74,
		0x73, 0x00, 0x01, 0x4B, 0x03, 0x32, 0x00, 0x01, 0x52, 0x03, 0x32, 0x00, 0x01, 0x4E, 0x03, 0x31,
		0x00, 0x01, 0x56, 0x47, 0x4D, 0x03, 0x32, 0x3A, 0x31, 0x00, 0x01, 0x5D, 0x00, 0x11, 0x4A, 0x46,
		0x03, 0x31, 0x00, 0x01, 0x4C, 0x03, 0x30, 0x00, 0x01, 0x4D, 0x03, 0x31, 0x00, 0x01, 0x01, 0x00,
		0x01, 0x5E, 0x03, 0x46, 0x75, 0x6E, 0x6B, 0x2C, 0x20, 0x44, 0x6F, 0x6E, 0x00, 0x01, 0x5F, 0x03,
		0x44, 0x6F, 0x6E, 0x00, 0x01, 0x69, 0x03, 0x46, 0x75, 0x6E, 0x6B, 0x00, 0x01, 0x00, 0x11, 0x56,
		0x03, 0x31, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
	}
	x, err := os.ReadFile("testdata/sync-contacts-response.xml")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := FromXML(bytes.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encode(tree)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got  % X\nwant % X", got, want)
	}
}
