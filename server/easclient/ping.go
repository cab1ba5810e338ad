package easclient

import (
	"context"
	"fmt"
	"strconv"

	"easbridge/server/wbxml"
)

// PingFolder is one folder of a Ping request (MS-ASCMD 2.2.3.71.2).
type PingFolder struct{ ID, Class string }

// PingResult is a decoded Ping answer (MS-ASCMD 2.2.1.13).
type PingResult struct {
	// Status: 1 heartbeat expired, 2 changes in Folders, 3 parameters
	// missing, 4 syntax error, 5 heartbeat out of range
	// (HeartbeatInterval is the limit), 6 too many folders (MaxFolders),
	// 7 hierarchy changed, 8 server error.
	Status            int
	Folders           []string
	HeartbeatInterval int
	MaxFolders        int
}

// PingRequest builds a Ping request body; heartbeat 0 leaves out
// HeartbeatInterval and no folders leaves out Folders (the server then uses
// its cached values, MS-ASCMD 3.1.5.8). It returns nil, the empty Ping,
// when both are left out.
func PingRequest(heartbeat int, folders []PingFolder) *wbxml.Element {
	ns := wbxml.NSPing
	if heartbeat == 0 && len(folders) == 0 {
		return nil
	}
	req := wbxml.New(ns, "Ping")
	if heartbeat != 0 {
		req.Add(wbxml.Int(ns, "HeartbeatInterval", heartbeat))
	}
	if len(folders) > 0 {
		fs := wbxml.New(ns, "Folders")
		for _, f := range folders {
			fs.Add(wbxml.New(ns, "Folder", wbxml.Text(ns, "Id", f.ID), wbxml.Text(ns, "Class", f.Class)))
		}
		req.Add(fs)
	}
	return req
}

// Ping sends Ping and waits for the answer, which takes up to the heartbeat
// (ctx must allow for it). heartbeat 0 and no folders send the empty Ping.
func (c *Client) Ping(ctx context.Context, heartbeat int, folders []PingFolder) (*PingResult, *Response, error) {
	r, err := c.Do(ctx, "Ping", PingRequest(heartbeat, folders))
	if err != nil {
		return nil, r, err
	}
	res, err := ParsePing(r)
	return res, r, err
}

// ParsePing decodes a Ping answer.
func ParsePing(r *Response) (*PingResult, error) {
	ns := wbxml.NSPing
	if r.Root == nil || !r.Root.Is(ns, "Ping") {
		return nil, fmt.Errorf("easclient: Ping: HTTP %d without a Ping answer", r.HTTPStatus)
	}
	res := &PingResult{}
	var ok bool
	if res.Status, ok = r.Root.ChildInt(ns, "Status"); !ok {
		return nil, fmt.Errorf("easclient: Ping answer without Status")
	}
	for _, f := range r.Root.Child(ns, "Folders").All(ns, "Folder") {
		res.Folders = append(res.Folders, f.Text)
	}
	if v := r.Root.ChildText(ns, "HeartbeatInterval"); v != "" {
		res.HeartbeatInterval, _ = strconv.Atoi(v)
	}
	if v := r.Root.ChildText(ns, "MaxFolders"); v != "" {
		res.MaxFolders, _ = strconv.Atoi(v)
	}
	return res, nil
}
