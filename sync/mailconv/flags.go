package mailconv

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"easbridge/server/wbxml"
)

// IMAP flags and EAS state.
//
//	EAS                          IMAP
//	Read 1 / 0                   \Seen set / cleared
//	Flag Status 2 (active)       \Flagged set, $Completed cleared
//	Flag Status 1 (complete)     \Flagged cleared, $Completed set
//	Flag Status 0 / empty Flag   \Flagged and $Completed cleared
//	Categories                   keywords (see KeywordForCategory)
//	LastVerbExecuted 1 / 3       \Answered / $Forwarded (read only)
//
// Thunderbird, Apple Mail and most IMAP clients only know \Flagged; a
// completed flag is kept in the $Completed keyword so that the phone sees
// "complete" again after a resync, and other clients see the message as
// not flagged, which is the closest they can show. Flag dates, reminders
// and CompleteTime have no place in IMAP and are not kept.

// IMAP flags and keywords this package reads or writes.
const (
	FlagSeen      = `\Seen`
	FlagFlagged   = `\Flagged`
	FlagAnswered  = `\Answered`
	FlagDraft     = `\Draft`
	KeywordDone   = "$Completed"
	KeywordFwd    = "$Forwarded"
	categoryKWPfx = "$Category_"
)

// Change is what a client may change on an Email in a Sync Change
// (MS-ASEMAIL 3.2.5.4: Read, Flag, Categories; other Email fields are
// read-only and ignored).
type Change struct {
	Read       *bool
	Flag       *Flag     // nil = unchanged; non-nil with Status 0 = clear flag
	Categories *[]string // nil = unchanged; empty = remove all
}

// Flag is the content of Email:Flag (MS-ASEMAIL 2.2.2.34).
type Flag struct {
	Status int    // 0 clear, 1 complete, 2 active (MS-ASEMAIL 2.2.2.74)
	Type   string // FlagType, e.g. "for Follow Up" (MS-ASEMAIL 2.2.2.35)
	// tasks:StartDate, tasks:DueDate, tasks:UtcStartDate, tasks:UtcDueDate,
	// email:CompleteTime, tasks:DateCompleted; zero when absent.
	StartDate, DueDate, UTCStartDate, UTCDueDate, CompleteTime, DateCompleted time.Time
	ReminderSet                                                               bool      // tasks:ReminderSet
	ReminderTime                                                              time.Time // tasks:ReminderTime
}

// maxCategories is the most Category elements a request should hold
// (MS-ASEMAIL 2.2.2.17); more are ignored.
const maxCategories = 300

// ParseChange reads the Email fields a client may change from the
// ApplicationData of a Sync Change (or Add). Fields that are absent stay
// nil. Invalid values (Read other than 0/1, a Flag Status other than 0–2,
// dates that do not parse) are errors: the Sync handler answers those with
// Status 6 (MS-ASEMAIL 2.2.2.58).
func ParseChange(appData *wbxml.Element) (Change, error) {
	var c Change
	if appData == nil {
		return c, errors.New("mailconv: parse change: no ApplicationData")
	}
	if e := appData.Child(wbxml.NSEmail, "Read"); e != nil { // MS-ASEMAIL 2.2.2.58
		b, err := parseBool(e)
		if err != nil {
			return Change{}, fmt.Errorf("mailconv: parse change: Read: %w", err)
		}
		c.Read = &b
	}
	if e := appData.Child(wbxml.NSEmail, "Flag"); e != nil { // MS-ASEMAIL 2.2.2.34
		f, err := parseFlag(e)
		if err != nil {
			return Change{}, fmt.Errorf("mailconv: parse change: Flag: %w", err)
		}
		c.Flag = &f
	}
	if e := appData.Child(wbxml.NSEmail, "Categories"); e != nil { // MS-ASEMAIL 2.2.2.16
		cats := []string{}
		for _, ce := range e.All(wbxml.NSEmail, "Category") { // MS-ASEMAIL 2.2.2.17
			s := strings.TrimSpace(clean(text(ce)))
			if s == "" {
				continue
			}
			cats = append(cats, s)
			if len(cats) == maxCategories {
				break
			}
		}
		c.Categories = &cats
	}
	return c, nil
}

// text is the content of an element as a string (opaque bytes too).
func text(e *wbxml.Element) string {
	if e.IsOpaque {
		return string(e.Opaque)
	}
	return e.Text
}

