package wbxml

import (
	"strings"
	"testing"
)

func TestNamespaces(t *testing.T) {
	// MS-ASWBXML 2.1.2.1: code page numbers; namespaces as in the schemas.
	want := []string{
		NSAirSync, NSContacts, NSEmail, NSAirNotify, NSCalendar, NSMove, NSItemEstimate,
		NSFolderHierarchy, NSMeetingResponse, NSTasks, NSResolveRecipients, NSValidateCert,
		NSContacts2, NSPing, NSProvision, NSSearch, NSGAL, NSAirSyncBase, NSSettings,
		NSDocumentLibrary, NSItemOperations, NSComposeMail, NSEmail2, NSNotes,
		NSRightsManagement, NSFind,
	}
	values := []string{
		"AirSync", "Contacts", "Email", "AirNotify", "Calendar", "Move", "GetItemEstimate",
		"FolderHierarchy", "MeetingResponse", "Tasks", "ResolveRecipients", "ValidateCert",
		"Contacts2", "Ping", "Provision", "Search", "GAL", "AirSyncBase", "Settings",
		"DocumentLibrary", "ItemOperations", "ComposeMail", "Email2", "Notes",
		"RightsManagement", "Find",
	}
	if len(want) != NumPages {
		t.Fatalf("%d namespaces, want %d", len(want), NumPages)
	}
	prefixes := map[string]bool{}
	for p, ns := range want {
		if ns != values[p] {
			t.Errorf("page %d: constant %q, want %q", p, ns, values[p])
		}
		if got, ok := PageName(byte(p)); !ok || got != ns {
			t.Errorf("PageName(%d) = %q, %v", p, got, ok)
		}
		if got, ok := PageOf(ns); !ok || int(got) != p {
			t.Errorf("PageOf(%q) = %d, %v", ns, got, ok)
		}
		pre, ok := Prefix(ns)
		if !ok || pre == "" || prefixes[pre] || pre == "wbxml" || pre == "xml" || strings.HasPrefix(pre, "ns") && pre != "notes" {
			t.Errorf("Prefix(%q) = %q, %v: must be unique and not clash with wbxml/xml/nsN", ns, pre, ok)
		}
		prefixes[pre] = true
	}
	if _, ok := PageName(NumPages); ok {
		t.Error("PageName(26) ok")
	}
	if _, ok := PageOf("AirSync:"); ok {
		t.Error("PageOf accepts the colon form")
	}
	if _, ok := Prefix("Nope"); ok {
		t.Error("Prefix of an unknown namespace")
	}
}

func TestTables(t *testing.T) {
	n := 0
	for p := range pages {
		for tok, name := range pages[p].tags {
			if name == "" {
				continue
			}
			n++
			if tok < 5 {
				t.Errorf("page %d: tag %s on global token 0x%02X", p, name, tok)
			}
			if !isXMLName(name) {
				t.Errorf("page %d: %q is not an XML name", p, name)
			}
			gp, gt, ok := Lookup(pages[p].space, name)
			if !ok || int(gp) != p || int(gt) != tok {
				t.Errorf("Lookup(%s, %s) = %d, 0x%02X, %v; want %d, 0x%02X", pages[p].space, name, gp, gt, ok, p, tok)
			}
			space, gotName, ok := TagName(byte(p), byte(tok))
			if !ok || space != pages[p].space || gotName != name {
				t.Errorf("TagName(%d, 0x%02X) = %s, %s, %v", p, tok, space, gotName, ok)
			}
			if _, withContent, ok := TagName(byte(p), byte(tok)|0x40); !ok || withContent != name {
				t.Errorf("TagName(%d, 0x%02X|0x40) = %s, %v", p, tok, withContent, ok)
			}
		}
	}
	if n < 500 {
		t.Errorf("only %d tags in the tables", n)
	}
}

func TestLookupAndTagName(t *testing.T) {
	tests := []struct {
		space, name string
		page, token byte
		ok          bool
	}{
		{NSAirSync, "Sync", 0, 0x05, true},
		{NSAirSync, "HeartbeatInterval", 0, 0x29, true},
		{NSEmail, "Att0Id", 2, 0x09, true},
		{NSCalendar, "Timezone", 4, 0x05, true},
		{NSEmail, "TimeZone", 2, 0x33, true},
		{NSGAL, "Data", 16, 0x12, true},
		{NSProvision, "AllowWiFi", 14, 0x21, true},
		{NSProvision, "AllowWifi", 14, 0x21, true},                    // alias
		{NSProvision, "DeviceEncryptionEnabled", 14, 0x10, true},      // alias
		{NSProvision, "RequireStorageCardEncryption", 14, 0x10, true}, // table name
		{NSValidateCert, "CheckCrl", 11, 0x09, true},                  // alias
		{NSFind, "GALSearchCriterion", 25, 0x19, true},                // alias
		{NSFind, "Picture", 25, 0x22, true},
		{NSRightsManagement, "RemoveRightsManagementProtection", 24, 0x18, true},
		{NSAirSync, "sync", 0, 0, false},
		{"Gal", "Data", 0, 0, false},
		{"AirSync:", "Sync", 0, 0, false},
		{"", "Sync", 0, 0, false},
	}
	for _, tt := range tests {
		p, tok, ok := Lookup(tt.space, tt.name)
		if p != tt.page || tok != tt.token || ok != tt.ok {
			t.Errorf("Lookup(%q, %q) = %d, 0x%02X, %v; want %d, 0x%02X, %v", tt.space, tt.name, p, tok, ok, tt.page, tt.token, tt.ok)
		}
	}
	names := []struct {
		page, token byte
		space, name string
		ok          bool
	}{
		{0, 0x05, NSAirSync, "Sync", true},
		{0, 0x45, NSAirSync, "Sync", true},
		{0, 0x85, "", "", false}, // attribute bit
		{0, 0x00, "", "", false},
		{0, 0x2A, "", "", false},
		{14, 0x10, NSProvision, "RequireStorageCardEncryption", true},
		{25, 0x19, NSFind, "GalSearchCriterion", true},
		{25, 0x0F, "", "", false},
		{26, 0x05, "", "", false},
	}
	for _, tt := range names {
		space, name, ok := TagName(tt.page, tt.token)
		if space != tt.space || name != tt.name || ok != tt.ok {
			t.Errorf("TagName(%d, 0x%02X) = %q, %q, %v", tt.page, tt.token, space, name, ok)
		}
	}
}
