package smtpsend

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"easbridge/server/eas"
)

// TestPrepareForwardees: SmartForward Forwardees (MS-ASCMD 2.2.3.79) join
// the envelope and fill a missing To field.
func TestPrepareForwardees(t *testing.T) {
	fw := []*mail.Address{{Name: "Bob B", Address: "bob@example.test"}, {Address: "carol@Example.TEST"}}
	tests := []struct {
		name    string
		in      string
		fw      []*mail.Address
		wantTo  string // the To field written, "" for none
		rcpts   []string
		wantErr eas.Status
	}{
		{"no To: forwardees become it", "From: alice@example.test\r\nSubject: Fwd\r\n\r\nx\r\n", fw,
			`"Bob B" <bob@example.test>, <carol@Example.TEST>`, []string{"bob@example.test", "carol@Example.TEST"}, 0},
		{"To kept, forwardees added to the envelope only", "From: alice@example.test\r\nTo: dave@example.test\r\n\r\nx\r\n", fw,
			"dave@example.test", []string{"dave@example.test", "bob@example.test", "carol@Example.TEST"}, 0},
		{"duplicates left out", "From: alice@example.test\r\nTo: carol@example.test\r\nCc: bob@example.test\r\n\r\nx\r\n", fw,
			"carol@example.test", []string{"carol@example.test", "bob@example.test"}, 0},
		{"Cc only: To from forwardees", "From: alice@example.test\r\nCc: erin@example.test\r\n\r\nx\r\n", fw[:1],
			`"Bob B" <bob@example.test>`, []string{"bob@example.test", "erin@example.test"}, 0},
		{"no forwardees, no recipient", "From: alice@example.test\r\n\r\nx\r\n", nil, "", nil, eas.StatusMessageHasNoRecipient},
		{"empty forwardee address ignored", "From: alice@example.test\r\nTo: dave@example.test\r\n\r\nx\r\n", []*mail.Address{{Name: "x"}},
			"dave@example.test", []string{"dave@example.test"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, rcpts, err := PrepareOutgoing(strings.NewReader(tc.in), &out, PrepareOptions{Forwardees: tc.fw, Rand: zeroRand{}})
			if tc.wantErr != 0 {
				if st, _ := eas.StatusOf(err); st != tc.wantErr {
					t.Fatalf("err %v, want status %d", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rcpts, tc.rcpts) {
				t.Errorf("rcpts %q, want %q", rcpts, tc.rcpts)
			}
			to := ""
			for _, line := range strings.Split(out.String(), "\r\n") {
				if v, ok := strings.CutPrefix(line, "To: "); ok {
					to = v
				}
			}
			if to != tc.wantTo {
				t.Errorf("To %q, want %q\n%s", to, tc.wantTo, out.String())
			}
		})
	}
}
