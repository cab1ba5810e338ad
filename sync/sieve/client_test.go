package sieve

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// dovecotGreeting is what Pigeonhole's managesieve says first (shortened).
const dovecotGreeting = `"IMPLEMENTATION" "Dovecot Pigeonhole"` + "\r\n" +
	`"SIEVE" "fileinto reject envelope vacation include date relational variables"` + "\r\n" +
	`"NOTIFY" "mailto"` + "\r\n" +
	`"SASL" "PLAIN LOGIN"` + "\r\n" +
	`"VERSION" "1.0"` + "\r\n" +
	`OK "Dovecot ready."` + "\r\n"

// step is one exchange of a scripted server: the exact bytes the client
// must send, then the server's reply.
type step struct{ want, reply string }

// scripted returns the client end of a pipe whose server end sends
// greeting and then plays steps, failing t on any difference.
func scripted(t *testing.T, greeting string, steps []step) net.Conn {
	t.Helper()
	cli, srv := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer srv.Close()
		_ = srv.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(srv, greeting); err != nil {
			t.Errorf("server: greeting: %v", err)
			return
		}
		r := bufio.NewReader(srv)
		for i, s := range steps {
			got := make([]byte, len(s.want))
			if _, err := io.ReadFull(r, got); err != nil {
				t.Errorf("server: step %d: read: %v", i, err)
				return
			}
			if string(got) != s.want {
				t.Errorf("server: step %d: client sent %q, want %q", i, got, s.want)
				return
			}
			if _, err := io.WriteString(srv, s.reply); err != nil {
				t.Errorf("server: step %d: write: %v", i, err)
				return
			}
		}
	}()
	t.Cleanup(func() {
		cli.Close()
		<-done
	})
	return cli
}

