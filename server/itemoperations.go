package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

const (
	// maxInlineBytes caps the content sent inline as base64 in a WBXML
	// Data element: the encoder needs the whole document in memory.
	// Larger content answers Status 11 ("the requested data size is too
	// large"); clients then ask again with MS-ASAcceptMultiPart or a Range.
	maxInlineBytes = 10 << 20
	// maxItemOperations bounds the operations of one request.
	maxItemOperations = 256
	// multipartContentType is the type of a multipart answer (MS-ASCMD
	// 2.2.1.10.1; MS-ASHTTP 2.2.2.1.1).
	multipartContentType = "application/vnd.ms-sync.multipart"
)

// opsPart is one binary part of a multipart ItemOperations answer
// (MS-ASCMD 2.2.1.10.1.1): bytes already in memory (a body taken out of the
// item's properties) or n bytes still to be read from r (an attachment).
type opsPart struct {
	data []byte
	r    io.Reader
	n    int64
}

// opsRun is the state of one ItemOperations request: the parts of a
// multipart answer and what has to be closed once it is written.
type opsRun struct {
	multipart bool
	parts     []*opsPart
	size      int64 // bytes of all parts so far
	closers   []io.Closer
	temps     []*os.File
}

func (r *opsRun) close() {
	for _, c := range r.closers {
		c.Close()
	}
	for _, f := range r.temps {
		f.Close()
		os.Remove(f.Name())
	}
}

// addPart registers a part and returns its index (part 0 is the WBXML
// document), or false when the answer would outgrow the 32-bit offsets of
// the multipart format.
func (r *opsRun) addPart(p *opsPart) (int, bool) {
	if p.n > math.MaxInt32-r.size-(1<<20) {
		return 0, false
	}
	r.size += p.n
	r.parts = append(r.parts, p)
	return len(r.parts), true
}

// acceptMultiPart reports whether the client asked for a multipart answer:
// the MS-ASAcceptMultiPart header (MS-ASHTTP 2.2.1.1.2.5) or the
// AcceptMultiPart option of the base64 query (MS-ASHTTP 2.2.1.1.1.1.3).
func acceptMultiPart(rq *request) bool {
	return strings.EqualFold(strings.TrimSpace(rq.http.Header.Get("MS-ASAcceptMultiPart")), "T") ||
		strings.EqualFold(rq.q.Params["AcceptMultiPart"], "T")
}

// cmdItemOperations implements ItemOperations, MS-ASCMD 2.2.1.10: Fetch of
// a mailbox item (CollectionId+ServerId or a Search LongId) or of an
// attachment (FileReference, with an optional byte Range),
// EmptyFolderContents, and the conversation Move, which we do not offer.
//
// With MS-ASAcceptMultiPart the answer is the multipart structure of
// 2.2.1.10.1: the WBXML document is part 0, and item bodies and attachment
// bytes are streamed as the following parts, named by Part instead of
// Data. Otherwise they are inline (base64 for attachments) up to
// maxInlineBytes.
func (s *Server) cmdItemOperations(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSItemOperations
	f, ok := rq.session.(ItemFetcher)
	if !ok {
		return s.notSupported(rq, ns, "ItemOperations")
	}
	run := &opsRun{multipart: acceptMultiPart(rq)}
	defer run.close()
	ops := rq.body.Children
	if len(ops) == 0 || len(ops) > maxItemOperations {
		return s.itemOpsAnswer(rq, run, itemOpsStatus(rq, eas.ItemOpsStatusProtocolError))
	}
	// The response schema (MS-ASCMD 6.24) is a sequence: Move*,
	// EmptyFolderContents*, Fetch*.
	var moves, empties, fetches []*wbxml.Element
	for _, op := range ops {
		if op.Space != ns {
			return s.itemOpsAnswer(rq, run, itemOpsStatus(rq, eas.ItemOpsStatusProtocolError))
		}
		switch op.Name {
		case "Fetch":
			fetches = append(fetches, s.itemOpsFetch(rq, f, op, run))
		case "EmptyFolderContents":
			empties = append(empties, s.itemOpsEmpty(rq, f, op))
		case "Move":
			// Conversation moves (MS-ASCON 3.1.4.3) are not offered.
			m := wbxml.New(ns, "Move", wbxml.Int(ns, "Status", int(eas.ItemOpsStatusActionNotSupported)))
			if c := op.Child(ns, "ConversationId"); c != nil {
				m.Add(c)
			}
			moves = append(moves, m)
		default:
			return s.itemOpsAnswer(rq, run, itemOpsStatus(rq, eas.ItemOpsStatusProtocolError))
		}
	}
	rq.easStatus = eas.ItemOpsStatusSuccess
	resp := wbxml.New(ns, "Response")
	for _, list := range [][]*wbxml.Element{moves, empties, fetches} {
		for _, e := range list {
			if st, _ := e.ChildInt(ns, "Status"); st != int(eas.ItemOpsStatusSuccess) && rq.easStatus == eas.ItemOpsStatusSuccess {
				rq.easStatus = eas.Status(st)
			}
			resp.Add(e)
		}
	}
	root := wbxml.New(ns, "ItemOperations", wbxml.Int(ns, "Status", int(eas.ItemOpsStatusSuccess)), resp)
	return s.itemOpsAnswer(rq, run, root)
}

