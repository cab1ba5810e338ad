package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"easbridge/server/eas"
	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

func iop(name string, kids ...*wbxml.Element) *wbxml.Element {
	return wbxml.New(wbxml.NSItemOperations, name, kids...)
}

func iopText(name, v string) *wbxml.Element { return wbxml.Text(wbxml.NSItemOperations, name, v) }

func fetchServerID(coll, id string) *wbxml.Element {
	return iop("Fetch", iopText("Store", "Mailbox"), asText("CollectionId", coll), asText("ServerId", id),
		iop("Options", wbxml.New(wbxml.NSAirSyncBase, "BodyPreference", wbxml.Text(wbxml.NSAirSyncBase, "Type", "1"))))
}

func fetchRef(ref, rng string) *wbxml.Element {
	f := iop("Fetch", iopText("Store", "Mailbox"), wbxml.Text(wbxml.NSAirSyncBase, "FileReference", ref))
	if rng != "" {
		f.Add(iop("Options", iopText("Range", rng)))
	}
	return f
}

func fetchLongID(id string) *wbxml.Element {
	return iop("Fetch", iopText("Store", "Mailbox"), wbxml.Text(wbxml.NSSearch, "LongId", id))
}

func (h *harness) itemOps(c *easclient.Client, multipart bool, ops ...*wbxml.Element) (*easclient.Response, [][]byte) {
	h.t.Helper()
	r, parts, err := c.ItemOperations(context.Background(), iop("ItemOperations", ops...), multipart)
	if err != nil || r.HTTPStatus != 200 || r.Root == nil {
		h.t.Fatalf("ItemOperations: %v HTTP %d", err, r.HTTPStatus)
	}
	h.backend.mu.Lock()
	open := h.backend.items.open
	h.backend.mu.Unlock()
	if open != 0 {
		h.t.Errorf("%d attachment bodies left open", open)
	}
	return r, parts
}

func fetches(r *easclient.Response) []*wbxml.Element {
	return r.Root.Child(wbxml.NSItemOperations, "Response").All(wbxml.NSItemOperations, "Fetch")
}

