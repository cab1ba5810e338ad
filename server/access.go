package server

import (
	"context"

	"easbridge/server/eas"
)

// Device access: allow, block, quarantine and wipe.
//
// Implementation notes:
//   - The device record is read at the start of a request and written back
//     at its end through DeviceStore.UpdateDevice, merging only what the
//     request changed (mergeRequest): an administrator's block, approval or
//     wipe made while a request runs is never undone by it.
//   - Options.AccessRules decides for devices no administrator decided on
//     (eas.AccessBy.Decided false), at the start of each request and again
//     at its end (Settings or Provision may have brought the model and OS
//     the rules match on).
//   - A pending wipe goes before blocking and quarantine: a blocked phone is
//     still wiped.

// DeviceEvent is a change of a device's stored access or wipe state made by
// a request, or a device seen for the first time.
type DeviceEvent struct {
	Before, After eas.Device
	// New is set when the request created the device record.
	New bool
}

// quarantineCommands are the commands a quarantined device may run:
// provisioning, Settings (its DeviceInformation carries the model and OS
// the access rules match on) and FolderSync. The folder hierarchy holds no
// mailbox data; everything that reads or changes items, and the folder
// operations, wait for an administrator (eas.StatusDeviceQuarantined).
var quarantineCommands = map[string]bool{
	"Provision":  true,
	"Settings":   true,
	"FolderSync": true,
}

// accessCheck refuses what the device's access and wipe state forbid; see
// the notes above. A pending wipe passes here: policyCheck answers 140 to
// every command but Provision, which answers the wipe.
func (s *Server) accessCheck(rq *request) (eas.Status, bool) {
	d := rq.device
	v161 := rq.version.AtLeast(eas.V161)
	switch {
	case d.Wipe == eas.WipePending, d.Wipe == eas.WipeAccountPending && v161:
		return 0, false
	case d.Wipe == eas.WipeAccountPending, d.Wipe.Wiped():
		// A wiped device cannot sync again until it is forgotten;
		// Provision answers the wipe again (provision.go). An
		// account-only wipe needs 16.1: older clients are shut out.
		if rq.q.Cmd == "Provision" {
			return 0, false
		}
		return eas.StatusAccessDenied, true
	case d.Access == eas.AccessBlocked:
		// MS-ASCMD 2.2.2: 129 on every command, Provision included.
		return eas.StatusDeviceIsBlockedForThisUser, true
	case d.Access == eas.AccessQuarantined && !quarantineCommands[rq.q.Cmd]:
		return eas.StatusDeviceQuarantined, true
	}
	return 0, false
}

// decideAccess lets the access rules decide for a device no administrator
// decided on.
func (s *Server) decideAccess(d *eas.Device) {
	if s.opts.AccessRules == nil || d.AccessBy.Decided() {
		return
	}
	d.Access, d.AccessBy = s.opts.AccessRules(*d)
}

// saveDevice stores what the request changed in the device record, merged
// into the record as it is now, and reports access and wipe changes.
func (s *Server) saveDevice(rq *request) {
	s.decideAccess(&rq.device)
	var (
		before eas.Device
		found  bool
	)
	ctx := context.WithoutCancel(rq.ctx)
	after, err := s.opts.Backend.Devices().UpdateDevice(ctx, rq.device.User, rq.device.ID,
		func(cur *eas.Device, ok bool) error {
			before, found = *cur, ok
			mergeRequest(cur, ok, rq.loaded, rq.device)
			return nil
		})
	if err != nil {
		s.log.Error("server: save device", "device", rq.device.ID, "err", err)
		return
	}
	if s.opts.DeviceChanged != nil && (!found || before.Access != after.Access || before.Wipe != after.Wipe) {
		s.opts.DeviceChanged(DeviceEvent{Before: before, After: after, New: !found})
	}
}

// mergeRequest applies to cur, the device as stored now, what the request
// changed: req is the device at the end of the request, loaded the stored
// one it started from (zero for a new device). What the phone says about
// itself and the policy it acknowledged are the request's; the access and
// wipe state are the administrator's, changed by a request only when still
// as the request found them (a rule's decision, a wipe acknowledgement).
func mergeRequest(cur *eas.Device, found bool, loaded, req eas.Device) {
	if !found {
		*cur = req
		return
	}
	cur.Type, cur.UserAgent, cur.ProtocolVersion = req.Type, req.UserAgent, req.ProtocolVersion
	cur.LastSeen, cur.LastCommand = req.LastSeen, req.LastCommand
	take(&cur.Model, loaded.Model, req.Model)
	take(&cur.IMEI, loaded.IMEI, req.IMEI)
	take(&cur.FriendlyName, loaded.FriendlyName, req.FriendlyName)
	take(&cur.OS, loaded.OS, req.OS)
	take(&cur.OSLanguage, loaded.OSLanguage, req.OSLanguage)
	take(&cur.PhoneNumber, loaded.PhoneNumber, req.PhoneNumber)
	take(&cur.MobileOperator, loaded.MobileOperator, req.MobileOperator)
	take(&cur.PolicyHash, loaded.PolicyHash, req.PolicyHash)
	take(&cur.PolicyKey, loaded.PolicyKey, req.PolicyKey)
	take(&cur.PendingPolicyKey, loaded.PendingPolicyKey, req.PendingPolicyKey)
	if cur.FirstSeen.IsZero() {
		cur.FirstSeen = req.FirstSeen
	}
	if (req.Access != loaded.Access || req.AccessBy != loaded.AccessBy) &&
		cur.Access == loaded.Access && cur.AccessBy == loaded.AccessBy && !cur.AccessBy.Decided() {
		cur.Access, cur.AccessBy = req.Access, req.AccessBy
	}
	if req.Wipe != loaded.Wipe && cur.Wipe == loaded.Wipe {
		cur.Wipe, cur.WipeAcknowledged = req.Wipe, req.WipeAcknowledged
	}
}

// take sets *dst to req when the request changed the value.
func take[T comparable](dst *T, loaded, req T) {
	if req != loaded {
		*dst = req
	}
}
