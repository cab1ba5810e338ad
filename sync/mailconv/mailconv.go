package mailconv

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/source"
)

// Options are the client's wishes for one conversion (from the Sync or
// ItemOperations options) and the account facts the conversion needs.
type Options struct {
	Version       eas.Version
	BodyPrefs     []server.BodyPreference // from the client; empty → MS-ASAIRS default: plain text
	BodyPartPrefs []server.BodyPreference
	MIMESupport   int // 0 never, 1 S/MIME messages, 2 always (MS-ASCMD 2.2.3.110.3)
	// MIMETruncation is the AirSync MIMETruncation in octets, as the server
	// maps it (server.ItemOptions): the limit of a MIME body (Type 4) whose
	// preference has no TruncationSize; 0 none; < 0 (code 0, "truncate all
	// body data") a MIME body without Data (see mimelimit.go).
	MIMETruncation int
	// FileReference builds the reference a client later gives to
	// ItemOperations for an attachment part. nil: the dotted IMAP part
	// number ("2.1"; "1" for the body of a single-part message).
	FileReference func(part []int) string
	// UserAddress is the user's address, or several separated by commas,
	// for ReceivedAsBcc.
	UserAddress string
}

// Fetch limits (see Spec).
const (
	// MinTextLimit is the least text fetched when any body is wanted:
	// enough HTML for a 255-character preview behind a style sheet.
	MinTextLimit = 16 << 10
	// MaxTextLimit is what "no truncation" fetches of each text part; a
	// longer body is sent truncated (Truncated 1).
	MaxTextLimit = 8 << 20
	// MaxRawLimit is what "no truncation" fetches of a raw message for
	// Type 4 (MIME).
	MaxRawLimit = 32 << 20
	// textHeadroom multiplies a TruncationSize into encoded octets:
	// base64 is 4/3, quoted-printable up to 3 per octet, and HTML turned
	// into plain text shrinks.
	textHeadroom = 4
)

// Spec says what to fetch from IMAP for these options: text parts up to
// textHeadroom × the largest TruncationSize of a non-MIME preference (at
// least MinTextLimit; MaxTextLimit when a preference has no truncation or
// there is none), and a raw prefix only when a MIME body (Type 4) may be
// sent: a Type 4 preference with MIMESupport 1 or 2 (S/MIME is only known
// after the fetch), or Type 4 as the only preference. The raw prefix is
// the Type 4 TruncationSize (MaxRawLimit when none).
func Spec(opts Options) source.FetchSpec {
	var spec source.FetchSpec
	prefs := opts.BodyPrefs
	if len(prefs) == 0 {
		prefs = []server.BodyPreference{{Type: 1}}
	}
	var text int64
	onlyMIME := true
	for _, p := range append(prefs[:len(prefs):len(prefs)], opts.BodyPartPrefs...) {
		if p.Type == 4 {
			continue
		}
		onlyMIME = false
		switch {
		case p.TruncationSize <= 0:
			text = MaxTextLimit
		case text < MaxTextLimit:
			text = max(text, min(int64(p.TruncationSize)*textHeadroom, MaxTextLimit))
		}
	}
	if text > 0 {
		spec.TextLimit = max(text, MinTextLimit)
	}
	for _, p := range prefs {
		if p.Type != 4 || (opts.MIMESupport == 0 && !onlyMIME) {
			continue
		}
		switch limit := opts.mimeLimit(p); {
		case limit == 0:
			spec.RawLimit = MaxRawLimit
		case limit > 0:
			spec.RawLimit = min(int64(limit), MaxRawLimit)
		}
		if onlyMIME {
			// Fallback text if the raw message cannot be had.
			spec.TextLimit = MinTextLimit
		}
		break
	}
	return spec
}

// ApplicationData converts a fetched message into AirSync:ApplicationData
// with the Email class fields (MS-ASEMAIL 2.2.2) for opts.Version. A
// message that cannot be parsed still gives what could be read; the error
// is only for programming errors (nil message, unsupported version).
func ApplicationData(m *source.Message, opts Options) (*wbxml.Element, error) {
	return build(wbxml.NSAirSync, "ApplicationData", m, opts)
}