func TestItemOperationsFetchInline(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("14.1", "io1")
	ns := wbxml.NSItemOperations
	r, _ := h.itemOps(c, false,
		fetchServerID("1", "1:2"),
		fetchLongID("L3:6"),
		fetchServerID("1", "1:404"),
		fetchLongID("nope"),
		fetchRef("att-1", ""),
		fetchRef("att-1", "0-4"),
		fetchRef("att-1", "6-1000"),
		fetchRef("att-unknown", "6-100"),
		fetchRef("att-unknown", ""),
		fetchRef("att-1", "20-30"),
		fetchRef("att-1", "5-1"),
		fetchRef("att-1", "x"),
		fetchRef("att-404", ""),
		fetchRef("att-big", ""),
		fetchRef("att-short", ""),
		fetchRef("att-empty", ""),
		fetchRef("att-down", ""),
		iop("Fetch", iopText("Store", "DocumentLibrary"), wbxml.Text(wbxml.NSDocumentLibrary, "LinkId", "\\\\server\\share\\a.txt")),
		iop("Fetch", asText("CollectionId", "1"), asText("ServerId", "1:1")),
		iop("Fetch", iopText("Store", "Mailbox"), asText("ServerId", "1:1")),
		iop("Fetch", iopText("Store", "Mailbox"), asText("CollectionId", "1"), asText("ServerId", "1:1"), wbxml.Text(wbxml.NSSearch, "LongId", "L1:1")),
	)
	if r.Status() != 1 {
		t.Fatalf("status %d", r.Status())
	}
	fs := fetches(r)
	want := []struct {
		status string
		data   string // decoded Data, for attachments
		rng    string
		total  string
	}{
		{status: "1"}, {status: "1"}, {status: "6"}, {status: "6"},
		{status: "1", data: "hello world\n", rng: "0-11", total: "12"},
		{status: "1", data: "hello", rng: "0-4", total: "12"},
		{status: "1", data: "world\n", rng: "6-11", total: "12"},
		{status: "1", data: "world\n", rng: "6-11", total: "12"},
		{status: "1", data: "hello world\n", rng: "0-11", total: "12"},
		{status: "8"}, {status: "8"}, {status: "8"},
		{status: "15"}, {status: "11"}, {status: "12"},
		{status: "1", data: "", total: "0"},
		{status: "3"},
		{status: "9"}, {status: "2"}, {status: "2"}, {status: "2"},
	}
	if len(fs) != len(want) {
		t.Fatalf("%d fetch answers, want %d", len(fs), len(want))
	}
	for i, w := range want {
		f := fs[i]
		if got := f.ChildText(ns, "Status"); got != w.status {
			t.Errorf("fetch %d: status %s, want %s: %s", i, got, w.status, wbxml.XMLString(f))
			continue
		}
		p := f.Child(ns, "Properties")
		if w.data != "" || (w.status == "1" && f.Has(wbxml.NSAirSyncBase, "FileReference")) {
			d, err := base64.StdEncoding.DecodeString(p.ChildText(ns, "Data"))
			if err != nil || string(d) != w.data || p.ChildText(ns, "Range") != w.rng || p.ChildText(ns, "Total") != w.total {
				t.Errorf("fetch %d: %s", i, wbxml.XMLString(f))
			}
			if p.ChildText(wbxml.NSAirSyncBase, "ContentType") != "text/plain" {
				t.Errorf("fetch %d: content type %q", i, p.ChildText(wbxml.NSAirSyncBase, "ContentType"))
			}
		}
	}
	// The item fetches: schema order, Class, ApplicationData as Properties.
	f := fs[0]
	var names []string
	for _, e := range f.Children {
		names = append(names, e.Name)
	}
	if got := names; len(got) != 5 || got[0] != "Status" || got[1] != "CollectionId" || got[2] != "ServerId" || got[3] != "Class" || got[4] != "Properties" {
		t.Errorf("fetch children %v", got)
	}
	if f.ChildText(wbxml.NSAirSync, "Class") != "Email" || f.Child(ns, "Properties").ChildText(wbxml.NSEmail, "Subject") != "Message 2" {
		t.Errorf("item fetch: %s", wbxml.XMLString(f))
	}
	if fs[1].ChildText(wbxml.NSSearch, "LongId") != "L3:6" || fs[1].Child(ns, "Properties").ChildText(wbxml.NSEmail, "Subject") != "List digest 1" {
		t.Errorf("LongId fetch: %s", wbxml.XMLString(fs[1]))
	}
	h.backend.mu.Lock()
	if o := h.backend.items.lastOpts; len(o.BodyPrefs) != 1 || o.BodyPrefs[0].Type != 1 {
		t.Errorf("fetch options %+v", o)
	}
	h.backend.mu.Unlock()
}

