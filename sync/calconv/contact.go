package calconv

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"time"

	"easbridge/server/wbxml"
)

// maxPicture is the largest Picture we send: MS-ASCNTC 2.2.2.58 limits it
// to 48 KB of base64 text.
const maxPicture = 48 * 1024

const (
	nsC  = wbxml.NSContacts
	nsC2 = wbxml.NSContacts2
)

// contactElements is the order of the EAS elements we write, after
// MS-ASCNTC 2.2.2 (alphabetical in Contacts, then Contacts2).
var contactElements = []struct{ space, name string }{
	{nsC, "Anniversary"}, {nsC, "AssistantName"}, {nsC, "AssistantPhoneNumber"}, {nsC, "Birthday"},
	{nsC, "Business2PhoneNumber"}, {nsC, "BusinessAddressCity"}, {nsC, "BusinessAddressCountry"},
	{nsC, "BusinessAddressPostalCode"}, {nsC, "BusinessAddressState"}, {nsC, "BusinessAddressStreet"},
	{nsC, "BusinessFaxNumber"}, {nsC, "BusinessPhoneNumber"}, {nsC, "CarPhoneNumber"},
	{nsC, "CompanyName"}, {nsC, "Department"},
	{nsC, "Email1Address"}, {nsC, "Email2Address"}, {nsC, "Email3Address"}, {nsC, "FileAs"}, {nsC, "FirstName"},
	{nsC, "Home2PhoneNumber"}, {nsC, "HomeAddressCity"}, {nsC, "HomeAddressCountry"}, {nsC, "HomeAddressPostalCode"},
	{nsC, "HomeAddressState"}, {nsC, "HomeAddressStreet"}, {nsC, "HomeFaxNumber"}, {nsC, "HomePhoneNumber"},
	{nsC, "JobTitle"}, {nsC, "LastName"}, {nsC, "MiddleName"}, {nsC, "MobilePhoneNumber"}, {nsC, "OfficeLocation"},
	{nsC, "OtherAddressCity"}, {nsC, "OtherAddressCountry"}, {nsC, "OtherAddressPostalCode"}, {nsC, "OtherAddressState"},
	{nsC, "OtherAddressStreet"}, {nsC, "PagerNumber"}, {nsC, "RadioPhoneNumber"}, {nsC, "Spouse"}, {nsC, "Suffix"},
	{nsC, "Title"}, {nsC, "WebPage"}, {nsC, "YomiCompanyName"}, {nsC, "YomiFirstName"}, {nsC, "YomiLastName"},
	{nsC2, "CustomerId"}, {nsC2, "GovernmentId"}, {nsC2, "IMAddress"}, {nsC2, "IMAddress2"}, {nsC2, "IMAddress3"},
	{nsC2, "ManagerName"}, {nsC2, "CompanyMainPhone"}, {nsC2, "AccountName"}, {nsC2, "NickName"}, {nsC2, "MMS"},
}

// Phones: the slots a TEL of each kind fills, in order.
var phoneSlots = map[string][]string{
	"work":        {"BusinessPhoneNumber", "Business2PhoneNumber"},
	"home":        {"HomePhoneNumber", "Home2PhoneNumber"},
	"cell":        {"MobilePhoneNumber"},
	"workfax":     {"BusinessFaxNumber"},
	"homefax":     {"HomeFaxNumber"},
	"pager":       {"PagerNumber"},
	"car":         {"CarPhoneNumber"},
	"radio":       {"RadioPhoneNumber"},
	"assistant":   {"AssistantPhoneNumber"},
	"companymain": {"CompanyMainPhone"},
	"mms":         {"MMS"},
	"other":       {"Home2PhoneNumber", "Business2PhoneNumber"}, // EAS has no "other" phone
}

// phoneTypes are the TYPEs of a new TEL for each slot.
var phoneTypes = map[string][]string{
	"BusinessPhoneNumber": {"WORK", "VOICE"}, "Business2PhoneNumber": {"WORK", "VOICE"},
	"HomePhoneNumber": {"HOME", "VOICE"}, "Home2PhoneNumber": {"HOME", "VOICE"},
	"MobilePhoneNumber": {"CELL", "VOICE"}, "BusinessFaxNumber": {"WORK", "FAX"}, "HomeFaxNumber": {"HOME", "FAX"},
	"PagerNumber": {"PAGER"}, "CarPhoneNumber": {"CAR", "VOICE"}, "RadioPhoneNumber": {"X-RADIO"},
	"AssistantPhoneNumber": {"X-ASSISTANT"}, "CompanyMainPhone": {"WORK", "X-COMPANY-MAIN"}, "MMS": {"X-MMS"},
}

