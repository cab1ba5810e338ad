package mailconv

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/source"
)

var allVersions = []eas.Version{eas.V121, eas.V140, eas.V141, eas.V160, eas.V161}

// TestVersionFields checks which fields each protocol version gets
// (MS-ASEMAIL 2.2.2 "Protocol Versions" tables).
func TestVersionFields(t *testing.T) {
	flags := []string{`\Seen`, `\Answered`, `\Draft`, "Work"}
	const text = `From: Bob <bob@example.com>
Sender: Assistant <assistant@example.com>
To: Alice <alice@example.org>
Bcc: hidden@example.net
Subject: Re: Numbers
Message-ID: <m2@example.com>
References: <m1@example.org>
Date: Thu, 13 Mar 2025 18:20:00 +0100

Body text.
`
	type want struct {
		space, name string
		present     map[eas.Version]bool // nil: all versions
	}
	from14 := map[eas.Version]bool{eas.V140: true, eas.V141: true, eas.V160: true, eas.V161: true}
	from141 := map[eas.Version]bool{eas.V141: true, eas.V160: true, eas.V161: true}
	from16 := map[eas.Version]bool{eas.V160: true, eas.V161: true}
	fields := []want{
		{wbxml.NSEmail, "To", nil},
		{wbxml.NSEmail, "From", nil},
		{wbxml.NSEmail, "Subject", nil},
		{wbxml.NSEmail, "DateReceived", nil},
		{wbxml.NSEmail, "DisplayTo", nil},
		{wbxml.NSEmail, "ThreadTopic", nil},
		{wbxml.NSEmail, "Importance", nil},
		{wbxml.NSEmail, "Read", nil},
		{wbxml.NSAirSyncBase, "Body", nil},
		{wbxml.NSEmail, "MessageClass", nil},
		{wbxml.NSEmail, "InternetCPID", nil},
		{wbxml.NSEmail, "Flag", nil},
		{wbxml.NSEmail, "ContentClass", nil},
		{wbxml.NSAirSyncBase, "NativeBodyType", nil},
		{wbxml.NSEmail2, "ConversationId", from14},
		{wbxml.NSEmail2, "ConversationIndex", from14},
		{wbxml.NSEmail, "Categories", from14},
		{wbxml.NSEmail2, "LastVerbExecuted", from14},
		{wbxml.NSEmail2, "ReceivedAsBcc", from14},
		{wbxml.NSEmail2, "Sender", from14},
		{wbxml.NSAirSyncBase, "BodyPart", from141},
		{wbxml.NSEmail2, "IsDraft", from16},
		{wbxml.NSEmail2, "Bcc", from16},
	}
	for _, v := range allVersions {
		t.Run(string(v), func(t *testing.T) {
			m := rawMessage(t, text, flags...)
			o := Options{Version: v, UserAddress: "me@example.com",
				BodyPrefs:     []server.BodyPreference{{Type: 1, Preview: 50}},
				BodyPartPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 100}}}
			e := convert(t, m, o)
			for _, f := range fields {
				want := f.present == nil || f.present[v]
				if got := e.Has(f.space, f.name); got != want {
					t.Errorf("%s:%s present = %v, want %v", f.space, f.name, got, want)
				}
			}
			_, hasPreview := fieldText(bodyOf(e), wbxml.NSAirSyncBase, "Preview")
			if want := v != eas.V121; hasPreview != want {
				t.Errorf("Preview present = %v, want %v", hasPreview, want)
			}
			if v == eas.V121 {
				return
			}
			idx := e.Child(wbxml.NSEmail2, "ConversationIndex").Opaque
			id := e.Child(wbxml.NSEmail2, "ConversationId").Opaque
			if len(id) != 16 || len(idx) != 22 || idx[0] != 1 || !bytes.Equal(idx[6:], id) {
				t.Errorf("ConversationId %x, ConversationIndex %x", id, idx)
			}
		})
	}
}

