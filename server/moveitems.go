package server

import (
	"errors"
	"net/http"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// cmdMoveItems implements MoveItems, MS-ASCMD 2.2.1.12: every Move
// (SrcMsgId, SrcFldId, DstFldId) is answered by a Response with SrcMsgId,
// Status (3 is success, 2.2.3.177.10) and, on success, the item's new
// DstMsgId.
func (s *Server) cmdMoveItems(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSMove
	m, ok := rq.session.(ItemMover)
	if !ok {
		return s.notSupported(rq, ns, "MoveItems")
	}
	moves := rq.body.All(ns, "Move")
	if len(moves) == 0 {
		rq.easStatus = eas.StatusInvalidXML
		if !rq.version.AtLeast(eas.V140) {
			return nil, httpErr(http.StatusBadRequest, "MoveItems without Move")
		}
		return wbxml.New(ns, "MoveItems", wbxml.Int(ns, "Status", int(eas.StatusInvalidXML))), nil
	}
	resp := wbxml.New(ns, "MoveItems")
	rq.easStatus = eas.MoveStatusSuccess
	for _, mv := range moves {
		src := idText(mv, ns, "SrcMsgId")
		srcFld := idText(mv, ns, "SrcFldId")
		dstFld := idText(mv, ns, "DstFldId")
		var st eas.Status
		var dst string
		switch {
		case src == "" || srcFld == "":
			st = eas.MoveStatusInvalidSource
		case dstFld == "":
			st = eas.MoveStatusInvalidDestination
		case srcFld == dstFld:
			st = eas.MoveStatusSameFolder
		default:
			var err error
			dst, err = m.MoveItem(rq.ctx, rq.device.ID, src, srcFld, dstFld)
			st = s.moveErrStatus(rq, err)
		}
		r := wbxml.New(ns, "Response", wbxml.Text(ns, "SrcMsgId", src), wbxml.Int(ns, "Status", int(st)))
		if st == eas.MoveStatusSuccess && dst != "" {
			r.Add(wbxml.Text(ns, "DstMsgId", dst))
		}
		if st != eas.MoveStatusSuccess && rq.easStatus == eas.MoveStatusSuccess {
			rq.easStatus = st
		}
		resp.Add(r)
	}
	return resp, nil
}

// moveErrStatus maps a MoveItem error to the MoveItems status, MS-ASCMD
// 2.2.3.177.10: the backend's own status when it gives one, 1 (invalid
// source) for an unknown item, 7 (locked, the client retries) when the
// source cannot be reached, 5 (the item cannot be moved) otherwise.
func (s *Server) moveErrStatus(rq *request, err error) eas.Status {
	if err == nil {
		return eas.MoveStatusSuccess
	}
	if st, ok := eas.StatusOf(err); ok {
		return st
	}
	switch {
	case errors.Is(err, eas.ErrNotFound):
		return eas.MoveStatusInvalidSource
	case errors.Is(err, eas.ErrBackendUnavailable):
		s.log.Warn("server: move: backend unavailable", "device", rq.device.ID, "err", err)
		return eas.MoveStatusLocked
	case errors.Is(err, eas.ErrNotSupported), errors.Is(err, eas.ErrExists), errors.Is(err, eas.ErrSpecialFolder):
		s.log.Info("server: move refused by the source", "device", rq.device.ID, "err", err)
		return eas.MoveStatusFailure
	}
	s.log.Error("server: move failed", "device", rq.device.ID, "err", err)
	return eas.MoveStatusFailure
}