// TestItemOperationsMultipart parses the multipart answer of MS-ASCMD
// 2.2.1.10.1 and checks its offsets and contents.
func TestItemOperationsMultipart(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("16.1", "io2")
	ns := wbxml.NSItemOperations
	r, parts := h.itemOps(c, true,
		fetchServerID("1", "1:1"),
		fetchRef("att-bin", ""),
		fetchRef("att-binx", ""),
		fetchRef("att-1", "6-11"),
		fetchRef("att-404", ""),
		fetchRef("att-unknown", "2-3"),
	)
	if ct := r.Header.Get("Content-Type"); ct != "application/vnd.ms-sync.multipart" {
		t.Fatalf("content type %q", ct)
	}
	// The offset table: part 0 starts right after it, the parts follow
	// each other and end with the body.
	n := int(binary.LittleEndian.Uint32(r.Body))
	if n != 6 || len(parts) != 5 {
		t.Fatalf("%d parts in the header, %d parsed", n, len(parts))
	}
	end := 4 + 8*n
	for i := range n {
		off := int(binary.LittleEndian.Uint32(r.Body[4+8*i:]))
		ln := int(binary.LittleEndian.Uint32(r.Body[8+8*i:]))
		if off != end {
			t.Errorf("part %d at %d, want %d", i, off, end)
		}
		end = off + ln
	}
	if end != len(r.Body) || strconv.Itoa(len(r.Body)) != r.Header.Get("Content-Length") {
		t.Errorf("parts end at %d, body is %d bytes (Content-Length %s)", end, len(r.Body), r.Header.Get("Content-Length"))
	}
	fs := fetches(r)
	part := func(e *wbxml.Element) []byte {
		i, ok := e.ChildInt(ns, "Part")
		if !ok || i < 1 || i > len(parts) {
			t.Fatalf("no Part in %s", wbxml.XMLString(e))
		}
		return parts[i-1]
	}
	body := fs[0].Child(ns, "Properties").Child(wbxml.NSAirSyncBase, "Body")
	if body.Has(wbxml.NSAirSyncBase, "Data") || string(part(body)) != "Body of message 1" {
		t.Errorf("item body: %s", wbxml.XMLString(fs[0]))
	}
	if p := fs[1].Child(ns, "Properties"); !bytes.Equal(part(p), fakeBytes(100000)) || p.Has(ns, "Data") {
		t.Errorf("att-bin: %s", wbxml.XMLString(fs[1]))
	}
	if p := fs[2].Child(ns, "Properties"); !bytes.Equal(part(p), fakeBytes(70000)) {
		t.Errorf("att-binx (unknown size, spooled): %d bytes", len(part(p)))
	}
	if p := fs[3].Child(ns, "Properties"); string(part(p)) != "world\n" || p.ChildText(ns, "Range") != "6-11" || p.ChildText(ns, "Total") != "12" {
		t.Errorf("att-1 range: %s", wbxml.XMLString(fs[3]))
	}
	if fs[4].ChildText(ns, "Status") != "15" || fs[4].Has(ns, "Properties") {
		t.Errorf("att-404: %s", wbxml.XMLString(fs[4]))
	}
	if p := fs[5].Child(ns, "Properties"); string(part(p)) != "ll" || p.ChildText(ns, "Total") != "12" {
		t.Errorf("att-unknown range: %s", wbxml.XMLString(fs[5]))
	}

	// The AcceptMultiPart query parameter works like the header.
	raw := mustEncode(t, iop("ItemOperations", fetchRef("att-1", "")))
	r2, err := c.DoWith(context.Background(), "ItemOperations", raw, url.Values{"AcceptMultiPart": {"T"}}, nil)
	if err != nil || r2.Header.Get("Content-Type") != multipartContentType {
		t.Fatalf("AcceptMultiPart=T: %v %q", err, r2.Header.Get("Content-Type"))
	}
	if ps, err := easclient.ParseMultipart(r2.Body); err != nil || len(ps) != 2 || string(ps[1]) != "hello world\n" {
		t.Errorf("AcceptMultiPart=T parts %q %v", ps, err)
	}
	// A request-level error is multipart too, with the document only.
	r3, parts, err := c.ItemOperations(context.Background(), iop("ItemOperations", iop("Range")), true)
	if err != nil || r3.Status() != 2 || len(parts) != 0 {
		t.Errorf("multipart protocol error: %v status %d parts %d", err, r3.Status(), len(parts))
	}
}