// Properties is ApplicationData's content wrapped for ItemOperations Fetch
// (space wbxml.NSItemOperations, MS-ASCMD 2.2.3.139.2) or Search (space
// wbxml.NSSearch, MS-ASCMD 2.2.3.139.3): an element named Properties.
func Properties(space string, m *source.Message, opts Options) (*wbxml.Element, error) {
	if space != wbxml.NSItemOperations && space != wbxml.NSSearch {
		return nil, fmt.Errorf("mailconv: properties: namespace %q is not ItemOperations or Search", space)
	}
	return build(space, "Properties", m, opts)
}

func build(space, name string, m *source.Message, opts Options) (*wbxml.Element, error) {
	if m == nil {
		return nil, errors.New("mailconv: convert: nil message")
	}
	if _, ok := eas.ParseVersion(string(opts.Version)); !ok {
		return nil, fmt.Errorf("mailconv: convert message %d: unsupported protocol version %q", m.UID, opts.Version)
	}
	c := newConverter(m, opts)
	return c.element(space, name), nil
}

// converter holds one message's parsed view during a conversion.
type converter struct {
	m     *source.Message
	opts  Options
	v     eas.Version
	hdr   header
	hb    []byte // the raw header block
	hasH  bool
	root  *source.Part
	raw   []byte // raw message prefix (m.Raw)
	cut   bool   // raw is a prefix
	plain *source.Part
	html  *source.Part
	class string
	mtg   *meeting // the iTIP part of a meeting message (meeting.go)

	// Lazily rendered bodies.
	plainText, htmlText   *rendered
	subject               string
	hasSubject            bool
	from, to, cc, replyTo []address
}

// rendered is a body in one format.
type rendered struct {
	text     string
	partial  bool // the source was cut short by the fetch limit
	estimate int  // estimated full size in octets
}

func newConverter(m *source.Message, opts Options) *converter {
	c := &converter{m: m, opts: opts, v: opts.Version, raw: m.Raw, cut: m.RawTruncated}
	hb := m.Header
	if len(hb) == 0 && len(m.Raw) > 0 {
		hb = headerBlock(m.Raw)
	}
	c.hb, c.hdr = hb, parseHeader(hb)
	c.hasH = len(c.hdr) > 0
	c.root = m.Root
	if c.root == nil && len(m.Raw) > 0 {
		// No structure from the server: read it from the raw prefix.
		c.root = parseStructure(m.Raw, m.RawTruncated || (m.Size > 0 && int64(len(m.Raw)) < m.Size))
	}
	c.plain, c.html = findBodies(c.root, 0)
	c.class = messageClass(c.root)
	if c.class == classNote || c.class == classMeetingRequest {
		if m := c.parseMeeting(); m != nil {
			c.mtg, c.class = m, m.class
		}
	}
	if v, ok := c.hdr.lookup("Subject"); ok {
		c.subject, c.hasSubject = decodeText(v), true
	} else if !c.hasH {
		c.subject, c.hasSubject = "(unparseable message)", true
	}
	c.from = parseAddressList(c.hdr.get("From"))
	c.to = parseAddressList(c.hdr.get("To"))
	c.cc = parseAddressList(c.hdr.get("Cc"))
	c.replyTo = parseAddressList(c.hdr.get("Reply-To"))
	return c
}

func (c *converter) atLeast(v eas.Version) bool { return c.v.AtLeast(v) }

// txt is a text element with cleaned content.
func txt(space, name, s string) *wbxml.Element { return wbxml.Text(space, name, clean(s)) }