// TestElementOrder checks the field order Exchange uses.
func TestElementOrder(t *testing.T) {
	m := loadEML(t, "reply.eml", `\Seen`, `\Answered`)
	e := convert(t, m, Options{Version: eas.V161, UserAddress: "me@example.com"})
	var names []string
	for _, c := range e.Children {
		names = append(names, c.Name)
	}
	got := strings.Join(names, " ")
	want := "To From Subject DateReceived DisplayTo ThreadTopic Importance Read Body MessageClass InternetCPID Flag ContentClass NativeBodyType ConversationId ConversationIndex Categories LastVerbExecuted ReceivedAsBcc Sender IsDraft"
	if got != want {
		t.Errorf("order:\n got %s\nwant %s", got, want)
	}
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		name, to, wantTo, wantDisplay string
	}{
		{"plain", "bob@example.com", "bob@example.com", "bob@example.com"},
		{"named", "Bob Smith <bob@example.com>", `"Bob Smith" <bob@example.com>`, "Bob Smith"},
		{"quoted comma", `"Smith, Bob" <bob@example.com>, carol@example.com`,
			`"Smith, Bob" <bob@example.com>, carol@example.com`, "Smith, Bob; carol@example.com"},
		{"quote in name", `"Bob \"the builder\"" <bob@example.com>`,
			`"Bob \"the builder\"" <bob@example.com>`, `Bob "the builder"`},
		{"rfc2047", "=?UTF-8?B?0JDQvdC90LA=?= <anna@example.com>", `"Анна" <anna@example.com>`, "Анна"},
		{"rfc2047 in quotes", `"=?ISO-8859-1?Q?Ren=E9e?=" <renee@example.fr>`, `"Renée" <renee@example.fr>`, "Renée"},
		{"old comment form", "bob@example.com (Bob Smith)", `"Bob Smith" <bob@example.com>`, "Bob Smith"},
		{"unquoted dot", "John Q. Public <jqp@example.com>", `"John Q. Public" <jqp@example.com>`, "John Q. Public"},
		{"group", "Team: a@example.com, b@example.com;", "a@example.com, b@example.com", "a@example.com; b@example.com"},
		{"empty group", "undisclosed-recipients:;", "", ""},
		{"raw utf-8", "Jürgen <j@example.de>", `"Jürgen" <j@example.de>`, "Jürgen"},
		{"raw latin-1", "J\xfcrgen <j@example.de>", `"Jürgen" <j@example.de>`, "Jürgen"},
		{"broken", `"Unclosed <x@example.com>, ok@example.com`, `"Unclosed" <x@example.com>, ok@example.com`, "Unclosed; ok@example.com"},
		{"stray commas", ",, <ok@example.com>,", "ok@example.com", "ok@example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := rawMessage(t, "From: a@example.com\nTo: "+tc.to+"\nSubject: x\n\nbody\n")
			e := convert(t, m, opts(eas.V141))
			got, _ := fieldText(e, wbxml.NSEmail, "To")
			disp, _ := fieldText(e, wbxml.NSEmail, "DisplayTo")
			if got != tc.wantTo || disp != tc.wantDisplay {
				t.Errorf("To = %q, DisplayTo = %q; want %q, %q", got, disp, tc.wantTo, tc.wantDisplay)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name, header, want string
	}{
		{"plain", "Subject: Hello", "Hello"},
		{"folded with space", "Subject: Hello\n world", "Hello world"},
		{"folded with tab keeps the tab", "Subject: Hello\n\tworld", "Hello\tworld"},
		{"folded keeps all WSP", "Subject: Hello\n   world", "Hello   world"},
		{"encoded words joined", "Subject: =?UTF-8?Q?Gr=C3=BC?=\n =?UTF-8?Q?=C3=9Fe?=", "Grüße"},
		{"encoded and plain", "Subject: =?UTF-8?B?w4Rw?= and more", "Äp and more"},
		{"q underscore", "Subject: =?ISO-8859-1?Q?caf=E9_au_lait?=", "café au lait"},
		{"iso-2022-jp", "Subject: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=", "会議"},
		{"koi8-r", "Subject: =?KOI8-R?B?8NLJ18XU?=", "Привет"},
		{"unknown charset", "Subject: =?x-nope?Q?caf=E9?=", "café"},
		{"raw utf-8", "Subject: Grüße", "Grüße"},
		{"raw latin-1", "Subject: Gr\xfc\xdfe", "Grüße"},
		{"control chars", "Subject: a\x01b", "a b"},
		{"empty", "Subject:", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := rawMessage(t, "From: a@example.com\n"+tc.header+"\n\nbody\n")
			got, ok := fieldText(convert(t, m, opts(eas.V141)), wbxml.NSEmail, "Subject")
			if !ok || got != tc.want {
				t.Errorf("Subject = %q (present %v), want %q", got, ok, tc.want)
			}
		})
	}
	m := rawMessage(t, "From: a@example.com\n\nbody\n")
	if _, ok := fieldText(convert(t, m, opts(eas.V141)), wbxml.NSEmail, "Subject"); ok {
		t.Error("Subject present for a message without one")
	}
}

