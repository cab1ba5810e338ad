package imapsource

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// cmdCounter records the commands an Account sends (Config.OnCommand).
type cmdCounter struct {
	mu    sync.Mutex
	names []string
}

func (c *cmdCounter) add(name string) {
	c.mu.Lock()
	c.names = append(c.names, name)
	c.mu.Unlock()
}

// take returns the commands recorded since the last take.
func (c *cmdCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.names
	c.names = nil
	return n
}

func TestLiteralSuffix(t *testing.T) {
	for _, tc := range []struct {
		line string
		n    int64
		ok   bool
	}{
		{"* 1 FETCH (BODY[] {123}\r\n", 123, true},
		{"T1 LOGIN a {5+}\r\n", 5, true},
		{"* 1 FETCH (BINARY[1] ~{7}\r\n", 7, true},
		{"* 1 FETCH (BODY[] {0}\r\n", 0, true},
		{"* OK {no}\r\n", 0, false},
		{"* OK done\r\n", 0, false},
		{"* OK }\r\n", 0, false},
		{"* OK {-1}\r\n", 0, false},
		{"{12}", 12, true},
	} {
		n, ok := literalSuffix([]byte(tc.line))
		if n != tc.n || ok != tc.ok {
			t.Errorf("literalSuffix(%q) = %d, %v; want %d, %v", tc.line, n, ok, tc.n, tc.ok)
		}
	}
}

