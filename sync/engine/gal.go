package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	gosync "sync"
	"time"
	"unicode"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/sync/calconv"
	"easbridge/sync/davsource"
	"easbridge/sync/source"
)

// The address list (server.GALSearcher): Search Store GAL and
// ResolveRecipients over CardDAV, Availability over CalDAV.
//
// Implementation notes:
//   - Sources: the user's address books (entries of Type 2, contacts) and
//     the account's shared office address book (Account.GAL, one CardDAV
//     collection read with the user's remote credentials; Type 1). A user
//     book that is the shared collection itself is only read as the shared
//     one. The user appears as a directory entry when no card has the
//     user's address, so that ResolveRecipients finds the user (for
//     Availability).
//   - Cards are read whole once per login and kept up to date with the
//     item sync's change detection (source.DAVItems Changes with the stored
//     sync-token, Get for what changed): a look-up when nothing changed
//     costs one sync-collection REPORT per address book (one PROPFIND with
//     CTag-only servers), plus one PROPFIND of the address book home per
//     galListTTL. This was chosen over an addressbook-query REPORT with
//     text-match (RFC 6352 8.6) per look-up: the matching rule (a prefix of
//     any word) cannot be said in a text-match, and servers differ in what
//     they match (Radicale cannot match the structured N and ORG). Kept per
//     card: the fields of an entry and the words to match, not the photo;
//     photos are fetched (one multiget per book) only for the entries
//     returned when the client asks for pictures.
//   - Matching: every whitespace-separated term of the query is a
//     case-insensitive prefix of some word of the card's names, company or
//     e-mail addresses (words split at spaces and at every character that
//     is not a letter or digit; whole addresses and their domains count as
//     words too).
//     Order: the shared book's entries before contacts, then by display
//     name and address. Entries with the same address are one (the shared
//     book's wins).
//   - ResolveRecipient: a To that is an address (also "Name <address>")
//     finds the entries with that address only; other text finds the
//     entries whose display name or alias (the local part) equals it, else
//     the matching ones; only entries with an address.
//   - FreeBusy answers for the user's own address only (others' calendars
//     are not readable; CalDAV scheduling's free-busy POST, RFC 6638, is
//     not used): one calendar-query REPORT with a time-range per calendar
//     (davsource.CalendarQuery), then calconv.BusyPeriods and
//     calconv.MergedFreeBusy.

// galListTTL is how long the list of the user's address books is reused.
const galListTTL = time.Minute

var _ server.GALSearcher = (*session)(nil)

// galBooks is the address list of one login.
type galBooks struct {
	user      source.DAVItems // the user's DAV account; nil without DAV
	folders   source.Folders  // lists the user's address books
	shared    source.DAVItems // the shared book's account; nil without one
	sharedKey string          // its collection key
	skipKey   string          // the user book that is the shared one, if any
	log       *slog.Logger

	mu     gosync.Mutex // one refresh at a time
	books  map[string]*galBook
	keys   []string // the user's address books
	keysAt time.Time
}

// galBook is the cached content of one address book.
type galBook struct {
	src   source.DAVItems
	key   string // collection key
	token string
	cards map[string]*galCard // by member path
}

// galCard is one card as the address list uses it. It is not changed
// once built (a changed card is replaced), so snapshots can share it.
type galCard struct {
	src      source.DAVItems
	coll     string
	path     string
	etag     string
	entry    server.GALEntry // EmailAddress is the first address; no Picture
	emails   []string        // every address
	words    []string        // lower case
	hasPhoto bool
	sortKey  string // lower-case display name and address, for galRank
}

// openGAL prepares the address list of a login: the user's DAV account
// (when the account has one) and the shared address book.
func (l *login) openGAL(acct *Account, dav *davsource.Account, user, password string, log *slog.Logger) {
	g := &galBooks{log: log, books: map[string]*galBook{}}
	if dav != nil {
		g.user, g.folders = dav, dav
	}
	if acct.GAL != nil && acct.GAL.URL != "" {
		sa := davsource.NewAccount(*acct.GAL, user, password, log.With("gal", acct.GAL.URL))
		l.closers = append(l.closers, sa.Close)
		g.shared = sa
		if u, err := url.Parse(acct.GAL.URL); err == nil {
			p := u.EscapedPath()
			if !strings.HasSuffix(p, "/") {
				p += "/"
			}
			g.sharedKey = davsource.CardDAVPrefix + p
			if acct.DAV != nil {
				if d, err := url.Parse(acct.DAV.URL); err == nil && strings.EqualFold(d.Host, u.Host) {
					g.skipKey = g.sharedKey
				}
			}
		}
	}
	l.gal = g
}

