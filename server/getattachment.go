package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// cmdGetAttachment implements GetAttachment, MS-ASCMD 2.2.1.8: the
// attachment named by the AttachmentName query parameter (the
// FileReference of the item's properties), as raw bytes with its content
// type, streamed from the source. It has no request body and no WBXML
// answer: failures are HTTP statuses — 500 for an attachment that no longer
// exists (2.2.1.8), 503 when the source cannot be reached.
//
// The command belongs to 12.1 (14.0+ clients use ItemOperations); it is
// served to every version since that costs nothing.
func (s *Server) cmdGetAttachment(rq *request) (*wbxml.Element, error) {
	f, ok := rq.session.(ItemFetcher)
	if !ok {
		rq.easStatus = eas.StatusCommandNotSupported
		return nil, httpErr(http.StatusNotImplemented, "GetAttachment is not supported for this account")
	}
	name := rq.q.Params["AttachmentName"]
	if name == "" {
		return nil, httpErr(http.StatusBadRequest, "GetAttachment needs the AttachmentName parameter")
	}
	att, err := f.OpenAttachment(rq.ctx, name)
	if err == nil && (att == nil || att.Body == nil) {
		err = eas.ErrNotFound
	}
	switch {
	case err == nil:
	case errors.Is(err, eas.ErrNotFound):
		return nil, httpErr(http.StatusInternalServerError, "attachment not found")
	case errors.Is(err, eas.ErrBackendUnavailable):
		s.log.Warn("server: GetAttachment: backend unavailable", "device", rq.device.ID, "err", err)
		e := httpErr(http.StatusServiceUnavailable, "the mail server cannot be reached; try again later")
		e.header = http.Header{"Retry-After": {"60"}}
		return nil, e
	default:
		return nil, fmt.Errorf("server: GetAttachment %q: %w", name, err)
	}
	defer att.Body.Close()
	ct := att.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := rq.w.Header()
	h.Set("Content-Type", ct)
	if att.Size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(att.Size, 10))
	}
	rq.w.WriteHeader(http.StatusOK)
	n, err := io.Copy(rq.w, att.Body)
	if err != nil {
		return nil, fmt.Errorf("server: GetAttachment %q after %d bytes: %w", name, n, err)
	}
	if att.Size >= 0 && n != att.Size {
		// The body is short of its Content-Length; net/http closes the
		// connection so that the client does not keep a truncated file.
		return nil, fmt.Errorf("server: GetAttachment %q: %d bytes, announced %d", name, n, att.Size)
	}
	return nil, nil
}