func TestThreadTopic(t *testing.T) {
	tests := []struct{ subject, want string }{
		{"Hello", "Hello"},
		{"Re: Hello", "Hello"},
		{"RE: Fwd: re: Hello", "Hello"},
		{"AW: WG: Hallo", "Hallo"},
		{"Re[2]: Hello", "Hello"},
		{"Invitation: Planning", "Invitation: Planning"},
		{"Re:", ""},
	}
	for _, tc := range tests {
		m := rawMessage(t, "Subject: "+tc.subject+"\n\nx\n")
		got, _ := fieldText(convert(t, m, opts(eas.V141)), wbxml.NSEmail, "ThreadTopic")
		if got != tc.want {
			t.Errorf("ThreadTopic(%q) = %q, want %q", tc.subject, got, tc.want)
		}
	}
	m := rawMessage(t, "Subject: Re: x\nThread-Topic: =?UTF-8?Q?Th=C3=A8me?=\n\nx\n")
	if got, _ := fieldText(convert(t, m, opts(eas.V141)), wbxml.NSEmail, "ThreadTopic"); got != "Thème" {
		t.Errorf("ThreadTopic from Thread-Topic = %q", got)
	}
}

func TestImportance(t *testing.T) {
	tests := []struct {
		header string
		want   string
	}{
		{"", "1"},
		{"Importance: high", "2"},
		{"Importance: Low", "0"},
		{"Importance: normal\nX-Priority: 1", "1"},
		{"Importance: bogus\nX-Priority: 1", "2"},
		{"Priority: urgent", "2"},
		{"Priority: non-urgent", "0"},
		{"X-Priority: 2 (High)", "2"},
		{"X-Priority: 3", "1"},
		{"X-Priority: 5 (Lowest)", "0"},
		{"X-MSMail-Priority: High", "2"},
	}
	for _, tc := range tests {
		m := rawMessage(t, "Subject: x\n"+tc.header+"\n\nx\n")
		if got, _ := fieldText(convert(t, m, opts(eas.V121)), wbxml.NSEmail, "Importance"); got != tc.want {
			t.Errorf("%q: Importance = %s, want %s", tc.header, got, tc.want)
		}
	}
}

