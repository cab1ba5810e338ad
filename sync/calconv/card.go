package calconv

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Card is what an address list needs of a vCard (the GAL of Search and
// ResolveRecipients, MS-ASCMD 2.2.1.16 and 2.2.1.15): names, addresses,
// phones, organisation and photo, read with the same rules as the
// Contacts conversion.
type Card struct {
	UID         string
	DisplayName string // FN, else composed from N, ORG or the address
	FirstName   string
	LastName    string
	NickName    string
	Company     string
	Department  string
	Title       string   // TITLE (the job title)
	Office      string   // X-OFFICE and its spellings
	Emails      []string // up to three, PREF first
	WorkPhone   string
	HomePhone   string
	MobilePhone string
	Photo       []byte // the decoded inline PHOTO; nil when none or too large
}

// ParseCard reads one vCard (3.0 or 4.0, also 2.1). A broken card is an
// error wrapping ErrInvalid, a VCALENDAR one wrapping ErrUnsupported.
func ParseCard(data []byte) (card *Card, err error) {
	defer guard(&err, "parse card")
	root, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("calconv: card: %w", err)
	}
	cv, err := readContact(root)
	if err != nil {
		return nil, fmt.Errorf("calconv: card: %w", err)
	}
	v := cv.vals
	c := &Card{
		UID:         strings.TrimSpace(unescapeText(root.text("UID"))),
		DisplayName: v["FileAs"],
		FirstName:   v["FirstName"],
		LastName:    v["LastName"],
		NickName:    v["NickName"],
		Company:     v["CompanyName"],
		Department:  v["Department"],
		Title:       v["JobTitle"],
		Office:      v["OfficeLocation"],
		WorkPhone:   firstOf(v, "BusinessPhoneNumber", "Business2PhoneNumber", "CompanyMainPhone"),
		HomePhone:   firstOf(v, "HomePhoneNumber", "Home2PhoneNumber"),
		MobilePhone: v["MobilePhoneNumber"],
	}
	for _, k := range []string{"Email1Address", "Email2Address", "Email3Address"} {
		if e := strings.TrimSpace(v[k]); e != "" {
			c.Emails = append(c.Emails, e)
		}
	}
	if c.DisplayName == "" {
		c.DisplayName = displayName(v)
	}
	if cv.picture != "" && len(cv.picture) <= maxPicture {
		c.Photo, _ = base64.StdEncoding.DecodeString(cv.picture)
	}
	return c, nil
}

// firstOf returns the first non-empty value of keys.
func firstOf(v map[string]string, keys ...string) string {
	for _, k := range keys {
		if v[k] != "" {
			return v[k]
		}
	}
	return ""
}
