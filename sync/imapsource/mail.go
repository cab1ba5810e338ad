package imapsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

var _ source.Mail = (*Account)(nil)

const (
	// selectFresh is how long a selected mailbox is trusted without a
	// NOOP: Dovecot shows a session the messages added (or flags changed)
	// by others only when it syncs, at SELECT, NOOP and a few other
	// commands, not at UID FETCH or UID STORE.
	selectFresh = 5 * time.Second
	// maxSetLen bounds the UID set of one command, well under the 8192
	// octet command line RFC 7162 §4 recommends clients stay within.
	maxSetLen = 4000
	// drainMax is the most a stream closed early reads to keep its
	// connection; beyond, the connection is closed instead.
	drainMax = 256 << 10
	// literalIdle bounds the wait for each read of a streamed body.
	literalIdle = 5 * time.Minute
)

// Status returns the cheap state of a mailbox: one STATUS (RFC 3501
// §6.3.10) with HIGHESTMODSEQ when the server has CONDSTORE (RFC 7162
// §3.1.7).
func (a *Account) Status(ctx context.Context, mailbox string) (source.MailboxStatus, error) {
	const op = "status"
	var st source.MailboxStatus
	if err := checkMailbox(op, mailbox); err != nil {
		return st, err
	}
	err := a.withPC(ctx, func(pc *poolConn) error {
		opts := &imap.StatusOptions{
			UIDValidity:   true,
			UIDNext:       true,
			NumMessages:   true,
			HighestModSeq: pc.c.Caps().Has(imap.CapCondStore),
		}
		if pc.selected != "" {
			// RFC 3501 6.3.10: STATUS on the selected mailbox may answer
			// from the session's stale view (Dovecot does), so leave it
			// first (UNSELECT, RFC 3691; CLOSE would expunge).
			if pc.c.Caps().Has(imap.CapUnselect) {
				if err := pc.c.Unselect().Wait(); err != nil {
					return err
				}
				pc.selected = ""
			} else if pc.selected == canonical(mailbox) {
				if err := pc.c.Noop().Wait(); err != nil {
					return err
				}
			}
		}
		data, err := pc.c.Status(mailbox, opts).Wait()
		if err != nil {
			return noMailbox("status", mailbox, err)
		}
		st = source.MailboxStatus{UIDValidity: data.UIDValidity, UIDNext: uint32(data.UIDNext), HighestModSeq: data.HighestModSeq}
		if data.NumMessages != nil {
			st.Messages = *data.NumMessages
		}
		return nil
	})
	if err != nil {
		return source.MailboxStatus{}, mapErr(ctx, fmt.Sprintf("%s %q", op, mailbox), err)
	}
	return st, nil
}

// List returns the state of every message with INTERNALDATE on or after
// since (all when since is zero), sorted by UID, and the mailbox status from
// the SELECT it did: EXAMINE, UID SEARCH SINCE (only with since), then one
// UID FETCH (UID FLAGS INTERNALDATE RFC822.SIZE [MODSEQ]) per UID set of at
// most maxSetLen octets, pipelined and streamed.
func (a *Account) List(ctx context.Context, mailbox string, since time.Time) (source.MailboxStatus, []source.MessageState, error) {
	const op = "list"
	var (
		st   source.MailboxStatus
		msgs []source.MessageState
	)
	if err := checkMailbox(op, mailbox); err != nil {
		return st, nil, err
	}
	err := a.withPC(ctx, func(pc *poolConn) error {
		data, err := a.selectBox(pc, mailbox, pc.selected == canonical(mailbox) && pc.writable)
		if err != nil {
			return err
		}
		st = statusOf(data)
		if data.NumMessages == 0 {
			return nil
		}
		sets := []imap.UIDSet{{{Start: 1, Stop: 0}}} // 1:*
		if !since.IsZero() {
			sd, err := pc.c.UIDSearch(&imap.SearchCriteria{Since: searchSince(since)}, nil).Wait()
			if err != nil {
				return err
			}
			uids := uidsOf(sd.AllUIDs())
			if len(uids) == 0 {
				return nil
			}
			sets = uidChunks(uids)
		}
		opts := &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true, ModSeq: data.HighestModSeq > 0}
		msgs, err = fetchStates(pc.c, sets, opts)
		return err
	})
	if err != nil {
		return source.MailboxStatus{}, nil, mapErr(ctx, fmt.Sprintf("%s %q", op, mailbox), err)
	}
	if !since.IsZero() {
		msgs = slices.DeleteFunc(msgs, func(m source.MessageState) bool { return m.InternalDate.Before(since) })
	}
	slices.SortFunc(msgs, func(x, y source.MessageState) int { return cmpUID(x.UID, y.UID) })
	return st, msgs, nil
}

// ChangesSince returns what changed in mailbox after modSeq (RFC 7162),
// see the package documentation. It needs QRESYNC to report expunges:
// on a server with CONDSTORE but no QRESYNC it returns an error wrapping
// source.ErrNoCondstore; use ChangesSinceKnown there.
func (a *Account) ChangesSince(ctx context.Context, mailbox string, uidValidity uint32, modSeq uint64, since time.Time) (source.MailChanges, error) {
	return a.changes(ctx, mailbox, uidValidity, modSeq, since, nil, false)
}

// ChangesSinceKnown is ChangesSince for a caller that knows which UIDs it
// holds: Vanished is limited to known, and a server with CONDSTORE but
// without QRESYNC is supported too: there the expunged UIDs are those of
// known that a UID SEARCH UID <known> no longer finds (one more command).
func (a *Account) ChangesSinceKnown(ctx context.Context, mailbox string, uidValidity uint32, modSeq uint64, since time.Time, known []uint32) (source.MailChanges, error) {
	return a.changes(ctx, mailbox, uidValidity, modSeq, since, known, true)
}

