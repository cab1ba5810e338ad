package server

import (
	"context"
	"io"
	"strings"

	"easbridge/server/wbxml"
)

// Forwardee is one recipient of a 16.x SmartForward given outside the
// MIME message (MS-ASCMD 2.2.3.78 Forwardee: Email required, Name
// optional).
type Forwardee struct {
	Name  string
	Email string
}

// ForwardeeSender is a Sender that also takes the Forwardees of a 16.x
// SmartForward (MS-ASCMD 2.2.3.79): they get the message besides the
// recipients of its MIME, and are its To when the MIME has none. The
// handler finds it by type assertion; without it the Forwardees are
// ignored (logged) and only the MIME recipients get the message.
type ForwardeeSender interface {
	SmartForwardTo(ctx context.Context, deviceID, clientID string, mime io.Reader, src ItemRef, replaceMime, saveInSent bool, forwardees []Forwardee) error
}

// parseForwardees reads a ComposeMail Forwardees element (nil: none). The
// WBXML code page names the children ForwardeeName and ForwardeeEmail
// (MS-ASWBXML 2.1.2.1.22); a Forwardee without an address is left out.
func parseForwardees(e *wbxml.Element) []Forwardee {
	ns := wbxml.NSComposeMail
	var out []Forwardee
	for _, f := range e.All(ns, "Forwardee") {
		email := strings.TrimSpace(f.ChildText(ns, "ForwardeeEmail"))
		if email == "" {
			continue
		}
		out = append(out, Forwardee{Name: strings.TrimSpace(f.ChildText(ns, "ForwardeeName")), Email: email})
	}
	return out
}

// smartForward hands a SmartForward to the Sender, with its Forwardees
// when there are some and the Sender takes them.
func (s *Server) smartForward(rq *request, sender Sender, c composeReq) error {
	if len(c.forwardees) > 0 {
		if fs, ok := sender.(ForwardeeSender); ok {
			return fs.SmartForwardTo(rq.ctx, rq.device.ID, c.clientID, c.mime, c.src, c.replaceMime, c.saveInSent, c.forwardees)
		}
		s.log.Info("server: Forwardees ignored: the backend does not take them", "device", rq.device.ID)
	}
	return sender.SmartForward(rq.ctx, rq.device.ID, c.clientID, c.mime, c.src, c.replaceMime, c.saveInSent)
}