var phoneElements = []string{"AssistantPhoneNumber", "Business2PhoneNumber", "BusinessFaxNumber", "BusinessPhoneNumber",
	"CarPhoneNumber", "Home2PhoneNumber", "HomeFaxNumber", "HomePhoneNumber", "MobilePhoneNumber", "PagerNumber",
	"RadioPhoneNumber", "CompanyMainPhone", "MMS"}

// xFields are single-valued fields kept in (mostly X-) properties. The
// first name is written for new values; the others are read too
// (Evolution, KAddressBook, Outlook spellings). Spouse is RELATED in
// vCard 4.0.
var xFields = []struct {
	el   string
	read []string
}{
	{"AssistantName", []string{"X-ASSISTANT", "X-EVOLUTION-ASSISTANT", "X-KADDRESSBOOK-X-ASSISTANTSNAME", "X-MS-ASSISTANT"}},
	{"Spouse", []string{"X-SPOUSE", "X-EVOLUTION-SPOUSE", "X-KADDRESSBOOK-X-SPOUSESNAME", "X-MS-SPOUSE"}},
	{"ManagerName", []string{"X-MANAGER", "X-EVOLUTION-MANAGER", "X-KADDRESSBOOK-X-MANAGERSNAME", "X-MS-MANAGER"}},
	{"OfficeLocation", []string{"X-OFFICE", "X-EVOLUTION-OFFICE", "X-KADDRESSBOOK-X-OFFICE", "X-MS-OFFICELOCATION"}},
	{"YomiFirstName", []string{"X-PHONETIC-FIRST-NAME"}},
	{"YomiLastName", []string{"X-PHONETIC-LAST-NAME"}},
	{"YomiCompanyName", []string{"X-PHONETIC-ORG"}},
	{"CustomerId", []string{"X-CUSTOMERID", "X-MS-CUSTOMERID"}},
	{"GovernmentId", []string{"X-GOVERNMENTID", "X-MS-GOVERNMENTID"}},
	{"AccountName", []string{"X-ACCOUNTNAME", "X-MS-ACCOUNTNAME"}},
	{"WebPage", []string{"URL"}},
	{"JobTitle", []string{"TITLE"}},
}

var imProps = map[string]bool{"IMPP": true, "X-JABBER": true, "X-AIM": true, "X-ICQ": true, "X-MSN": true,
	"X-YAHOO": true, "X-SKYPE": true, "X-SKYPE-USERNAME": true, "X-GTALK": true, "X-GOOGLE-TALK": true,
	"X-QQ": true, "X-GADUGADU": true, "X-GROUPWISE": true}

var anniversaryProps = []string{"ANNIVERSARY", "X-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY", "X-KADDRESSBOOK-X-ANNIVERSARY", "X-MS-ANNIVERSARY"}

var addrKinds = []string{"Business", "Home", "Other"}

// contactView is the EAS view of a VCARD, with the property behind each
// value so that a change writes back into it.
type contactView struct {
	v4         bool
	vals       map[string]string
	src        map[string]*prop
	adr        map[string]*prop
	categories []string
	children   []string
	body       string
	picture    string
}

func lowerTypes(p *prop) map[string]bool {
	m := map[string]bool{}
	for _, t := range p.paramValues("TYPE") {
		m[strings.ToLower(t)] = true
	}
	return m
}

func phoneKind(p *prop) string {
	t := lowerTypes(p)
	switch {
	case t["fax"] && t["home"]:
		return "homefax"
	case t["fax"]:
		return "workfax"
	case t["pager"]:
		return "pager"
	case t["cell"] || t["mobile"] || t["iphone"]:
		return "cell"
	case t["car"]:
		return "car"
	case t["x-radio"] || t["radio"]:
		return "radio"
	case t["x-assistant"] || t["x-evolution-assistant"] || t["assistant"]:
		return "assistant"
	case t["x-company-main"] || t["x-evolution-company"]:
		return "companymain"
	case t["x-mms"]:
		return "mms"
	case t["work"]:
		return "work"
	case t["home"]:
		return "home"
	}
	return "other"
}