func parseBool(e *wbxml.Element) (bool, error) {
	switch strings.TrimSpace(text(e)) {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", truncateUTF8(clean(text(e)), 32))
}

func parseFlag(e *wbxml.Element) (Flag, error) {
	var f Flag
	if len(e.Children) == 0 {
		return f, nil // <Flag/> clears the flag (MS-ASEMAIL 3.2.5.4.2)
	}
	if s := e.Child(wbxml.NSEmail, "Status"); s != nil { // MS-ASEMAIL 2.2.2.74
		v := strings.TrimSpace(text(s))
		switch v {
		case "0", "1", "2":
			f.Status = int(v[0] - '0')
		default:
			return f, fmt.Errorf("Status: not 0, 1 or 2: %q", truncateUTF8(clean(v), 32))
		}
	} else if e.Has(wbxml.NSEmail, "FlagType") {
		// A flag with a type and no status is being set.
		f.Status = 2
	}
	f.Type = cleanLine(e.ChildText(wbxml.NSEmail, "FlagType")) // MS-ASEMAIL 2.2.2.35
	dates := []struct {
		space, name string
		dst         *time.Time
	}{
		{wbxml.NSTasks, "StartDate", &f.StartDate},         // MS-ASEMAIL 2.2.2.72
		{wbxml.NSTasks, "DueDate", &f.DueDate},             // MS-ASEMAIL 2.2.2.31
		{wbxml.NSTasks, "UtcStartDate", &f.UTCStartDate},   // MS-ASEMAIL 2.2.2.87
		{wbxml.NSTasks, "UtcDueDate", &f.UTCDueDate},       // MS-ASEMAIL 2.2.2.86
		{wbxml.NSEmail, "CompleteTime", &f.CompleteTime},   // MS-ASEMAIL 2.2.2.19
		{wbxml.NSTasks, "DateCompleted", &f.DateCompleted}, // MS-ASEMAIL 2.2.2.23
		{wbxml.NSTasks, "ReminderTime", &f.ReminderTime},   // MS-ASEMAIL 2.2.2.65
	}
	for _, d := range dates {
		c := e.Child(d.space, d.name)
		if c == nil {
			continue
		}
		t, err := parseEASDate(text(c))
		if err != nil {
			return f, fmt.Errorf("%s: %w", d.name, err)
		}
		*d.dst = t
	}
	if r := e.Child(wbxml.NSTasks, "ReminderSet"); r != nil { // MS-ASEMAIL 2.2.2.64
		b, err := parseBool(r)
		if err != nil {
			return f, fmt.Errorf("ReminderSet: %w", err)
		}
		f.ReminderSet = b
	}
	return f, nil
}

// easDateLayouts are the dateTime forms clients send (MS-ASDTYPE 2.3, and
// the compact form some 12.x clients use).
var easDateLayouts = []string{
	"2006-01-02T15:04:05.000Z",
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z",
	"2006-01-02T15:04:05.000",
	"2006-01-02T15:04:05",
	"20060102T150405Z",
	"2006-01-02",
}

func parseEASDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range easDateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", truncateUTF8(clean(s), 40))
}

// IMAPFlags maps a Change to the IMAP flags to add and to remove (UID
// STORE +FLAGS / -FLAGS). Read and Flag always give their flags, whatever
// current says, since STORE is idempotent and current may be stale.
// Categories replace the message's category keywords: current (the
// message's flags) tells which keywords are categories now; one that
// already shows a wanted category is kept as it is (so Thunderbird's
// $label2 stays $label2 for "Work"), the others are removed, and missing
// categories are added as KeywordForCategory gives them. Both lists are
// free of duplicates; nil when empty.
func IMAPFlags(c Change, current []string) (add, remove []string) {
	addSet := map[string]bool{}
	remSet := map[string]bool{}
	put := func(list *[]string, set map[string]bool, f string) {
		k := strings.ToLower(f)
		if !set[k] {
			set[k] = true
			*list = append(*list, f)
		}
	}
	if c.Read != nil {
		if *c.Read {
			put(&add, addSet, FlagSeen)
		} else {
			put(&remove, remSet, FlagSeen)
		}
	}
	if c.Flag != nil {
		switch c.Flag.Status {
		case 2:
			put(&add, addSet, FlagFlagged)
			put(&remove, remSet, KeywordDone)
		case 1:
			put(&remove, remSet, FlagFlagged)
			put(&add, addSet, KeywordDone)
		default:
			put(&remove, remSet, FlagFlagged)
			put(&remove, remSet, KeywordDone)
		}
	}
	if c.Categories != nil {
		want := map[string]bool{}
		for _, cat := range *c.Categories {
			if cat = strings.TrimSpace(clean(cat)); cat != "" {
				want[cat] = true
			}
		}
		shown := map[string]bool{} // wanted categories a current keyword already shows
		for _, k := range current {
			cat, ok := CategoryForKeyword(k)
			if !ok {
				continue
			}
			if want[cat] && !shown[cat] {
				shown[cat] = true
				continue
			}
			put(&remove, remSet, k)
		}
		for _, cat := range *c.Categories {
			cat = strings.TrimSpace(clean(cat))
			if cat == "" || shown[cat] {
				continue
			}
			shown[cat] = true
			put(&add, addSet, KeywordForCategory(cat))
		}
	}
	return add, remove
}