func boolText(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// element builds the Email fields in the order Exchange writes them (the
// MS-ASEMAIL 6.1 schema allows any order).
func (c *converter) element(space, name string) *wbxml.Element {
	e := wbxml.New(space, name)
	add := func(ch *wbxml.Element) { e.Add(ch) }

	if len(c.to) > 0 {
		add(txt(wbxml.NSEmail, "To", formatAddresses(c.to))) // MS-ASEMAIL 2.2.2.79
	}
	if len(c.cc) > 0 {
		add(txt(wbxml.NSEmail, "Cc", formatAddresses(c.cc))) // MS-ASEMAIL 2.2.2.18
	}
	if len(c.from) > 0 {
		add(txt(wbxml.NSEmail, "From", formatAddresses(c.from))) // MS-ASEMAIL 2.2.2.36
	}
	if c.hasSubject {
		add(txt(wbxml.NSEmail, "Subject", c.subject)) // MS-ASEMAIL 2.2.2.75.1
	}
	if len(c.replyTo) > 0 {
		add(txt(wbxml.NSEmail, "ReplyTo", formatAddresses(c.replyTo))) // MS-ASEMAIL 2.2.2.66
	}
	if t, ok := c.dateReceived(); ok {
		add(txt(wbxml.NSEmail, "DateReceived", t.UTC().Format(dateFormat))) // MS-ASEMAIL 2.2.2.24
	}
	if len(c.to) > 0 {
		add(txt(wbxml.NSEmail, "DisplayTo", displayNames(c.to))) // MS-ASEMAIL 2.2.2.29
	}
	if topic := c.threadTopic(); topic != "" {
		add(txt(wbxml.NSEmail, "ThreadTopic", topic)) // MS-ASEMAIL 2.2.2.77
	}
	add(wbxml.Int(wbxml.NSEmail, "Importance", importance(c.hdr))) // MS-ASEMAIL 2.2.2.38
	add(txt(wbxml.NSEmail, "Read", boolText(hasFlag(c.m.Flags, FlagSeen))))
	if atts := c.attachments(); atts != nil {
		add(atts) // MS-ASAIRS 2.2.2.8
	}
	add(c.body()) // MS-ASEMAIL 2.2.2.10.1, MS-ASAIRS 2.2.2.9
	if c.atLeast(eas.V141) && len(c.opts.BodyPartPrefs) > 0 {
		add(c.bodyPart()) // MS-ASAIRS 2.2.2.10
	}
	add(txt(wbxml.NSEmail, "MessageClass", c.class)) // MS-ASEMAIL 2.2.2 MessageClass
	contentClass := contentClassMessage
	if c.mtg != nil {
		contentClass = contentClassCalendar
		if c.mtg.hasRequest() {
			add(c.mtg.element(c.v)) // MS-ASEMAIL 2.2.2.48
		}
	}
	add(txt(wbxml.NSEmail, "InternetCPID", internetCPIDUTF8)) // MS-ASEMAIL 2.2.2 InternetCPID: we send UTF-8
	add(flagElement(c.m.Flags))                               // MS-ASEMAIL 2.2.2.34
	add(txt(wbxml.NSEmail, "ContentClass", contentClass))     // MS-ASEMAIL 2.2.2.20
	native := 1
	if c.html != nil {
		native = 2
	}
	add(wbxml.Int(wbxml.NSAirSyncBase, "NativeBodyType", native)) // MS-ASAIRS 2.2.2.32
	if !c.atLeast(eas.V140) {
		return e
	}
	id := conversationID(c.hdr, c.subject, c.hb,
		fmt.Sprintf("%d/%d/%d", c.m.UID, c.m.InternalDate.UnixNano(), c.m.Size))
	add(wbxml.Opaque(wbxml.NSEmail2, "ConversationId", id))                                     // MS-ASEMAIL 2.2.2.21
	add(wbxml.Opaque(wbxml.NSEmail2, "ConversationIndex", conversationIndex(c.sentDate(), id))) // MS-ASEMAIL 2.2.2.22
	cats := wbxml.New(wbxml.NSEmail, "Categories")                                              // MS-ASEMAIL 2.2.2.16; empty says "none"
	for _, cat := range CategoriesFromFlags(c.m.Flags) {
		cats.Add(txt(wbxml.NSEmail, "Category", cat)) // MS-ASEMAIL 2.2.2.17
	}
	add(cats)
	// MS-ASEMAIL 2.2.2.44; LastVerbExecutionTime (2.2.2.45) is not known.
	switch {
	case hasFlag(c.m.Flags, FlagAnswered):
		add(wbxml.Int(wbxml.NSEmail2, "LastVerbExecuted", 1)) // REPLYTOSENDER
	case hasFlag(c.m.Flags, KeywordFwd):
		add(wbxml.Int(wbxml.NSEmail2, "LastVerbExecuted", 3)) // FORWARD
	}
	if c.receivedAsBcc() {
		add(txt(wbxml.NSEmail2, "ReceivedAsBcc", "1")) // MS-ASEMAIL 2.2.2.59
	}
	if s := c.sender(); s != "" {
		add(txt(wbxml.NSEmail2, "Sender", s)) // MS-ASEMAIL 2.2.2.70
	}
	if c.atLeast(eas.V160) {
		add(txt(wbxml.NSEmail2, "IsDraft", boolText(hasFlag(c.m.Flags, FlagDraft)))) // MS-ASEMAIL 2.2.2.42
		if bcc := parseAddressList(c.hdr.get("Bcc")); len(bcc) > 0 {
			add(txt(wbxml.NSEmail2, "Bcc", formatAddresses(bcc))) // MS-ASEMAIL 2.2.2.9
		}
	}
	return e
}

// dateReceived is INTERNALDATE, else the Date header.
func (c *converter) dateReceived() (time.Time, bool) {
	if !c.m.InternalDate.IsZero() {
		return c.m.InternalDate, true
	}
	return parseDate(c.hdr.get("Date"))
}

// sentDate is the Date header, else INTERNALDATE.
func (c *converter) sentDate() time.Time {
	if t, ok := parseDate(c.hdr.get("Date")); ok {
		return t
	}
	return c.m.InternalDate
}

// threadTopic is the Thread-Topic header, else the normalized subject
// (MS-OXCMAIL 2.2.3.2.7).
func (c *converter) threadTopic() string {
	if v, ok := c.hdr.lookup("Thread-Topic"); ok && strings.TrimSpace(v) != "" {
		return decodeText(v)
	}
	if !c.hasSubject || !c.hasH {
		return ""
	}
	return normalizeSubject(c.subject)
}

// importance maps the priority headers (MS-OXCMAIL 2.2.3.2.5): Importance
// first, then Priority, X-Priority and X-MSMail-Priority; 1 (normal) when
// none says anything.
func importance(h header) int {
	word := func(v string) (int, bool) {
		switch strings.ToLower(strings.TrimSpace(stripComments(v))) {
		case "low", "non-urgent":
			return 0, true
		case "normal":
			return 1, true
		case "high", "urgent":
			return 2, true
		}
		return 0, false
	}
	if n, ok := word(h.get("Importance")); ok {
		return n
	}
	if n, ok := word(h.get("Priority")); ok {
		return n
	}
	if v := strings.TrimSpace(h.get("X-Priority")); v != "" {
		switch v[0] {
		case '1', '2':
			return 2
		case '3':
			return 1
		case '4', '5':
			return 0
		}
	}
	if n, ok := word(h.get("X-MSMail-Priority")); ok {
		return n
	}
	return 1
}

// FlagApplicationData is the ApplicationData of a Sync Change that only
// changes flags: Read, Flag and (14.0+) Categories from the message's
// IMAP flags, exactly as ApplicationData writes them.
func FlagApplicationData(flags []string, v eas.Version) *wbxml.Element {
	e := wbxml.New(wbxml.NSAirSync, "ApplicationData",
		txt(wbxml.NSEmail, "Read", boolText(hasFlag(flags, FlagSeen))), // MS-ASEMAIL 2.2.2.58
		flagElement(flags)) // MS-ASEMAIL 2.2.2.34
	if v.AtLeast(eas.V140) {
		e.Add(categoriesElement(flags))
	}
	return e
}

// categoriesElement is Email:Categories (MS-ASEMAIL 2.2.2.16); empty says
// "none", so that a removed category disappears on the phone.
func categoriesElement(flags []string) *wbxml.Element {
	cats := wbxml.New(wbxml.NSEmail, "Categories")
	for _, cat := range CategoriesFromFlags(flags) {
		cats.Add(txt(wbxml.NSEmail, "Category", cat)) // MS-ASEMAIL 2.2.2.17
	}
	return cats
}

// flagElement is Email:Flag: \Flagged is an active follow-up flag,
// $Completed a completed one, anything else the empty <Flag/> (MS-ASEMAIL
// 2.2.2.34).
func flagElement(flags []string) *wbxml.Element {
	f := wbxml.New(wbxml.NSEmail, "Flag")
	switch {
	case hasFlag(flags, FlagFlagged):
		f.Add(wbxml.Int(wbxml.NSEmail, "Status", 2), // MS-ASEMAIL 2.2.2.74
			txt(wbxml.NSEmail, "FlagType", flagTypeFollowUp)) // MS-ASEMAIL 2.2.2.35
	case hasFlag(flags, KeywordDone):
		f.Add(wbxml.Int(wbxml.NSEmail, "Status", 1),
			txt(wbxml.NSEmail, "FlagType", flagTypeFollowUp))
	}
	return f
}

// userAddresses splits Options.UserAddress.
func (c *converter) userAddresses() []string {
	var out []string
	for _, a := range strings.FieldsFunc(c.opts.UserAddress, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		if a = strings.Trim(a, "<>"); strings.ContainsRune(a, '@') {
			out = append(out, strings.ToLower(a))
		}
	}
	return out
}

func containsAddr(list []address, users []string) bool {
	for _, a := range list {
		for _, u := range users {
			if strings.EqualFold(a.Addr, u) {
				return true
			}
		}
	}
	return false
}

// receivedAsBcc: the user is neither in To nor in Cc, did not send the
// message, and it did not come through a mailing list (List-Id, List-Post:
// the list address stands in To) (MS-ASEMAIL 2.2.2.59).
func (c *converter) receivedAsBcc() bool {
	users := c.userAddresses()
	if len(users) == 0 || !c.hasH {
		return false
	}
	if _, ok := c.hdr.lookup("List-Id"); ok {
		return false
	}
	if _, ok := c.hdr.lookup("List-Post"); ok {
		return false
	}
	return !containsAddr(c.to, users) && !containsAddr(c.cc, users) && !containsAddr(c.from, users)
}

// sender is the Sender header when it names someone other than From
// (MS-ASEMAIL 2.2.2.70: sent on behalf of).
func (c *converter) sender() string {
	s := parseAddressList(c.hdr.get("Sender"))
	if len(s) == 0 {
		return ""
	}
	for _, f := range c.from {
		if strings.EqualFold(f.Addr, s[0].Addr) {
			return ""
		}
	}
	return formatAddress(s[0])
}

// attachments is AirSyncBase:Attachments, nil when there is none.
func (c *converter) attachments() *wbxml.Element {
	list := findAttachments(c.root, c.plain, c.html)
	if len(list) == 0 {
		return nil
	}
	e := wbxml.New(wbxml.NSAirSyncBase, "Attachments")
	for _, a := range list {
		ref := ""
		if c.opts.FileReference != nil {
			ref = c.opts.FileReference(a.part.Path)
		} else if ref = dotted(a.part.Path); ref == "" {
			ref = defaultFileReference
		}
		ae := wbxml.New(wbxml.NSAirSyncBase, "Attachment", // MS-ASAIRS 2.2.2.7
			txt(wbxml.NSAirSyncBase, "DisplayName", a.name),                               // MS-ASAIRS 2.2.2.22.2
			txt(wbxml.NSAirSyncBase, "FileReference", ref),                                // MS-ASAIRS 2.2.2.24.1
			wbxml.Int(wbxml.NSAirSyncBase, "Method", 1),                                   // MS-ASAIRS 2.2.2.31.2: normal attachment
			wbxml.Int(wbxml.NSAirSyncBase, "EstimatedDataSize", int(decodedSize(a.part)))) // MS-ASAIRS 2.2.2.23.1
		if id := strings.TrimSpace(a.part.ID); id != "" {
			ae.Add(txt(wbxml.NSAirSyncBase, "ContentId", cleanLine(strings.Trim(id, "<>")))) // MS-ASAIRS 2.2.2.16.2
		}
		if loc := contentLocation(a.part.Location); loc != "" {
			ae.Add(txt(wbxml.NSAirSyncBase, "ContentLocation", loc)) // MS-ASAIRS 2.2.2.17.2
		}
		if a.inline {
			ae.Add(txt(wbxml.NSAirSyncBase, "IsInline", "1")) // MS-ASAIRS 2.2.2.26.2
		}
		e.Add(ae)
	}
	return e
}