func (a *Account) changes(ctx context.Context, mailbox string, uidValidity uint32, modSeq uint64, since time.Time, known []uint32, haveKnown bool) (source.MailChanges, error) {
	const op = "changes"
	var ch source.MailChanges
	if err := checkMailbox(op, mailbox); err != nil {
		return ch, err
	}
	if modSeq == 0 {
		return ch, fmt.Errorf("imapsource: %s %q: no MODSEQ to start from: %w", op, mailbox, source.ErrNoCondstore)
	}
	err := a.withPC(ctx, func(pc *poolConn) error {
		caps := pc.c.Caps()
		if !caps.Has(imap.CapCondStore) {
			return fmt.Errorf("imapsource: %s %q: %w", op, mailbox, source.ErrNoCondstore)
		}
		if caps.Has(imap.CapQResync) && !pc.qresync {
			if err := a.enableQResync(ctx, pc); err != nil {
				return err
			}
		}
		if !pc.qresync && !haveKnown {
			return fmt.Errorf("imapsource: %s %q: server has CONDSTORE but no QRESYNC, so expunges cannot be reported without the known UIDs: %w",
				op, mailbox, source.ErrNoCondstore)
		}
		data, err := a.selectBox(pc, mailbox, pc.selected == canonical(mailbox) && pc.writable)
		if err != nil {
			return err
		}
		if data.UIDValidity != uidValidity {
			return fmt.Errorf("imapsource: %s %q: UIDVALIDITY %d, was %d: %w", op, mailbox, data.UIDValidity, uidValidity, source.ErrUIDValidity)
		}
		if data.HighestModSeq == 0 { // RFC 7162 §3.1.2.2 NOMODSEQ
			return fmt.Errorf("imapsource: %s %q: mailbox has no mod-sequences: %w", op, mailbox, source.ErrNoCondstore)
		}
		ch.Status = statusOf(data)
		if pc.qresync {
			// With QRESYNC an expunge, too, raises HIGHESTMODSEQ (RFC 7162
			// §3.2: the server MUST increment the mailbox mod-sequence
			// when messages are expunged), so an unchanged value means
			// nothing changed: one command in all.
			if data.HighestModSeq <= modSeq || data.UIDNext == 1 {
				return nil
			}
			ch.Changed, ch.Vanished, err = a.fetchChangedVanished(ctx, pc, modSeq, uint32(data.UIDNext))
			return err
		}
		ch.Changed, ch.Vanished, err = a.condstoreChanges(pc, data, modSeq, known)
		return err
	})
	if err != nil {
		return source.MailChanges{}, mapErr(ctx, fmt.Sprintf("%s %q", op, mailbox), err)
	}
	if !since.IsZero() {
		ch.Changed = slices.DeleteFunc(ch.Changed, func(m source.MessageState) bool { return m.InternalDate.Before(since) })
	}
	if haveKnown && len(ch.Vanished) > 0 {
		k := sortUnique(slices.Clone(known))
		ch.Vanished = slices.DeleteFunc(ch.Vanished, func(u uint32) bool {
			_, found := slices.BinarySearch(k, u)
			return !found
		})
	}
	return ch, nil
}

