package mailconv

import (
	"strconv"
	"strings"
	"testing"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// TestMIMETruncation: the MIMETruncation option (MS-ASCMD 2.2.3.111) as
// the server maps it limits Type 4 bodies without a TruncationSize; code
// 0 (-1 here) sends a MIME body without data, and fetches no raw message.
func TestMIMETruncation(t *testing.T) {
	text := "From: bob@example.com\nTo: alice@example.com\nSubject: big\nContent-Type: text/plain\n\n" +
		strings.Repeat("0123456789abcdef\n", 400)
	full := rawMessage(t, text)
	size := strconv.Itoa(len(full.Raw))
	mime := server.BodyPreference{Type: 4}
	plain := server.BodyPreference{Type: 1}
	tests := []struct {
		name     string
		prefs    []server.BodyPreference
		mimeTrun int
		rawLimit int64
		want     string // Type|Truncated|len(Data) or "-" when no Data|EstimatedDataSize
	}{
		{"code 0: no data", []server.BodyPreference{mime}, -1, 0, "4|1|-|" + size},
		{"code 0 with a text preference too", []server.BodyPreference{plain, mime}, -1, 0, "4|1|-|" + size},
		{"code 1: 4096 octets", []server.BodyPreference{mime}, 4096, 4096, "4|1|4096|" + size},
		{"code 8: all", []server.BodyPreference{mime}, 0, MaxRawLimit, "4||" + size + "|" + size},
		{"TruncationSize wins over code 0", []server.BodyPreference{{Type: 4, TruncationSize: 100}}, -1, 100, "4|1|100|" + size},
		{"AllOrNone skips the empty MIME body", []server.BodyPreference{{Type: 4, AllOrNone: true}, plain}, -1, 0, "1||" + strconv.Itoa(400*18) + "|" + strconv.Itoa(400*18)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(eas.V141, tc.prefs...)
			o.MIMESupport, o.MIMETruncation = 2, tc.mimeTrun
			spec := Spec(o)
			if spec.RawLimit != tc.rawLimit {
				t.Errorf("RawLimit = %d, want %d", spec.RawLimit, tc.rawLimit)
			}
			b := bodyOf(convert(t, ApplyFetchSpec(full, spec), o))
			data := "-"
			if d := b.Child(wbxml.NSAirSyncBase, "Data"); d != nil {
				data = strconv.Itoa(len(d.Text) + len(d.Opaque))
			}
			got := b.ChildText(wbxml.NSAirSyncBase, "Type") + "|" + b.ChildText(wbxml.NSAirSyncBase, "Truncated") + "|" +
				data + "|" + b.ChildText(wbxml.NSAirSyncBase, "EstimatedDataSize")
			if got != tc.want {
				t.Errorf("Body %s, want %s", got, tc.want)
			}
		})
	}
}
