//go:build unix

package soak

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	imap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"easbridge/sync/testenv"
)

// The ground truth: what Dovecot and Radicale hold, read by plain IMAP and
// DAV clients, and the changes "other clients" make to it.
//
// Every item the soak creates carries a unique key: mail subjects are
// "M<n>", event summaries "E<n>#v<k>" and contact names "C<n>#v<k>", where
// k counts the changes of the item's text. Phones and the truth are
// compared on (folder, key, version, read, flagged).

// Mail folders and DAV collections the soak watches, by role.
const (
	roleInbox    = "inbox"
	roleArchive  = "archive"
	roleCalendar = "calendar"
	roleContacts = "contacts"
)

var mailboxOf = map[string]string{roleInbox: "INBOX", roleArchive: "Archive"}

// entry is one item as a phone or the truth sees it.
type entry struct {
	Role    string
	Key     string
	Ver     int
	Read    bool
	Flagged bool
}

func (e entry) String() string {
	s := e.Role + "/" + e.Key
	if e.Ver > 0 {
		s += "#v" + strconv.Itoa(e.Ver)
	}
	if e.Role == roleInbox || e.Role == roleArchive {
		s += fmt.Sprintf(" read=%v flagged=%v", e.Read, e.Flagged)
	}
	return s
}

// truthItem is an entry with where it lives upstream.
type truthItem struct {
	entry
	UID  imap.UID // mail
	Href string   // DAV
	Data string   // DAV: the object as stored
}

// splitKey reads "E12#v3" as ("E12", 3); text without a version is (text, 0).
func splitKey(s string) (string, int) {
	i := strings.LastIndex(s, "#v")
	if i < 0 {
		return s, 0
	}
	v, err := strconv.Atoi(s[i+2:])
	if err != nil {
		return s, 0
	}
	return s[:i], v
}

// upstream talks to Dovecot and Radicale as other clients of the same
// accounts.
type upstream struct {
	dc  *testenv.Dovecot
	rad *testenv.Radicale
	hc  *http.Client
}

func (u *upstream) password(user string) string {
	for _, x := range u.dc.Users {
		if x.Name == user {
			return x.Password
		}
	}
	return ""
}

// imap runs f on a fresh IMAP connection as user.
func (u *upstream) imap(user string, f func(*imapclient.Client) error) error {
	c, err := imapclient.DialInsecure(u.dc.IMAPAddr, nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	if err := c.Login(user, u.password(user)).Wait(); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if err := f(c); err != nil {
		return err
	}
	return c.Logout().Wait()
}

// mailTruth lists the soak's messages in Inbox and Archive.
func (u *upstream) mailTruth(user string) ([]truthItem, error) {
	var out []truthItem
	err := u.imap(user, func(c *imapclient.Client) error {
		for _, role := range []string{roleInbox, roleArchive} {
			sel, err := c.Select(mailboxOf[role], nil).Wait()
			if err != nil {
				return fmt.Errorf("select %s: %w", mailboxOf[role], err)
			}
			if sel.NumMessages == 0 {
				continue
			}
			msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
			if err != nil {
				return fmt.Errorf("fetch %s: %w", mailboxOf[role], err)
			}
			for _, m := range msgs {
				it := truthItem{entry: entry{Role: role, Key: m.Envelope.Subject}, UID: m.UID}
				for _, f := range m.Flags {
					switch f {
					case imap.FlagSeen:
						it.Read = true
					case imap.FlagFlagged:
						it.Flagged = true
					}
				}
				out = append(out, it)
			}
		}
		return nil
	})
	return out, err
}

func mailMessage(key string) []byte {
	return []byte("From: Other <other@example.test>\r\nTo: someone@example.test\r\nSubject: " + key +
		"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\nMessage-ID: <" + key + "@soak.example.test>\r\n\r\nBody of " + key + ".\r\n")
}

// appendMail stores a new unread message.
func (u *upstream) appendMail(user, role, key string) error {
	return u.imap(user, func(c *imapclient.Client) error {
		raw := mailMessage(key)
		cmd := c.Append(mailboxOf[role], int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		_, err := cmd.Wait()
		return err
	})
}

// storeFlag sets or clears one flag of a message (IMAP STORE).
func (u *upstream) storeFlag(user, role string, uid imap.UID, flag imap.Flag, on bool) error {
	return u.imap(user, func(c *imapclient.Client) error {
		if _, err := c.Select(mailboxOf[role], nil).Wait(); err != nil {
			return err
		}
		op := imap.StoreFlagsDel
		if on {
			op = imap.StoreFlagsAdd
		}
		return c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: op, Silent: true, Flags: []imap.Flag{flag}}, nil).Close()
	})
}

// expunge deletes a message for good (STORE \Deleted, UID EXPUNGE).
func (u *upstream) expunge(user, role string, uid imap.UID) error {
	return u.imap(user, func(c *imapclient.Client) error {
		if _, err := c.Select(mailboxOf[role], nil).Wait(); err != nil {
			return err
		}
		set := imap.UIDSetNum(uid)
		if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return err
		}
		return c.UIDExpunge(set).Close()
	})
}

// move moves a message to the other watched mailbox (IMAP MOVE).
func (u *upstream) move(user, from, to string, uid imap.UID) error {
	return u.imap(user, func(c *imapclient.Client) error {
		if _, err := c.Select(mailboxOf[from], nil).Wait(); err != nil {
			return err
		}
		_, err := c.Move(imap.UIDSetNum(uid), mailboxOf[to]).Wait()
		return err
	})
}

