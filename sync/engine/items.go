package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"sort"
	"strconv"
	"strings"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/mailconv"
	"easbridge/sync/source"
)

// fileReference names an attachment: "<CollectionId>:<UID>:<part path>",
// for example "5:1234:2.1". It resolves only within the requesting user's
// own folders, so another user's reference reaches nothing of theirs.
func fileReference(collectionID string, uid uint32, part []int) string {
	ps := make([]string, len(part))
	for i, p := range part {
		ps[i] = strconv.Itoa(p)
	}
	return collectionID + ":" + strconv.FormatUint(uint64(uid), 10) + ":" + strings.Join(ps, ".")
}

func parseFileReference(ref string) (coll string, uid uint32, part []int, ok bool) {
	first := strings.LastIndexByte(ref, ':')
	if first < 0 {
		return "", 0, nil, false
	}
	coll, uid, ok = parseServerID(ref[:first])
	if !ok {
		return "", 0, nil, false
	}
	if p := ref[first+1:]; p != "" {
		for _, x := range strings.Split(p, ".") {
			n, err := strconv.Atoi(x)
			if err != nil || n <= 0 {
				return "", 0, nil, false
			}
			part = append(part, n)
		}
	}
	return coll, uid, part, true
}

// mailboxFor resolves a collection to its IMAP mailbox for this user.
func (s *session) mailboxFor(ctx context.Context, collectionID string) (string, error) {
	if s.l.mail == nil {
		return "", fmt.Errorf("engine: no mail source: %w", eas.ErrNotFound)
	}
	key, err := s.collectionKey(ctx, collectionID)
	if err != nil {
		return "", err
	}
	mb, ok := mailboxOf(key)
	if !ok {
		return "", fmt.Errorf("engine: collection %s is not a mail folder: %w", collectionID, eas.ErrNotFound)
	}
	return mb, nil
}

// fetchOne fetches and converts one message.
func (s *session) fetchOne(ctx context.Context, collectionID string, uid uint32, opts server.ItemOptions, v eas.Version, space string) (*wbxml.Element, error) {
	mb, err := s.mailboxFor(ctx, collectionID)
	if err != nil {
		return nil, err
	}
	co := s.withRefs(s.convOptions(collectionID, opts, v), collectionID, uid)
	msgs, err := s.l.mail.Fetch(ctx, mb, []uint32{uid}, mailconv.Spec(co))
	if err != nil {
		return nil, fmt.Errorf("engine: fetch %s/%d: %w", mb, uid, err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("engine: message %s:%d: %w", collectionID, uid, eas.ErrNotFound)
	}
	return mailconv.Properties(space, msgs[0], co)
}

// FetchItem implements server.ItemFetcher.
func (s *session) FetchItem(ctx context.Context, deviceID, collectionID, serverID string, opts server.ItemOptions, v eas.Version) (*wbxml.Element, error) {
	coll, uid, ok := parseServerID(serverID)
	if !ok || coll != collectionID {
		return nil, fmt.Errorf("engine: item %q: %w", serverID, eas.ErrNotFound)
	}
	if props, ok, err := s.fetchViewItem(ctx, deviceID, coll, uid, opts, v); ok {
		return props, err // a DAV item (viewfetch.go)
	}
	if props, ok, err := s.fetchNoteItem(ctx, deviceID, coll, serverID, opts, v); ok {
		return props, err // a note of an IMAP Notes mailbox (notefetch.go)
	}
	return s.fetchOne(ctx, coll, uid, opts, v, wbxml.NSItemOperations)
}

// FetchLongID implements server.ItemFetcher; LongIds have the ServerId form.
func (s *session) FetchLongID(ctx context.Context, longID string, opts server.ItemOptions, v eas.Version) (*wbxml.Element, error) {
	coll, uid, ok := parseServerID(longID)
	if !ok {
		return nil, fmt.Errorf("engine: long id %q: %w", longID, eas.ErrNotFound)
	}
	return s.fetchOne(ctx, coll, uid, opts, v, wbxml.NSItemOperations)
}

// OpenAttachment implements server.ItemFetcher: the part is streamed from
// IMAP and decoded on the fly; it is never held whole in memory.
func (s *session) OpenAttachment(ctx context.Context, ref string) (*server.Attachment, error) {
	if coll, p, ok := parseGroupwareRef(ref); ok {
		return s.openGroupwareAttachment(ctx, coll, p) // viewmail.go
	}
	coll, uid, part, ok := parseFileReference(ref)
	if !ok {
		return nil, fmt.Errorf("engine: file reference %q: %w", ref, eas.ErrNotFound)
	}
	mb, err := s.mailboxFor(ctx, coll)
	if err != nil {
		return nil, err
	}
	msgs, err := s.l.mail.Fetch(ctx, mb, []uint32{uid}, source.FetchSpec{})
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("engine: attachment %q: %w", ref, eas.ErrNotFound)
	}
	p := findPart(msgs[0].Root, part)
	if p == nil {
		return nil, fmt.Errorf("engine: attachment %q: no such part: %w", ref, eas.ErrNotFound)
	}
	body, size, err := s.l.mail.OpenPart(ctx, mb, uid, part)
	if err != nil {
		return nil, fmt.Errorf("engine: open attachment %q: %w", ref, err)
	}
	att := &server.Attachment{ContentType: p.Type + "/" + p.Subtype, Size: -1}
	switch p.Encoding {
	case "base64":
		att.Body = readCloser{base64.NewDecoder(base64.StdEncoding, newlineStripper{body}), body}
		if size >= 0 {
			att.Size = -1 // decoded size unknown up front (line breaks)
		}
	case "quoted-printable":
		att.Body = readCloser{quotedprintable.NewReader(body), body}
	default:
		att.Body, att.Size = body, size
	}
	return att, nil
}