// prefRank orders properties: PREF=1…100 (vCard 4.0) or TYPE=PREF first,
// then the others in document order.
func prefRank(p *prop) int {
	if s := p.param("PREF"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 100 {
			return n
		}
	}
	if p.hasParamValue("TYPE", "PREF") {
		return 1
	}
	return 101
}

func byPref(ps []*prop) []*prop {
	out := append([]*prop(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool { return prefRank(out[i]) < prefRank(out[j]) })
	return out
}

func telValue(p *prop) string {
	v := strings.TrimSpace(unescapeText(p.Value))
	if len(v) > 4 && strings.EqualFold(v[:4], "tel:") {
		v = v[4:]
	}
	return v
}

func imValue(p *prop) string {
	v := strings.TrimSpace(unescapeText(p.Value))
	if p.Name == "IMPP" {
		if i := strings.IndexByte(v, ':'); i > 0 && isScheme(v[:i]) {
			v = v[i+1:]
		}
	}
	return v
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

func relatedType(p *prop, t string) bool {
	return p.Name == "RELATED" && p.hasParamValue("TYPE", t) && !(p.param("VALUE") == "" && strings.Contains(p.Value, ":"))
}

// parseVCardDate reads BDAY/ANNIVERSARY forms: 19800504, 1980-05-04,
// 1980-05-04T00:00:00Z, --0504, --05-04. A date without a year gets
// 1604 (Apple's convention), as EAS needs a full date.
func parseVCardDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, 'T'); i >= 0 {
		v = v[:i]
	}
	v = strings.ReplaceAll(v, "-", "")
	if len(v) == 4 { // "--0504" without dashes
		v = "1604" + v
	}
	t, err := time.Parse("20060102", v)
	if err != nil || t.Year() < 1 {
		return time.Time{}, false
	}
	return t, true
}