func TestCmdScanner(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"simple", []string{"T1 NOOP\r\n", "T2 uid fetch 1:* (FLAGS)\r\n"}, []string{"NOOP", "UID FETCH"}},
		{"split writes", []string{"T1 SEL", "ECT INBOX\r", "\nT2 NOOP\r\n"}, []string{"SELECT", "NOOP"}},
		{
			"literal content is not a command",
			[]string{"T1 APPEND INBOX {24}\r\n", "T9 LOGIN x y\r\nT8 NOOP\r\n", "\r\nT2 NOOP\r\n"},
			[]string{"APPEND", "NOOP"},
		},
		{"literal plus", []string{"T1 LOGIN alice {3+}\r\npw!\r\nT2 CAPABILITY\r\n"}, []string{"LOGIN", "CAPABILITY"}},
		{"authenticate continuation", []string{"T1 AUTHENTICATE PLAIN\r\n", "AGFsaWNlAGFsaWNlcHc=\r\n", "T2 LIST \"\" *\r\n"}, []string{"AUTHENTICATE", "LIST"}},
		{"idle done", []string{"T1 IDLE\r\n", "DONE\r\n"}, []string{"IDLE"}},
		{"long line", []string{"T1 UID FETCH " + strings.Repeat("1,", 5000) + "2 (FLAGS)\r\n", "T2 NOOP\r\n"}, []string{"UID FETCH", "NOOP"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s cmdScanner
			var got []string
			for _, c := range tc.chunks {
				s.feed([]byte(c), func(n string) { got = append(got, n) })
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseVanished(t *testing.T) {
	for _, tc := range []struct {
		rest  string
		limit uint32
		want  []uint32
		bad   bool
	}{
		{"(EARLIER) 41,43:45,50\r\n", 0, []uint32{41, 43, 44, 45, 50}, false},
		{"2,4\r\n", 0, []uint32{2, 4}, false},
		{"(EARLIER) 5:3", 0, []uint32{3, 4, 5}, false},
		{"(EARLIER) 1:4294967295", 4, []uint32{1, 2, 3}, false},
		{"9:12", 10, []uint32{9}, false},
		{"(EARLIER) x", 0, nil, true},
		{"(EARLIER 1", 0, nil, true},
		{"0", 0, nil, true},
		{"1:4294967295", 0, nil, true}, // too many without a limit
	} {
		got, err := parseVanished([]byte(tc.rest), tc.limit)
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("parseVanished(%q, %d) = %v, %v; want %v (error %v)", tc.rest, tc.limit, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseFetch(t *testing.T) {
	fa, err := parseFetch([]byte(`(UID 34 FLAGS (\Seen $Forwarded Work) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 MODSEQ (12121231000) BODY[1] {5}` + "\r\nhello X-GM-LABELS (\"a b\" NIL))\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(1996, 7, 17, 9, 44, 25, 0, time.UTC)
	if fa.uid != 34 || !slices.Equal(fa.flags, []string{`\Seen`, "$Forwarded", "Work"}) || fa.modSeq != 12121231000 ||
		!fa.internalDate.Equal(want) || fa.size != 4286 || !fa.hasDate || !fa.hasFlags || !fa.hasSize {
		t.Errorf("parsed %+v", fa)
	}
	fa, err = parseFetch([]byte("(FLAGS () UID 7)\r\n"))
	if err != nil || fa.uid != 7 || !fa.hasFlags || len(fa.flags) != 0 || fa.hasDate {
		t.Errorf("parsed %+v, %v", fa, err)
	}
	for _, bad := range []string{"(UID)", "(UID x)", "(MODSEQ 5)", `(INTERNALDATE "yesterday")`, "(UID 1", "(BODY[1] {9}\r\nab)"} {
		if _, err := parseFetch([]byte(bad)); !errors.Is(err, errSyntax) {
			t.Errorf("parseFetch(%q): %v", bad, err)
		}
	}
}

func TestParseTagged(t *testing.T) {
	if err := parseTagged([]byte("Q1 OK [HIGHESTMODSEQ 7] done\r\n")); err != nil {
		t.Error(err)
	}
	var ie *imap.Error
	err := parseTagged([]byte("Q1 NO [NONEXISTENT] no such mailbox\r\n"))
	if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeNonExistent || ie.Type != imap.StatusResponseTypeNo || ie.Text != "no such mailbox" {
		t.Errorf("NO: %#v", err)
	}
	if err := parseTagged([]byte("Q1 BAD\r\n")); !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeBad {
		t.Errorf("BAD: %v", err)
	}
	if err := parseTagged([]byte("Q1 MAYBE\r\n")); !errors.Is(err, errSyntax) {
		t.Errorf("MAYBE: %v", err)
	}
}

// fakeServer answers each command line with a scripted reply.
type fakeServer struct {
	t       *testing.T
	conn    net.Conn
	br      *bufio.Reader
	replies map[string]string // command (after the tag) -> reply; %TAG% is replaced
}

func (s *fakeServer) serve() {
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		reply, ok := s.replies[cmd]
		if !ok {
			reply = "%TAG% BAD unknown\r\n"
		}
		if _, err := io.WriteString(s.conn, strings.ReplaceAll(reply, "%TAG%", tag)); err != nil {
			return
		}
	}
}

// The wire passes literals through untouched (even when they look like
// responses), drops unilateral VANISHED, and diverts raw commands.
func TestWireRouting(t *testing.T) {
	client, server := net.Pipe()
	literal := "Subject: x\r\n\r\n* VANISHED 1\r\nT1 OK fake\r\n{3}\r\n"
	fs := &fakeServer{t: t, conn: server, br: bufio.NewReader(server), replies: map[string]string{
		"UID FETCH 1 (UID BODY.PEEK[])": "* 1 FETCH (UID 1 BODY[] {" + strconv.Itoa(len(literal)) + "}\r\n" + literal + ")\r\n" +
			"* VANISHED 7\r\n* VANISHED (EARLIER) 8\r\n%TAG% OK done\r\n",
		"UID FETCH 1:9 (UID FLAGS MODSEQ) (CHANGEDSINCE 3 VANISHED)": "* VANISHED (EARLIER) 3:5\r\n" +
			"* 2 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (12))\r\n* 3 EXISTS\r\n%TAG% OK [HIGHESTMODSEQ 12] done\r\n",
		"NOOP":            "* 4 EXISTS\r\n* VANISHED 2\r\n%TAG% OK noop\r\n",
		"ENABLE QRESYNC":  "%TAG% NO [CANNOT] not today\r\n",
		"UID FETCH 2 (X)": "* 1 FETCH (UID 2 X {2}\r\nab)\r\n%TAG% OK\r\n",
	}}
	go func() {
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1] hi\r\n")
		fs.serve()
	}()
	var cc cmdCounter
	w := newWire(client, "", cc.add)
	c := imapclient.New(w, nil)
	defer c.Close()
	if err := c.WaitGreeting(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.UIDSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %v, %d messages", err, len(msgs))
	}
	if got := string(msgs[0].FindBodySection(&imap.FetchItemBodySection{})); got != literal {
		t.Errorf("literal %q, want %q", got, literal)
	}

	ctx := ctxT(t)
	var resps []string
	err = w.exchange(ctx, "Q1", "UID FETCH 1:9 (UID FLAGS MODSEQ) (CHANGEDSINCE 3 VANISHED)", func(resp []byte) error {
		resps = append(resps, string(resp))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"* VANISHED (EARLIER) 3:5\r\n", "* 2 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (12))\r\n", "* 3 EXISTS\r\n"}
	if !slices.Equal(resps, want) {
		t.Errorf("raw responses %q, want %q", resps, want)
	}
	// imapclient carries on, and a unilateral VANISHED does not kill it.
	if err := c.Noop().Wait(); err != nil {
		t.Fatalf("NOOP after raw: %v", err)
	}
	var ie *imap.Error
	if err := w.exchange(ctx, "Q2", "ENABLE QRESYNC", func([]byte) error { return nil }); !errors.As(err, &ie) || ie.Code != imap.ResponseCodeCannot {
		t.Errorf("raw NO: %v", err)
	}
	// A literal in a diverted response arrives inline.
	resps = nil
	if err := w.exchange(ctx, "Q3", "UID FETCH 2 (X)", func(resp []byte) error {
		resps = append(resps, string(resp))
		return nil
	}); err != nil || len(resps) != 1 || resps[0] != "* 1 FETCH (UID 2 X {2}\r\nab)\r\n" {
		t.Errorf("raw literal: %q, %v", resps, err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatalf("NOOP: %v", err)
	}
	if got, want := cc.take(), []string{"UID FETCH", "UID FETCH", "NOOP", "ENABLE", "UID FETCH", "NOOP"}; !slices.Equal(got, want) {
		t.Errorf("commands %q, want %q", got, want)
	}

	// The connection failing under a raw command ends it.
	server.Close()
	err = w.exchange(context.Background(), "Q4", "NOOP", func([]byte) error { return nil })
	if err == nil {
		t.Error("raw command on a dead connection: no error")
	}
}