// cards returns every card of every address book, brought up to date. A
// book that cannot be read is logged and served from the cache (or left
// out); only when every book fails is it an error.
func (g *galBooks) cards(ctx context.Context) ([]*galCard, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	type bookRef struct {
		src    source.DAVItems
		key    string
		shared bool
	}
	var refs []bookRef
	var errs []error
	tried := 0
	if g.shared != nil && g.sharedKey != "" {
		refs = append(refs, bookRef{g.shared, g.sharedKey, true})
	}
	if g.user != nil {
		if err := g.listBooks(ctx); err != nil {
			g.log.Warn("engine: gal: list address books", "err", err)
			if len(g.keys) == 0 {
				tried++ // never listed: the user's books count as failed
				errs = append(errs, err)
			}
		}
		for _, k := range g.keys {
			if k != g.skipKey {
				refs = append(refs, bookRef{g.user, k, false})
			}
		}
	}
	tried += len(refs)
	var out []*galCard
	ids := make(map[string]bool, len(refs))
	for _, r := range refs {
		id := "user|" + r.key
		if r.shared {
			id = "shared|" + r.key
		}
		ids[id] = true
		b := g.books[id]
		if b == nil {
			b = &galBook{src: r.src, key: r.key, cards: map[string]*galCard{}}
			g.books[id] = b
		}
		if err := b.refresh(ctx, r.shared); err != nil {
			g.log.Warn("engine: gal: address book not refreshed", "book", r.key, "err", err)
			errs = append(errs, err)
			if ctx.Err() != nil {
				return nil, err
			}
		}
		for _, c := range b.cards {
			out = append(out, c)
		}
	}
	for id := range g.books {
		if !ids[id] {
			delete(g.books, id) // an address book that is gone
		}
	}
	if tried > 0 && len(errs) == tried && len(out) == 0 {
		return nil, fmt.Errorf("engine: gal: %w", errors.Join(errs...))
	}
	return out, nil
}

// listBooks refreshes the list of the user's address books every
// galListTTL.
func (g *galBooks) listBooks(ctx context.Context) error {
	if g.keysAt.After(time.Now().Add(-galListTTL)) {
		return nil
	}
	fs, err := g.folders.Folders(ctx)
	if err != nil {
		return err
	}
	g.keys = g.keys[:0]
	for _, f := range fs {
		if (f.Type == eas.FolderContacts || f.Type == eas.FolderUserContacts) && source.Owns(davsource.CardDAVPrefix, f.Key) {
			g.keys = append(g.keys, f.Key)
		}
	}
	g.keysAt = time.Now()
	return nil
}

// refresh applies the changes since the book's token.
func (b *galBook) refresh(ctx context.Context, shared bool) error {
	ch, err := b.src.Changes(ctx, b.key, b.token)
	if errors.Is(err, source.ErrTokenInvalid) {
		ch, err = b.src.Changes(ctx, b.key, "")
	}
	if err != nil {
		return err
	}
	if ch.Full {
		listed := make(map[string]bool, len(ch.Changed))
		for _, r := range ch.Changed {
			listed[r.Path] = true
		}
		for p := range b.cards {
			if !listed[p] {
				delete(b.cards, p)
			}
		}
	}
	for _, p := range ch.Deleted {
		delete(b.cards, p)
	}
	var need []string
	for _, r := range ch.Changed {
		if c, ok := b.cards[r.Path]; !ok || r.ETag == "" || c.etag != r.ETag {
			need = append(need, r.Path)
		}
	}
	if len(need) > 0 {
		objs, err := b.src.Get(ctx, b.key, need)
		if err != nil {
			return err
		}
		for _, o := range objs {
			card, err := calconv.ParseCard(o.Data)
			if err != nil {
				delete(b.cards, o.Path)
				continue // a broken card is left out
			}
			b.cards[o.Path] = newGALCard(b.src, b.key, o.Path, o.ETag, card, shared)
		}
	}
	b.token = ch.Token
	return nil
}