// enableQResync sends ENABLE QRESYNC (RFC 7162 §3.2.3, RFC 5161) as a raw
// command: imapclient refuses to enable it.
func (a *Account) enableQResync(ctx context.Context, pc *poolConn) error {
	enabled := false
	err := pc.w.exchange(ctx, pc.nextTag(), "ENABLE QRESYNC", func(resp []byte) error {
		if _, kind, rest, ok := untagged(resp); ok && kind == "ENABLED" && parseEnabled(rest, "QRESYNC") {
			enabled = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("imapsource: ENABLE QRESYNC: %w", err)
	}
	pc.qresync = enabled
	if !enabled {
		a.log.Warn("imapsource: server advertises QRESYNC but did not enable it")
	}
	return nil
}

// fetchChangedVanished runs, on the selected mailbox, the raw
//
//	UID FETCH 1:<uidNext-1> (UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ) (CHANGEDSINCE m VANISHED)
//
// (RFC 7162 §3.2.6): FETCH responses for the messages changed or added
// after modSeq and VANISHED (EARLIER) for those expunged since. The UID range
// ends at UIDNEXT-1 rather than "*" so that expunged messages above the
// highest remaining UID are covered.
func (a *Account) fetchChangedVanished(ctx context.Context, pc *poolConn, modSeq uint64, uidNext uint32) ([]source.MessageState, []uint32, error) {
	set := "1:*"
	if uidNext > 1 {
		set = "1:" + strconv.FormatUint(uint64(uidNext-1), 10)
	}
	cmd := fmt.Sprintf("UID FETCH %s (UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ) (CHANGEDSINCE %d VANISHED)", set, modSeq)
	byUID := make(map[uint32]*fetchAtts)
	var vanished []uint32
	err := pc.w.exchange(ctx, pc.nextTag(), cmd, func(resp []byte) error {
		_, kind, rest, ok := untagged(resp)
		if !ok {
			return syntaxErr("response to UID FETCH", resp)
		}
		switch kind {
		case "VANISHED": // RFC 7162 3.2.10 VANISHED, (EARLIER) or not
			uids, err := parseVanished(rest, uidNext)
			if err != nil {
				return err
			}
			vanished = append(vanished, uids...)
		case "FETCH":
			fa, err := parseFetch(rest)
			if err != nil {
				return err
			}
			if fa.uid == 0 {
				return nil // unilateral flag news without UID: useless here
			}
			mergeAtts(byUID, fa)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	vanished = sortUnique(vanished)
	changed := make([]source.MessageState, 0, len(byUID))
	for uid, fa := range byUID {
		if !fa.hasDate || !fa.hasFlags {
			// Only unilateral news of a change made after our SELECT: the
			// next call reports it in full.
			continue
		}
		if _, gone := slices.BinarySearch(vanished, uid); gone {
			continue
		}
		changed = append(changed, source.MessageState{
			UID: uid, Flags: cleanFlags(fa.flags), ModSeq: fa.modSeq, InternalDate: fa.internalDate, Size: fa.size,
		})
	}
	slices.SortFunc(changed, func(x, y source.MessageState) int { return cmpUID(x.UID, y.UID) })
	return changed, vanished, nil
}

// mergeAtts folds a FETCH response into what is known of its message: a
// unilateral FETCH may repeat a message with newer flags.
func mergeAtts(byUID map[uint32]*fetchAtts, fa fetchAtts) {
	cur, ok := byUID[fa.uid]
	if !ok {
		byUID[fa.uid] = &fa
		return
	}
	if fa.hasFlags && (!cur.hasFlags || fa.modSeq >= cur.modSeq) {
		cur.flags, cur.hasFlags = fa.flags, true
	}
	cur.modSeq = max(cur.modSeq, fa.modSeq)
	if fa.hasDate {
		cur.internalDate, cur.hasDate = fa.internalDate, true
	}
	if fa.hasSize {
		cur.size, cur.hasSize = fa.size, true
	}
}

// condstoreChanges is change detection without QRESYNC (RFC 7162 §3.1):
// UID FETCH 1:* (…) (CHANGEDSINCE m) when HIGHESTMODSEQ moved, and
// UID SEARCH UID <known>, whose missing UIDs were expunged, both pipelined.
func (a *Account) condstoreChanges(pc *poolConn, data *imap.SelectData, modSeq uint64, known []uint32) ([]source.MessageState, []uint32, error) {
	var fetches []*imapclient.FetchCommand
	if data.HighestModSeq > modSeq && data.NumMessages > 0 {
		opts := &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true, ModSeq: true, ChangedSince: modSeq}
		fetches = append(fetches, pc.c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, opts))
	}
	known = sortUnique(slices.Clone(known))
	var searches []*imapclient.SearchCommand
	for _, set := range uidChunks(known) {
		searches = append(searches, pc.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil))
	}
	changed, ferr := collectStates(fetches)
	found := make(map[uint32]bool, len(known))
	var serr error
	for _, s := range searches {
		sd, err := s.Wait()
		if err != nil {
			serr = firstError(serr, err)
			continue
		}
		for _, u := range sd.AllUIDs() {
			found[uint32(u)] = true
		}
	}
	if err := firstError(ferr, serr); err != nil {
		return nil, nil, err
	}
	var vanished []uint32
	for _, u := range known {
		if !found[u] {
			vanished = append(vanished, u)
		}
	}
	slices.SortFunc(changed, func(x, y source.MessageState) int { return cmpUID(x.UID, y.UID) })
	return changed, vanished, nil
}

// Fetch fetches messages for conversion, in the order of uids, leaving out
// those that do not exist. Two rounds, each pipelined: UID FETCH (UID FLAGS
// INTERNALDATE RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER] [MODSEQ]
// [BODY.PEEK[]<0.RawLimit>]) for all uids, then, when spec.TextLimit > 0,
// one UID FETCH (BODY.PEEK[<path>]<0.TextLimit> …) per distinct set of text
// part paths (most messages share one of a few layouts), for the messages
// having it. Part paths follow Part.Path; the body of a single-part root
// (Path []) is fetched as BODY[TEXT].
func (a *Account) Fetch(ctx context.Context, mailbox string, uids []uint32, spec source.FetchSpec) ([]*source.Message, error) {
	const op = "fetch"
	if err := checkMailbox(op, mailbox); err != nil {
		return nil, err
	}
	want := sortUnique(slices.Clone(uids))
	if len(want) == 0 {
		return nil, nil
	}
	if want[0] == 0 {
		return nil, fmt.Errorf("imapsource: %s %q: UID 0: %w", op, mailbox, eas.ErrNotFound)
	}
	byUID := make(map[uint32]*source.Message, len(want))
	err := a.withPC(ctx, func(pc *poolConn) error {
		if err := a.ensureSelected(pc, mailbox, false, want); err != nil {
			return err
		}
		if err := fetchHeads(pc.c, want, spec, byUID); err != nil {
			return err
		}
		if spec.TextLimit > 0 {
			return fetchTexts(pc.c, byUID, spec.TextLimit)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(ctx, fmt.Sprintf("%s %q", op, mailbox), err)
	}
	out := make([]*source.Message, 0, len(byUID))
	seen := make(map[uint32]bool, len(byUID))
	for _, u := range uids {
		if m := byUID[u]; m != nil && !seen[u] {
			seen[u] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// fetchHeads is Fetch's first round.
func fetchHeads(c *imapclient.Client, uids []uint32, spec source.FetchSpec, byUID map[uint32]*source.Message) error {
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	opts := &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{header},
		ModSeq:        c.Caps().Has(imap.CapCondStore),
	}
	if spec.RawLimit > 0 {
		opts.BodySection = append(opts.BodySection, &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: spec.RawLimit}})
	}
	if spec.TextLimit > 0 {
		// Speculatively part 1 too: the body of a single-part message
		// (RFC 3501 6.4.5: a non-multipart message has only part 1) or the
		// first part of a multipart one, which is the text in most mail.
		// It saves the second round trip of fetchTexts for those.
		opts.BodySection = append(opts.BodySection, &imap.FetchItemBodySection{Part: []int{1}, Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: spec.TextLimit}})
	}
	var cmds []*imapclient.FetchCommand
	for _, set := range uidChunks(uids) {
		cmds = append(cmds, c.Fetch(set, opts))
	}
	var mu sync.Mutex
	return drain(cmds, func(msg *imapclient.FetchMessageData) error {
		m, first, err := readHead(msg, spec.RawLimit)
		if err != nil {
			return err
		}
		if first != nil {
			// Attach part 1 to the text leaf it is, if it is one.
			var leaf *source.Part
			switch r := m.Root; {
			case r == nil:
			case r.Type != "multipart" && len(r.Path) == 0:
				leaf = r
			case r.Type == "multipart" && len(r.Children) > 0 && r.Children[0].Type != "multipart":
				leaf = r.Children[0]
			}
			if leaf != nil && slices.Contains(textLeaves(m.Root), leaf) {
				leaf.Body = first
				leaf.BodyTruncated = int64(len(first)) >= spec.TextLimit && leaf.Size > int64(len(first))
				if leaf.BodyTruncated && source.IsITIPPart(leaf) {
					leaf.Body, leaf.BodyTruncated = nil, false // the second round brings CalendarLimit
				}
			}
		}
		if m.UID != 0 {
			mu.Lock()
			byUID[m.UID] = m
			mu.Unlock()
		}
		return nil
	})
}

// readHead reads one message of Fetch's first round.
func readHead(msg *imapclient.FetchMessageData, rawLimit int64) (*source.Message, []byte, error) {
	m := &source.Message{}
	var first []byte
	for {
		item := msg.Next()
		if item == nil {
			break
		}
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			m.UID = uint32(it.UID)
		case imapclient.FetchItemDataFlags:
			m.Flags = cleanFlags(flagStrings(it.Flags))
		case imapclient.FetchItemDataInternalDate:
			m.InternalDate = it.Time
		case imapclient.FetchItemDataRFC822Size:
			m.Size = it.Size
		case imapclient.FetchItemDataModSeq:
			m.ModSeq = it.ModSeq
		case imapclient.FetchItemDataBodyStructure:
			if it.BodyStructure != nil {
				m.Root = toPart(it.BodyStructure, nil)
			}
		case imapclient.FetchItemDataBodySection:
			var b []byte
			if it.Literal != nil {
				var err error
				if b, err = io.ReadAll(it.Literal); err != nil {
					return nil, nil, err
				}
			}
			switch {
			case it.Section.Specifier == imap.PartSpecifierHeader && len(it.Section.Part) == 0:
				m.Header = b
			case it.Section.Specifier == imap.PartSpecifierNone && len(it.Section.Part) == 0:
				m.Raw = b
			case it.Section.Specifier == imap.PartSpecifierNone && len(it.Section.Part) == 1 && it.Section.Part[0] == 1:
				first = b
				if first == nil {
					first = []byte{}
				}
			}
		}
	}
	if rawLimit > 0 {
		m.RawTruncated = m.Size > int64(len(m.Raw))
	}
	return m, first, nil
}

// fetchTexts is Fetch's second round: the text leaves, grouped by layout.
func fetchTexts(c *imapclient.Client, byUID map[uint32]*source.Message, limit int64) error {
	type group struct {
		paths  [][]int
		limits []int64 // source.PartLimit of each path
		uids   []uint32
	}
	groups := make(map[string]*group)
	var order []string
	for uid, m := range byUID {
		leaves := slices.DeleteFunc(textLeaves(m.Root), func(p *source.Part) bool { return p.Body != nil })
		if len(leaves) == 0 {
			continue
		}
		var key strings.Builder
		paths := make([][]int, len(leaves))
		limits := make([]int64, len(leaves))
		for i, p := range leaves {
			paths[i], limits[i] = p.Path, source.PartLimit(p, limit)
			key.WriteString(sectionName(p.Path))
			if limits[i] != limit {
				key.WriteString("/cal")
			}
			key.WriteByte(' ')
		}
		g := groups[key.String()]
		if g == nil {
			g = &group{paths: paths, limits: limits}
			groups[key.String()] = g
			order = append(order, key.String())
		}
		g.uids = append(g.uids, uid)
	}
	slices.Sort(order)
	var cmds []*imapclient.FetchCommand
	for _, k := range order {
		g := groups[k]
		opts := &imap.FetchOptions{UID: true}
		for i, p := range g.paths {
			opts.BodySection = append(opts.BodySection, &imap.FetchItemBodySection{
				Part: p, Specifier: textSpecifier(p), Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: g.limits[i]},
			})
		}
		for _, set := range uidChunks(sortUnique(g.uids)) {
			cmds = append(cmds, c.Fetch(set, opts))
		}
	}
	var mu sync.Mutex // byUID is read by all, the parts written by one
	return drain(cmds, func(msg *imapclient.FetchMessageData) error {
		var (
			m      *source.Message
			bodies []imapclient.FetchItemDataBodySection
			data   [][]byte
		)
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				mu.Lock()
				m = byUID[uint32(it.UID)]
				mu.Unlock()
			case imapclient.FetchItemDataBodySection:
				var b []byte
				if it.Literal != nil {
					var err error
					if b, err = io.ReadAll(it.Literal); err != nil {
						return err
					}
				}
				bodies = append(bodies, it)
				data = append(data, b)
			}
		}
		if m == nil {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		for i, it := range bodies {
			p := findPart(m.Root, it.Section.Part, it.Section.Specifier)
			if p == nil {
				continue
			}
			p.Body = data[i]
			if p.Body == nil {
				p.Body = []byte{}
			}
			p.BodyTruncated = int64(len(p.Body)) >= source.PartLimit(p, limit) && p.Size > int64(len(p.Body))
		}
		return nil
	})
}