func TestReadFlagAndVerbs(t *testing.T) {
	tests := []struct {
		flags          []string
		read           string
		flagStatus     string // "" = empty Flag
		lastVerb       string // "" = absent
		wantCategories []string
	}{
		{nil, "0", "", "", nil},
		{[]string{`\Seen`}, "1", "", "", nil},
		{[]string{`\seen`, `\flagged`}, "1", "2", "", nil},
		{[]string{"$Completed"}, "0", "1", "", nil},
		{[]string{`\Flagged`, "$Completed"}, "0", "2", "", nil},
		{[]string{`\Answered`}, "0", "", "1", nil},
		{[]string{"$Forwarded"}, "0", "", "3", nil},
		{[]string{"$Forwarded", `\Answered`}, "0", "", "1", nil},
		{[]string{"Work", "$MDNSent", "$Junk", "Junk", "NonJunk", "$label1", "$Category_A=20B", "work", "Work"}, "0", "", "",
			[]string{"Work", "Important", "A B", "work"}},
	}
	for _, tc := range tests {
		m := rawMessage(t, "Subject: x\n\nx\n", tc.flags...)
		e := convert(t, m, opts(eas.V161))
		read, _ := fieldText(e, wbxml.NSEmail, "Read")
		status := e.Child(wbxml.NSEmail, "Flag").ChildText(wbxml.NSEmail, "Status")
		verb, _ := fieldText(e, wbxml.NSEmail2, "LastVerbExecuted")
		var cats []string
		for _, c := range e.Child(wbxml.NSEmail, "Categories").Children {
			cats = append(cats, c.Text)
		}
		if read != tc.read || status != tc.flagStatus || verb != tc.lastVerb || strings.Join(cats, "|") != strings.Join(tc.wantCategories, "|") {
			t.Errorf("%v: Read %s Flag %q Verb %q Categories %q; want %s %q %q %q",
				tc.flags, read, status, verb, cats, tc.read, tc.flagStatus, tc.lastVerb, tc.wantCategories)
		}
		// FlagApplicationData writes the same.
		fe := FlagApplicationData(tc.flags, eas.V161)
		for _, n := range []string{"Read", "Flag", "Categories"} {
			if !wbxml.Equal(fe.Child(wbxml.NSEmail, n), e.Child(wbxml.NSEmail, n)) {
				t.Errorf("%v: FlagApplicationData %s differs", tc.flags, n)
			}
		}
	}
	if FlagApplicationData(nil, eas.V121).Has(wbxml.NSEmail, "Categories") {
		t.Error("FlagApplicationData 12.1 has Categories")
	}
}

func TestReceivedAsBccAndSender(t *testing.T) {
	tests := []struct {
		name, header, user string
		bcc                bool
		sender             string
	}{
		{"in To", "To: me@example.com", "me@example.com", false, ""},
		{"in Cc, case", "To: x@example.com\nCc: ME@Example.com", "me@example.com", false, ""},
		{"not there", "To: x@example.com", "me@example.com", true, ""},
		{"one of several", "To: x@example.com", "alias@example.com, me@example.com", true, ""},
		{"second address listed", "To: alias@example.com", "me@example.com,alias@example.com", false, ""},
		{"from me", "From: me@example.com\nTo: x@example.com", "me@example.com", false, ""},
		{"mailing list", "To: list@example.com\nList-Id: <list.example.com>", "me@example.com", false, ""},
		{"no user", "To: x@example.com", "", false, ""},
		{"sender differs", "From: boss@example.com\nSender: Sec <sec@example.com>\nTo: me@example.com", "me@example.com", false, `"Sec" <sec@example.com>`},
		{"sender same", "From: boss@example.com\nSender: BOSS@example.com\nTo: me@example.com", "me@example.com", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := rawMessage(t, tc.header+"\nSubject: x\n\nx\n")
			e := convert(t, m, Options{Version: eas.V141, UserAddress: tc.user})
			_, bcc := fieldText(e, wbxml.NSEmail2, "ReceivedAsBcc")
			sender, _ := fieldText(e, wbxml.NSEmail2, "Sender")
			if bcc != tc.bcc || sender != tc.sender {
				t.Errorf("ReceivedAsBcc %v Sender %q, want %v %q", bcc, sender, tc.bcc, tc.sender)
			}
		})
	}
}

