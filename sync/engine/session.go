package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	gosync "sync"

	"easbridge/server/eas"
	"easbridge/sync/source"
	"easbridge/sync/state"
)

// session implements server.Session for one request.
type session struct {
	e *Engine
	l *login
}

func (s *session) User() string  { return s.l.user }
func (s *session) Email() string { return s.l.email }

func (s *session) DisplayName() string {
	name, _, _ := strings.Cut(s.l.email, "@")
	return name
}

func (s *session) store() state.Store { return s.e.opts.Store }

// liveFolders lists every source's folders and gives them ServerIds. A
// source that fails keeps the folders it had in prev (the hierarchy last
// sent), so that an outage never reads as a deletion.
func (s *session) liveFolders(ctx context.Context, deviceID string, prev []eas.Folder) ([]eas.Folder, error) {
	srcs := s.l.sources()
	lists := make([][]source.Folder, len(srcs))
	errs := make([]error, len(srcs))
	var wg gosync.WaitGroup
	for i, ns := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lists[i], errs[i] = ns.src.Folders(ctx)
		}()
	}
	wg.Wait()

	var all []source.Folder
	failed := 0
	for i, ns := range srcs {
		if errs[i] == nil {
			all = append(all, lists[i]...)
			continue
		}
		if errors.Is(errs[i], eas.ErrAuthFailed) && i == 0 {
			return nil, errs[i]
		}
		failed++
		s.e.log.Warn("engine: folder source failed; keeping its folders as last sent", "user", s.l.user, "source", ns.prefixes[0], "err", errs[i])
	}
	if failed == len(srcs) {
		return nil, fmt.Errorf("engine: list folders: %w: %w", eas.ErrBackendUnavailable, errors.Join(errs...))
	}
	all = s.placeNotes(ctx, all, prev, errs) // notesfolders.go
	all = distinctNames(all)                 // foldernames.go
	// The device's view: visibility, modes, merges, class switches (view.go).
	offer, err := s.viewOf(ctx, deviceID, all, failed > 0)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(offer.folders))
	for _, f := range offer.folders {
		keys = append(keys, f.Key)
	}
	ids, err := s.store().FolderIDs(ctx, s.l.user, keys)
	if err != nil {
		return nil, fmt.Errorf("engine: folder ids: %w", err)
	}
	out := make([]eas.Folder, 0, len(offer.folders))
	for _, f := range offer.folders {
		parent := "0"
		if f.ParentKey != "" {
			if p, ok := ids[f.ParentKey]; ok {
				parent = p
			}
		}
		out = append(out, eas.Folder{ServerID: ids[f.Key], ParentID: parent, DisplayName: f.Name, Type: f.Type})
	}
	// Carry over the folders of failed sources (a view folder belongs to
	// the source of its folder).
	for i, ns := range srcs {
		if errs[i] == nil {
			continue
		}
		for _, f := range prev {
			key, err := s.store().FolderKey(ctx, s.l.user, f.ServerID)
			if err == nil && ns.owns(sourceKey(key)) {
				out = append(out, f)
			}
		}
	}
	return orderParentsFirst(out), nil
}

// FolderSync implements server.Hierarchy, MS-ASCMD 2.2.1.5.
func (s *session) FolderSync(ctx context.Context, deviceID, syncKey string) (eas.FolderChanges, error) {
	h, err := s.store().Hierarchy(ctx, s.l.user, deviceID)
	if err != nil {
		return eas.FolderChanges{}, fmt.Errorf("engine: hierarchy state: %w", err)
	}
	key, err := parseKey(syncKey)
	if err != nil {
		return eas.FolderChanges{}, err
	}
	gen := s.settingsGeneration(ctx) // read first: a change during this FolderSync makes another one
	switch {
	case key == 0:
		live, err := s.liveFolders(ctx, deviceID, h.Folders)
		if err != nil {
			return eas.FolderChanges{}, err
		}
		if err := s.store().PutHierarchy(ctx, s.l.user, deviceID, 0, 1, live); err != nil {
			return eas.FolderChanges{}, fmt.Errorf("engine: store hierarchy: %w", err)
		}
		adds, _, _ := diffFolders(nil, live)
		s.folderSynced(ctx, deviceID, gen)
		return eas.FolderChanges{SyncKey: "1", Adds: adds}, nil
	case key == h.Key:
		live, err := s.liveFolders(ctx, deviceID, h.Folders)
		if err != nil {
			return eas.FolderChanges{}, err
		}
		adds, updates, deletes := diffFolders(h.Folders, live)
		ch := eas.FolderChanges{SyncKey: strconv.Itoa(h.Key), Adds: adds, Updates: updates, Deletes: deletes}
		if ch.Count() == 0 {
			s.folderSynced(ctx, deviceID, gen)
			return ch, nil
		}
		if err := s.store().PutHierarchy(ctx, s.l.user, deviceID, h.Key, h.Key+1, live); err != nil {
			return eas.FolderChanges{}, fmt.Errorf("engine: store hierarchy: %w", err)
		}
		s.folderSynced(ctx, deviceID, gen)
		for _, id := range deletes {
			// A folder gone (or hidden, or offered in another mode) leaves
			// no item state behind; if it comes back the phone starts it
			// over with SyncKey 0.
			if err := s.store().DeleteCollection(ctx, s.l.user, deviceID, id); err != nil {
				s.e.log.Warn("engine: drop collection state", "folder", id, "err", err)
			}
		}
		ch.SyncKey = strconv.Itoa(h.Key + 1)
		return ch, nil
	case key == h.PrevKey && h.PrevKey > 0:
		// The client did not get our last answer: send it again.
		adds, updates, deletes := diffFolders(h.PrevFolders, h.Folders)
		return eas.FolderChanges{SyncKey: strconv.Itoa(h.Key), Adds: adds, Updates: updates, Deletes: deletes}, nil
	}
	return eas.FolderChanges{}, fmt.Errorf("engine: FolderSync key %q (current %d): %w", syncKey, h.Key, eas.ErrInvalidSyncKey)
}