// OpenPart streams one body part, still transfer-encoded, without holding
// it in memory: BODY.PEEK[<path>] (BODY.PEEK[TEXT] for the empty path, the
// body of a single-part message) is read straight off the connection. The
// connection stays out of the pool until the body is closed; size is the
// literal's size.
func (a *Account) OpenPart(ctx context.Context, mailbox string, uid uint32, path []int) (io.ReadCloser, int64, error) {
	section := &imap.FetchItemBodySection{Part: slices.Clone(path), Specifier: textSpecifier(path), Peek: true}
	return a.openBody(ctx, "open part", mailbox, uid, section)
}

// OpenMessage streams the whole raw message (BODY.PEEK[]), like OpenPart.
func (a *Account) OpenMessage(ctx context.Context, mailbox string, uid uint32) (io.ReadCloser, int64, error) {
	return a.openBody(ctx, "open message", mailbox, uid, &imap.FetchItemBodySection{Peek: true})
}

func (a *Account) openBody(ctx context.Context, op, mailbox string, uid uint32, section *imap.FetchItemBodySection) (io.ReadCloser, int64, error) {
	opName := fmt.Sprintf("%s %q UID %d", op, mailbox, uid)
	if err := checkMailbox(op, mailbox); err != nil {
		return nil, 0, err
	}
	if uid == 0 {
		return nil, 0, fmt.Errorf("imapsource: %s: %w", opName, eas.ErrNotFound)
	}
	for _, n := range section.Part {
		if n <= 0 {
			return nil, 0, fmt.Errorf("imapsource: %s: bad part path %v: %w", opName, section.Part, eas.ErrNotFound)
		}
	}
	pc, err := a.acquire(ctx)
	if err != nil {
		return nil, 0, err
	}
	// While the body is open, ctx ending closes the transport: imapclient's
	// Close would wait for the reader goroutine, which waits for the body.
	stop := context.AfterFunc(ctx, func() { pc.w.Close() })
	fail := func(err error) (io.ReadCloser, int64, error) {
		aborted := !stop()
		a.release(pc, aborted || !connUsable(err) || pc.c.State() == imap.ConnStateLogout)
		return nil, 0, mapErr(ctx, opName, err)
	}
	if err := a.ensureSelected(pc, mailbox, false, []uint32{uid}); err != nil {
		return fail(err)
	}
	cmd := pc.c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	msg := cmd.Next()
	if msg == nil {
		if err := cmd.Close(); err != nil {
			return fail(err)
		}
		return fail(fmt.Errorf("imapsource: %s: no such message: %w", opName, eas.ErrNotFound))
	}
	for {
		item := msg.Next()
		if item == nil {
			break
		}
		if it, ok := item.(imapclient.FetchItemDataBodySection); ok {
			s := &bodyStream{ctx: ctx, a: a, pc: pc, cmd: cmd, msg: msg, stop: stop}
			if it.Literal == nil { // NIL: no such part
				s.lit = strings.NewReader("")
				return s, 0, nil
			}
			s.lit, s.left = it.Literal, it.Literal.Size()
			return s, it.Literal.Size(), nil
		}
	}
	if err := cmd.Close(); err != nil {
		return fail(err)
	}
	return fail(fmt.Errorf("imapsource: %s: server sent no body: %w", opName, eas.ErrNotFound))
}

