package engine

import (
	"context"
	"fmt"
	"strings"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/foldermode"
)

// fetchViewItem serves ItemOperations Fetch of an item of a DAV
// collection (plain or through a view): ok is false when the collection
// is not a DAV one, so the caller fetches mail.
func (s *session) fetchViewItem(ctx context.Context, deviceID, coll string, n uint32, opts server.ItemOptions, v eas.Version) (*wbxml.Element, bool, error) {
	key, err := s.collectionKey(ctx, coll)
	if err != nil || !(strings.HasPrefix(key, viewPrefix) || foldermode.IsDAV(key)) || s.l.dav == nil {
		return nil, false, nil
	}
	o, err := s.offeredFolder(ctx, deviceID, key)
	if err != nil {
		return nil, true, err
	}
	col, err := s.store().Collection(ctx, s.l.user, deviceID, coll)
	if err != nil {
		return nil, true, fmt.Errorf("engine: collection state: %w", err)
	}
	st, err := decodeDAVState(col.Data, true)
	if err != nil {
		return nil, true, fmt.Errorf("engine: item %s:%d: %w", coll, n, eas.ErrNotFound)
	}
	p, ok := st.pathOf(n)
	if !ok {
		return nil, true, fmt.Errorf("engine: item %s:%d: %w", coll, n, eas.ErrNotFound)
	}
	req := &server.SyncCollection{Version: v, CollectionID: coll, Options: opts}
	d := &davSync{s: s, deviceID: deviceID, req: req, coll: o.Members[0].Key, class: s.collectionClass(ctx, deviceID, coll), items: s.l.dav, view: &o}
	objs, err := d.get(ctx, []string{p})
	if err != nil {
		return nil, true, err
	}
	if len(objs) == 0 {
		return nil, true, fmt.Errorf("engine: item %s:%d: %w", coll, n, eas.ErrNotFound)
	}
	if o.Members[0].Mode == foldermode.GroupwareAsEmail {
		props, err := s.groupwareMail(coll, objs[0], opts, v, wbxml.NSItemOperations, "Properties")
		return props, true, err
	}
	app, err := d.toEAS(objs[0], s.calOptions(req))
	if err != nil {
		return nil, true, fmt.Errorf("engine: item %s:%d: %w: %w", coll, n, err, eas.ErrNotFound)
	}
	return wbxml.New(wbxml.NSItemOperations, "Properties", app.Children...), true, nil
}