func parseKey(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("engine: sync key %q: %w", s, eas.ErrInvalidSyncKey)
	}
	return n, nil
}

// currentHierarchy loads the state and checks that syncKey is its current
// key (folder operations must carry the latest FolderSync key).
func (s *session) currentHierarchy(ctx context.Context, deviceID, syncKey string) (state.Hierarchy, error) {
	h, err := s.store().Hierarchy(ctx, s.l.user, deviceID)
	if err != nil {
		return h, fmt.Errorf("engine: hierarchy state: %w", err)
	}
	key, err := parseKey(syncKey)
	if err != nil {
		return h, err
	}
	if key == 0 || key != h.Key {
		return h, fmt.Errorf("engine: folder operation with key %q (current %d): %w", syncKey, h.Key, eas.ErrInvalidSyncKey)
	}
	return h, nil
}

// sourceFor picks the source that holds folders of a type, or the one that
// owns an existing key.
func (s *session) sourceFor(key string, typ eas.FolderType) (namedSource, error) {
	srcs := s.l.sources()
	if key != "" {
		for _, ns := range srcs {
			if ns.owns(key) {
				return ns, nil
			}
		}
		return namedSource{}, fmt.Errorf("engine: no source owns %q: %w", key, eas.ErrNotFound)
	}
	switch typ.Class() {
	case "Email":
		return srcs[0], nil
	default:
		if len(srcs) > 1 {
			return srcs[1], nil
		}
	}
	return namedSource{}, fmt.Errorf("engine: no source for %s folders: %w", typ, eas.ErrNotSupported)
}

func (s *session) keyOf(ctx context.Context, serverID string) (string, error) {
	k, err := s.store().FolderKey(ctx, s.l.user, serverID)
	if errors.Is(err, state.ErrNotFound) {
		return "", eas.Errorf(eas.FolderStatusNotFound, "folder %s", serverID)
	}
	return k, err
}

// FolderCreate implements server.Hierarchy, MS-ASCMD 2.2.1.2.
func (s *session) FolderCreate(ctx context.Context, deviceID, syncKey, parentID, name string, typ eas.FolderType) (string, string, error) {
	h, err := s.currentHierarchy(ctx, deviceID, syncKey)
	if err != nil {
		return "", "", err
	}
	parentKey := ""
	if parentID != "0" && parentID != "" {
		if !inHierarchy(h.Folders, parentID) {
			return "", "", eas.Errorf(eas.FolderStatusParentNotFound, "parent %s", parentID)
		}
		if parentKey, err = s.keyOf(ctx, parentID); err != nil {
			return "", "", eas.Errorf(eas.FolderStatusParentNotFound, "parent %s", parentID)
		}
	}
	for _, f := range h.Folders {
		if f.ParentID == orZero(parentID) && strings.EqualFold(f.DisplayName, name) {
			return "", "", fmt.Errorf("engine: create %q: %w", name, eas.ErrExists)
		}
	}
	ns, err := s.sourceFor("", typ)
	if err != nil {
		return "", "", err
	}
	if parentKey != "" && !ns.owns(parentKey) {
		return "", "", fmt.Errorf("engine: create %s folder under a folder of another kind: %w", typ, eas.ErrNotSupported)
	}
	f, err := ns.src.CreateFolder(ctx, parentKey, name, typ)
	if err != nil {
		return "", "", fmt.Errorf("engine: create folder %q: %w", name, err)
	}
	ids, err := s.store().FolderIDs(ctx, s.l.user, []string{f.Key})
	if err != nil {
		return "", "", fmt.Errorf("engine: folder id: %w", err)
	}
	nf := eas.Folder{ServerID: ids[f.Key], ParentID: orZero(parentID), DisplayName: f.Name, Type: f.Type}
	next := append(append([]eas.Folder(nil), h.Folders...), nf)
	if err := s.store().PutHierarchy(ctx, s.l.user, deviceID, h.Key, h.Key+1, next); err != nil {
		return "", "", fmt.Errorf("engine: store hierarchy: %w", err)
	}
	return strconv.Itoa(h.Key + 1), nf.ServerID, nil
}

