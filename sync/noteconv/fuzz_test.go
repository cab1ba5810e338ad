package noteconv

import (
	"testing"
	"time"

	"easbridge/sync/calconv"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte("Subject: x\r\nContent-Type: text/html\r\n\r\n<p>y</p>\r\n"))
	f.Add([]byte("Subject: =?utf-8?q?a?=\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\r\nz\r\n--b--\r\n"))
	f.Add(Note{Subject: "s", Text: "t", Categories: []string{"c"}}.Message("a@b"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		n, err := Parse(raw, time.Unix(0, 0))
		if err != nil {
			return
		}
		if _, err := ToEAS(n, calconv.Options{}); err != nil {
			t.Fatalf("ToEAS of a parsed note: %v", err)
		}
		again, err := Parse(n.Message("a@b"), time.Unix(0, 0))
		if err != nil {
			t.Fatalf("own message does not parse: %v", err)
		}
		if again.Subject != n.Subject {
			t.Fatalf("subject %q became %q", n.Subject, again.Subject)
		}
	})
}