func TestGreetingCapabilities(t *testing.T) {
	c, err := NewClient(scripted(t, dovecotGreeting, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	caps := c.Capabilities()
	if caps.Implementation != "Dovecot Pigeonhole" || caps.Version != "1.0" || caps.StartTLS {
		t.Errorf("caps = %+v", caps)
	}
	if !caps.HasExtension("vacation") || !caps.HasExtension("INCLUDE") || caps.HasExtension("editheader") {
		t.Errorf("extensions = %v", caps.Sieve)
	}
	if strings.Join(caps.SASL, ",") != "PLAIN,LOGIN" {
		t.Errorf("SASL = %v", caps.SASL)
	}
}

func TestGreetingRefused(t *testing.T) {
	_, err := NewClient(scripted(t, `BYE (TRYLATER) "Too many connections"`+"\r\n", nil), Options{})
	var e *Error
	if !errors.As(err, &e) || e.Resp.Code != "TRYLATER" || e.Resp.Text != "Too many connections" {
		t.Fatalf("err = %v", err)
	}
}

func TestCommands(t *testing.T) {
	script := "require \"fileinto\";\r\nfileinto \"Lists\";\r\n"
	for _, tc := range []struct {
		name  string
		steps []step
		run   func(c *Client) (string, error)
		want  string
		err   string // substring of the error; "" for success
	}{
		{
			name:  "authenticate quoted initial response",
			steps: []step{{`AUTHENTICATE "PLAIN" "AGFsaWNlAHNlY3JldA=="` + "\r\n", "OK \"Logged in.\"\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.AuthenticatePlain("alice", "secret") },
		},
		{
			name:  "authenticate refused",
			steps: []step{{`AUTHENTICATE "PLAIN" "AGFsaWNlAHdyb25n"` + "\r\n", "NO \"Authentication failed.\"\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.AuthenticatePlain("alice", "wrong") },
			err:   `sieve: login as alice: sieve: AUTHENTICATE: NO Authentication failed.`,
		},
		{
			name: "authenticate long initial response as literal",
			steps: []step{{`AUTHENTICATE "PLAIN" {` + "1372+}\r\n" + b64Plain("bob", strings.Repeat("p", 1024)) + "\r\n",
				"OK\r\n"}},
			run: func(c *Client) (string, error) { return "", c.AuthenticatePlain("bob", strings.Repeat("p", 1024)) },
		},
		{
			name: "listscripts",
			steps: []step{{"LISTSCRIPTS\r\n",
				"\"summer\"\r\n\"main\" ACTIVE\r\n{7}\r\nodd\"one\r\nOK \"Listscripts completed.\"\r\n"}},
			run: func(c *Client) (string, error) {
				l, err := c.ListScripts()
				var parts []string
				for _, s := range l {
					x := s.Name
					if s.Active {
						x += "*"
					}
					parts = append(parts, x)
				}
				return strings.Join(parts, ","), err
			},
			want: `summer,main*,odd"one`,
		},
		{
			name:  "getscript literal",
			steps: []step{{"GETSCRIPT \"main\"\r\n", "{" + itoa(len(script)) + "}\r\n" + script + "\r\nOK \"Getscript completed.\"\r\n"}},
			run:   func(c *Client) (string, error) { return c.GetScript("main") },
			want:  script,
		},
		{
			name:  "getscript nonexistent",
			steps: []step{{"GETSCRIPT \"nope\"\r\n", "NO (NONEXISTENT) \"Script does not exist.\"\r\n"}},
			run:   func(c *Client) (string, error) { return c.GetScript("nope") },
			err:   "sieve: GETSCRIPT: NO (NONEXISTENT) Script does not exist.",
		},
		{
			name:  "putscript literal",
			steps: []step{{"PUTSCRIPT \"main\" {" + itoa(len(script)) + "+}\r\n" + script + "\r\n", "OK (WARNINGS) \"line 2: odd\"\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.PutScript("main", script) },
		},
		{
			name:  "putscript quota",
			steps: []step{{"PUTSCRIPT \"big\" {3+}\r\nabc\r\n", "NO (QUOTA/MAXSIZE) \"Too big.\"\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.PutScript("big", "abc") },
			err:   "(QUOTA/MAXSIZE)",
		},
		{
			name:  "checkscript error text as literal",
			steps: []step{{"CHECKSCRIPT {5+}\r\nfoo;\n\r\n", "NO {27}\r\nline 1: unknown command foo\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.CheckScript("foo;\n") },
			err:   "sieve: CHECKSCRIPT: NO line 1: unknown command foo",
		},
		{
			name:  "setactive escapes",
			steps: []step{{`SETACTIVE "a\"b\\c"` + "\r\n", "OK\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.SetActive(`a"b\c`) },
		},
		{
			name:  "deactivate",
			steps: []step{{"SETACTIVE \"\"\r\n", "OK\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.SetActive("") },
		},
		{
			name:  "deletescript active",
			steps: []step{{"DELETESCRIPT \"main\"\r\n", "NO (ACTIVE) \"You may not delete an active script\"\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.DeleteScript("main") },
			err:   "(ACTIVE)",
		},
		{
			name:  "logout",
			steps: []step{{"LOGOUT\r\n", "OK \"Logout completed.\"\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.Logout() },
		},
		{
			name:  "logout answered with bye",
			steps: []step{{"LOGOUT\r\n", "BYE\r\n"}},
			run:   func(c *Client) (string, error) { return "", c.Logout() },
		},
		{
			name:  "connection dropped",
			steps: []step{{"LISTSCRIPTS\r\n", "\"a\"\r\n"}},
			run:   func(c *Client) (string, error) { _, err := c.ListScripts(); return "", err },
			err:   "connection closed",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(scripted(t, dovecotGreeting, tc.steps), Options{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.run(c)
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("the password is in the error: %v", err)
			}
		})
	}
}

func TestIsCode(t *testing.T) {
	c, err := NewClient(scripted(t, dovecotGreeting, []step{{"GETSCRIPT \"x\"\r\n", "NO (NONEXISTENT) \"no\"\r\n"}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetScript("x")
	if !IsCode(err, "nonexistent") || IsCode(err, "ACTIVE") || IsCode(errors.New("x"), "NONEXISTENT") {
		t.Errorf("IsCode wrong for %v", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ raw, addr, err string }{
		{"sieve://mail.example.com", "mail.example.com:4190", ""},
		{"sieve://127.0.0.1:14190", "127.0.0.1:14190", ""},
		{"imap://mail.example.com", "", "scheme must be"},
		{"sieve://u:pw@mail.example.com", "", "only sieve://host[:port]"},
	} {
		ep, err := ParseURL(tc.raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "pw@") {
				t.Errorf("%s: err = %v, want %q", tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil || ep.Addr != tc.addr {
			t.Errorf("%s: %+v, %v", tc.raw, ep, err)
		}
	}
}

func b64Plain(user, pw string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pw))
}

func itoa(n int) string { return strconv.Itoa(n) }
