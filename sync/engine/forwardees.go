package engine

import (
	"context"
	"io"

	"github.com/emersion/go-message/mail"

	"easbridge/server"
	"easbridge/server/eas"
)

// SmartForwardTo implements server.ForwardeeSender: a SmartForward whose
// 16.x Forwardees (MS-ASCMD 2.2.3.79) get the message besides the MIME
// recipients, and are its To when the MIME has none. An address that does
// not parse is 116 MessageRecipientUnresolved (MS-ASCMD 2.2.2), and
// nothing is sent.
func (s *session) SmartForwardTo(ctx context.Context, deviceID, clientID string, mime io.Reader, src server.ItemRef, replaceMime, saveInSent bool, forwardees []server.Forwardee) error {
	fw := make([]*mail.Address, 0, len(forwardees))
	for _, f := range forwardees {
		a, err := mail.ParseAddress(f.Email)
		if err != nil {
			return eas.Errorf(eas.StatusMessageRecipientUnresolved, "engine: forwardee %q: %v", f.Email, err)
		}
		fw = append(fw, &mail.Address{Name: f.Name, Address: a.Address})
	}
	return s.smart(ctx, deviceID, clientID, mime, src, replaceMime, saveInSent, true, fw)
}

var _ server.ForwardeeSender = (*session)(nil)
