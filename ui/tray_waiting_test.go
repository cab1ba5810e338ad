package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"easbridge/app"
	"easbridge/server/eas"
)

// TestTrayShowsWaitingDevices: a quarantined device shows in the tray's
// status line until it is approved.
func TestTrayShowsWaitingDevices(t *testing.T) {
	phone := eas.Device{User: "ann", ID: "IPHONE1", Type: "iPhone", Access: eas.AccessQuarantined}
	tests := []struct {
		name string
		st   app.Status
		want string
	}{
		{"none waiting", demoStatus(), "Running — 1 device"},
		{"one waiting", func() app.Status {
			st := demoStatus()
			st.Devices = append(st.Devices, phone)
			return st
		}(), "Running — 2 devices, 1 waiting for approval"},
		{"two waiting", func() app.Status {
			st := demoStatus()
			other := phone
			other.ID = "IPHONE2"
			st.Devices = append(st.Devices, phone, other)
			return st
		}(), "Running — 3 devices, 2 waiting for approval"},
		{"stopped", app.Status{Devices: []eas.Device{phone}}, "Stopped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			desk := &fakeDesktop{App: a}
			tr := NewTray(desk, NewWindow(desk, newFakeSource(app.Status{})))
			tr.SetStatus(tc.st)
			if got := menuLabels(desk.menu); len(got) == 0 || got[0] != tc.want {
				t.Errorf("status line = %q, want %q", got, tc.want)
			}
		})
	}
	// Approving the device takes the count away again.
	a := test.NewTempApp(t)
	desk := &fakeDesktop{App: a}
	tr := NewTray(desk, NewWindow(desk, newFakeSource(app.Status{})))
	st := demoStatus()
	st.Devices = append(st.Devices, phone)
	tr.SetStatus(st)
	st.Devices[1].Access = eas.AccessAllowed
	tr.SetStatus(st)
	if got := menuLabels(desk.menu)[0]; got != "Running — 2 devices" {
		t.Errorf("after approval: %q", got)
	}
}