func readContact(c *component) (*contactView, error) {
	if c.Name != "VCARD" {
		return nil, fmt.Errorf("%w: %s is not a VCARD", ErrUnsupported, c.Name)
	}
	cv := &contactView{vals: map[string]string{}, src: map[string]*prop{}, adr: map[string]*prop{}}
	cv.v4 = strings.HasPrefix(strings.TrimSpace(c.text("VERSION")), "4")
	set := func(el, v string, p *prop) {
		if v = strings.TrimSpace(v); v != "" && cv.vals[el] == "" {
			cv.vals[el] = v
			cv.src[el] = p
		}
	}
	if p := c.get("N"); p != nil {
		n := structured(p.Value)
		for i, el := range []string{"LastName", "FirstName", "MiddleName", "Title", "Suffix"} {
			if i < len(n) {
				set(el, n[i], p)
			}
		}
	}
	if p := c.get("FN"); p != nil {
		set("FileAs", unescapeText(p.Value), p)
	}
	if p := c.get("ORG"); p != nil {
		o := structured(p.Value)
		set("CompanyName", o[0], p)
		if len(o) > 1 {
			set("Department", o[1], p)
		}
	}
	if p := c.get("NICKNAME"); p != nil {
		if l := textList(p.Value); len(l) > 0 {
			set("NickName", l[0], p)
		}
	}
	for _, f := range xFields {
		if f.el == "Spouse" {
			for _, p := range c.all("RELATED") {
				if relatedType(p, "spouse") {
					set(f.el, unescapeText(p.Value), p)
				}
			}
		}
		for _, name := range f.read {
			if p := c.get(name); p != nil {
				set(f.el, unescapeText(p.Value), p)
			}
		}
	}
	for i, p := range byPref(c.all("EMAIL")) {
		if i >= 3 {
			break
		}
		set("Email"+strconv.Itoa(i+1)+"Address", strings.TrimPrefix(unescapeText(p.Value), "mailto:"), p)
	}
	var ims []*prop
	for _, p := range c.Props {
		if imProps[p.Name] {
			ims = append(ims, p)
		}
	}
	for i, p := range byPref(ims) {
		if i >= 3 {
			break
		}
		el := "IMAddress"
		if i > 0 {
			el += strconv.Itoa(i + 1)
		}
		set(el, imValue(p), p)
	}
	tels := byPref(c.all("TEL"))
	for pass := 0; pass < 2; pass++ {
		for _, p := range tels {
			kind := phoneKind(p)
			if (kind == "other") != (pass == 1) {
				continue
			}
			for _, slot := range phoneSlots[kind] {
				if cv.vals[slot] == "" {
					set(slot, telValue(p), p)
					break
				}
			}
		}
	}
	for _, p := range byPref(c.all("ADR")) {
		t := lowerTypes(p)
		kind := "Other"
		switch {
		case t["work"]:
			kind = "Business"
		case t["home"]:
			kind = "Home"
		}
		if cv.adr[kind] != nil {
			continue
		}
		a := structured(p.Value)
		for len(a) < 7 {
			a = append(a, "")
		}
		street := a[2]
		if street == "" {
			street = strings.TrimSpace(strings.Join(nonEmpty(a[0], a[1]), "\n"))
		}
		cv.adr[kind] = p
		prefix := kind + "Address"
		set(prefix+"Street", street, p)
		set(prefix+"City", a[3], p)
		set(prefix+"State", a[4], p)
		set(prefix+"PostalCode", a[5], p)
		set(prefix+"Country", a[6], p)
	}
	if p := c.get("BDAY"); p != nil {
		if t, ok := parseVCardDate(p.Value); ok {
			set("Birthday", long(t), p)
		}
	}
	for _, name := range anniversaryProps {
		if p := c.get(name); p != nil {
			if t, ok := parseVCardDate(p.Value); ok {
				set("Anniversary", long(t), p)
			}
		}
	}
	for _, p := range c.Props {
		if relatedType(p, "child") || p.Name == "X-CHILD" || p.Name == "X-MS-CHILD" {
			if v := strings.TrimSpace(unescapeText(p.Value)); v != "" {
				cv.children = append(cv.children, v)
			}
		}
	}
	cv.categories = categoriesOf(c)
	var notes []string
	for _, p := range c.all("NOTE") {
		notes = append(notes, unescapeText(p.Value))
	}
	cv.body = strings.Join(notes, "\n\n")
	if p := c.get("PHOTO"); p != nil {
		if b := photoData(p); len(b) > 0 {
			cv.picture = base64.StdEncoding.EncodeToString(b)
		}
	}
	return cv, nil
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if strings.TrimSpace(x) != "" {
			out = append(out, x)
		}
	}
	return out
}

// photoData decodes an inline PHOTO (vCard 3.0 ENCODING=b, vCard 4.0
// data: URI); a PHOTO by reference (http:) yields nil.
func photoData(p *prop) []byte {
	v := strings.TrimSpace(p.Value)
	enc := strings.ToLower(p.param("ENCODING"))
	var raw string
	switch {
	case enc == "b" || enc == "base64":
		raw = v
	case strings.HasPrefix(strings.ToLower(v), "data:"):
		i := strings.IndexByte(v, ',')
		if i < 0 || !strings.Contains(strings.ToLower(v[:i]), ";base64") {
			return nil
		}
		raw = v[i+1:]
	default:
		return nil
	}
	raw = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, raw)
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(raw, "=")); err != nil {
			return nil
		}
	}
	return b
}

func imageType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0x89, 'P', 'N', 'G'}):
		return "PNG"
	case bytes.HasPrefix(b, []byte("GIF8")):
		return "GIF"
	default:
		return "JPEG"
	}
}

func contactToEAS(root *component, opts Options) (*wbxml.Element, error) {
	cv, err := readContact(root)
	if err != nil {
		return nil, err
	}
	if cv.vals["FileAs"] == "" {
		cv.vals["FileAs"] = composeFileAs(cv.vals)
	}
	app := wbxml.New(wbxml.NSAirSync, "ApplicationData")
	app.Add(bodyElement(cv.body, "", opts))
	for _, e := range contactElements {
		switch e.name {
		case "CompanyName":
			app.Add(listEl(nsC, "Categories", "Category", cv.categories))
			app.Add(listEl(nsC, "Children", "Child", cv.children))
		case "CustomerId":
			if cv.picture != "" && len(cv.picture) <= maxPicture {
				app.Add(wbxml.Text(nsC, "Picture", cv.picture))
			}
		}
		app.Add(textEl(e.space, e.name, cv.vals[e.name]))
	}
	return app, nil
}