func TestConversation(t *testing.T) {
	id := func(text string) []byte {
		m := rawMessage(t, text)
		return convert(t, m, opts(eas.V141)).Child(wbxml.NSEmail2, "ConversationId").Opaque
	}
	root := id("Message-ID: <root@x>\nSubject: Plan\n\nx\n")
	reply := id("Message-ID: <r1@x>\nIn-Reply-To: <root@x>\nReferences: <root@x>\nSubject: Re: Plan\n\nx\n")
	reply2 := id("Message-ID: <r2@x>\nIn-Reply-To: <r1@x>\nReferences: <root@x> <r1@x>\nSubject: Re: Plan\n\nx\n")
	inReplyOnly := id("Message-ID: <r3@x>\nIn-Reply-To: <root@x>\nSubject: Re: Plan\n\nx\n")
	other := id("Message-ID: <other@x>\nSubject: Plan\n\nx\n")
	if !bytes.Equal(root, reply) || !bytes.Equal(root, reply2) || !bytes.Equal(root, inReplyOnly) {
		t.Errorf("thread ids differ: %x %x %x %x", root, reply, reply2, inReplyOnly)
	}
	if bytes.Equal(root, other) {
		t.Error("unrelated message shares the conversation id")
	}
	s1 := id("Subject: Lunch?\n\nx\n")
	s2 := id("Subject: RE: lunch?\n\ny\n")
	if !bytes.Equal(s1, s2) {
		t.Error("messages without ids do not group by normalized subject")
	}
	// Messages without any header are each their own conversation.
	u1 := convert(t, &source.Message{UID: 1}, opts(eas.V141)).Child(wbxml.NSEmail2, "ConversationId").Opaque
	u2 := convert(t, &source.Message{UID: 2}, opts(eas.V141)).Child(wbxml.NSEmail2, "ConversationId").Opaque
	if bytes.Equal(u1, u2) {
		t.Error("headerless messages share a conversation id")
	}
	// ConversationIndex: 0x01, 5 FILETIME bytes of the Date.
	m := rawMessage(t, "Date: Mon, 3 Mar 2025 09:13:55 +0100\nSubject: x\n\nx\n")
	idx := convert(t, m, opts(eas.V141)).Child(wbxml.NSEmail2, "ConversationIndex").Opaque
	d := time.Date(2025, 3, 3, 8, 13, 55, 0, time.UTC)
	ft := uint64(d.Unix()+11644473600) * 10_000_000
	want := []byte{0x01, byte(ft >> 56), byte(ft >> 48), byte(ft >> 40), byte(ft >> 32), byte(ft >> 24)}
	if !bytes.Equal(idx[:6], want) {
		t.Errorf("ConversationIndex header %x, want %x", idx[:6], want)
	}
}

func TestDateReceived(t *testing.T) {
	m := rawMessage(t, "Date: Mon, 3 Mar 2025 09:13:55 +0100\nSubject: x\n\nx\n")
	if got, _ := fieldText(convert(t, m, opts(eas.V141)), wbxml.NSEmail, "DateReceived"); got != "2025-03-14T09:26:53.000Z" {
		t.Errorf("DateReceived from INTERNALDATE = %s", got)
	}
	m.InternalDate = time.Time{}
	if got, _ := fieldText(convert(t, m, opts(eas.V141)), wbxml.NSEmail, "DateReceived"); got != "2025-03-03T08:13:55.000Z" {
		t.Errorf("DateReceived from Date = %s", got)
	}
	m = rawMessage(t, "Date: garbage\nSubject: x\n\nx\n")
	m.InternalDate = time.Time{}
	if _, ok := fieldText(convert(t, m, opts(eas.V141)), wbxml.NSEmail, "DateReceived"); ok {
		t.Error("DateReceived without any date")
	}
}

