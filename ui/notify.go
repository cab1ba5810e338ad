package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"

	"easbridge/app"
)

// DeviceEventSource delivers the device events of app.Runtime: a device
// waiting for approval, one blocked by a rule, a wipe acknowledged.
// RuntimeSource is one; without it the window only polls.
type DeviceEventSource interface {
	DeviceEvents(ctx context.Context, buf int) <-chan app.DeviceEvent
}

// watchDevices turns device events into desktop notifications (shown by
// the tray's notification area) and refreshes the window at once, until
// ctx ends. do runs its argument on the UI goroutine (fyne.Do).
func watchDevices(ctx context.Context, a fyne.App, src Source, w *Window, do func(func())) {
	es, ok := src.(DeviceEventSource)
	if !ok {
		return
	}
	for e := range es.DeviceEvents(ctx, 16) {
		n := deviceNotification(e)
		do(func() {
			if n != nil {
				a.SendNotification(n)
			}
			w.Refresh()
		})
	}
}

// deviceNotification says what a device event means to the user; nil for
// events that need no notification.
func deviceNotification(e app.DeviceEvent) *fyne.Notification {
	d := e.Device
	name := d.Model
	if name == "" {
		name = d.Type
	}
	switch e.Kind {
	case app.DeviceWaiting:
		return fyne.NewNotification("A new device waits for approval",
			fmt.Sprintf("%s (%s) of %s. Approve or block it in the Devices tab.", d.ID, name, d.User))
	case app.DeviceBlockedByRule:
		return fyne.NewNotification("A device was blocked",
			fmt.Sprintf("%s (%s) of %s was blocked by %s.", d.ID, name, d.User, d.AccessBy))
	case app.DeviceWipeAcknowledged:
		return fyne.NewNotification("A device confirmed its wipe",
			fmt.Sprintf("%s (%s) of %s acknowledged the %s.", d.ID, name, d.User, d.Wipe))
	}
	return nil
}
