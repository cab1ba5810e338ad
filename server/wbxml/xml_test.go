package wbxml

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestToXML(t *testing.T) {
	tree := New(NSAirSync, "Sync",
		New(NSAirSync, "Collections",
			Text(NSAirSync, "SyncKey", "a&b<c>\"d\""),
			Text(NSEmail, "Subject", "  "),
			Text(NSEmail, "To", "line1\r\nline2\n"),
			Text(NSEmail, "From", "bell\a"),
			Text(NSEmail, "Cc", "bad\xffutf8"),
			Opaque(NSEmail2, "ConversationId", []byte{0, 1, 2}),
			Opaque(NSEmail2, "ConversationIndex", nil),
			Empty(NSAirSync, "GetChanges"),
			New(NSRightsManagement, "RightsManagementLicense", Int(NSRightsManagement, "Owner", 1)),
		))
	want := `<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync" xmlns:email="Email" xmlns:email2="Email2" xmlns:rm="RightsManagement" xmlns:wbxml="urn:easbridge:wbxml">
  <Collections>
    <SyncKey>a&amp;b&lt;c&gt;"d"</SyncKey>
    <email:Subject xml:space="preserve">  </email:Subject>
    <email:To>line1&#xD;
line2
</email:To>
    <email:From wbxml:text="base64">YmVsbAc=</email:From>
    <email:Cc wbxml:text="base64">YmFk/3V0Zjg=</email:Cc>
    <email2:ConversationId wbxml:opaque="base64">AAEC</email2:ConversationId>
    <email2:ConversationIndex wbxml:opaque="base64"/>
    <GetChanges/>
    <rm:RightsManagementLicense>
      <rm:Owner>1</rm:Owner>
    </rm:RightsManagementLicense>
  </Collections>
</Sync>
`
	var b bytes.Buffer
	if err := ToXML(&b, tree); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	back, err := FromXML(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(back, tree) {
		t.Fatalf("FromXML(ToXML(t)) != t:\n%s", XMLString(back))
	}
}

func TestToXMLOddTrees(t *testing.T) {
	tests := []struct {
		name string
		in   *Element
		want string
	}{
		{"unknown namespaces get nsN prefixes",
			New("urn:x", "Root", Empty("urn:y", "A"), Empty("urn:x", "B"), Empty(NSPing, "Ping")),
			`<Root xmlns="urn:x" xmlns:ping="Ping" xmlns:ns1="urn:y">
  <ns1:A/>
  <B/>
  <ping:Ping/>
</Root>
`},
		{"base64 text declares the wbxml namespace late",
			New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "\x01")),
			`<Sync xmlns="AirSync" xmlns:wbxml="urn:easbridge:wbxml">
  <SyncKey wbxml:text="base64">AQ==</SyncKey>
</Sync>
`},
		{"base64 text in the root", Text(NSAirSync, "SyncKey", "\x01"),
			`<SyncKey xmlns="AirSync" xmlns:wbxml="urn:easbridge:wbxml" wbxml:text="base64">AQ==</SyncKey>` + "\n"},
		{"namespace needing escapes", Empty(`a"b<`, "Root"), `<Root xmlns="a&quot;b&lt;"/>` + "\n"},
		{"mixed content is shown", &Element{Space: NSAirSync, Name: "Sync", Text: "t", Children: []*Element{Empty(NSAirSync, "Partial")}},
			`<Sync xmlns="AirSync">t
  <Partial/>
</Sync>
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := ToXML(&b, tt.in); err != nil {
				t.Fatal(err)
			}
			got := strings.TrimPrefix(b.String(), `<?xml version="1.0" encoding="utf-8"?>`+"\n")
			if got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestToXMLErrors(t *testing.T) {
	cyclic := New(NSAirSync, "Sync")
	cyclic.Add(cyclic)
	tests := []struct {
		name string
		in   *Element
		err  error
	}{
		{"nil", nil, ErrMalformed},
		{"cycle", cyclic, ErrTooDeep},
		{"bad name", New(NSAirSync, "Sync", Empty(NSAirSync, "a b")), ErrUnknownTag},
		{"empty name", Empty(NSAirSync, ""), ErrUnknownTag},
		{"name starting with a digit", Empty(NSAirSync, "1x"), ErrUnknownTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := ToXML(&b, tt.in); !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if b.Len() != 0 {
				t.Fatalf("wrote %q on error", b.String())
			}
			s := XMLString(tt.in)
			if !strings.HasPrefix(s, "<!-- wbxml: ") || strings.Contains(s[4:len(s)-3], "--") {
				t.Fatalf("XMLString = %q", s)
			}
		})
	}
	if err := ToXML(failWriter{}, Empty(NSAirSync, "Sync")); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("write error: %v", err)
	}
}

func TestXMLStringNeverPanics(t *testing.T) {
	for _, e := range []*Element{
		nil,
		{},
		{Name: "x", Children: []*Element{nil, {}}},
		{Space: NSAirSync, Name: "Sync", Children: []*Element{{Name: "\xff"}}},
	} {
		_ = XMLString(e)
		_ = e.String()
	}
	if s := Empty(NSAirSync, "Sync").String(); !strings.Contains(s, `<Sync xmlns="AirSync"/>`) {
		t.Fatalf("String() = %q", s)
	}
}

func TestFromXML(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Element
	}{
		{"prefixed", `<a:Sync xmlns:a="AirSync"><a:SyncKey>1</a:SyncKey></a:Sync>`,
			New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "1"))},
		{"colon namespaces of older examples", `<Sync xmlns="AirSync:" xmlns:airsyncbase="AirSyncBase:"><airsyncbase:Type>1</airsyncbase:Type></Sync>`,
			New(NSAirSync, "Sync", Text(NSAirSyncBase, "Type", "1"))},
		{"alias gives the table name", `<EASProvisionDoc xmlns="Provision"><AllowWifi>1</AllowWifi></EASProvisionDoc>`,
			New(NSProvision, "EASProvisionDoc", Text(NSProvision, "AllowWiFi", "1"))},
		{"formatting white space", "<Sync xmlns=\"AirSync\">\n  <Collections>\n  </Collections>\n  <SyncKey> 1 </SyncKey>\n</Sync>",
			New(NSAirSync, "Sync", Empty(NSAirSync, "Collections"), Text(NSAirSync, "SyncKey", " 1 "))},
		{"xml:space preserve", `<Sync xmlns="AirSync"><SyncKey xml:space="preserve"> </SyncKey></Sync>`,
			New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", " "))},
		{"xml:space default", `<Sync xmlns="AirSync"><SyncKey xml:space="default"> </SyncKey></Sync>`,
			New(NSAirSync, "Sync", Empty(NSAirSync, "SyncKey"))},
		{"CDATA and entities", `<Sync xmlns="AirSync"><SyncKey><![CDATA[<a>]]>&amp;&#x41;&#xD;</SyncKey></Sync>`,
			New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "<a>&A\r"))},
		{"wrapped base64", "<Sync xmlns=\"AirSync\" xmlns:w=\"urn:easbridge:wbxml\"><SyncKey w:opaque=\"base64\">\n AAEC\n AwQ=\n</SyncKey></Sync>",
			New(NSAirSync, "Sync", Opaque(NSAirSync, "SyncKey", []byte{0, 1, 2, 3, 4}))},
		{"base64 text", `<Sync xmlns="AirSync" xmlns:w="urn:easbridge:wbxml"><SyncKey w:text="base64">AQ==</SyncKey></Sync>`,
			New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", "\x01"))},
		{"comments, PI, DOCTYPE", `<?xml version="1.0"?><!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/"><!-- c --><Sync xmlns="AirSync"><!-- c --><?pi x?></Sync>`,
			Empty(NSAirSync, "Sync")},
		{"GAL", `<Search xmlns="Search" xmlns:gal="GAL"><gal:Data>x</gal:Data></Search>`,
			New(NSSearch, "Search", Text(NSGAL, "Data", "x"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromXML(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(got, tt.want) {
				t.Fatalf("got %s\nwant %s", XMLString(got), XMLString(tt.want))
			}
		})
	}
}

func TestFromXMLErrors(t *testing.T) {
	deep := strings.Repeat("<Collection>", DefaultMaxDepth) + strings.Repeat("</Collection>", DefaultMaxDepth)
	tests := []struct {
		name string
		in   string
		err  error
		opts []Option
	}{
		{"empty", "", ErrMalformed, nil},
		{"only white space", " \n", ErrMalformed, nil},
		{"no namespace", `<Sync/>`, ErrUnknownPage, nil},
		{"unknown namespace", `<Sync xmlns="urn:x"/>`, ErrUnknownPage, nil},
		{"libwbxml's Gal namespace", `<Data xmlns="Gal:"/>`, ErrUnknownPage, nil},
		{"unknown tag", `<Sink xmlns="AirSync"/>`, ErrUnknownTag, nil},
		{"tag of another page", `<Ping xmlns="AirSync"/>`, ErrUnknownTag, nil},
		{"attribute", `<Sync xmlns="AirSync" version="1"/>`, ErrAttributes, nil},
		{"unknown wbxml attribute", `<Sync xmlns="AirSync" xmlns:w="urn:easbridge:wbxml" w:opaque="hex"/>`, ErrAttributes, nil},
		{"undeclared prefix attribute", `<Sync xmlns="AirSync" wbxml:opaque="base64"/>`, ErrAttributes, nil},
		{"opaque and text marks", `<Sync xmlns="AirSync" xmlns:w="urn:easbridge:wbxml" w:opaque="base64" w:text="base64"/>`, ErrMixedContent, nil},
		{"mixed content", `<Sync xmlns="AirSync">x<Partial/></Sync>`, ErrMixedContent, nil},
		{"opaque with children", `<Sync xmlns="AirSync" xmlns:w="urn:easbridge:wbxml" w:opaque="base64"><Partial/></Sync>`, ErrMixedContent, nil},
		{"bad base64", `<Sync xmlns="AirSync" xmlns:w="urn:easbridge:wbxml" w:opaque="base64">!!</Sync>`, nil, nil},
		{"two roots", `<Sync xmlns="AirSync"/><Sync xmlns="AirSync"/>`, ErrMalformed, nil},
		{"text after root", `<Sync xmlns="AirSync"/>x`, ErrMalformed, nil},
		{"unclosed", `<Sync xmlns="AirSync">`, nil, nil},
		{"not XML", `<<<`, nil, nil},
		{"invalid character reference", `<Sync xmlns="AirSync"><SyncKey>&#1;</SyncKey></Sync>`, nil, nil},
		{"too deep", `<Sync xmlns="AirSync">` + deep + `</Sync>`, ErrTooDeep, nil},
		{"MaxDepth", `<Sync xmlns="AirSync"><Collections/></Sync>`, ErrTooDeep, []Option{MaxDepth(1)}},
		{"MaxElements", `<Sync xmlns="AirSync"><Collections/></Sync>`, ErrTooLarge, []Option{MaxElements(1)}},
		{"MaxSize", `<Sync xmlns="AirSync"><Collections/></Sync>`, ErrTooLarge, []Option{MaxSize(10)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := FromXMLWith(strings.NewReader(tt.in), tt.opts...)
			if err == nil {
				t.Fatalf("no error; got %s", XMLString(e))
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if !strings.HasPrefix(err.Error(), "wbxml: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := FromXMLWith(strings.NewReader(`<Sync xmlns="AirSync">`+deep+`</Sync>`), MaxDepth(DefaultMaxDepth+1)); err != nil {
		t.Fatalf("MaxDepth(65): %v", err)
	}
}

// TestXMLRoundTripTexts sends awkward texts through
// Encode → Decode → ToXML → FromXML → Encode.
func TestXMLRoundTripTexts(t *testing.T) {
	texts := []string{
		"plain", " lead", "trail ", " ", "\n", "\r", "\r\n", "\t", " \r\n\t ", "a\r\nb\rc\nd",
		"&amp; <x/> ]]> \"'", "\u00e9\u4e2d\U0001F600", "\x01", "\x7f", "\x1b[0m", "\xff\xfe",
		"\uFFFE", "\uFFFD", "\xed\xa0\x80", strings.Repeat("x", 5000), "]]>", "-->",
	}
	for _, s := range texts {
		tree := New(NSAirSync, "Sync", Text(NSAirSync, "SyncKey", s), Opaque(NSEmail2, "ConversationId", []byte(s)))
		b1, err := Encode(tree)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		dec, err := Decode(b1)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var x bytes.Buffer
		if err := ToXML(&x, dec); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		back, err := FromXML(&x)
		if err != nil {
			t.Fatalf("%q: FromXML: %v\n%s", s, err, x.String())
		}
		b2, err := Encode(back)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("%q: round trip changed the bytes (%v)\n% X\n% X", s, err, b1, b2)
		}
	}
}