// davPath is the collection of a DAV role.
func davPath(user, role string) string { return "/" + user + "/" + role + "/" }

// davTruth lists the objects of a calendar or address book with one REPORT.
func (u *upstream) davTruth(user, role string) ([]truthItem, error) {
	var body, prop string
	if role == roleCalendar {
		body = `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
			`<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`
		prop = "SUMMARY"
	} else {
		body = `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop></C:addressbook-query>`
		prop = "FN"
	}
	res, b, err := u.dav(user, "REPORT", davPath(user, role), []byte(body), map[string]string{"Depth": "1", "Content-Type": "application/xml"})
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusMultiStatus {
		return nil, fmt.Errorf("REPORT %s: HTTP %d", davPath(user, role), res.StatusCode)
	}
	var ms struct {
		Responses []struct {
			Href     string `xml:"href"`
			Propstat []struct {
				Calendar string `xml:"prop>calendar-data"`
				Address  string `xml:"prop>address-data"`
			} `xml:"propstat"`
		} `xml:"response"`
	}
	if err := xml.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("REPORT %s: %w", davPath(user, role), err)
	}
	var out []truthItem
	for _, r := range ms.Responses {
		data := ""
		for _, ps := range r.Propstat {
			data += ps.Calendar + ps.Address
		}
		if data == "" {
			continue
		}
		key, ver := splitKey(icalProp(data, prop))
		out = append(out, truthItem{entry: entry{Role: role, Key: key, Ver: ver}, Href: r.Href, Data: data})
	}
	return out, nil
}

// icalProp returns the value of the first property name in an iCalendar or
// vCard text (unfolded; parameters ignored).
func icalProp(data, name string) string {
	data = strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(data)
	for _, line := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n") {
		i := strings.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		p := line[:i]
		if j := strings.IndexByte(p, ';'); j >= 0 {
			p = p[:j]
		}
		if strings.EqualFold(p, name) {
			return line[i+1:]
		}
	}
	return ""
}

func eventICS(key string, ver int) string {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(len(key)) * time.Hour)
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easbridge//soak//EN\r\nBEGIN:VEVENT\r\nUID:" + key + "@soak\r\n" +
		"DTSTAMP:20261201T000000Z\r\nDTSTART:" + start.Format("20060102T150405Z") + "\r\nDTEND:" +
		start.Add(time.Hour).Format("20060102T150405Z") + "\r\nSUMMARY:" + key + "#v" + strconv.Itoa(ver) +
		"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func contactVCF(key string, ver int) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + key + "@soak\r\nFN:" + key + "#v" + strconv.Itoa(ver) +
		"\r\nN:" + key + ";v" + strconv.Itoa(ver) + ";;;\r\nEND:VCARD\r\n"
}

// davObject is a new object of role with key at version ver.
func davObject(role, key string, ver int) (string, string) {
	if role == roleCalendar {
		return eventICS(key, ver), "text/calendar; charset=utf-8"
	}
	return contactVCF(key, ver), "text/vcard; charset=utf-8"
}

// davPut creates or replaces an object (another DAV client).
func (u *upstream) davPut(user, href, data, contentType string) error {
	res, _, err := u.dav(user, http.MethodPut, href, []byte(data), map[string]string{"Content-Type": contentType})
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("PUT %s: HTTP %d", href, res.StatusCode)
	}
	return nil
}

// davDelete deletes an object; one already gone is fine.
func (u *upstream) davDelete(user, href string) error {
	res, _, err := u.dav(user, http.MethodDelete, href, nil, nil)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 && res.StatusCode != http.StatusNotFound {
		return fmt.Errorf("DELETE %s: HTTP %d", href, res.StatusCode)
	}
	return nil
}

// bumpVersion rewrites the version in the SUMMARY or FN of data.
func bumpVersion(data, key string, from, to int) string {
	old, nw := key+"#v"+strconv.Itoa(from), key+"#v"+strconv.Itoa(to)
	data = strings.ReplaceAll(data, old, nw)
	return strings.ReplaceAll(data, key+";v"+strconv.Itoa(from)+";", key+";v"+strconv.Itoa(to)+";")
}

func (u *upstream) dav(user, method, href string, body []byte, header map[string]string) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(u.rad.URL, "/")+href, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.SetBasicAuth(user, u.password(user))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := u.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, href, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

// truth reads everything the soak compares for user.
func (u *upstream) truth(user string) ([]truthItem, error) {
	out, err := u.mailTruth(user)
	if err != nil {
		return nil, fmt.Errorf("IMAP: %w", err)
	}
	for _, role := range []string{roleCalendar, roleContacts} {
		items, err := u.davTruth(user, role)
		if err != nil {
			return nil, fmt.Errorf("DAV: %w", err)
		}
		out = append(out, items...)
	}
	return out, nil
}

// multiset renders entries as sorted "entry ×count" lines.
func multiset(es []entry) map[string]int {
	m := map[string]int{}
	for _, e := range es {
		m[e.String()]++
	}
	return m
}

// diffMultisets lists what only one side has.
func diffMultisets(view, truth map[string]int) []string {
	var out []string
	for k, n := range view {
		if truth[k] != n {
			out = append(out, fmt.Sprintf("phone has %d× %s, upstream %d×", n, k, truth[k]))
		}
	}
	for k, n := range truth {
		if _, ok := view[k]; !ok {
			out = append(out, fmt.Sprintf("phone has 0× %s, upstream %d×", k, n))
		}
	}
	sort.Strings(out)
	return out
}
