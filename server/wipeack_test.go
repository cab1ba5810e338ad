package server

import (
	"context"
	"strconv"
	"testing"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// TestWipeAcknowledgementStatus: the result a device reports in its wipe
// acknowledgement is recorded (MS-ASPROV 3.2.5.1.2.2): success ends the
// pending wipe; failure keeps it pending and is answered with Status 2
// and the directive again.
func TestWipeAcknowledgementStatus(t *testing.T) {
	ns := wbxml.NSProvision
	tests := []struct {
		name       string
		pending    eas.Wipe
		directive  string // RemoteWipe or AccountOnlyRemoteWipe
		result     string // the device's Status
		wantWipe   eas.Wipe
		wantStatus int
		wantAgain  bool // the directive is in the answer
	}{
		{"wipe succeeded", eas.WipePending, "RemoteWipe", "1", eas.WipeAcknowledged, 1, false},
		{"wipe failed", eas.WipePending, "RemoteWipe", "2", eas.WipePending, 2, true},
		{"account wipe succeeded", eas.WipeAccountPending, "AccountOnlyRemoteWipe", "1", eas.WipeAccountAcknowledged, 1, false},
		{"account wipe failed", eas.WipeAccountPending, "AccountOnlyRemoteWipe", "2", eas.WipeAccountPending, 2, true},
		{"no wipe pending", eas.WipeNone, "RemoteWipe", "1", eas.WipeNone, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			c := h.client("16.1", "wipedphone")
			if _, err := c.Provision(context.Background()); err != nil {
				t.Fatal(err)
			}
			h.backend.setDevice("wipedphone", func(d *eas.Device) { d.Wipe = tc.pending })
			r := h.do(c, "Provision", wbxml.New(ns, "Provision", wbxml.New(ns, tc.directive, wbxml.Text(ns, "Status", tc.result))))
			if got := r.Root.ChildText(ns, "Status"); got != strconv.Itoa(tc.wantStatus) {
				t.Errorf("answer Status %q, want %d: %s", got, tc.wantStatus, wbxml.XMLString(r.Root))
			}
			if got := r.Root.Has(ns, tc.directive); got != tc.wantAgain {
				t.Errorf("directive in the answer: %v, want %v: %s", got, tc.wantAgain, wbxml.XMLString(r.Root))
			}
			d := h.backend.device("wipedphone")
			if d.Wipe != tc.wantWipe || d.WipeAcknowledged.IsZero() != !tc.wantWipe.Wiped() {
				t.Errorf("stored %v acknowledged at %v, want %v", d.Wipe, d.WipeAcknowledged, tc.wantWipe)
			}
		})
	}
}
