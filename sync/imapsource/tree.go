package imapsource

import (
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

// mailbox is one LIST entry as the folder tree sees it.
type mailbox struct {
	name     string // as listed, INBOX canonical
	delim    rune   // 0: flat namespace
	typ      eas.FolderType
	special  bool             // INBOX or special use: no rename, no delete
	noselect bool             // \Noselect placeholder kept for its children
	use      imap.MailboxAttr // special use this mailbox stands for ("" none); one per default use
	parent   string           // parent name when the parent is in the tree, else ""
}

// tree is the classified result of one LIST.
type tree struct {
	boxes  []*mailbox // INBOX first, then by name
	byName map[string]*mailbox
	delim  rune // first non-zero delimiter seen; 0 if none listed
}

// listTree lists every mailbox. RETURN (SPECIAL-USE) needs LIST-EXTENDED
// (RFC 6154 §2, RFC 5258) or IMAP4rev2; a SPECIAL-USE server without them
// may still include the attributes in a plain LIST.
func listTree(c *imapclient.Client) (*tree, error) {
	caps := c.Caps()
	specialUse := caps.Has(imap.CapSpecialUse)
	var opts *imap.ListOptions
	if specialUse && (caps.Has(imap.CapListExtended) || caps.Has(imap.CapIMAP4rev2)) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	list, err := c.List("", "*", opts).Collect()
	if err != nil {
		return nil, err
	}
	return buildTree(list, specialUse), nil
}

// delimiter returns the hierarchy delimiter, asking the server (LIST "" "",
// RFC 3501 §6.3.8) when no listed mailbox told it.
func (t *tree) delimiter(c *imapclient.Client) (rune, error) {
	if t.delim != 0 {
		return t.delim, nil
	}
	list, err := c.List("", "", nil).Collect()
	if err != nil {
		return 0, err
	}
	if len(list) > 0 {
		t.delim = list[0].Delim
	}
	return t.delim, nil
}

// defaultUses are the special uses (RFC 6154 §2) that map to EAS default
// folders; the first mailbox (in tree order) with each gets the type.
func defaultUses() []imap.MailboxAttr {
	return []imap.MailboxAttr{imap.MailboxAttrDrafts, imap.MailboxAttrSent, imap.MailboxAttrTrash, imap.MailboxAttrJunk}
}

// otherUses are special uses (RFC 6154, RFC 8457 \Important) that protect a
// mailbox but have no EAS default folder.
func otherUses() []imap.MailboxAttr {
	return []imap.MailboxAttr{imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrFlagged, imap.MailboxAttrImportant}
}

// useType is the EAS type of the first mailbox with a default use. Junk is a
// user mail folder, as on Exchange.
func useType(use imap.MailboxAttr) eas.FolderType {
	switch use {
	case imap.MailboxAttrDrafts:
		return eas.FolderDrafts
	case imap.MailboxAttrSent:
		return eas.FolderSentItems
	case imap.MailboxAttrTrash:
		return eas.FolderDeletedItems
	}
	return eas.FolderUserMail
}

// nameUse guesses a top-level mailbox's special use from its name, for
// servers without SPECIAL-USE.
func nameUse(name string) imap.MailboxAttr {
	switch strings.ToLower(name) {
	case "drafts":
		return imap.MailboxAttrDrafts
	case "sent", "sent items", "sent messages", "sent mail":
		return imap.MailboxAttrSent
	case "trash", "deleted items", "deleted messages":
		return imap.MailboxAttrTrash
	case "junk", "spam", "junk e-mail", "junk email":
		return imap.MailboxAttrJunk
	}
	return ""
}

// buildTree classifies a LIST result. serverSpecialUse is whether the server
// advertises SPECIAL-USE; its attributes are trusted only when at least one
// listed mailbox carries one, else names decide.
func buildTree(list []*imap.ListData, serverSpecialUse bool) *tree {
	t := &tree{byName: make(map[string]*mailbox)}
	type entry struct {
		data     *imap.ListData
		name     string
		noselect bool
	}
	var entries []entry
	seen := make(map[string]bool)
	for _, d := range list {
		if d == nil || hasAttr(d.Attrs, imap.MailboxAttrNonExistent) {
			continue // RFC 5258 §3.4: does not exist
		}
		name := canonical(d.Mailbox)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		entries = append(entries, entry{d, name, hasAttr(d.Attrs, imap.MailboxAttrNoSelect)})
		if t.delim == 0 {
			t.delim = d.Delim
		}
	}
	// A \Noselect placeholder is kept only when a selectable mailbox lives
	// below it, so that the tree holds together.
	needed := make(map[string]bool)
	for _, e := range entries {
		if e.noselect || e.data.Delim == 0 {
			continue
		}
		n := e.name
		for {
			j := strings.LastIndex(n, string(e.data.Delim))
			if j <= 0 {
				break
			}
			n = canonical(n[:j])
			needed[n] = true
		}
	}
	kept := entries[:0]
	for _, e := range entries {
		if !e.noselect || needed[e.name] {
			kept = append(kept, e)
		}
	}
	entries = kept
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i].name, entries[j].name
		if (a == "INBOX") != (b == "INBOX") {
			return a == "INBOX"
		}
		return a < b
	})

	useAttrs := false
	if serverSpecialUse {
		for _, e := range entries {
			if specialUseOf(e.data.Attrs) != "" {
				useAttrs = true
				break
			}
		}
	}

	taken := make(map[imap.MailboxAttr]bool)
	for _, e := range entries {
		m := &mailbox{name: e.name, delim: e.data.Delim, typ: eas.FolderUserMail, noselect: e.noselect}
		var use imap.MailboxAttr
		switch {
		case e.name == "INBOX":
			m.typ, m.special = eas.FolderInbox, true
		case useAttrs:
			use = specialUseOf(e.data.Attrs)
			m.special = use != "" // the server says so, even for duplicates
		case !e.noselect && (m.delim == 0 || !strings.ContainsRune(e.name, m.delim)):
			use = nameUse(e.name)
		}
		switch {
		case isDefaultUse(use) && !e.noselect && !taken[use]:
			taken[use] = true
			m.typ, m.special, m.use = useType(use), true, use
		case use != "" && !isDefaultUse(use) && !e.noselect:
			m.use = use // \Archive, \All …: the first in tree order answers SpecialUse
		}
		if m.delim != 0 {
			if j := strings.LastIndex(e.name, string(m.delim)); j > 0 {
				if p := canonical(e.name[:j]); seenIn(p, t.byName) {
					m.parent = p
				}
			}
		}
		t.boxes = append(t.boxes, m)
		t.byName[m.name] = m
	}
	return t
}