// itemOpsStatus is a request-level failure.
func itemOpsStatus(rq *request, st eas.Status) *wbxml.Element {
	rq.easStatus = st
	return wbxml.New(wbxml.NSItemOperations, "ItemOperations", wbxml.Int(wbxml.NSItemOperations, "Status", int(st)))
}

// itemOpsAnswer returns root for the normal pipeline, or writes the
// multipart answer itself when the client asked for one.
func (s *Server) itemOpsAnswer(rq *request, run *opsRun, root *wbxml.Element) (*wbxml.Element, error) {
	if !run.multipart {
		return root, nil
	}
	doc, err := wbxml.Encode(root)
	if err != nil {
		return nil, fmt.Errorf("server: encode ItemOperations: %w", err)
	}
	return nil, writeMultipart(rq.w, doc, run.parts)
}

// writeMultipart writes MS-ASCMD 2.2.1.10.1.1: PartsCount, then an
// (Offset, Length) pair per part, offsets counted from the start of the
// body, all 32-bit little-endian integers; then the parts, the WBXML
// document first. Attachment parts are copied from their readers straight
// to the connection.
func writeMultipart(w http.ResponseWriter, doc []byte, parts []*opsPart) error {
	count := 1 + len(parts)
	head := make([]byte, 4+8*count)
	binary.LittleEndian.PutUint32(head, uint32(count))
	off := int64(len(head))
	put := func(i int, n int64) {
		binary.LittleEndian.PutUint32(head[4+8*i:], uint32(off))
		binary.LittleEndian.PutUint32(head[8+8*i:], uint32(n))
		off += n
	}
	put(0, int64(len(doc)))
	for i, p := range parts {
		put(i+1, p.n)
	}
	if off > math.MaxInt32 {
		return fmt.Errorf("server: multipart answer of %d bytes is too large", off)
	}
	h := w.Header()
	h.Set("Content-Type", multipartContentType)
	h.Set("Content-Length", strconv.FormatInt(off, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(head); err != nil {
		return err
	}
	if _, err := w.Write(doc); err != nil {
		return err
	}
	for i, p := range parts {
		if p.r == nil {
			if _, err := w.Write(p.data); err != nil {
				return err
			}
			continue
		}
		// Fewer bytes than announced leaves the body short of its
		// Content-Length: net/http then closes the connection, so the
		// client cannot take a truncated part for a whole one.
		if n, err := io.CopyN(w, p.r, p.n); err != nil {
			return fmt.Errorf("server: multipart part %d: %d of %d bytes: %w", i+1, n, p.n, err)
		}
	}
	return nil
}

// itemOpsFetch runs one Fetch. The answer's children follow the schema
// order: Status, CollectionId, ServerId, LongId, Class, FileReference,
// Properties.
func (s *Server) itemOpsFetch(rq *request, f ItemFetcher, op *wbxml.Element, run *opsRun) *wbxml.Element {
	ns := wbxml.NSItemOperations
	coll := idText(op, wbxml.NSAirSync, "CollectionId")
	sid := idText(op, wbxml.NSAirSync, "ServerId")
	longID := idText(op, wbxml.NSSearch, "LongId")
	ref := idText(op, wbxml.NSAirSyncBase, "FileReference")
	answer := func(st eas.Status, class string, props *wbxml.Element) *wbxml.Element {
		e := wbxml.New(ns, "Fetch", wbxml.Int(ns, "Status", int(st)))
		if coll != "" {
			e.Add(wbxml.Text(wbxml.NSAirSync, "CollectionId", coll))
		}
		if sid != "" {
			e.Add(wbxml.Text(wbxml.NSAirSync, "ServerId", sid))
		}
		if longID != "" {
			e.Add(wbxml.Text(wbxml.NSSearch, "LongId", longID))
		}
		if class != "" {
			e.Add(wbxml.Text(wbxml.NSAirSync, "Class", class))
		}
		if ref != "" {
			e.Add(wbxml.Text(wbxml.NSAirSyncBase, "FileReference", ref))
		}
		return e.Add(props)
	}
	store := strings.TrimSpace(op.ChildText(ns, "Store"))
	if store == "" {
		return answer(eas.ItemOpsStatusProtocolError, "", nil)
	}
	if !strings.EqualFold(store, "Mailbox") || op.Has(wbxml.NSDocumentLibrary, "LinkId") {
		// Document libraries (MS-ASDOC) are not offered.
		return answer(eas.ItemOpsStatusUnknownStore, "", nil)
	}
	targets := 0
	for _, t := range []bool{ref != "", longID != "", sid != ""} {
		if t {
			targets++
		}
	}
	if targets != 1 || (sid != "" && coll == "") {
		return answer(eas.ItemOpsStatusProtocolError, "", nil)
	}
	options := op.Child(ns, "Options")
	opts := parseItemOptions(options)
	if ref != "" {
		st, props := s.fetchAttachment(rq, f, ref, options.ChildText(ns, "Range"), options.Has(ns, "Range"), run)
		return answer(st, "", props)
	}
	var props *wbxml.Element
	var err error
	if longID != "" {
		props, err = f.FetchLongID(rq.ctx, longID, opts, rq.version)
	} else {
		props, err = f.FetchItem(rq.ctx, rq.device.ID, coll, sid, opts, rq.version)
	}
	if err == nil && props == nil {
		err = eas.ErrNotFound
	}
	if err != nil {
		return answer(s.itemOpsErrStatus(rq, err, eas.ItemOpsStatusNotFound), "", nil)
	}
	p := reparent(props, ns, "Properties")
	if run.multipart {
		var ok bool
		if p, ok = bodiesToParts(p, run); !ok {
			return answer(eas.ItemOpsStatusTooLarge, "", nil)
		}
	}
	return answer(eas.ItemOpsStatusSuccess, itemClass(p), p)
}

// bodiesToParts moves the Data of the item's airsyncbase:Body elements into
// parts of the multipart answer, leaving itemoperations:Part in its place
// (MS-ASAIRS 2.2.2.33, MS-ASCMD 2.2.3.130). props is not modified.
func bodiesToParts(props *wbxml.Element, run *opsRun) (*wbxml.Element, bool) {
	out := &wbxml.Element{Space: props.Space, Name: props.Name, Children: make([]*wbxml.Element, len(props.Children))}
	for i, c := range props.Children {
		out.Children[i] = c
		if !c.Is(wbxml.NSAirSyncBase, "Body") || !c.Has(wbxml.NSAirSyncBase, "Data") {
			continue
		}
		body := &wbxml.Element{Space: c.Space, Name: c.Name, Children: make([]*wbxml.Element, 0, len(c.Children))}
		for _, b := range c.Children {
			if !b.Is(wbxml.NSAirSyncBase, "Data") {
				body.Children = append(body.Children, b)
				continue
			}
			data := b.Opaque
			if !b.IsOpaque {
				data = []byte(b.Text)
			}
			idx, ok := run.addPart(&opsPart{data: data, n: int64(len(data))})
			if !ok {
				return nil, false
			}
			body.Children = append(body.Children, wbxml.Int(wbxml.NSItemOperations, "Part", idx))
		}
		out.Children[i] = body
	}
	return out, true
}

// fetchAttachment answers a Fetch by FileReference: Properties with the
// ContentType, Range, Total, and Data (base64) or Part.
func (s *Server) fetchAttachment(rq *request, f ItemFetcher, ref, rangeText string, hasRange bool, run *opsRun) (eas.Status, *wbxml.Element) {
	ns := wbxml.NSItemOperations
	var start, end int64 = 0, math.MaxInt64
	if hasRange {
		var ok bool
		if start, end, ok = parseRange(rangeText); !ok {
			return eas.ItemOpsStatusInvalidRange, nil
		}
	}
	att, err := f.OpenAttachment(rq.ctx, ref)
	if err == nil && (att == nil || att.Body == nil) {
		err = eas.ErrNotFound
	}
	if err != nil {
		return s.itemOpsErrStatus(rq, err, eas.ItemOpsStatusInvalidAttachment), nil
	}
	run.closers = append(run.closers, att.Body)
	ct := att.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	var src io.Reader = att.Body
	total := att.Size
	if total < 0 && (run.multipart || hasRange) {
		// The offset table needs every size up front, and Total the whole
		// size: spool to a temporary file, never to memory.
		tmp, n, err := spool(att.Body, run)
		if err != nil {
			s.log.Error("server: spool attachment", "ref", ref, "err", err)
			return eas.ItemOpsStatusIOFailure, nil
		}
		if n > math.MaxInt32 {
			return eas.ItemOpsStatusTooLarge, nil
		}
		src, total = tmp, n
	}
	var length int64
	if total >= 0 {
		if hasRange && start >= total && total > 0 {
			return eas.ItemOpsStatusInvalidRange, nil
		}
		if total > 0 {
			length = min(end, total-1) - start + 1
		}
		if err := skip(src, start); err != nil {
			s.log.Error("server: attachment range", "ref", ref, "err", err)
			return eas.ItemOpsStatusIOFailure, nil
		}
	}
	props := wbxml.New(ns, "Properties", wbxml.Text(wbxml.NSAirSyncBase, "ContentType", ct))
	if run.multipart {
		idx, ok := run.addPart(&opsPart{r: src, n: length})
		if !ok {
			return eas.ItemOpsStatusTooLarge, nil
		}
		return eas.ItemOpsStatusSuccess, props.Add(rangeProps(start, length, total)...).Add(wbxml.Int(ns, "Part", idx))
	}
	var data []byte
	if total < 0 {
		// Unknown size, no range, inline: read up to the cap.
		data, err = io.ReadAll(io.LimitReader(src, maxInlineBytes+1))
		if err != nil {
			s.log.Error("server: read attachment", "ref", ref, "err", err)
			return eas.ItemOpsStatusIOFailure, nil
		}
		if len(data) > maxInlineBytes {
			return eas.ItemOpsStatusTooLarge, nil
		}
		length, total = int64(len(data)), int64(len(data))
	} else {
		if length > maxInlineBytes {
			return eas.ItemOpsStatusTooLarge, nil
		}
		data = make([]byte, length)
		if _, err := io.ReadFull(src, data); err != nil {
			s.log.Error("server: read attachment", "ref", ref, "size", total, "err", err)
			return eas.ItemOpsStatusIOFailure, nil
		}
	}
	props.Add(rangeProps(start, length, total)...)
	return eas.ItemOpsStatusSuccess, props.Add(wbxml.Text(ns, "Data", base64.StdEncoding.EncodeToString(data)))
}

// rangeProps are the Range actually returned (MS-ASCMD 2.2.3.143.2; none
// for empty content) and the Total size (2.2.3.186), sent with every
// attachment as in the example of 4.8.4 (the client knows what it got even
// when it asked for no range).
func rangeProps(start, length, total int64) []*wbxml.Element {
	ns := wbxml.NSItemOperations
	var out []*wbxml.Element
	if length > 0 {
		out = append(out, wbxml.Text(ns, "Range", fmt.Sprintf("%d-%d", start, start+length-1)))
	}
	return append(out, wbxml.Text(ns, "Total", strconv.FormatInt(total, 10)))
}

// spool copies r to a temporary file (removed by run.close) and returns it
// positioned at its start. It stops one byte past the multipart limit.
func spool(r io.Reader, run *opsRun) (*os.File, int64, error) {
	tmp, err := os.CreateTemp("", "easbridge-att-*")
	if err != nil {
		return nil, 0, err
	}
	run.temps = append(run.temps, tmp)
	n, err := io.Copy(tmp, io.LimitReader(r, math.MaxInt32+1))
	if err != nil {
		return nil, 0, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, 0, err
	}
	return tmp, n, nil
}

// skip advances r by n bytes.
func skip(r io.Reader, n int64) error {
	if n == 0 {
		return nil
	}
	if sk, ok := r.(io.Seeker); ok {
		_, err := sk.Seek(n, io.SeekCurrent)
		return err
	}
	_, err := io.CopyN(io.Discard, r, n)
	return err
}

// itemOpsEmpty runs EmptyFolderContents (MS-ASCMD 2.2.3.58).
func (s *Server) itemOpsEmpty(rq *request, f ItemFetcher, op *wbxml.Element) *wbxml.Element {
	ns := wbxml.NSItemOperations
	coll := idText(op, wbxml.NSAirSync, "CollectionId")
	st := eas.ItemOpsStatusSuccess
	if coll == "" {
		st = eas.ItemOpsStatusProtocolError
	} else {
		del := op.Child(ns, "Options").Has(ns, "DeleteSubFolders")
		if err := f.EmptyFolder(rq.ctx, rq.device.ID, coll, del); err != nil {
			st = s.itemOpsErrStatus(rq, err, eas.ItemOpsStatusNotFound)
		}
	}
	return wbxml.New(ns, "EmptyFolderContents", wbxml.Int(ns, "Status", int(st)),
		wbxml.Text(wbxml.NSAirSync, "CollectionId", coll))
}

// itemOpsErrStatus maps an ItemFetcher error to an operation Status,
// MS-ASCMD 2.2.3.177.8: notFound for eas.ErrNotFound (6 for items and
// folders, 15 for attachments), 3 for the rest.
func (s *Server) itemOpsErrStatus(rq *request, err error, notFound eas.Status) eas.Status {
	if st, ok := eas.StatusOf(err); ok {
		return st
	}
	switch {
	case errors.Is(err, eas.ErrNotFound):
		return notFound
	case errors.Is(err, eas.ErrNotSupported):
		s.log.Info("server: item operation refused by the source", "device", rq.device.ID, "err", err)
		return eas.ItemOpsStatusServerError
	case errors.Is(err, eas.ErrBackendUnavailable), errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("server: item operation: backend unavailable", "device", rq.device.ID, "err", err)
		return eas.ItemOpsStatusServerError
	}
	s.log.Error("server: item operation failed", "device", rq.device.ID, "err", err)
	return eas.ItemOpsStatusServerError
}