// Categories as IMAP keywords.
//
// A category that is a plain atom — ASCII letters, digits, "-", "_" and
// ".", starting with a letter or digit, not a name IMAP clients reserve
// (Junk, NonJunk, NotJunk) — is its own keyword: "Work" ⇄ Work, so
// categories and the tags of Thunderbird and other IMAP clients are the
// same thing. Any other category (spaces, non-ASCII, other punctuation, a
// leading "$" or "\", or longer than 64 octets) becomes
//
//	"$Category_" + its UTF-8 octets, with every octet outside
//	[A-Za-z0-9._-] written as "=" and two upper-case hex digits
//
// e.g. "Project X" ⇄ $Category_Project=20X, "Привет" ⇄
// $Category_=D0=9F=D1=80…, which is an IMAP atom (RFC 3501 ATOM-CHAR: no
// "%", "*", "]", quotes, spaces or controls) on every server.
//
// On the way out (CategoryForKeyword) system flags (\…), keywords that
// begin with "$" (by convention system ones: $Forwarded, $MDNSent, $Junk,
// $NotJunk, $Phishing, $Completed, $SubmitPending, $Important,
// $MailFlagBit0 …) and Junk/NonJunk/NotJunk are not categories, with two
// exceptions: $Category_… is decoded, and Thunderbird's built-in tags
// $label1…$label5 show as their default names Important, Work, Personal,
// To Do and Later.

// maxPlainKeyword is the longest category written as a plain keyword.
const maxPlainKeyword = 64

var reservedKeywords = map[string]bool{"junk": true, "nonjunk": true, "notjunk": true}

var thunderbirdLabels = map[string]string{
	"$label1": "Important", "$label2": "Work", "$label3": "Personal", "$label4": "To Do", "$label5": "Later",
}

func plainKeywordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

// KeywordForCategory returns the IMAP keyword that stores category cat.
func KeywordForCategory(cat string) string {
	plain := cat != "" && len(cat) <= maxPlainKeyword && !reservedKeywords[strings.ToLower(cat)]
	for i := 0; plain && i < len(cat); i++ {
		plain = plainKeywordByte(cat[i]) && (i > 0 || cat[i] != '-' && cat[i] != '_' && cat[i] != '.')
	}
	if plain {
		return cat
	}
	const hexdig = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(categoryKWPfx) + len(cat)*2)
	sb.WriteString(categoryKWPfx)
	for i := 0; i < len(cat); i++ {
		c := cat[i]
		if plainKeywordByte(c) {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('=')
		sb.WriteByte(hexdig[c>>4])
		sb.WriteByte(hexdig[c&15])
	}
	return sb.String()
}

// CategoryForKeyword returns the category an IMAP flag or keyword shows,
// and false for system flags and keywords.
func CategoryForKeyword(k string) (string, bool) {
	if k == "" || k[0] == '\\' || reservedKeywords[strings.ToLower(k)] {
		return "", false
	}
	if len(k) > len(categoryKWPfx) && strings.EqualFold(k[:len(categoryKWPfx)], categoryKWPfx) {
		rest := k[len(categoryKWPfx):]
		b := make([]byte, 0, len(rest))
		for i := 0; i < len(rest); i++ {
			if rest[i] == '=' && i+2 < len(rest) {
				if h, ok := unhex(rest[i+1]); ok {
					if l, ok := unhex(rest[i+2]); ok {
						b = append(b, h<<4|l)
						i += 2
						continue
					}
				}
			}
			b = append(b, rest[i])
		}
		if utf8.Valid(b) {
			if s := strings.TrimSpace(clean(string(b))); s != "" {
				return s, true
			}
		}
		return cleanLine(k), true
	}
	if k[0] == '$' {
		if name, ok := thunderbirdLabels[strings.ToLower(k)]; ok {
			return name, true
		}
		return "", false
	}
	return cleanLine(k), true
}

// CategoriesFromFlags lists the categories a message's IMAP flags show
// (see CategoryForKeyword), in flag order, without duplicates.
func CategoriesFromFlags(flags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range flags {
		if c, ok := CategoryForKeyword(f); ok && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// hasFlag reports whether flags holds f (case-insensitive, RFC 3501 flags
// are).
func hasFlag(flags []string, f string) bool {
	for _, g := range flags {
		if strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}