func leaf(typ, sub string, path ...int) *source.Part {
	return &source.Part{Path: path, Type: typ, Subtype: sub, Params: map[string]string{}}
}

func multi(sub string, params map[string]string, children ...*source.Part) *source.Part {
	return &source.Part{Type: "multipart", Subtype: sub, Params: params, Children: children}
}

func TestMessageClass(t *testing.T) {
	cal := leaf("text", "calendar", 3)
	cal.Params["method"] = "REQUEST"
	calReply := leaf("text", "calendar", 2)
	calReply.Params["method"] = "REPLY"
	tests := []struct {
		name   string
		root   *source.Part
		want   string
		native string
	}{
		{"nil root", nil, "IPM.Note", "1"},
		{"plain", leaf("text", "plain"), "IPM.Note", "1"},
		{"html", leaf("text", "html"), "IPM.Note", "2"},
		{"encrypted", leaf("application", "pkcs7-mime"), "IPM.Note.SMIME", "1"},
		{"x-encrypted", leaf("application", "x-pkcs7-mime"), "IPM.Note.SMIME", "1"},
		{"signed", multi("signed", map[string]string{"protocol": "application/pkcs7-signature"},
			leaf("text", "plain", 1), leaf("application", "pkcs7-signature", 2)), "IPM.Note.SMIME.MultipartSigned", "1"},
		{"pgp signed", multi("signed", map[string]string{"protocol": "application/pgp-signature"},
			leaf("text", "plain", 1), leaf("application", "pgp-signature", 2)), "IPM.Note", "1"},
		{"meeting", multi("alternative", nil, leaf("text", "plain", 1), leaf("text", "html", 2), cal), "IPM.Schedule.Meeting.Request", "2"},
		{"meeting reply", multi("mixed", nil, leaf("text", "plain", 1), calReply), "IPM.Note", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &source.Message{UID: 1, Header: []byte("Subject: x\r\n\r\n"), Root: tc.root}
			e := convert(t, m, opts(eas.V141))
			class, _ := fieldText(e, wbxml.NSEmail, "MessageClass")
			native, _ := fieldText(e, wbxml.NSAirSyncBase, "NativeBodyType")
			if class != tc.want || native != tc.native {
				t.Errorf("MessageClass %q NativeBodyType %s, want %q %s", class, native, tc.want, tc.native)
			}
		})
	}
}