func TestItemOperationsEmptyAndMove(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("14.1", "io3")
	ns := wbxml.NSItemOperations
	r, _ := h.itemOps(c, false,
		fetchServerID("3", "3:6"),
		iop("EmptyFolderContents", asText("CollectionId", "3"), iop("Options", wbxml.Empty(ns, "DeleteSubFolders"))),
		iop("Move", wbxml.Opaque(ns, "ConversationId", []byte{1, 2, 3}), iopText("DstFldId", "3")),
		iop("EmptyFolderContents", asText("CollectionId", "77")),
		iop("EmptyFolderContents"),
	)
	resp := r.Root.Child(ns, "Response")
	// Schema order: Move, EmptyFolderContents, Fetch.
	var names []string
	for _, e := range resp.Children {
		names = append(names, e.Name+"="+e.ChildText(ns, "Status"))
	}
	if got := names; len(got) != 5 || got[0] != "Move=156" || got[1] != "EmptyFolderContents=1" || got[2] != "EmptyFolderContents=6" ||
		got[3] != "EmptyFolderContents=2" || got[4] != "Fetch=1" {
		t.Errorf("answers %v", got)
	}
	if !bytes.Equal(resp.Child(ns, "Move").Child(ns, "ConversationId").Opaque, []byte{1, 2, 3}) {
		t.Errorf("Move without its ConversationId")
	}
	if resp.Child(ns, "EmptyFolderContents").ChildText(wbxml.NSAirSync, "CollectionId") != "3" {
		t.Errorf("EmptyFolderContents without CollectionId")
	}
	h.backend.mu.Lock()
	emptied := h.backend.items.emptied
	h.backend.mu.Unlock()
	if len(emptied) != 1 || emptied[0] != "3/true" {
		t.Errorf("emptied %v", emptied)
	}
	if fs := fetches(r); fs[0].ChildText(ns, "Status") != "1" {
		t.Errorf("fetch before the empty: %s", wbxml.XMLString(fs[0]))
	}
	// Request-level protocol errors.
	for _, body := range []*wbxml.Element{iop("ItemOperations"), iop("ItemOperations", iop("Range")), iop("ItemOperations", as("Sync"))} {
		r, _, err := c.ItemOperations(context.Background(), body, false)
		if err != nil || r.Status() != int(eas.ItemOpsStatusProtocolError) {
			t.Errorf("%s: %v status %d", wbxml.XMLString(body), err, r.Status())
		}
	}
}

func TestGetAttachment(t *testing.T) {
	h := newHarness(t)
	c := h.itemsClient("12.1", "ga1")
	ctx := context.Background()
	r, err := c.GetAttachment(ctx, "att-1")
	if err != nil || r.HTTPStatus != 200 || string(r.Body) != "hello world\n" || r.Header.Get("Content-Type") != "text/plain" || r.Header.Get("Content-Length") != "12" {
		t.Fatalf("att-1: %v HTTP %d %q %v", err, r.HTTPStatus, r.Body, r.Header)
	}
	if r, err := c.GetAttachment(ctx, "att-bin"); err != nil || !bytes.Equal(r.Body, fakeBytes(100000)) || r.Header.Get("Content-Type") != "image/png" {
		t.Errorf("att-bin: %v %d bytes", err, len(r.Body))
	}
	if r, err := c.GetAttachment(ctx, "att-binx"); err != nil || !bytes.Equal(r.Body, fakeBytes(70000)) {
		t.Errorf("att-binx (unknown size): %v %d bytes", err, len(r.Body))
	}
	for _, tc := range []struct {
		name string
		code int
	}{
		{"att-404", http.StatusInternalServerError}, // MS-ASCMD 2.2.1.8
		{"att-down", http.StatusServiceUnavailable},
		{"", http.StatusBadRequest},
	} {
		if r, _ := c.GetAttachment(ctx, tc.name); r.HTTPStatus != tc.code {
			t.Errorf("%q: HTTP %d, want %d", tc.name, r.HTTPStatus, tc.code)
		}
	}
	// A body shorter than announced: the connection is cut, the client
	// does not get a complete-looking file.
	if r, err := c.GetAttachment(ctx, "att-short"); err == nil && r.HTTPStatus == 200 && len(r.Body) == 100 {
		t.Errorf("short attachment delivered as whole")
	}
	h.backend.mu.Lock()
	open := h.backend.items.open
	h.backend.mu.Unlock()
	if open != 0 {
		t.Errorf("%d attachment bodies left open", open)
	}
}
