package mailconv

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"easbridge/server"
	"easbridge/server/eas"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCases convert the messages of testdata/*.eml with realistic client
// options; the XML form (wbxml.ToXML) is compared with
// testdata/<name>.golden.xml. Run `go test -run TestGolden -update` after
// a deliberate change and review the diff.
var goldenCases = []struct {
	name  string // golden file name without .golden.xml
	eml   string
	flags []string
	opts  Options
}{
	{"plain-v121", "plain.eml", []string{`\Seen`},
		Options{Version: eas.V121, BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 5120}}}},
	{"plain-v161", "plain.eml", nil,
		Options{Version: eas.V161, BodyPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 51200, Preview: 255}}}},
	{"alternative-v141-html", "alternative.eml", []string{`\Seen`, "$Category_Kunde=20A", "Work"},
		Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 200000, Preview: 120}}}},
	{"alternative-v141-plain", "alternative.eml", nil,
		Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 60}}}},
	{"attachments-v161", "attachments.eml", []string{`\Flagged`},
		Options{Version: eas.V161, BodyPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 32768}},
			FileReference: func(p []int) string { return "imap:INBOX/42/" + dotted(p) }}},
	{"related-v141", "related.eml", nil,
		Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 2}}, UserAddress: "customer@example.com"}},
	{"latin1-v141", "latin1.eml", nil,
		Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 1}}}},
	{"shiftjis-v161", "shiftjis.eml", nil,
		Options{Version: eas.V161, BodyPrefs: []server.BodyPreference{{Type: 1, Preview: 40}}}},
	{"koi8r-v121", "koi8r.eml", nil,
		Options{Version: eas.V121, BodyPrefs: []server.BodyPreference{{Type: 1}}}},
	{"smime-signed-v141-mime", "smime-signed.eml", nil,
		Options{Version: eas.V141, MIMESupport: 1,
			BodyPrefs: []server.BodyPreference{{Type: 2, TruncationSize: 32768}, {Type: 4, TruncationSize: 100000}}}},
	{"meeting-v161", "meeting.eml", nil,
		Options{Version: eas.V161, BodyPrefs: []server.BodyPreference{{Type: 1, TruncationSize: 1024}}}},
	{"meeting-recurring-v141", "meeting-recurring.eml", nil,
		Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 1}}, UserAddress: "deborah@example.com"}},
	{"meeting-recurring-v161", "meeting-recurring.eml", nil,
		Options{Version: eas.V161, BodyPrefs: []server.BodyPreference{{Type: 1}}, UserAddress: "deborah@example.com"}},
	{"meeting-cancel-v121", "meeting-cancel.eml", nil,
		Options{Version: eas.V121, BodyPrefs: []server.BodyPreference{{Type: 1}}, UserAddress: "deborah@example.com"}},
	{"meeting-reply-v141", "meeting-reply.eml", nil,
		Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 1}}, UserAddress: "jeff@example.com"}},
	{"html-only-v141-plain", "html-only.eml", []string{`\Seen`},
		Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 1, Preview: 100}}}},
	{"reply-v161", "reply.eml", []string{`\Seen`, `\Answered`, `$Forwarded`, `$Completed`, `$label2`, `$MDNSent`},
		Options{Version: eas.V161, BodyPrefs: []server.BodyPreference{{Type: 1}}, UserAddress: "me@example.com"}},
	{"broken-v141", "broken.eml", nil,
		Options{Version: eas.V141, BodyPrefs: []server.BodyPreference{{Type: 1}, {Type: 2}}}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			m := loadEML(t, tc.eml, tc.flags...)
			got := xmlOf(t, convert(t, m, tc.opts))
			path := filepath.Join("testdata", tc.name+".golden.xml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (-update rewrites it):\n%s", tc.name, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n- " + a + "\n+ " + b
		}
	}
	return "(same lines)"
}
