package logbus

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"easbridge/server/wbxml"
)

func TestRedactHeaders(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"basic", "Authorization", "Basic Ym9iOmh1bnRlcjI=", "Basic [redacted]"},
		{"bearer", "Authorization", "Bearer abc.def", "Bearer [redacted]"},
		{"no scheme", "Authorization", "Ym9iOmh1bnRlcjI=", "[redacted]"},
		{"proxy", "Proxy-Authorization", "Basic eDp5", "Basic [redacted]"},
		{"cookie", "Cookie", "sid=abc; lang=en", "sid=[redacted]; lang=[redacted]"},
		{"set-cookie", "Set-Cookie", "sid=abc; Path=/; HttpOnly", "sid=[redacted]"},
		{"token header", "X-Auth-Token", "abc", "[redacted]"},
		{"policy key kept", "X-Ms-Policykey", "1234567890", "1234567890"},
		{"version kept", "Ms-Asprotocolversion", "16.1", "16.1"},
		{"user agent kept", "User-Agent", "Apple-iPhone/1", "Apple-iPhone/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(tt.key, tt.value)
			got := RedactHeaders(h)
			if v := got.Get(tt.key); v != tt.want {
				t.Errorf("%s: %q → %q, want %q", tt.key, tt.value, v, tt.want)
			}
			if h.Get(tt.key) != tt.value {
				t.Error("input modified")
			}
			if again := RedactHeaders(got).Get(tt.key); again != tt.want {
				t.Errorf("not idempotent: %q", again)
			}
		})
	}
	if RedactHeaders(nil) != nil {
		t.Error("nil → non-nil")
	}
}

func TestRedactQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Cmd=Sync&User=bob&DeviceId=D1&DeviceType=iPhone", "Cmd=Sync&User=bob&DeviceId=D1&DeviceType=iPhone"},
		{"Cmd=Sync&User=bob&Password=hunter2&DeviceId=D1", "Cmd=Sync&User=bob&DeviceId=D1"},
		{"pwd=x&Cmd=Ping", "Cmd=Ping"},
		{"Cmd=Ping&PASSWD=x&pass=y", "Cmd=Ping"},
		{"%50assword=x&Cmd=Ping", "Cmd=Ping"},
		{"Cmd=Ping&Passwordless=1", "Cmd=Ping&Passwordless=1"},
		{"jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l", "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l"}, // base64 form
		{"eQAJBBBN8i==", "eQAJBBBN8i=="},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactQuery(tt.in); got != tt.want {
			t.Errorf("RedactQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTagsExist guards against misspelt names in the redaction tables.
func TestTagsExist(t *testing.T) {
	for _, m := range []map[tag]bool{bodyTags, contentTags} {
		for tg := range m {
			if _, _, ok := wbxml.Lookup(tg.space, tg.name); !ok {
				t.Errorf("%s:%s is no WBXML tag", tg.space, tg.name)
			}
		}
	}
	for _, tg := range []tag{{wbxml.NSSettings, "DevicePassword"}, {wbxml.NSSettings, "Password"}, {wbxml.NSItemOperations, "Password"}, {wbxml.NSSearch, "Password"}} {
		if _, _, ok := wbxml.Lookup(tg.space, tg.name); !ok || !secretNames[tg.name] {
			t.Errorf("%s:%s: lookup %v, secret %v", tg.space, tg.name, ok, secretNames[tg.name])
		}
	}
}

func TestRedactTree(t *testing.T) {
	long := strings.Repeat("abcdefghij", 30) // 300 bytes
	tests := []struct {
		name    string
		in      *wbxml.Element
		preview int
		want    *wbxml.Element
	}{
		{"nil", nil, 10, nil},
		{"body cut",
			wbxml.New(wbxml.NSAirSyncBase, "Body", wbxml.Int(wbxml.NSAirSyncBase, "Type", 1), wbxml.Text(wbxml.NSAirSyncBase, "Data", long)), 10,
			wbxml.New(wbxml.NSAirSyncBase, "Body", wbxml.Int(wbxml.NSAirSyncBase, "Type", 1), wbxml.Text(wbxml.NSAirSyncBase, "Data", "abcdefghij…[290 bytes redacted]"))},
		{"body short kept", wbxml.Text(wbxml.NSAirSyncBase, "Data", "hi"), 10, wbxml.Text(wbxml.NSAirSyncBase, "Data", "hi")},
		{"body preview 0", wbxml.Text(wbxml.NSAirSyncBase, "Data", "hello"), 0, wbxml.Text(wbxml.NSAirSyncBase, "Data", "[5 bytes redacted]")},
		{"body kept with preview < 0", wbxml.Text(wbxml.NSAirSyncBase, "Data", long), -1, wbxml.Text(wbxml.NSAirSyncBase, "Data", long)},
		{"runes not bytes", wbxml.Text(wbxml.NSEmail, "Body", "ééééé"), 2, wbxml.Text(wbxml.NSEmail, "Body", "éé…[6 bytes redacted]")},
		{"mime opaque", wbxml.Opaque(wbxml.NSComposeMail, "Mime", []byte("From: a\r\nTo: b\r\n\r\nsecret body")), 7, wbxml.Text(wbxml.NSComposeMail, "Mime", "From: a…[22 bytes redacted]")},
		{"binary opaque", wbxml.Opaque(wbxml.NSItemOperations, "Data", []byte{0xff, 0, 1, 2, 3, 4}), 3, wbxml.Text(wbxml.NSItemOperations, "Data", "[6 bytes redacted]")},
		{"short opaque id kept", wbxml.Opaque(wbxml.NSEmail2, "ConversationId", []byte{1, 2, 3}), 10, wbxml.Opaque(wbxml.NSEmail2, "ConversationId", []byte{1, 2, 3})},
		{"attachment content removed", wbxml.Text(wbxml.NSAirSyncBase, "Content", "QUJD"), 100, wbxml.Text(wbxml.NSAirSyncBase, "Content", "[4 bytes redacted]")},
		{"picture removed", wbxml.Text(wbxml.NSContacts, "Picture", "/9j/4AAQ"), 100, wbxml.Text(wbxml.NSContacts, "Picture", "[8 bytes redacted]")},
		{"settings password",
			wbxml.New(wbxml.NSSettings, "DevicePassword", wbxml.New(wbxml.NSSettings, "Set", wbxml.Text(wbxml.NSSettings, "Password", "hunter2"))), -1,
			wbxml.Text(wbxml.NSSettings, "DevicePassword", "[redacted]")},
		{"itemoperations password",
			wbxml.New(wbxml.NSItemOperations, "Options", wbxml.Text(wbxml.NSItemOperations, "UserName", "bob"), wbxml.Text(wbxml.NSItemOperations, "Password", "hunter2")), -1,
			wbxml.New(wbxml.NSItemOperations, "Options", wbxml.Text(wbxml.NSItemOperations, "UserName", "bob"), wbxml.Text(wbxml.NSItemOperations, "Password", "[redacted]"))},
		{"policy flags kept",
			wbxml.Int(wbxml.NSProvision, "DevicePasswordEnabled", 1), 0, wbxml.Int(wbxml.NSProvision, "DevicePasswordEnabled", 1)},
		{"subject kept", wbxml.Text(wbxml.NSEmail, "Subject", long), 10, wbxml.Text(wbxml.NSEmail, "Subject", long)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := wbxml.XMLString(tt.in)
			got := RedactTree(tt.in, tt.preview)
			if !wbxml.Equal(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", wbxml.XMLString(got), wbxml.XMLString(tt.want))
			}
			if tt.in != nil && wbxml.XMLString(tt.in) != before {
				t.Error("input modified")
			}
			if tt.in != nil && got == tt.in {
				t.Error("not a copy")
			}
		})
	}
}

func TestRedactTreeCopiesOpaque(t *testing.T) {
	data := []byte{1, 2}
	got := RedactTree(wbxml.Opaque(wbxml.NSEmail2, "ConversationId", data), 10)
	data[0] = 9
	if got.Opaque[0] != 1 {
		t.Error("opaque bytes shared with the input")
	}
}

// TestNoSecretsInLog follows a request carrying a password in every place
// it can appear through the redaction helpers, the bus, WriteTo and the
// file sink, and checks that neither the password nor the Basic
// credentials show up.
func TestNoSecretsInLog(t *testing.T) {
	const user, password = "bob@example.org", "Tr0ub4dor&3-hunter2"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))

	reqHeaders := http.Header{}
	reqHeaders.Set("Authorization", "Basic "+basic)
	reqHeaders.Set("Cookie", "session="+basic)
	reqHeaders.Set("X-MS-PolicyKey", "3942919513")
	request := wbxml.New(wbxml.NSSettings, "Settings",
		wbxml.New(wbxml.NSSettings, "DevicePassword",
			wbxml.New(wbxml.NSSettings, "Set", wbxml.Text(wbxml.NSSettings, "Password", password))),
		wbxml.New(wbxml.NSSettings, "UserInformation", wbxml.Empty(wbxml.NSSettings, "Get")))
	fetch := wbxml.New(wbxml.NSItemOperations, "ItemOperations",
		wbxml.New(wbxml.NSItemOperations, "Fetch",
			wbxml.New(wbxml.NSItemOperations, "Options",
				wbxml.Text(wbxml.NSItemOperations, "UserName", user),
				wbxml.Text(wbxml.NSItemOperations, "Password", password))))
	mail := wbxml.New(wbxml.NSComposeMail, "SendMail",
		wbxml.Opaque(wbxml.NSComposeMail, "Mime", []byte("Subject: hi\r\n\r\n"+strings.Repeat("x", 300)+"my password is "+password)))

	b := New(10)
	for _, req := range []*wbxml.Element{request, fetch, mail} {
		b.Publish(Exchange{
			Remote: "192.0.2.1:1234", User: user, DeviceID: "D1", Command: "Settings",
			HTTPStatus: 200, RequestHeaders: RedactHeaders(reqHeaders),
			RequestXML:  wbxml.XMLString(RedactTree(req, 100)),
			ResponseXML: "(empty)",
		})
	}
	// A caller that forgot RedactHeaders is covered by Publish.
	b.Publish(Exchange{RequestHeaders: reqHeaders.Clone(), RequestXML: wbxml.XMLString(RedactTree(request, -1))})
	// And by WriteTo for exchanges that never went through a Bus.
	direct := Exchange{RequestHeaders: reqHeaders.Clone()}

	path := filepath.Join(t.TempDir(), "x.log")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- FileSink(ctx, b, path) }()
	waitFor(t, func() bool { return b.subscribers() == 1 })
	for _, e := range b.Recent(0) {
		b.Publish(e) // replay through the sink
	}
	waitFor(t, func() bool {
		data, _ := os.ReadFile(path)
		return strings.Count(string(data), "=== #") == 4
	})
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	for _, e := range b.Recent(0) {
		if err := WriteTo(&out, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteTo(&out, direct); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"WriteTo": out.String(), "FileSink": string(file)} {
		for _, secret := range []string{password, basic, "hunter2"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s output contains %q:\n%s", name, secret, text)
			}
		}
		for _, kept := range []string{"Authorization: Basic [redacted]", "X-Ms-Policykey: 3942919513", "<UserName>" + user + "</UserName>", "Subject: hi"} {
			if !strings.Contains(text, kept) {
				t.Errorf("%s output lacks %q", name, kept)
			}
		}
	}
	if t.Failed() {
		t.Logf("WriteTo output:\n%s", out.String())
	}
}
