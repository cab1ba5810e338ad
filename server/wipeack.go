package server

import (
	"strconv"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// wipeAcknowledged answers a device's acknowledgement of a remote wipe
// (ack is its RemoteWipe or AccountOnlyRemoteWipe element) and records its
// result (MS-ASPROV 3.2.5.1.2.2): Status 1, the wipe succeeded, ends the
// pending wipe (pending becomes done, with the time); Status 2, it failed,
// keeps the wipe pending and is answered with Status 2 and the wipe
// directive again. An acknowledgement of no pending wipe changes nothing.
func (s *Server) wipeAcknowledged(rq *request, resp, status, ack *wbxml.Element, pending, done eas.Wipe) *wbxml.Element {
	if rq.device.Wipe != pending {
		return resp
	}
	result := ack.ChildText(wbxml.NSProvision, "Status")
	if result != "2" {
		rq.device.Wipe, rq.device.WipeAcknowledged = done, s.opts.Now()
		s.log.Warn("server: device acknowledged its wipe", "user", rq.device.User, "device", rq.device.ID, "wipe", done.String(), "status", result)
		return resp
	}
	s.log.Error("server: device reports its wipe failed; asking again", "user", rq.device.User, "device", rq.device.ID, "wipe", pending.String())
	// Status 2 is what MS-ASPROV 3.2.5.1.2.2 asks for here (its general
	// meaning is a protocol error).
	status.Text = strconv.Itoa(int(eas.ProvisionStatusProtocolError))
	rq.easStatus = eas.ProvisionStatusProtocolError
	return resp.Add(wbxml.Empty(wbxml.NSProvision, ack.Name))
}