// FolderUpdate implements server.Hierarchy, MS-ASCMD 2.2.1.7.
func (s *session) FolderUpdate(ctx context.Context, deviceID, syncKey, serverID, parentID, name string) (string, error) {
	h, err := s.currentHierarchy(ctx, deviceID, syncKey)
	if err != nil {
		return "", err
	}
	if !inHierarchy(h.Folders, serverID) {
		return "", eas.Errorf(eas.FolderStatusNotFound, "folder %s", serverID)
	}
	key, err := s.keyOf(ctx, serverID)
	if err != nil {
		return "", err
	}
	parentKey := ""
	if orZero(parentID) != "0" {
		if !inHierarchy(h.Folders, parentID) || parentID == serverID || isDescendant(h.Folders, parentID, serverID) {
			return "", eas.Errorf(eas.FolderStatusParentNotFound, "parent %s", parentID)
		}
		if parentKey, err = s.keyOf(ctx, parentID); err != nil {
			return "", eas.Errorf(eas.FolderStatusParentNotFound, "parent %s", parentID)
		}
	}
	ns, err := s.sourceFor(key, 0)
	if err != nil {
		return "", err
	}
	f, err := ns.src.RenameFolder(ctx, key, parentKey, name)
	if err != nil {
		return "", fmt.Errorf("engine: update folder %s: %w", serverID, err)
	}
	if f.Key != key {
		// The ServerId follows the folder, and its descendants' keys move too.
		if err := s.store().RenameFolderKey(ctx, s.l.user, key, f.Key); err != nil {
			return "", fmt.Errorf("engine: rename folder key: %w", err)
		}
		for _, d := range descendants(h.Folders, serverID) {
			dk, err := s.store().FolderKey(ctx, s.l.user, d.ServerID)
			if err != nil || !strings.HasPrefix(dk, key) {
				continue
			}
			if err := s.store().RenameFolderKey(ctx, s.l.user, dk, f.Key+dk[len(key):]); err != nil {
				return "", fmt.Errorf("engine: rename child folder key: %w", err)
			}
		}
	}
	next := make([]eas.Folder, 0, len(h.Folders))
	for _, x := range h.Folders {
		if x.ServerID == serverID {
			x.ParentID, x.DisplayName = orZero(parentID), f.Name
		}
		next = append(next, x)
	}
	if err := s.store().PutHierarchy(ctx, s.l.user, deviceID, h.Key, h.Key+1, next); err != nil {
		return "", fmt.Errorf("engine: store hierarchy: %w", err)
	}
	return strconv.Itoa(h.Key + 1), nil
}

// FolderDelete implements server.Hierarchy, MS-ASCMD 2.2.1.3.
func (s *session) FolderDelete(ctx context.Context, deviceID, syncKey, serverID string) (string, error) {
	h, err := s.currentHierarchy(ctx, deviceID, syncKey)
	if err != nil {
		return "", err
	}
	if !inHierarchy(h.Folders, serverID) {
		return "", eas.Errorf(eas.FolderStatusNotFound, "folder %s", serverID)
	}
	key, err := s.keyOf(ctx, serverID)
	if err != nil {
		return "", err
	}
	ns, err := s.sourceFor(key, 0)
	if err != nil {
		return "", err
	}
	if err := ns.src.DeleteFolder(ctx, key); err != nil {
		return "", fmt.Errorf("engine: delete folder %s: %w", serverID, err)
	}
	gone := map[string]bool{serverID: true}
	for _, d := range descendants(h.Folders, serverID) {
		gone[d.ServerID] = true
	}
	next := make([]eas.Folder, 0, len(h.Folders))
	for _, x := range h.Folders {
		if !gone[x.ServerID] {
			next = append(next, x)
		}
	}
	if err := s.store().PutHierarchy(ctx, s.l.user, deviceID, h.Key, h.Key+1, next); err != nil {
		return "", fmt.Errorf("engine: store hierarchy: %w", err)
	}
	for id := range gone {
		if err := s.store().DeleteCollection(ctx, s.l.user, deviceID, id); err != nil {
			s.e.log.Warn("engine: drop collection state", "folder", id, "err", err)
		}
	}
	return strconv.Itoa(h.Key + 1), nil
}

func orZero(id string) string {
	if id == "" {
		return "0"
	}
	return id
}

func inHierarchy(fs []eas.Folder, id string) bool {
	for _, f := range fs {
		if f.ServerID == id {
			return true
		}
	}
	return false
}

// descendants returns every folder below id.
func descendants(fs []eas.Folder, id string) []eas.Folder {
	var out []eas.Folder
	frontier := map[string]bool{id: true}
	for changed := true; changed; {
		changed = false
		for _, f := range fs {
			if frontier[f.ParentID] && !frontier[f.ServerID] {
				frontier[f.ServerID] = true
				out = append(out, f)
				changed = true
			}
		}
	}
	return out
}

// isDescendant reports whether id lies below ancestor.
func isDescendant(fs []eas.Folder, id, ancestor string) bool {
	for _, d := range descendants(fs, ancestor) {
		if d.ServerID == id {
			return true
		}
	}
	return false
}