func newGALCard(src source.DAVItems, coll, path, etag string, c *calconv.Card, shared bool) *galCard {
	gc := &galCard{src: src, coll: coll, path: path, etag: etag, emails: c.Emails, hasPhoto: len(c.Photo) > 0}
	gc.entry = server.GALEntry{
		DisplayName: c.DisplayName, FirstName: c.FirstName, LastName: c.LastName,
		Company: c.Company, Title: c.Title, Office: c.Office,
		Phone: c.WorkPhone, HomePhone: c.HomePhone, MobilePhone: c.MobilePhone,
		Contact: !shared,
	}
	if len(c.Emails) > 0 {
		gc.entry.EmailAddress = c.Emails[0]
		gc.entry.Alias, _, _ = strings.Cut(c.Emails[0], "@")
	}
	gc.words = galWords(append([]string{c.DisplayName, c.FirstName, c.LastName, c.NickName, c.Company}, c.Emails...)...)
	gc.setSortKey()
	return gc
}

func (c *galCard) setSortKey() {
	c.sortKey = strings.ToLower(c.entry.DisplayName) + "\x00" + strings.ToLower(c.entry.EmailAddress)
}

// galWords returns the lower-case words of texts: each whitespace-separated
// token, the domain of an address, and the runs of letters and digits
// within a token.
func galWords(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, t := range texts {
		for _, tok := range strings.Fields(strings.ToLower(t)) {
			add(tok)
			if _, domain, ok := strings.Cut(tok, "@"); ok {
				add(domain)
			}
			for _, part := range strings.FieldsFunc(tok, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
				add(part)
			}
		}
	}
	return out
}

// galTerms splits a query into its lower-case terms.
func galTerms(q string) []string {
	return strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' })
}