// composeFileAs builds "Last, First" (Outlook's default) when a card has
// no FN.
func composeFileAs(v map[string]string) string {
	switch {
	case v["LastName"] != "" && v["FirstName"] != "":
		return v["LastName"] + ", " + v["FirstName"]
	case v["LastName"] != "" || v["FirstName"] != "":
		return v["LastName"] + v["FirstName"]
	case v["CompanyName"] != "":
		return v["CompanyName"]
	}
	return v["Email1Address"]
}

// displayName composes FN from the name parts.
func displayName(v map[string]string) string {
	if s := strings.Join(nonEmpty(v["Title"], v["FirstName"], v["MiddleName"], v["LastName"], v["Suffix"]), " "); s != "" {
		return s
	}
	for _, k := range []string{"CompanyName", "Email1Address", "FileAs"} {
		if v[k] != "" {
			return v[k]
		}
	}
	return ""
}

// contactFromEAS applies the client's fields to the card: a value equal
// to what we derive from the card leaves its property untouched, a
// changed one is written into the property it came from, a new one gets
// a new property, a missing one removes it. Body and Picture are kept
// when absent (MS-ASCNTC marks them as ghostable); an empty Picture
// removes the photo.
func contactFromEAS(app *wbxml.Element, old *component, opts Options) (*component, string, error) {
	now := opts.now()
	c := old
	if c == nil {
		c = &component{Name: "VCARD", Props: []*prop{{Name: "VERSION", Value: "3.0"},
			{Name: "PRODID", Value: "-//easbridge//calconv//EN"}, {Name: "UID", Value: newUID()}}}
	}
	cv, err := readContact(c)
	if err != nil {
		return nil, "", err
	}
	nv := map[string]string{}
	for _, e := range contactElements {
		nv[e.name] = strings.TrimSpace(childText(app, e.space, e.name))
	}
	for i := 1; i <= 3; i++ {
		k := "Email" + strconv.Itoa(i) + "Address"
		if a, err := mail.ParseAddress(nv[k]); err == nil {
			nv[k] = a.Address
		}
	}
	changed := func(keys ...string) bool {
		for _, k := range keys {
			if nv[k] != cv.vals[k] {
				return true
			}
		}
		return false
	}
	v4 := cv.v4
	typeVals := func(ts []string) []string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = t
			if v4 {
				out[i] = strings.ToLower(t)
			}
		}
		return out
	}
	// N and FN.
	nameKeys := []string{"LastName", "FirstName", "MiddleName", "Title", "Suffix"}
	if changed(nameKeys...) || c.get("N") == nil {
		p := c.get("N")
		var parts []string
		if p != nil {
			parts = splitUnescaped(p.Value, ';')
		} else {
			p = &prop{Name: "N"}
			c.add(p)
		}
		for len(parts) < 5 {
			parts = append(parts, "")
		}
		for i, k := range nameKeys {
			if nv[k] != cv.vals[k] {
				parts[i] = escapeText(nv[k])
			}
		}
		p.Value = strings.Join(parts, ";")
	}
	if changed("FileAs") || changed(nameKeys...) || c.get("FN") == nil {
		fn := nv["FileAs"]
		if fn == "" || fn == composeFileAs(nv) {
			if d := displayName(nv); d != "" {
				fn = d
			}
		}
		if !changed("FileAs") && !changed(nameKeys...) && c.get("FN") != nil {
			fn = cv.vals["FileAs"]
		}
		if fn == "" {
			fn = "-"
		}
		c.setText("FN", fn)
	}
	// ORG.
	if changed("CompanyName", "Department") {
		p := c.get("ORG")
		var parts []string
		if p != nil {
			parts = splitUnescaped(p.Value, ';')
		}
		for len(parts) < 2 {
			parts = append(parts, "")
		}
		parts[0], parts[1] = escapeText(nv["CompanyName"]), escapeText(nv["Department"])
		switch {
		case nv["CompanyName"] == "" && nv["Department"] == "" && strings.Trim(strings.Join(parts, ""), ";") == "":
			c.del("ORG")
		case p != nil:
			p.Value = strings.TrimRight(strings.Join(parts, ";"), ";")
		default:
			c.add(&prop{Name: "ORG", Value: strings.TrimRight(strings.Join(parts, ";"), ";")})
		}
	}
	// NICKNAME: the first nickname.
	if changed("NickName") {
		p := c.get("NICKNAME")
		var l []string
		if p != nil {
			l = textList(p.Value)
		}
		if len(l) == 0 {
			l = []string{""}
		}
		l[0] = nv["NickName"]
		l = nonEmpty(l...)
		if len(l) == 0 {
			c.del("NICKNAME")
		} else if p != nil {
			p.Value = joinTextList(l)
		} else {
			c.add(&prop{Name: "NICKNAME", Value: joinTextList(l)})
		}
	}
	// Single-valued fields.
	for _, f := range xFields {
		if !changed(f.el) {
			continue
		}
		p := cv.src[f.el]
		switch {
		case nv[f.el] == "":
			if p != nil {
				c.delProp(p)
			}
		case p != nil:
			p.Value = escapeText(nv[f.el])
		case f.el == "Spouse" && v4:
			c.add(&prop{Name: "RELATED", Params: []param{{Name: "TYPE", Values: []string{"spouse"}}, {Name: "VALUE", Values: []string{"text"}}}, Value: escapeText(nv[f.el])})
		default:
			c.add(&prop{Name: f.read[0], Value: escapeText(nv[f.el])})
		}
	}
	// E-mail addresses, IM addresses and phones: one property per slot.
	slot := func(el, value string, mk func() *prop) {
		if !changed(el) {
			return
		}
		p := cv.src[el]
		switch {
		case value == "":
			if p != nil {
				c.delProp(p)
			}
		case p != nil:
			p.Value = escapeText(value)
			if p.Name == "IMPP" {
				p.Value = imURI(value)
			}
		default:
			c.add(mk())
		}
	}
	for i := 1; i <= 3; i++ {
		el := "Email" + strconv.Itoa(i) + "Address"
		slot(el, nv[el], func() *prop {
			p := &prop{Name: "EMAIL", Value: escapeText(nv[el])}
			if !v4 {
				p.Params = []param{{Name: "TYPE", Values: []string{"INTERNET"}}}
			}
			return p
		})
	}
	for _, el := range []string{"IMAddress", "IMAddress2", "IMAddress3"} {
		slot(el, nv[el], func() *prop { return &prop{Name: "IMPP", Value: imURI(nv[el])} })
	}
	for _, el := range phoneElements {
		slot(el, nv[el], func() *prop {
			return &prop{Name: "TEL", Params: []param{{Name: "TYPE", Values: typeVals(phoneTypes[el])}}, Value: escapeText(nv[el])}
		})
	}
	// Addresses.
	for _, kind := range addrKinds {
		pre := kind + "Address"
		keys := []string{pre + "Street", pre + "City", pre + "State", pre + "PostalCode", pre + "Country"}
		if !changed(keys...) {
			continue
		}
		p := cv.adr[kind]
		empty := true
		for _, k := range keys {
			empty = empty && nv[k] == ""
		}
		if empty {
			if p != nil {
				c.delProp(p)
			}
			continue
		}
		var parts []string
		if p != nil {
			parts = splitUnescaped(p.Value, ';')
			p.delParam("LABEL")
		} else {
			p = &prop{Name: "ADR"}
			switch kind {
			case "Business":
				p.Params = []param{{Name: "TYPE", Values: typeVals([]string{"WORK"})}}
			case "Home":
				p.Params = []param{{Name: "TYPE", Values: typeVals([]string{"HOME"})}}
			}
			c.add(p)
		}
		for len(parts) < 7 {
			parts = append(parts, "")
		}
		if nv[pre+"Street"] != cv.vals[pre+"Street"] {
			parts[0], parts[1] = "", ""
		}
		for i, k := range keys {
			parts[2+i] = escapeText(nv[k])
		}
		p.Value = strings.Join(parts[:7], ";")
	}
	// Dates.
	writeDate := func(el string, mk func() *prop) error {
		if !changed(el) {
			return nil
		}
		p := cv.src[el]
		if nv[el] == "" {
			if p != nil {
				c.delProp(p)
			}
			return nil
		}
		t, err := parseEASTime(nv[el])
		if err != nil {
			return fmt.Errorf("%s: %w", el, err)
		}
		// Clients send local midnight in UTC (1980-05-03T22:00:00Z for
		// 4 May in Berlin): round to the nearest day.
		t = t.Add(12 * time.Hour).Truncate(24 * time.Hour)
		val := t.Format("2006-01-02")
		switch {
		case v4 && t.Year() == 1604:
			val = t.Format("--0102")
		case v4:
			val = t.Format("20060102")
		}
		if p == nil {
			p = mk()
			c.add(p)
		}
		p.Value = val
		p.delParam("VALUE")
		if !v4 && t.Year() == 1604 {
			p.setParam("X-APPLE-OMIT-YEAR", "1604")
		} else {
			p.delParam("X-APPLE-OMIT-YEAR")
		}
		return nil
	}
	if err := writeDate("Birthday", func() *prop { return &prop{Name: "BDAY"} }); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := writeDate("Anniversary", func() *prop {
		if v4 {
			return &prop{Name: "ANNIVERSARY"}
		}
		return &prop{Name: "X-ANNIVERSARY"}
	}); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// Lists.
	cats, _ := childList(app, nsC, "Categories", "Category")
	if !sameStrings(cats, cv.categories) {
		setCategories(c, cats)
	}
	kids, _ := childList(app, nsC, "Children", "Child")
	if !sameStrings(kids, cv.children) {
		kept := c.Props[:0]
		for _, p := range c.Props {
			if !(relatedType(p, "child") || p.Name == "X-CHILD" || p.Name == "X-MS-CHILD") {
				kept = append(kept, p)
			}
		}
		c.Props = kept
		for _, k := range kids {
			if v4 {
				c.add(&prop{Name: "RELATED", Params: []param{{Name: "TYPE", Values: []string{"child"}}, {Name: "VALUE", Values: []string{"text"}}}, Value: escapeText(k)})
			} else {
				c.add(&prop{Name: "X-CHILD", Value: escapeText(k)})
			}
		}
	}
	// Body (ghosted when absent).
	if text, _, ok := clientBody(app, nsC); ok && text != lf(cv.body) {
		c.del("NOTE")
		c.setText("NOTE", text)
	}
	// Picture (ghosted when absent, removed when empty).
	if pe := app.Child(nsC, "Picture"); pe != nil {
		raw := strings.TrimSpace(childText(app, nsC, "Picture"))
		if raw == "" {
			c.del("PHOTO")
		} else if raw != cv.picture {
			b, err := base64.StdEncoding.DecodeString(raw)
			if err != nil {
				return nil, "", fmt.Errorf("%w: Picture is not base64", ErrInvalid)
			}
			enc := base64.StdEncoding.EncodeToString(b)
			if enc != cv.picture {
				typ := imageType(b)
				if v4 {
					c.set(&prop{Name: "PHOTO", Value: "data:image/" + strings.ToLower(typ) + ";base64," + enc})
				} else {
					c.set(&prop{Name: "PHOTO", Params: []param{{Name: "ENCODING", Values: []string{"b"}}, {Name: "TYPE", Values: []string{typ}}}, Value: enc})
				}
			}
		}
	}
	c.set(&prop{Name: "REV", Value: now.Format("20060102T150405Z")})
	uid := c.text("UID")
	if uid == "" {
		uid = newUID()
		c.add(&prop{Name: "UID", Value: uid})
	}
	return c, uid, nil
}

// imURI writes an IM address as an IMPP URI: kept when it has a scheme,
// xmpp: for user@host, else the generic im: (RFC 3860).
func imURI(v string) string {
	if i := strings.IndexByte(v, ':'); i > 0 && isScheme(v[:i]) {
		return v
	}
	if strings.Contains(v, "@") {
		return "xmpp:" + v
	}
	return "im:" + v
}