// seenIn reports whether a parent is already in the tree; parents sort
// before their children, so it is there if it is anywhere.
func seenIn(name string, byName map[string]*mailbox) bool {
	_, ok := byName[name]
	return ok
}

func isDefaultUse(use imap.MailboxAttr) bool {
	for _, u := range defaultUses() {
		if use == u {
			return true
		}
	}
	return false
}

// specialUseOf returns the mailbox's special use, default uses first.
func specialUseOf(attrs []imap.MailboxAttr) imap.MailboxAttr {
	for _, u := range defaultUses() {
		if hasAttr(attrs, u) {
			return u
		}
	}
	for _, u := range otherUses() {
		if hasAttr(attrs, u) {
			return u
		}
	}
	return ""
}

func hasAttr(attrs []imap.MailboxAttr, want imap.MailboxAttr) bool {
	for _, a := range attrs {
		if strings.EqualFold(string(a), string(want)) {
			return true
		}
	}
	return false
}

// withUse returns the first selectable mailbox standing for a special use,
// "" when there is none.
func (t *tree) withUse(use imap.MailboxAttr) string {
	for _, m := range t.boxes {
		if m.use != "" && strings.EqualFold(string(m.use), string(use)) {
			return m.name
		}
	}
	return ""
}

// lookup finds a mailbox by name (INBOX case-insensitively).
func (t *tree) lookup(name string) *mailbox {
	return t.byName[canonical(name)]
}

// below returns every mailbox under name, in tree order.
func (t *tree) below(name string) []*mailbox {
	var l []*mailbox
	for _, m := range t.boxes {
		if isBelow(m.name, name, m.delim) {
			l = append(l, m)
		}
	}
	return l
}

// folders returns the tree as source folders, Outbox last.
func (t *tree) folders() []source.Folder {
	l := make([]source.Folder, 0, len(t.boxes)+1)
	for _, m := range t.boxes {
		f := source.Folder{Key: KeyPrefix + m.name, Name: m.name, Type: m.typ}
		if m.delim != 0 {
			if j := strings.LastIndex(m.name, string(m.delim)); j >= 0 && j+1 < len(m.name) {
				f.Name = m.name[j+1:]
			}
		}
		if m.name == "INBOX" {
			// Phones show the name as is; Exchange calls it "Inbox".
			f.Name = "Inbox"
		}
		if m.parent != "" {
			f.ParentKey = KeyPrefix + m.parent
		}
		l = append(l, f)
	}
	return append(l, Outbox())
}