// galMatch reports whether every term is a prefix of one of words.
func galMatch(words, terms []string) bool {
	if len(terms) == 0 {
		return false
	}
	for _, t := range terms {
		found := false
		for _, w := range words {
			if strings.HasPrefix(w, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// galRank sorts entries: the directory before contacts, then by display
// name and address, case-insensitively.
func galRank(cs []*galCard) {
	sort.SliceStable(cs, func(i, j int) bool {
		if a, b := cs[i].entry.Contact, cs[j].entry.Contact; a != b {
			return !a
		}
		return cs[i].sortKey < cs[j].sortKey
	})
}

// galDedup keeps the first entry of each address (after galRank: the
// directory's); entries without an address are kept unless withAddress.
func galDedup(cs []*galCard, withAddress bool) []*galCard {
	seen := map[string]bool{}
	out := cs[:0:0]
	for _, c := range cs {
		a := strings.ToLower(c.entry.EmailAddress)
		switch {
		case a == "" && withAddress:
			continue
		case a == "":
		case seen[a]:
			continue
		default:
			seen[a] = true
		}
		out = append(out, c)
	}
	return out
}

// galCards returns the login's cards and, when no card has it, the user.
func (s *session) galCards(ctx context.Context) ([]*galCard, error) {
	var cards []*galCard
	if s.l.gal != nil {
		var err error
		if cards, err = s.l.gal.cards(ctx); err != nil {
			return nil, err
		}
	}
	for _, c := range cards {
		for _, e := range c.emails {
			if strings.EqualFold(e, s.l.email) {
				return cards, nil
			}
		}
	}
	alias, _, _ := strings.Cut(s.l.email, "@")
	me := &galCard{emails: []string{s.l.email}, entry: server.GALEntry{DisplayName: s.DisplayName(), Alias: alias, EmailAddress: s.l.email}}
	me.words = galWords(me.entry.DisplayName, s.l.email)
	me.setSortKey()
	return append(cards, me), nil
}

// SearchGAL implements server.GALSearcher.
func (s *session) SearchGAL(ctx context.Context, q server.GALQuery) ([]server.GALEntry, int, error) {
	terms := galTerms(q.Text)
	if len(terms) == 0 {
		return nil, 0, nil
	}
	cards, err := s.galCards(ctx)
	if err != nil {
		return nil, 0, err
	}
	var hits []*galCard
	for _, c := range cards {
		if galMatch(c.words, terms) {
			hits = append(hits, c)
		}
	}
	galRank(hits)
	hits = galDedup(hits, false)
	return s.galEntries(ctx, hits, q), len(hits), nil
}

// ResolveRecipient implements server.GALSearcher.
func (s *session) ResolveRecipient(ctx context.Context, q server.GALQuery) ([]server.GALEntry, int, error) {
	to := strings.TrimSpace(q.Text)
	if to == "" {
		return nil, 0, nil
	}
	// A To that is an address ("jeff@contoso.com", "Jeff Hay
	// <jeff@contoso.com>") names that address only; other text is a name.
	addr, name, isAddr := to, to, false
	if a, err := mail.ParseAddress(to); err == nil {
		addr, name, isAddr = a.Address, "", true
	}
	cards, err := s.galCards(ctx)
	if err != nil {
		return nil, 0, err
	}
	var byAddr, byName, byWords []*galCard
	terms := galTerms(name)
	for _, c := range cards {
		for _, e := range c.emails {
			if strings.EqualFold(e, addr) {
				// The entry as that address.
				x := *c
				x.entry.EmailAddress = e
				x.setSortKey()
				byAddr = append(byAddr, &x)
				break
			}
		}
		if len(c.emails) == 0 || isAddr {
			continue
		}
		if strings.EqualFold(c.entry.DisplayName, name) || strings.EqualFold(c.entry.Alias, name) {
			byName = append(byName, c)
		} else if galMatch(c.words, terms) {
			byWords = append(byWords, c)
		}
	}
	hits := byAddr
	if len(hits) == 0 {
		hits = byName
	}
	if len(hits) == 0 {
		hits = byWords
	}
	galRank(hits)
	hits = galDedup(hits, true)
	return s.galEntries(ctx, hits, q), len(hits), nil
}

// galEntries turns up to q.Limit cards into entries, with their photos
// when asked.
func (s *session) galEntries(ctx context.Context, cs []*galCard, q server.GALQuery) []server.GALEntry {
	if q.Limit >= 0 && len(cs) > q.Limit {
		cs = cs[:q.Limit]
	}
	out := make([]server.GALEntry, len(cs))
	for i, c := range cs {
		out[i] = c.entry
	}
	if !q.Pictures {
		return out
	}
	type book struct {
		src  source.DAVItems
		coll string
	}
	want := map[book][]string{}
	for _, c := range cs {
		if c.hasPhoto {
			b := book{c.src, c.coll}
			want[b] = append(want[b], c.path)
		}
	}
	photos := map[string][]byte{}
	for b, paths := range want {
		objs, err := b.src.Get(ctx, b.coll, paths)
		if err != nil {
			s.e.log.Warn("engine: gal: photos not fetched", "book", b.coll, "err", err)
			continue
		}
		for _, o := range objs {
			if card, err := calconv.ParseCard(o.Data); err == nil {
				photos[b.coll+"\x00"+o.Path] = card.Photo
			}
		}
	}
	for i, c := range cs {
		if c.hasPhoto {
			out[i].Picture = photos[c.coll+"\x00"+c.path]
		}
	}
	return out
}

// calendarQuerier finds the calendar objects in a time range
// (davsource.Account).
type calendarQuerier interface {
	CalendarQuery(ctx context.Context, collection string, start, end time.Time) ([]source.DAVObject, error)
}

// FreeBusy implements server.GALSearcher: the user's own calendars only.
func (s *session) FreeBusy(ctx context.Context, email string, start, end time.Time) (string, error) {
	if !strings.EqualFold(strings.TrimSpace(email), s.l.email) {
		return "", fmt.Errorf("engine: free/busy of %s: %w", email, eas.ErrNotFound)
	}
	cq, ok := s.l.dav.(calendarQuerier)
	if !ok || s.l.gal == nil || s.l.gal.folders == nil {
		return "", fmt.Errorf("engine: free/busy: no calendars: %w", eas.ErrNotFound)
	}
	if limit := start.Add(calconv.MaxFreeBusyDigits * calconv.FreeBusySlot); end.After(limit) {
		end = limit
	}
	fs, err := s.l.gal.folders.Folders(ctx)
	if err != nil {
		return "", fmt.Errorf("engine: free/busy: %w", err)
	}
	var periods []calconv.BusyPeriod
	for _, f := range fs {
		if f.Type != eas.FolderCalendar && f.Type != eas.FolderUserCalendar {
			continue
		}
		objs, err := cq.CalendarQuery(ctx, f.Key, start, end)
		if err != nil {
			return "", fmt.Errorf("engine: free/busy: %w", err)
		}
		for _, o := range objs {
			ps, err := calconv.BusyPeriods(o.Data, start, end, s.l.email)
			if err != nil {
				s.e.log.Info("engine: free/busy: event skipped", "path", o.Path, "err", err)
				continue
			}
			periods = append(periods, ps...)
		}
	}
	return calconv.MergedFreeBusy(periods, start, end), nil
}