func TestAttachments(t *testing.T) {
	named := leaf("application", "octet-stream", 2)
	named.DispParams = map[string]string{"filename*0*": "iso-8859-1''R%E9sum%E9", "filename*1": ".doc"}
	named.Disposition, named.Encoding, named.Size = "attachment", "base64", 780
	winPath := leaf("image", "jpeg", 3)
	winPath.Params["name"] = `C:\Users\x\photo.jpg`
	inlineImg := leaf("image", "png", 4)
	inlineImg.Disposition = "inline"
	inlineImg.Location = "http://example.com/\r\n img/a.png"
	textAtt := leaf("text", "plain", 5)
	textAtt.Params["name"] = "log.txt"
	relImg := leaf("image", "gif", 1, 2)
	relImg.ID = "<img1@x>"
	rel := &source.Part{Path: []int{1}, Type: "multipart", Subtype: "related",
		Children: []*source.Part{leaf("text", "html", 1, 1), relImg}}
	root := multi("mixed", nil, rel, named, winPath, inlineImg, textAtt)

	m := &source.Message{UID: 1, Header: []byte("Subject: x\r\n\r\n"), Root: root}
	e := convert(t, m, opts(eas.V141))
	var got []string
	for _, a := range e.Child(wbxml.NSAirSyncBase, "Attachments").Children {
		s := a.ChildText(wbxml.NSAirSyncBase, "DisplayName") + "|" + a.ChildText(wbxml.NSAirSyncBase, "FileReference") +
			"|" + a.ChildText(wbxml.NSAirSyncBase, "EstimatedDataSize") + "|" + a.ChildText(wbxml.NSAirSyncBase, "ContentId") +
			"|" + a.ChildText(wbxml.NSAirSyncBase, "ContentLocation") + "|" + a.ChildText(wbxml.NSAirSyncBase, "IsInline")
		got = append(got, s)
	}
	want := []string{
		"attachment-1.2.gif|1.2|0|img1@x||1",
		"Résumé.doc|2|571|||",
		"photo.jpg|3|0|||",
		"attachment-4.png|4|0||http://example.com/img/a.png|1",
		"log.txt|5|0|||",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("attachments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A single-part non-text message is one attachment at BODY[1].
	m = &source.Message{UID: 1, Header: []byte("Subject: x\r\n\r\n"), Root: leaf("application", "pdf")}
	e = convert(t, m, opts(eas.V141))
	if ref := e.Child(wbxml.NSAirSyncBase, "Attachments").Children[0].ChildText(wbxml.NSAirSyncBase, "FileReference"); ref != "1" {
		t.Errorf("single-part FileReference = %q", ref)
	}
	// The FileReference maker gets the part path.
	var paths []string
	o := opts(eas.V141)
	o.FileReference = func(p []int) string { paths = append(paths, dotted(p)); return "ref" }
	m.Root = root
	convert(t, m, o)
	if strings.Join(paths, " ") != "1.2 2 3 4 5" {
		t.Errorf("FileReference paths %q", paths)
	}
}

// TestUnparseable: nothing readable still converts.
func TestUnparseable(t *testing.T) {
	tests := []struct {
		name        string
		m           *source.Message
		subject     string
		bodyContain string
	}{
		{"nothing", &source.Message{UID: 1}, "(unparseable message)", ""},
		{"garbage header", &source.Message{UID: 1, Header: []byte("\x00\x01\x02garbage\r\n\r\n")}, "(unparseable message)", ""},
		{"raw only", &source.Message{UID: 1, Raw: []byte("Subject: From raw\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe body.\r\n")},
			"From raw", "The body."},
		{"raw cut in a multipart", &source.Message{UID: 1, Size: 1000, RawTruncated: true,
			Raw: []byte("Subject: Cut\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPartial bo")},
			"Cut", "Partial bo"},
		{"header without structure", &source.Message{UID: 1, Header: []byte("Subject: Only header\r\n\r\n")}, "Only header", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := convert(t, tc.m, opts(eas.V141, server.BodyPreference{Type: 1}))
			subject, _ := fieldText(e, wbxml.NSEmail, "Subject")
			data, _ := fieldText(bodyOf(e), wbxml.NSAirSyncBase, "Data")
			if subject != tc.subject || !strings.Contains(data, tc.bodyContain) {
				t.Errorf("Subject %q Data %q", subject, data)
			}
		})
	}
}

func TestProgrammingErrors(t *testing.T) {
	if _, err := ApplicationData(nil, opts(eas.V141)); err == nil {
		t.Error("nil message: no error")
	}
	m := rawMessage(t, "Subject: x\n\nx\n")
	if _, err := ApplicationData(m, Options{Version: "2.5"}); err == nil {
		t.Error("version 2.5: no error")
	}
	if _, err := Properties(wbxml.NSAirSync, m, opts(eas.V141)); err == nil {
		t.Error("Properties in AirSync: no error")
	}
	for _, space := range []string{wbxml.NSItemOperations, wbxml.NSSearch} {
		p, err := Properties(space, m, opts(eas.V141))
		if err != nil || !p.Is(space, "Properties") {
			t.Fatalf("Properties(%s) = %v, %v", space, p, err)
		}
		a := convert(t, m, opts(eas.V141))
		a.Space, a.Name = space, "Properties"
		if !wbxml.Equal(a, p) {
			t.Errorf("Properties(%s) content differs from ApplicationData", space)
		}
	}
}
