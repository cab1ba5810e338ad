package server

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// SendMail, SmartReply and SmartForward: MS-ASCMD 2.2.1.17, 2.2.1.20,
// 2.2.1.19.
//
// Two request forms:
//   - 14.0 and later: a ComposeMail WBXML body with ClientId,
//     SaveInSentItems (empty element), ReplaceMime (Smart* only), Mime
//     (OPAQUE or a string) and, for Smart*, Source (FolderId and ItemId,
//     or LongId; InstanceId for an occurrence).
//   - 12.1: the body is the MIME message itself (Content-Type:
//     message/rfc822); SaveInSent=T, ItemId, CollectionId, LongId and
//     Occurrence come in the query.
//
// Success is an empty HTTP 200. A failure is the command's root with a
// common Status (2.2.3.177.14, .16) for 14.0+, an HTTP status for 12.1,
// whose clients know no ComposeMail status.
//
// The message is read into memory by the pipeline (the request limit of
// Options.MaxRequestBytes, 32 MiB by default) and handed to the Sender as an
// io.Reader; streaming the 12.1 body straight from the connection would
// need the pipeline to stop reading bodies up front.

func (s *Server) cmdSendMail(rq *request) (*wbxml.Element, error) {
	return s.compose(rq, "SendMail")
}

func (s *Server) cmdSmartReply(rq *request) (*wbxml.Element, error) {
	return s.compose(rq, "SmartReply")
}

func (s *Server) cmdSmartForward(rq *request) (*wbxml.Element, error) {
	return s.compose(rq, "SmartForward")
}

// composeBodyIsMIME is the rawBody test of the three commands: the body is
// a MIME message when the client says message/rfc822, or when a 12.1
// client sends anything but WBXML.
func composeBodyIsMIME(rq *request) bool {
	mt, _, _ := mime.ParseMediaType(rq.http.Header.Get("Content-Type"))
	switch {
	case strings.EqualFold(mt, "message/rfc822"):
		return true
	case strings.Contains(strings.ToLower(mt), "wbxml"):
		return false
	}
	return !rq.version.AtLeast(eas.V140)
}

// composeReq is a compose request in either form.
type composeReq struct {
	clientID    string
	mime        io.Reader
	saveInSent  bool
	replaceMime bool
	src         ItemRef
	forwardees  []Forwardee // 16.x SmartForward only
}

func (s *Server) compose(rq *request, cmd string) (*wbxml.Element, error) {
	sender, ok := rq.session.(Sender)
	if !ok {
		return s.notSupported(rq, wbxml.NSComposeMail, cmd)
	}
	smart := cmd != "SendMail"
	var (
		c  composeReq
		st eas.Status
	)
	if rq.body == nil {
		c, st = composeFromQuery(rq, smart)
	} else {
		c, st = s.composeFromWBXML(rq, cmd, smart)
	}
	if st == 0 {
		var err error
		switch cmd {
		case "SendMail":
			err = sender.SendMail(rq.ctx, rq.device.ID, c.clientID, c.mime, c.saveInSent)
		case "SmartReply":
			err = sender.SmartReply(rq.ctx, rq.device.ID, c.clientID, c.mime, c.src, c.replaceMime, c.saveInSent)
		default:
			err = s.smartForward(rq, sender, c)
		}
		if err == nil {
			rq.easStatus = 1
			return nil, nil
		}
		st = s.composeErrStatus(rq, cmd, err)
	}
	rq.easStatus = st
	if !rq.version.AtLeast(eas.V140) {
		return nil, composeHTTPError(st)
	}
	return wbxml.New(wbxml.NSComposeMail, cmd, wbxml.Int(wbxml.NSComposeMail, "Status", int(st))), nil
}

// composeFromQuery reads the 12.1 form: the raw MIME body and the query
// parameters (MS-ASHTTP 2.2.1.1.1.2.5).
func composeFromQuery(rq *request, smart bool) (composeReq, eas.Status) {
	p := rq.q.Params
	c := composeReq{
		mime:       bytes.NewReader(rq.raw),
		saveInSent: strings.EqualFold(p["SaveInSent"], "T"),
		// 12.1 has no ReplaceMime: the server always adds the original.
		src: ItemRef{CollectionID: p["CollectionId"], ServerID: p["ItemId"], LongID: p["LongId"], InstanceID: p["Occurrence"]},
	}
	if len(rq.raw) == 0 {
		return c, eas.StatusInvalidMIME
	}
	if smart {
		return c, checkSource(c.src)
	}
	return c, 0
}