// bodyStream is a body being read off its connection.
type bodyStream struct {
	ctx      context.Context
	a        *Account
	pc       *poolConn
	cmd      *imapclient.FetchCommand
	msg      *imapclient.FetchMessageData
	lit      io.Reader
	left     int64
	stop     func() bool
	done     bool
	err      error
	extended time.Time // when the read deadline was last pushed
}

func (s *bodyStream) Read(p []byte) (int, error) {
	if s.done {
		return 0, errors.New("imapsource: read from closed body")
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.ctx != nil && s.ctx.Err() != nil {
		// The caller's context ended: stop even if data is buffered.
		s.err = fmt.Errorf("imapsource: reading body: %w", s.ctx.Err())
		return 0, s.err
	}
	if now := time.Now(); now.Sub(s.extended) > literalIdle/100 {
		s.extended = now
		s.pc.w.extendRead(literalIdle)
	}
	n, err := s.lit.Read(p)
	s.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = fmt.Errorf("imapsource: reading body: %w: %w", eas.ErrBackendUnavailable, err)
		return n, s.err
	}
	return n, err
}

// Close finishes the FETCH and gives the connection back: after reading
// the rest when little is left, else closing it (a half-read literal cannot
// be skipped in IMAP).
func (s *bodyStream) Close() error {
	if s.done {
		return nil
	}
	s.done = true
	broken := s.err != nil
	if s.left > drainMax {
		broken = true
		s.pc.w.Close() // makes the literal read fail at once
	}
	_, derr := io.Copy(io.Discard, s.lit)
	for s.msg.Next() != nil {
	}
	cerr := s.cmd.Close()
	aborted := !s.stop()
	broken = broken || aborted || derr != nil || !connUsable(cerr) || s.pc.c.State() == imap.ConnStateLogout
	s.a.release(s.pc, broken)
	return nil
}

// SetFlags adds and removes flags and keywords: UID STORE +FLAGS.SILENT and
// UID STORE -FLAGS.SILENT (RFC 3501 §6.4.6), pipelined.
func (a *Account) SetFlags(ctx context.Context, mailbox string, uid uint32, add, remove []string) error {
	const op = "set flags"
	if err := checkMailbox(op, mailbox); err != nil {
		return err
	}
	addF, remF := storeFlags(add), storeFlags(remove)
	if len(addF) == 0 && len(remF) == 0 {
		return nil
	}
	err := a.withPC(ctx, func(pc *poolConn) error {
		if err := a.ensureSelected(pc, mailbox, true, []uint32{uid}); err != nil {
			return err
		}
		set := imap.UIDSetNum(imap.UID(uid))
		var cmds []*imapclient.FetchCommand
		if len(addF) > 0 {
			cmds = append(cmds, pc.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: addF}, nil))
		}
		if len(remF) > 0 {
			cmds = append(cmds, pc.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: remF}, nil))
		}
		var err error
		for _, c := range cmds {
			err = firstError(err, c.Close())
		}
		return err
	})
	return mapErr(ctx, fmt.Sprintf("%s %q UID %d", op, mailbox, uid), err)
}

