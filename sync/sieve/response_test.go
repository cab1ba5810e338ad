package sieve

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		lines int
		want  Response
		err   bool
	}{
		{name: "bare ok", in: "OK\r\n", want: Response{Status: "OK"}},
		{name: "lower case", in: "ok \"fine\"\r\n", want: Response{Status: "OK", Text: "fine"}},
		{name: "code only", in: "NO (NONEXISTENT)\r\n", want: Response{Status: "NO", Code: "NONEXISTENT"}},
		{name: "code with args", in: "OK (SASL \"AAAA\") \"done\"\r\n", want: Response{Status: "OK", Code: "SASL", Args: []string{"AAAA"}, Text: "done"}},
		{name: "hierarchical code", in: "NO (QUOTA/MAXSCRIPTS) \"full\"\r\n", want: Response{Status: "NO", Code: "QUOTA/MAXSCRIPTS", Text: "full"}},
		{name: "bye", in: "BYE (REFERRAL \"sieve://other\") \"moved\"\r\n", want: Response{Status: "BYE", Code: "REFERRAL", Args: []string{"sieve://other"}, Text: "moved"}},
		{name: "text literal", in: "NO {5}\r\na\r\nbc\r\n", want: Response{Status: "NO", Text: "a\r\nbc"}},
		{name: "data lines", in: "\"a\"\r\n\"b\" ACTIVE\r\nOK\r\n", lines: 2, want: Response{Status: "OK"}},
		{name: "bare lf", in: "\"a\"\nOK\n", lines: 1, want: Response{Status: "OK"}},
		{name: "escapes", in: "OK \"say \\\"hi\\\" \\\\o/\"\r\n", want: Response{Status: "OK", Text: `say "hi" \o/`}},
		{name: "bad escape", in: "OK \"\\n\"\r\n", err: true},
		{name: "eof", in: "\"a\"\r\n", err: true},
		{name: "unterminated code", in: "NO (TRYLATER\r\n", err: true},
		{name: "empty code", in: "NO () \"x\"\r\n", err: true},
		{name: "two texts", in: "OK \"a\" \"b\"\r\n", err: true},
		{name: "huge literal", in: "{999999999}\r\n", err: true},
		{name: "short literal", in: "{10}\r\nabc", err: true},
		{name: "literal without crlf", in: "{1}xa\r\nOK\r\n", err: true},
		{name: "cr alone", in: "OK\rX", err: true},
		{name: "control byte", in: "\x01\r\n", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, resp, err := readResponse(bufio.NewReader(strings.NewReader(tc.in)))
			if tc.err {
				if err == nil {
					t.Fatalf("no error; resp %+v", resp)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != tc.lines || !reflect.DeepEqual(resp, tc.want) {
				t.Fatalf("lines %d resp %+v, want %d %+v", len(lines), resp, tc.lines, tc.want)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"main":       `"main"`,
		`a"b\`:       `"a\"b\\"`,
		"two\nlines": "{9+}\r\ntwo\nlines",
		"":           `""`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %q, want %q", in, got, want)
		}
		// What we quote, the parser reads back.
		if !strings.HasPrefix(want, "{") {
			_, resp, err := readResponse(bufio.NewReader(strings.NewReader("OK " + quote(in) + "\r\n")))
			if err != nil || resp.Text != in {
				t.Errorf("round trip of %q: %+v %v", in, resp, err)
			}
		}
	}
}

// FuzzReadResponse feeds arbitrary server bytes to the response parser: it
// must return (never panic or hang), and a success must be a valid final
// status.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		dovecotGreeting,
		"OK (SASL \"AAAA\") \"done\"\r\n",
		"{5}\r\nabcde\r\nOK\r\n",
		"\"a\" ACTIVE\r\n\"b\"\r\nNO (NONEXISTENT) {3}\r\nabc\r\n",
		"BYE\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, resp, err := readResponse(bufio.NewReader(strings.NewReader(string(b))))
		if err != nil {
			if !errors.Is(err, errProtocol) && !strings.Contains(err.Error(), "connection closed") {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		switch resp.Status {
		case "OK", "NO", "BYE":
		default:
			t.Fatalf("status %q", resp.Status)
		}
		if len(lines) > 100000 {
			t.Fatalf("%d lines", len(lines))
		}
	})
}
