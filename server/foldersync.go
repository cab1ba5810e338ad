package server

import (
	"errors"
	"strconv"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// cmdFolderSync implements FolderSync, MS-ASCMD 2.2.1.5: the hierarchy
// changes since the client's SyncKey ("0" = everything).
func (s *Server) cmdFolderSync(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSFolderHierarchy
	key := rq.body.ChildText(ns, "SyncKey")
	if !rq.body.Has(ns, "SyncKey") {
		return s.folderStatus(rq, "FolderSync", eas.FolderStatusBadRequest), nil
	}
	ch, err := rq.session.FolderSync(rq.ctx, rq.device.ID, key)
	if err != nil {
		return s.folderStatus(rq, "FolderSync", s.folderErrStatus(err, "FolderSync")), nil
	}
	rq.easStatus = eas.FolderStatusSuccess
	changes := wbxml.New(ns, "Changes", wbxml.Int(ns, "Count", ch.Count()))
	for _, f := range ch.Updates {
		changes.Add(folderElement("Update", f))
	}
	for _, id := range ch.Deletes {
		changes.Add(wbxml.New(ns, "Delete", wbxml.Text(ns, "ServerId", id)))
	}
	for _, f := range ch.Adds {
		changes.Add(folderElement("Add", f))
	}
	return wbxml.New(ns, "FolderSync",
		wbxml.Int(ns, "Status", int(eas.FolderStatusSuccess)),
		wbxml.Text(ns, "SyncKey", ch.SyncKey),
		changes), nil
}

func folderElement(name string, f eas.Folder) *wbxml.Element {
	ns := wbxml.NSFolderHierarchy
	parent := f.ParentID
	if parent == "" {
		parent = "0"
	}
	return wbxml.New(ns, name,
		wbxml.Text(ns, "ServerId", f.ServerID),
		wbxml.Text(ns, "ParentId", parent),
		wbxml.Text(ns, "DisplayName", f.DisplayName),
		wbxml.Int(ns, "Type", int(f.Type)))
}

// cmdFolderCreate implements FolderCreate, MS-ASCMD 2.2.1.2.
func (s *Server) cmdFolderCreate(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSFolderHierarchy
	b := rq.body
	typ, ok := b.ChildInt(ns, "Type")
	name := b.ChildText(ns, "DisplayName")
	if !b.Has(ns, "SyncKey") || !b.Has(ns, "ParentId") || name == "" || !ok {
		return s.folderStatus(rq, "FolderCreate", eas.FolderStatusBadRequest), nil
	}
	newKey, id, err := rq.session.FolderCreate(rq.ctx, rq.device.ID, b.ChildText(ns, "SyncKey"),
		b.ChildText(ns, "ParentId"), name, eas.FolderType(typ))
	if err != nil {
		return s.folderStatus(rq, "FolderCreate", s.folderErrStatus(err, "FolderCreate")), nil
	}
	rq.easStatus = eas.FolderStatusSuccess
	return wbxml.New(ns, "FolderCreate",
		wbxml.Int(ns, "Status", int(eas.FolderStatusSuccess)),
		wbxml.Text(ns, "SyncKey", newKey),
		wbxml.Text(ns, "ServerId", id)), nil
}

// cmdFolderUpdate implements FolderUpdate, MS-ASCMD 2.2.1.7 (rename and move).
func (s *Server) cmdFolderUpdate(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSFolderHierarchy
	b := rq.body
	name := b.ChildText(ns, "DisplayName")
	if !b.Has(ns, "SyncKey") || b.ChildText(ns, "ServerId") == "" || !b.Has(ns, "ParentId") || name == "" {
		return s.folderStatus(rq, "FolderUpdate", eas.FolderStatusBadRequest), nil
	}
	newKey, err := rq.session.FolderUpdate(rq.ctx, rq.device.ID, b.ChildText(ns, "SyncKey"),
		b.ChildText(ns, "ServerId"), b.ChildText(ns, "ParentId"), name)
	if err != nil {
		return s.folderStatus(rq, "FolderUpdate", s.folderErrStatus(err, "FolderUpdate")), nil
	}
	rq.easStatus = eas.FolderStatusSuccess
	return wbxml.New(ns, "FolderUpdate",
		wbxml.Int(ns, "Status", int(eas.FolderStatusSuccess)),
		wbxml.Text(ns, "SyncKey", newKey)), nil
}

// cmdFolderDelete implements FolderDelete, MS-ASCMD 2.2.1.3.
func (s *Server) cmdFolderDelete(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSFolderHierarchy
	b := rq.body
	if !b.Has(ns, "SyncKey") || b.ChildText(ns, "ServerId") == "" {
		return s.folderStatus(rq, "FolderDelete", eas.FolderStatusBadRequest), nil
	}
	newKey, err := rq.session.FolderDelete(rq.ctx, rq.device.ID, b.ChildText(ns, "SyncKey"), b.ChildText(ns, "ServerId"))
	if err != nil {
		return s.folderStatus(rq, "FolderDelete", s.folderErrStatus(err, "FolderDelete")), nil
	}
	rq.easStatus = eas.FolderStatusSuccess
	return wbxml.New(ns, "FolderDelete",
		wbxml.Int(ns, "Status", int(eas.FolderStatusSuccess)),
		wbxml.Text(ns, "SyncKey", newKey)), nil
}

func (s *Server) folderStatus(rq *request, cmd string, st eas.Status) *wbxml.Element {
	rq.easStatus = st
	return wbxml.New(wbxml.NSFolderHierarchy, cmd, wbxml.Text(wbxml.NSFolderHierarchy, "Status", strconv.Itoa(int(st))))
}

// folderErrStatus maps a backend error to the folder commands' status
// values, MS-ASCMD 2.2.3.177.2–5. This is the one place where it happens.
func (s *Server) folderErrStatus(err error, cmd string) eas.Status {
	if st, ok := eas.StatusOf(err); ok {
		return st
	}
	switch {
	case errors.Is(err, eas.ErrInvalidSyncKey):
		return eas.FolderStatusInvalidSyncKey
	case errors.Is(err, eas.ErrExists):
		return eas.FolderStatusAlreadyExists
	case errors.Is(err, eas.ErrSpecialFolder):
		return eas.FolderStatusSpecialFolder
	case errors.Is(err, eas.ErrNotFound):
		if cmd == "FolderUpdate" || cmd == "FolderCreate" {
			return eas.FolderStatusParentNotFound
		}
		return eas.FolderStatusNotFound
	case errors.Is(err, eas.ErrNotSupported):
		// No better status exists: "an error occurred on the server" makes
		// clients show the failure without retrying forever.
		s.log.Info("server: folder operation refused by the source", "cmd", cmd, "err", err)
		return eas.FolderStatusServerError
	case errors.Is(err, eas.ErrBackendUnavailable):
		s.log.Warn("server: folder operation: backend unavailable", "cmd", cmd, "err", err)
		return eas.FolderStatusServerError
	}
	s.log.Error("server: folder operation failed", "cmd", cmd, "err", err)
	return eas.FolderStatusServerError
}
