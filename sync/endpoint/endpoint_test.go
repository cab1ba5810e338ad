package endpoint

import (
	"strings"
	"testing"
)

var imapSchemes = []Scheme{{Name: "imap", Port: "143"}, {Name: "imaps", Port: "993", ImplicitTLS: true}}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want Endpoint
		err  string
	}{
		{raw: "imap://mail.example.com", want: Endpoint{Host: "mail.example.com", Addr: "mail.example.com:143"}},
		{raw: " IMAPS://mail.example.com:1993/ ", want: Endpoint{Host: "mail.example.com", Addr: "mail.example.com:1993", ImplicitTLS: true}},
		{raw: "imap://127.0.0.1:10143", want: Endpoint{Host: "127.0.0.1", Addr: "127.0.0.1:10143", Loopback: true}},
		{raw: "imap://[::1]", want: Endpoint{Host: "::1", Addr: "[::1]:143", Loopback: true}},
		{raw: "pop3://x", err: "scheme must be imap or imaps"},
		{raw: "imap://user:pw@x", err: "only imap://host[:port]"},
		{raw: "imap://x/INBOX", err: "only imap://host[:port]"},
		{raw: "imap://:143", err: "no host"},
		{raw: "imap://x:0", err: "bad port"},
		{raw: "imap://x:99999", err: "bad port"},
	} {
		got, err := Parse(tc.raw, imapSchemes)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.raw, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), ":pw@") {
				t.Errorf("%q: the password is in the error: %v", tc.raw, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.raw, got, err, tc.want)
		}
	}
	if IsLoopback("127.0.0.2") != true || IsLoopback("example.com") || !IsLoopback("LOCALHOST") {
		t.Error("IsLoopback")
	}
}