// Move moves a message to dest and returns its new UID: UID MOVE (RFC
// 6851) or, without MOVE, UID COPY + UID STORE +FLAGS.SILENT (\Deleted) +
// UID EXPUNGE (RFC 4315 §2.1), pipelined. The UID comes from COPYUID (RFC
// 4315 §3). Without MOVE and UIDPLUS the move is refused
// (eas.ErrNotSupported): a plain EXPUNGE would also remove other messages
// marked \Deleted. eas.ErrNotFound when the server has UIDPLUS and copied
// nothing (no such message).
func (a *Account) Move(ctx context.Context, mailbox string, uid uint32, dest string) (uint32, error) {
	const op = "move"
	if err := checkMailbox(op, mailbox); err != nil {
		return 0, err
	}
	if err := checkMailbox(op, dest); err != nil {
		return 0, err
	}
	var newUID uint32
	err := a.withPC(ctx, func(pc *poolConn) error {
		caps := pc.c.Caps()
		move := caps.Has(imap.CapMove) || caps.Has(imap.CapIMAP4rev2)
		uidplus := caps.Has(imap.CapUIDPlus) || caps.Has(imap.CapIMAP4rev2)
		if !move && !uidplus {
			return fmt.Errorf("imapsource: server has neither MOVE nor UIDPLUS: %w", eas.ErrNotSupported)
		}
		if err := a.ensureSelected(pc, mailbox, true, []uint32{uid}); err != nil {
			return err
		}
		set := imap.UIDSetNum(imap.UID(uid))
		var dst imap.NumSet
		if move {
			data, err := pc.c.Move(set, dest).Wait()
			if err != nil {
				return err
			}
			dst = data.DestUIDs
		} else {
			copyCmd := pc.c.Copy(set, dest)
			data, err := copyCmd.Wait()
			if err != nil {
				return err
			}
			if len(data.DestUIDs) == 0 {
				return fmt.Errorf("imapsource: UID %d not copied: %w", uid, eas.ErrNotFound)
			}
			store := pc.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil)
			expunge := pc.c.UIDExpunge(set)
			if err := firstError(store.Close(), expunge.Close()); err != nil {
				return err
			}
			dst = data.DestUIDs
		}
		if set, ok := dst.(imap.UIDSet); ok {
			if uids, ok := set.Nums(); ok && len(uids) == 1 {
				newUID = uint32(uids[0])
			}
		}
		if newUID == 0 && uidplus {
			return fmt.Errorf("imapsource: no COPYUID for UID %d: %w", uid, eas.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return 0, mapErr(ctx, fmt.Sprintf("%s %q UID %d to %q", op, mailbox, uid, dest), err)
	}
	return newUID, nil
}

// Delete expunges exactly one message: UID STORE +FLAGS.SILENT (\Deleted)
// then UID EXPUNGE (RFC 4315 §2.1), pipelined. Without UIDPLUS it fails
// with eas.ErrNotSupported and changes nothing: a plain EXPUNGE would also
// remove other messages marked \Deleted.
func (a *Account) Delete(ctx context.Context, mailbox string, uid uint32) error {
	const op = "delete"
	if err := checkMailbox(op, mailbox); err != nil {
		return err
	}
	err := a.withPC(ctx, func(pc *poolConn) error {
		caps := pc.c.Caps()
		if !caps.Has(imap.CapUIDPlus) && !caps.Has(imap.CapIMAP4rev2) {
			return fmt.Errorf("imapsource: server has no UIDPLUS (UID EXPUNGE): %w", eas.ErrNotSupported)
		}
		if err := a.ensureSelected(pc, mailbox, true, []uint32{uid}); err != nil {
			return err
		}
		set := imap.UIDSetNum(imap.UID(uid))
		store := pc.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil)
		expunge := pc.c.UIDExpunge(set)
		return firstError(store.Close(), expunge.Close())
	})
	return mapErr(ctx, fmt.Sprintf("%s %q UID %d", op, mailbox, uid), err)
}

// Append stores a message (APPEND, RFC 3501 §6.3.11) with flags and, when
// not zero, date as INTERNALDATE, and returns its UID from APPENDUID (RFC
// 4315 §3), 0 when the server did not say. size must be msg's exact length;
// a negative size reads msg into memory first.
func (a *Account) Append(ctx context.Context, mailbox string, flags []string, date time.Time, msg io.Reader, size int64) (uint32, error) {
	const op = "append"
	if err := checkMailbox(op, mailbox); err != nil {
		return 0, err
	}
	if size < 0 {
		b, err := io.ReadAll(msg)
		if err != nil {
			return 0, fmt.Errorf("imapsource: %s %q: reading message: %w", op, mailbox, err)
		}
		msg, size = bytes.NewReader(b), int64(len(b))
	}
	var uid uint32
	err := a.withPC(ctx, func(pc *poolConn) error {
		cmd := pc.c.Append(mailbox, size, &imap.AppendOptions{Flags: storeFlags(flags), Time: date})
		n, werr := io.Copy(cmd, io.LimitReader(msg, size))
		if werr == nil && n != size {
			werr = fmt.Errorf("message is %d octets, not %d", n, size)
		}
		if cerr := cmd.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			// The literal is incomplete: the connection is out of step
			// (and the server still waits), so it is discarded unread.
			return fmt.Errorf("imapsource: writing message: %w", werr)
		}
		data, err := cmd.Wait()
		if err != nil {
			return err
		}
		uid = uint32(data.UID)
		return nil
	})
	if err != nil {
		return 0, mapErr(ctx, fmt.Sprintf("%s %q", op, mailbox), err)
	}
	return uid, nil
}

