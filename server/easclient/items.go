package easclient

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"easbridge/server/wbxml"
)

// Helpers for the item commands: Sync, ItemOperations (multipart),
// GetAttachment, SendMail in both forms.

// DoWith sends a command with a raw body, extra query parameters and extra
// request headers (Content-Type among them; the default is WBXML when there
// is a body). The answer's Root is decoded when it is WBXML, whatever the
// HTTP status.
func (c *Client) DoWith(ctx context.Context, cmd string, body []byte, params url.Values, header http.Header) (*Response, error) {
	q := url.Values{}
	q.Set("Cmd", cmd)
	q.Set("User", c.User)
	q.Set("DeviceId", c.DeviceID)
	q.Set("DeviceType", c.DeviceType)
	for k, v := range params {
		q[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/Microsoft-Server-ActiveSync?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("easclient: %w", err)
	}
	req.SetBasicAuth(c.User, c.Password)
	req.Header.Set("MS-ASProtocolVersion", c.Version)
	req.Header.Set("User-Agent", c.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.ms-sync.wbxml")
	}
	if c.PolicyKey != "" {
		req.Header.Set("X-MS-PolicyKey", c.PolicyKey)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("easclient: POST: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("easclient: read answer: %w", err)
	}
	r := &Response{HTTPStatus: res.StatusCode, Header: res.Header, Body: b}
	if len(b) > 0 && strings.Contains(res.Header.Get("Content-Type"), "wbxml") {
		if r.Root, err = wbxml.Decode(b); err != nil {
			return r, fmt.Errorf("easclient: decode answer: %w", err)
		}
	}
	return r, nil
}

// Sync sends a Sync request with the given collections (see
// SyncCollection) and extra top-level children (WindowSize, Wait, …).
func (c *Client) Sync(ctx context.Context, collections []*wbxml.Element, extra ...*wbxml.Element) (*Response, error) {
	ns := wbxml.NSAirSync
	req := wbxml.New(ns, "Sync", wbxml.New(ns, "Collections", collections...))
	req.Add(extra...)
	return c.Do(ctx, "Sync", req)
}

// SyncCollection builds a request Collection: SyncKey, CollectionId, then
// the other children in the order given (the request order is strict,
// MS-ASCMD 2.2.3.29.2: Supported, DeletesAsMoves, GetChanges, WindowSize,
// ConversationMode, Options, Commands).
func SyncCollection(key, id string, children ...*wbxml.Element) *wbxml.Element {
	ns := wbxml.NSAirSync
	return wbxml.New(ns, "Collection", wbxml.Text(ns, "SyncKey", key), wbxml.Text(ns, "CollectionId", id)).Add(children...)
}

// SyncResult is one Collection of a Sync answer.
type SyncResult struct {
	Class         string
	SyncKey       string
	CollectionID  string
	Status        string
	Commands      []*wbxml.Element // Add, Change, Delete, SoftDelete
	Responses     []*wbxml.Element
	MoreAvailable bool
}

// SyncResults lists the collections of a Sync answer.
func SyncResults(root *wbxml.Element) []SyncResult {
	ns := wbxml.NSAirSync
	var out []SyncResult
	for _, c := range root.Child(ns, "Collections").All(ns, "Collection") {
		r := SyncResult{
			Class: c.ChildText(ns, "Class"), SyncKey: c.ChildText(ns, "SyncKey"),
			CollectionID: c.ChildText(ns, "CollectionId"), Status: c.ChildText(ns, "Status"),
			MoreAvailable: c.Has(ns, "MoreAvailable"),
		}
		if cm := c.Child(ns, "Commands"); cm != nil {
			r.Commands = cm.Children
		}
		if rs := c.Child(ns, "Responses"); rs != nil {
			r.Responses = rs.Children
		}
		out = append(out, r)
	}
	return out
}

// ItemOperations sends an ItemOperations request. With multipart, it asks
// for the multipart answer (MS-ASAcceptMultiPart: T) and returns its parts
// after the WBXML one, which is decoded into Root.
func (c *Client) ItemOperations(ctx context.Context, body *wbxml.Element, multipart bool) (*Response, [][]byte, error) {
	raw, err := wbxml.Encode(body)
	if err != nil {
		return nil, nil, fmt.Errorf("easclient: encode ItemOperations: %w", err)
	}
	var h http.Header
	if multipart {
		h = http.Header{}
		h.Set("MS-ASAcceptMultiPart", "T")
	}
	r, err := c.DoWith(ctx, "ItemOperations", raw, nil, h)
	if err != nil || !strings.Contains(r.Header.Get("Content-Type"), "multipart") {
		return r, nil, err
	}
	parts, err := ParseMultipart(r.Body)
	if err != nil {
		return r, nil, err
	}
	if r.Root, err = wbxml.Decode(parts[0]); err != nil {
		return r, nil, fmt.Errorf("easclient: decode part 0: %w", err)
	}
	return r, parts[1:], nil
}

// ParseMultipart splits a multipart ItemOperations answer (MS-ASCMD
// 2.2.1.10.1.1) into its parts, checking every offset and length.
func ParseMultipart(b []byte) ([][]byte, error) {
	if len(b) < 4 {
		return nil, errors.New("easclient: multipart answer too short")
	}
	n := binary.LittleEndian.Uint32(b)
	if n == 0 || uint64(n) > uint64(len(b)-4)/8 {
		return nil, fmt.Errorf("easclient: multipart answer with %d parts", n)
	}
	parts := make([][]byte, n)
	for i := range parts {
		off := binary.LittleEndian.Uint32(b[4+8*i:])
		ln := binary.LittleEndian.Uint32(b[8+8*i:])
		if uint64(off)+uint64(ln) > uint64(len(b)) || off < 4+8*n {
			return nil, fmt.Errorf("easclient: multipart part %d (%d+%d) outside %d bytes", i, off, ln, len(b))
		}
		parts[i] = b[off : off+ln]
	}
	return parts, nil
}

// GetAttachment fetches an attachment with the 12.1 command.
func (c *Client) GetAttachment(ctx context.Context, name string) (*Response, error) {
	return c.DoWith(ctx, "GetAttachment", nil, url.Values{"AttachmentName": {name}}, nil)
}

// SendMIME sends the 12.1 form of SendMail, SmartReply or SmartForward:
// the MIME message as the body (message/rfc822), parameters (SaveInSent,
// ItemId, CollectionId, LongId) in the query.
func (c *Client) SendMIME(ctx context.Context, cmd string, mime []byte, params url.Values) (*Response, error) {
	return c.DoWith(ctx, cmd, mime, params, http.Header{"Content-Type": {"message/rfc822"}})
}

// Compose builds the 14.0+ WBXML request of SendMail, SmartReply or
// SmartForward; source (FolderId, ItemId, LongId, InstanceId elements of
// ComposeMail) is used by the last two.
func Compose(cmd, clientID string, mime []byte, saveInSent, replaceMime bool, source ...*wbxml.Element) *wbxml.Element {
	ns := wbxml.NSComposeMail
	e := wbxml.New(ns, cmd, wbxml.Text(ns, "ClientId", clientID))
	if len(source) > 0 {
		e.Add(wbxml.New(ns, "Source", source...))
	}
	if saveInSent {
		e.Add(wbxml.Empty(ns, "SaveInSentItems"))
	}
	if replaceMime {
		e.Add(wbxml.Empty(ns, "ReplaceMime"))
	}
	return e.Add(wbxml.Opaque(ns, "Mime", mime))
}