// composeFromWBXML reads the 14.0+ form, MS-ASCMD 6.12 (ComposeMail.xsd).
func (s *Server) composeFromWBXML(rq *request, cmd string, smart bool) (composeReq, eas.Status) {
	ns := wbxml.NSComposeMail
	b := rq.body
	c := composeReq{
		clientID:    idText(b, ns, "ClientId"),
		saveInSent:  b.Has(ns, "SaveInSentItems"),
		replaceMime: smart && b.Has(ns, "ReplaceMime"),
	}
	m := b.Child(ns, "Mime")
	if c.clientID == "" || m == nil || len(m.Children) > 0 {
		return c, eas.StatusInvalidXML
	}
	if m.IsOpaque {
		c.mime = bytes.NewReader(m.Opaque)
	} else {
		c.mime = strings.NewReader(m.Text)
	}
	if m.IsOpaque && len(m.Opaque) == 0 || !m.IsOpaque && m.Text == "" {
		return c, eas.StatusInvalidMIME
	}
	if !smart {
		return c, 0
	}
	src := b.Child(ns, "Source")
	if src == nil {
		return c, eas.StatusInvalidXML
	}
	c.src = ItemRef{
		CollectionID: idText(src, ns, "FolderId"),
		ServerID:     idText(src, ns, "ItemId"),
		LongID:       idText(src, ns, "LongId"),
		InstanceID:   idText(src, ns, "InstanceId"),
	}
	if cmd == "SmartForward" {
		c.forwardees = parseForwardees(b.Child(ns, "Forwardees")) // MS-ASCMD 2.2.3.79, 16.0+
	}
	return c, checkSource(c.src)
}

// checkSource requires one way of naming the original message: FolderId
// and ItemId, or LongId, not both (Status 105, invalid combination of
// IDs).
func checkSource(src ItemRef) eas.Status {
	switch {
	case src.LongID != "" && (src.ServerID != "" || src.CollectionID != ""):
		return eas.StatusInvalidCombinationOfIDs
	case src.LongID == "" && src.ServerID == "":
		return eas.StatusInvalidCombinationOfIDs
	}
	return 0
}

// composeErrStatus maps a Sender error to a common status, MS-ASCMD 2.2.2:
// the Sender's own status, 150 (item not found) for a missing original,
// 111 (retry later) when the mail server cannot be reached, 120
// (submission failed) when the source refuses, 110 otherwise.
func (s *Server) composeErrStatus(rq *request, cmd string, err error) eas.Status {
	if st, ok := eas.StatusOf(err); ok {
		return st
	}
	switch {
	case errors.Is(err, eas.ErrNotFound) && cmd != "SendMail":
		return eas.StatusItemNotFound
	case errors.Is(err, eas.ErrBackendUnavailable):
		s.log.Warn("server: send: backend unavailable", "cmd", cmd, "device", rq.device.ID, "err", err)
		return eas.StatusServerErrorRetryLater
	case errors.Is(err, eas.ErrNotSupported):
		s.log.Info("server: send refused by the source", "cmd", cmd, "device", rq.device.ID, "err", err)
		return eas.StatusMailSubmissionFailed
	}
	s.log.Error("server: send failed", "cmd", cmd, "device", rq.device.ID, "err", err)
	return eas.StatusServerError
}

// composeHTTPError is the 12.1 answer to a failed send. 12.1 has no common
// status codes; Exchange 2007 answered: 400 for a malformed request, 403
// for access denied, 500 for other failures (an invalid MIME message
// included), 503 for transient failures, 507 for quotas.
func composeHTTPError(st eas.Status) *httpError {
	code := http.StatusInternalServerError
	switch st {
	case eas.StatusInvalidContent, eas.StatusInvalidWBXML, eas.StatusInvalidXML, eas.StatusInvalidDateTime,
		eas.StatusInvalidCombinationOfIDs, eas.StatusInvalidIDs:
		code = http.StatusBadRequest
	case eas.StatusActiveDirectoryAccess, eas.StatusAccessDenied, eas.StatusDeviceIsBlockedForThisUser, eas.StatusAccountSendDisabled:
		code = http.StatusForbidden
	case eas.StatusServerErrorRetryLater, eas.StatusMailboxServerOffline:
		code = http.StatusServiceUnavailable
	case eas.StatusMailboxQuotaExceeded, eas.StatusSendQuotaExceeded:
		code = http.StatusInsufficientStorage
	}
	e := httpErr(code, "send failed: status %d", int(st))
	if code == http.StatusServiceUnavailable {
		e.header = http.Header{"Retry-After": {"60"}}
	}
	return e
}