func findPart(root *source.Part, path []int) *source.Part {
	if root == nil {
		return nil
	}
	if len(root.Path) == len(path) {
		match := true
		for i := range path {
			if root.Path[i] != path[i] {
				match = false
				break
			}
		}
		if match {
			return root
		}
	}
	for _, c := range root.Children {
		if p := findPart(c, path); p != nil {
			return p
		}
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// newlineStripper drops CR and LF so that base64 decoding of a MIME body
// works on a stream.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// EmptyFolder implements server.ItemFetcher (ItemOperations
// EmptyFolderContents): every message is moved to Trash, or expunged when
// the folder is Trash.
func (s *session) EmptyFolder(ctx context.Context, deviceID, collectionID string, deleteSubFolders bool) error {
	mb, err := s.mailboxFor(ctx, collectionID)
	if err != nil {
		return err
	}
	_, list, err := s.l.mail.List(ctx, mb, timeZero)
	if err != nil {
		return err
	}
	trash, _ := s.l.mail.SpecialUse(ctx, `\Trash`)
	for _, m := range list {
		if trash != "" && trash != mb {
			_, err = s.l.mail.Move(ctx, mb, m.UID, trash)
		} else {
			err = s.l.mail.Delete(ctx, mb, m.UID)
		}
		if err != nil {
			return fmt.Errorf("engine: empty %s: %w", mb, err)
		}
	}
	if deleteSubFolders {
		h, err := s.store().Hierarchy(ctx, s.l.user, deviceID)
		if err == nil {
			for _, d := range descendants(h.Folders, collectionID) {
				if k, err := s.store().FolderKey(ctx, s.l.user, d.ServerID); err == nil {
					if ns, err := s.sourceFor(k, 0); err == nil {
						_ = ns.src.DeleteFolder(ctx, k)
					}
				}
			}
		}
	}
	return nil
}

// MoveItem implements server.ItemMover (MS-ASCMD 2.2.1.12). Both folders'
// states are patched so that the move is not echoed to the device as a
// Delete and an Add.
func (s *session) MoveItem(ctx context.Context, deviceID, serverID, srcCollection, dstCollection string) (string, error) {
	coll, uid, ok := parseServerID(serverID)
	if !ok || coll != srcCollection {
		return "", eas.Errorf(eas.MoveStatusInvalidSource, "invalid source item %q", serverID)
	}
	src, err := s.mailboxFor(ctx, srcCollection)
	if err != nil {
		return "", eas.Errorf(eas.MoveStatusInvalidSource, "source folder %s", srcCollection)
	}
	dst, err := s.mailboxFor(ctx, dstCollection)
	if err != nil {
		return "", eas.Errorf(eas.MoveStatusInvalidDestination, "destination folder %s", dstCollection)
	}
	if src == dst {
		return "", eas.Errorf(eas.MoveStatusSameFolder, "source and destination are the same")
	}
	// One MoveItems of a message at a time, whichever device sends it
	// (moveintent.go).
	defer s.e.moveLocks.lock(moveLockKey(s.l.user, src, uid))()
	msgs, err := s.l.mail.Fetch(ctx, src, []uint32{uid}, source.FetchSpec{})
	if err != nil {
		return "", eas.Errorf(eas.MoveStatusFailure, "fetch: %v", err)
	}
	var m *source.Message
	if len(msgs) > 0 {
		m = msgs[0]
	} else if dstID, ok := s.repeatedMove(ctx, deviceID, serverID, dstCollection); ok { // moves.go
		return dstID, nil
	}
	// An unfinished earlier try (killed mid-MOVE) may have put the message
	// in the destination already (moveintent.go).
	earlier := s.unfinishedMove(ctx, deviceID, serverID, dstCollection)
	if earlier == nil { // another device's, for the same message
		earlier = s.othersUnfinishedMove(ctx, deviceID, src, dst, uid, s.srcValidity(ctx, deviceID, srcCollection))
	}
	newUID, flags, resumed, err := s.resumeMove(ctx, earlier, src, uid, m)
	if err != nil {
		return "", err
	}
	if !resumed {
		if m == nil {
			return "", eas.Errorf(eas.MoveStatusInvalidSource, "no message %s", serverID)
		}
		s.beginMove(ctx, deviceID, serverID, srcCollection, dstCollection, src, dst, uid, m, earlier)
		if newUID, err = s.l.mail.Move(ctx, src, uid, dst); err != nil {
			return "", eas.Errorf(eas.MoveStatusFailure, "move: %v", err)
		}
		s.afterRepeatedMove(ctx, earlier, newUID)
		flags = m.Flags
	}
	dstID := dstCollection + ":0" // the server did not tell the new UID: the next Sync of the destination sends it as an Add
	if newUID != 0 {
		dstID = dstMsgID(dstCollection, newUID)
	}
	s.recordMove(ctx, deviceID, recordedMove{Src: serverID, DstColl: dstCollection, Dst: dstID})
	// The destination records the flags the device has (the source's
	// view), not the message's current ones: when another client changed
	// them meanwhile, the next Sync of the destination sends the Change
	// (found by the soak, docs/RELIABILITY.md).
	has := flagsHash(flags)
	s.patchState(ctx, deviceID, srcCollection, func(st *mailState) {
		if h, ok := st.View.Get(uid); ok {
			has = h
		}
		st.View.Delete(uid)
		delete(st.Pending, uid)
		st.dropAdd(uid)
	})
	if newUID != 0 {
		s.patchState(ctx, deviceID, dstCollection, func(st *mailState) {
			if st.View != nil && st.Primed {
				st.View.Set(newUID, has)
			}
		})
	}
	return dstID, nil
}

// patchState changes the current state of a collection in place (same key).
func (s *session) patchState(ctx context.Context, deviceID, collectionID string, f func(*mailState)) {
	col, err := s.store().Collection(ctx, s.l.user, deviceID, collectionID)
	if err != nil || col.Key == 0 {
		return
	}
	st, err := decodeMailState(col.Data, true)
	if err != nil {
		return
	}
	f(st)
	if err := s.store().ReplaceCollection(ctx, s.l.user, deviceID, collectionID, col.Key, col.Key, st.encode()); err != nil {
		s.e.log.Info("engine: patch state after move", "collection", collectionID, "err", err)
	}
}

// SearchMailbox implements server.Searcher with IMAP SEARCH TEXT in each
// asked folder (every mail folder of the hierarchy when none is named).
func (s *session) SearchMailbox(ctx context.Context, q server.SearchQuery) ([]server.SearchHit, int, error) {
	if s.l.mail == nil {
		return nil, 0, fmt.Errorf("engine: no mail source: %w", eas.ErrNotSupported)
	}
	colls := q.CollectionIDs
	if len(colls) == 0 {
		ids, err := s.mailCollections(ctx)
		if err != nil {
			return nil, 0, err
		}
		colls = ids
	}
	type found struct {
		coll string
		mb   string
		uid  uint32
	}
	var all []found
	for _, c := range colls {
		mb, err := s.mailboxFor(ctx, c)
		if err != nil {
			continue
		}
		uids, err := s.l.mail.Search(ctx, mb, source.SearchCriteria{Text: q.FreeText, Since: q.Since, Until: q.Until})
		if err != nil {
			return nil, 0, fmt.Errorf("engine: search %s: %w", mb, err)
		}
		for _, u := range uids {
			all = append(all, found{c, mb, u})
		}
	}
	// Newest first within a folder (higher UIDs are newer).
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].coll != all[j].coll {
			return false
		}
		return all[i].uid > all[j].uid
	})
	total := len(all)
	start, end := q.RangeStart, q.RangeEnd
	if end <= 0 || end >= total {
		end = total - 1
	}
	if start < 0 || start > end {
		return nil, total, nil
	}
	var hits []server.SearchHit
	for _, f := range all[start : end+1] {
		props, err := s.fetchOne(ctx, f.coll, f.uid, q.Options, q.Version, wbxml.NSSearch)
		if err != nil {
			if errors.Is(err, eas.ErrNotFound) {
				continue
			}
			return nil, 0, err
		}
		hits = append(hits, server.SearchHit{
			LongID: f.coll + ":" + strconv.FormatUint(uint64(f.uid), 10), CollectionID: f.coll,
			Class: "Email", Properties: props,
		})
	}
	return hits, total, nil
}

// mailCollections lists the ServerIds of this user's mail folders.
func (s *session) mailCollections(ctx context.Context) ([]string, error) {
	srcs := s.l.sources()
	if len(srcs) == 0 {
		return nil, nil
	}
	fs, err := srcs[0].src.Folders(ctx)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, f := range fs {
		if _, ok := mailboxOf(f.Key); ok {
			keys = append(keys, f.Key)
		}
	}
	ids, err := s.store().FolderIDs(ctx, s.l.user, keys)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ids))
	for _, k := range keys {
		out = append(out, ids[k])
	}
	return out, nil
}