// Search returns the UIDs matching c, ascending: UID SEARCH [CHARSET UTF-8]
// TEXT … SINCE … BEFORE … (RFC 3501 §6.4.4; imapclient adds the CHARSET
// when the text is not ASCII). IMAP compares dates only, in the server's
// time zone, so the dates are widened by a day or two and, when Since or
// Until is set, the hits are checked against their exact INTERNALDATE
// with one more UID FETCH. Until is exclusive.
func (a *Account) Search(ctx context.Context, mailbox string, c source.SearchCriteria) ([]uint32, error) {
	const op = "search"
	if err := checkMailbox(op, mailbox); err != nil {
		return nil, err
	}
	crit := &imap.SearchCriteria{}
	if c.Text != "" {
		crit.Text = []string{c.Text}
	}
	if !c.Since.IsZero() {
		crit.Since = searchSince(c.Since)
	}
	if !c.Until.IsZero() {
		crit.Before = c.Until.UTC().Truncate(24*time.Hour).AddDate(0, 0, 2)
	}
	var uids []uint32
	err := a.withPC(ctx, func(pc *poolConn) error {
		if err := a.ensureSelected(pc, mailbox, false, nil); err != nil {
			return err
		}
		sd, err := pc.c.UIDSearch(crit, nil).Wait()
		if err != nil {
			return err
		}
		uids = uidsOf(sd.AllUIDs())
		if len(uids) == 0 || (c.Since.IsZero() && c.Until.IsZero()) {
			return nil
		}
		states, err := fetchStates(pc.c, uidChunks(uids), &imap.FetchOptions{UID: true, InternalDate: true})
		if err != nil {
			return err
		}
		uids = uids[:0]
		for _, s := range states {
			if (c.Since.IsZero() || !s.InternalDate.Before(c.Since)) && (c.Until.IsZero() || s.InternalDate.Before(c.Until)) {
				uids = append(uids, s.UID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(ctx, fmt.Sprintf("%s %q", op, mailbox), err)
	}
	return sortUnique(uids), nil
}

// SpecialUse returns the mailbox with a special use ("\\Sent", "\\Trash",
// "\\Drafts", "\\Junk"; also "\\Archive" and the other RFC 6154 uses), ""
// when there is none. It is the mailbox Folders gives the matching default
// type: from LIST RETURN (SPECIAL-USE), or by name on servers without
// SPECIAL-USE.
func (a *Account) SpecialUse(ctx context.Context, use string) (string, error) {
	attr := imap.MailboxAttr(use)
	if !strings.HasPrefix(use, `\`) {
		attr = imap.MailboxAttr(`\` + use)
	}
	var name string
	err := a.withPC(ctx, func(pc *poolConn) error {
		t, err := listTree(pc.c)
		if err != nil {
			return err
		}
		name = t.withUse(attr)
		return nil
	})
	if err != nil {
		return "", mapErr(ctx, "special use "+use, err)
	}
	return name, nil
}

// selectBox selects mailbox afresh (SELECT, or EXAMINE when !write; RFC 3501
// §6.3.1/2) with CONDSTORE (RFC 7162 §3.1.8) when the server has it, and
// records it on the connection.
func (a *Account) selectBox(pc *poolConn, mailbox string, write bool) (*imap.SelectData, error) {
	name := canonical(mailbox)
	pc.selected = "" // a failed SELECT leaves no mailbox selected
	opts := &imap.SelectOptions{ReadOnly: !write, CondStore: pc.c.Caps().Has(imap.CapCondStore)}
	data, err := pc.c.Select(name, opts).Wait()
	if err != nil {
		return nil, noMailbox("select", name, err)
	}
	pc.selected, pc.writable, pc.uidNext, pc.syncedAt = name, write, uint32(data.UIDNext), time.Now()
	return data, nil
}

// ensureSelected makes mailbox the selected one, reusing the selection the
// connection already has when it is fresh and knows uids (else a NOOP, RFC
// 3501 §6.1.2, lets the server catch the session up), and selecting it
// otherwise (read-write when write).
func (a *Account) ensureSelected(pc *poolConn, mailbox string, write bool, uids []uint32) error {
	name := canonical(mailbox)
	if pc.selected != name || (write && !pc.writable) || pc.c.State() != imap.ConnStateSelected {
		_, err := a.selectBox(pc, name, write || (pc.selected == name && pc.writable))
		return err
	}
	var top uint32
	for _, u := range uids {
		top = max(top, u)
	}
	if time.Since(pc.syncedAt) <= selectFresh && top < pc.uidNext {
		return nil
	}
	if err := pc.c.Noop().Wait(); err != nil {
		return err
	}
	pc.syncedAt = time.Now()
	pc.uidNext = max(pc.uidNext, top+1)
	return nil
}

// nextTag returns the tag of the next raw command on this connection.
func (pc *poolConn) nextTag() string {
	pc.rawTag++
	return "Q" + strconv.FormatUint(pc.rawTag, 10)
}

// fetchStates pipelines a FETCH per set and collects the message states.
func fetchStates(c *imapclient.Client, sets []imap.UIDSet, opts *imap.FetchOptions) ([]source.MessageState, error) {
	cmds := make([]*imapclient.FetchCommand, len(sets))
	for i, set := range sets {
		cmds[i] = c.Fetch(set, opts)
	}
	return collectStates(cmds)
}

// collectStates streams FETCH responses into message states.
func collectStates(cmds []*imapclient.FetchCommand) ([]source.MessageState, error) {
	var (
		mu  sync.Mutex
		out []source.MessageState
	)
	err := drain(cmds, func(msg *imapclient.FetchMessageData) error {
		var s source.MessageState
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				s.UID = uint32(it.UID)
			case imapclient.FetchItemDataFlags:
				s.Flags = cleanFlags(flagStrings(it.Flags))
			case imapclient.FetchItemDataInternalDate:
				s.InternalDate = it.Time
			case imapclient.FetchItemDataRFC822Size:
				s.Size = it.Size
			case imapclient.FetchItemDataModSeq:
				s.ModSeq = it.ModSeq
			}
		}
		if s.UID != 0 {
			mu.Lock()
			out = append(out, s)
			mu.Unlock()
		}
		return nil
	})
	return out, err
}

// drain consumes pipelined FETCH commands, each on its own goroutine when
// there are several: Dovecot runs pipelined FETCHes in parallel and
// interleaves their responses, while imapclient's reader waits until each
// response (and literal) is taken, so consuming them one after the other
// could deadlock. each runs once per message, concurrently across
// commands. Every command is consumed to its end, also after an error.
func drain(cmds []*imapclient.FetchCommand, each func(*imapclient.FetchMessageData) error) error {
	consume := func(cmd *imapclient.FetchCommand) error {
		var err error
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			if e := each(msg); e != nil && err == nil {
				err = e
			}
		}
		return firstError(cmd.Close(), err)
	}
	if len(cmds) == 1 {
		return consume(cmds[0])
	}
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		wg.Go(func() { errs[i] = consume(cmd) })
	}
	wg.Wait()
	return firstError(errs...)
}

// toPart converts a BODYSTRUCTURE (RFC 3501 §7.4.2) to a source.Part. path
// is the IMAP part number; the root has the empty path, multipart children
// are numbered from 1 below their parent. A message/rfc822 part is a leaf:
// its inner structure is not descended into.
func toPart(bs imap.BodyStructure, path []int) *source.Part {
	p := &source.Part{Path: slices.Clone(path)}
	if p.Path == nil {
		p.Path = []int{}
	}
	switch b := bs.(type) {
	case *imap.BodyStructureMultiPart:
		p.Type, p.Subtype = "multipart", strings.ToLower(b.Subtype)
		if b.Extended != nil {
			p.Params = lowerKeys(b.Extended.Params)
			if d := b.Extended.Disposition; d != nil {
				p.Disposition, p.DispParams = strings.ToLower(d.Value), lowerKeys(d.Params)
			}
		}
		for i, child := range b.Children {
			p.Children = append(p.Children, toPart(child, append(slices.Clone(path), i+1)))
		}
	case *imap.BodyStructureSinglePart:
		p.Type, p.Subtype = strings.ToLower(b.Type), strings.ToLower(b.Subtype)
		p.Params = lowerKeys(b.Params)
		p.ID = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(b.ID), "<"), ">")
		p.Description = b.Description
		p.Encoding = strings.ToLower(b.Encoding)
		p.Size = int64(b.Size)
		if b.Text != nil {
			p.Lines = b.Text.NumLines
		} else if b.MessageRFC822 != nil {
			p.Lines = b.MessageRFC822.NumLines
		}
		if b.Extended != nil && b.Extended.Disposition != nil {
			p.Disposition, p.DispParams = strings.ToLower(b.Extended.Disposition.Value), lowerKeys(b.Extended.Disposition.Params)
		}
		if b.Extended != nil {
			p.Location = strings.TrimSpace(b.Extended.Location) // RFC 3501 body-fld-loc
		}
	}
	return p
}

// textLeaves returns the text/plain and text/html leaves that are not
// attachments (no attachment disposition, no file name), and the iTIP
// parts of meeting messages (source.IsITIPPart), in tree order.
func textLeaves(root *source.Part) []*source.Part {
	var out []*source.Part
	var walk func(p *source.Part)
	walk = func(p *source.Part) {
		if p == nil {
			return
		}
		if p.Type == "multipart" {
			for _, c := range p.Children {
				walk(c)
			}
			return
		}
		if p.Type == "text" && (p.Subtype == "plain" || p.Subtype == "html") && !isAttachment(p) || source.IsITIPPart(p) {
			out = append(out, p)
		}
	}
	walk(root)
	return out
}

func isAttachment(p *source.Part) bool {
	if p.Disposition == "attachment" {
		return true
	}
	for k := range p.DispParams {
		if strings.HasPrefix(k, "filename") {
			return true
		}
	}
	for k := range p.Params {
		if k == "name" || strings.HasPrefix(k, "name*") {
			return true
		}
	}
	return false
}

// findPart finds the part a BODY[section] response is for.
func findPart(root *source.Part, path []int, spec imap.PartSpecifier) *source.Part {
	if root == nil {
		return nil
	}
	if len(path) == 0 {
		if spec == imap.PartSpecifierText && root.Type != "multipart" {
			return root
		}
		return nil
	}
	if spec != imap.PartSpecifierNone {
		return nil
	}
	p := root
	for _, n := range path {
		if p.Type != "multipart" {
			// BODY[1] of a single-part message is its body (RFC 3501 §6.4.5).
			if n == 1 && len(p.Path) == 0 && len(path) == 1 {
				return p
			}
			return nil
		}
		if n < 1 || n > len(p.Children) {
			return nil
		}
		p = p.Children[n-1]
	}
	return p
}

// textSpecifier is the section specifier for a part path: TEXT for the
// empty path (the body of a single-part message, RFC 3501 §6.4.5).
func textSpecifier(path []int) imap.PartSpecifier {
	if len(path) == 0 {
		return imap.PartSpecifierText
	}
	return imap.PartSpecifierNone
}

// sectionName spells a part path as IMAP does ("TEXT", "1.2").
func sectionName(path []int) string {
	if len(path) == 0 {
		return "TEXT"
	}
	s := make([]string, len(path))
	for i, n := range path {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

// uidChunks splits ascending UIDs into sets whose text stays under
// maxSetLen octets.
func uidChunks(uids []uint32) []imap.UIDSet {
	var (
		sets []imap.UIDSet
		cur  imap.UIDSet
		n    int
	)
	for i := 0; i < len(uids); {
		j := i
		for j+1 < len(uids) && uids[j+1] == uids[j]+1 {
			j++
		}
		r := imap.UIDRange{Start: imap.UID(uids[i]), Stop: imap.UID(uids[j])}
		l := len(strconv.FormatUint(uint64(uids[i]), 10)) + 1 // "n,"
		if i != j {
			l += len(strconv.FormatUint(uint64(uids[j]), 10)) + 1 // ":m"
		}
		if n+l > maxSetLen && len(cur) > 0 {
			sets = append(sets, cur)
			cur, n = nil, 0
		}
		cur = append(cur, r)
		n += l
		i = j + 1
	}
	if len(cur) > 0 {
		sets = append(sets, cur)
	}
	return sets
}

// statusOf is the mailbox status a SELECT reported.
func statusOf(d *imap.SelectData) source.MailboxStatus {
	return source.MailboxStatus{UIDValidity: d.UIDValidity, UIDNext: uint32(d.UIDNext), HighestModSeq: d.HighestModSeq, Messages: d.NumMessages}
}

// searchSince widens a SINCE bound by a day: IMAP compares dates in the
// server's time zone (RFC 3501 §6.4.4).
func searchSince(t time.Time) time.Time {
	return t.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
}

// cleanFlags drops \Recent, which belongs to one session (RFC 3501 §2.3.2)
// and cannot be stored.
func cleanFlags(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if !strings.EqualFold(f, `\Recent`) {
			out = append(out, f)
		}
	}
	return out
}

// storeFlags converts flags to store or append, without \Recent.
func storeFlags(flags []string) []imap.Flag {
	var out []imap.Flag
	for _, f := range cleanFlags(flags) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, imap.Flag(f))
		}
	}
	return out
}

func flagStrings(flags []imap.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}

func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func uidsOf(uids []imap.UID) []uint32 {
	out := make([]uint32, len(uids))
	for i, u := range uids {
		out[i] = uint32(u)
	}
	return sortUnique(out)
}

// sortUnique sorts and de-duplicates in place.
func sortUnique(uids []uint32) []uint32 {
	slices.Sort(uids)
	return slices.Compact(uids)
}

func cmpUID(x, y uint32) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// noMailbox marks a NO to a command naming a mailbox (SELECT, EXAMINE,
// STATUS) as eas.ErrNotFound when it carries no other response code:
// Dovecot answers those for a missing mailbox with a bare NO, RFC 5530
// servers with [NONEXISTENT] (which mapErr knows).
func noMailbox(op, name string, err error) error {
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo && ie.Code == "" {
		return fmt.Errorf("imapsource: %s %q: %w: %w", op, name, eas.ErrNotFound, err)
	}
	return err
}

// checkMailbox rejects names no server has.
func checkMailbox(op, mailbox string) error {
	if strings.TrimSpace(mailbox) == "" {
		return fmt.Errorf("imapsource: %s: empty mailbox name: %w", op, eas.ErrNotFound)
	}
	return nil
}
