//go:build unix

package soak

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// A simulated phone: it keeps what the Sync answers told it (its view) and
// its keys, like a phone's database, and speaks through faults.

// dcoll is one collection on a phone.
type dcoll struct {
	role, id, key string
	items         map[string]entry // ServerId (or "client:"+ClientId until answered) → item
}

func (dc *dcoll) mail() bool { return dc.role == roleInbox || dc.role == roleArchive }

type device struct {
	name, user string
	c          *easclient.Client
	addr       string
	rng        *rand.Rand
	colls      map[string]*dcoll
	stats      *stats
	faults     bool // request faults on (off while catching up)
	note       func(format string, args ...any)
}

// Request faults, picked per request.
const (
	faultNone   = ""
	faultDrop   = "response dropped (key repeated)"
	faultRepeat = "request repeated"
	faultCut    = "connection cut mid-body"
)

func (d *device) pickFault() string {
	if !d.faults {
		return faultNone
	}
	switch x := d.rng.IntN(100); {
	case x < 5:
		return faultDrop
	case x < 8:
		return faultRepeat
	case x < 11:
		return faultCut
	}
	return faultNone
}

// errPatience ends a request that fails for longer than a phone would wait.
var errPatience = errors.New("no answer within the patience of a phone")

// send sends one command, injecting a request fault, and retries network
// failures and server errors (as a phone does) with the same body. It
// returns the answers the phone read: two for a repeated request.
func (d *device) send(ctx context.Context, cmd string, body *wbxml.Element) ([]*easclient.Response, error) {
	raw, err := wbxml.Encode(body)
	if err != nil {
		return nil, err
	}
	fault := d.pickFault()
	deadline := time.Now().Add(2 * time.Minute)
	var answers []*easclient.Response
	for {
		if fault == faultCut {
			d.note("%s %s: %s", d.name, cmd, fault)
			d.stats.add("fault: " + faultCut)
			d.cut(cmd, raw)
			fault = faultNone
		}
		r, err := d.c.DoWith(ctx, cmd, raw, nil, nil)
		if err == nil && r.HTTPStatus == http.StatusOK {
			if fault != faultNone {
				d.note("%s %s: %s", d.name, cmd, fault)
			}
			switch fault {
			case faultDrop:
				d.stats.add("fault: " + faultDrop)
				fault = faultNone
				continue
			case faultRepeat:
				d.stats.add("fault: " + faultRepeat)
				answers = append(answers, r)
				fault = faultNone
				continue
			}
			return append(answers, r), nil
		}
		if err != nil {
			d.note("%s %s: retry after %v", d.name, cmd, err)
		} else {
			d.note("%s %s: retry after HTTP %d", d.name, cmd, r.HTTPStatus)
		}
		switch {
		case err != nil:
			d.stats.add("retry: transport error")
		default:
			d.stats.add("retry: HTTP " + strconv.Itoa(r.HTTPStatus))
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("HTTP %d %q", r.HTTPStatus, r.Body)
			}
			return nil, fmt.Errorf("%s %s: %w: %v", d.name, cmd, errPatience, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cut opens a connection, sends the headers and half of the body, and
// closes it.
func (d *device) cut(cmd string, raw []byte) {
	conn, err := net.DialTimeout("tcp", d.addr, 2*time.Second)
	if err != nil {
		return
	}
	defer conn.Close()
	q := url.Values{"Cmd": {cmd}, "User": {d.c.User}, "DeviceId": {d.c.DeviceID}, "DeviceType": {d.c.DeviceType}}
	auth := base64.StdEncoding.EncodeToString([]byte(d.c.User + ":" + d.c.Password))
	fmt.Fprintf(conn, "POST /Microsoft-Server-ActiveSync?%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"+
		"MS-ASProtocolVersion: %s\r\nX-MS-PolicyKey: %s\r\nContent-Type: application/vnd.ms-sync.wbxml\r\nContent-Length: %d\r\n\r\n",
		q.Encode(), d.addr, auth, d.c.Version, d.c.PolicyKey, len(raw))
	_, _ = conn.Write(raw[:len(raw)/2])
	time.Sleep(time.Duration(d.rng.IntN(20)) * time.Millisecond)
}

// Sync statuses a phone retries as they are: server errors and "retry
// later" (MS-ASCMD 2.2.3.177.16).
func transientSync(st int) bool { return st == 5 || st == 16 || st == 110 || st == 111 }

// syncColl sends cmds in one Sync of a collection and reads every window
// after. It returns the ServerIds/ClientIds whose command the server
// refused, with the status.
func (d *device) syncColl(ctx context.Context, dc *dcoll, cmds []*wbxml.Element) (map[string]int, error) {
	refused := map[string]int{}
	deadline := time.Now().Add(2 * time.Minute)
	for windows := 0; windows < 200; windows++ {
		rs, err := d.send(ctx, "Sync", syncRequest(dc, cmds))
		if err != nil {
			return nil, err
		}
		retry, more := false, false
		for _, r := range rs {
			st, m, err := d.apply(dc, r, refused)
			if err != nil {
				return nil, err
			}
			switch {
			case transientSync(st):
				d.stats.add("retry: Sync status " + strconv.Itoa(st))
				retry = true
			case st != 1:
				return nil, fmt.Errorf("%s: Sync of %s with key %s: status %d", d.name, dc.role, dc.key, st)
			}
			more = m
		}
		if retry {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%s: Sync of %s: %w", d.name, dc.role, errPatience)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		// An item refused with a server error is sent again, as MS-ASCMD
		// 2.2.3.177.17 tells a client to (Status 5: retry).
		var again []*wbxml.Element
		for _, c := range cmds {
			id := c.ChildText(wbxml.NSAirSync, "ServerId")
			if c.Name == "Add" {
				id = "client:" + c.ChildText(wbxml.NSAirSync, "ClientId")
			}
			if st, ok := refused[id]; ok && transientSync(st) {
				d.stats.add("retry: item status " + strconv.Itoa(st))
				delete(refused, id)
				again = append(again, c)
			}
		}
		cmds = again
		if len(again) > 0 {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%s: Sync of %s: item refusals: %w", d.name, dc.role, errPatience)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if !more {
			return refused, nil
		}
	}
	return nil, fmt.Errorf("%s: Sync of %s: MoreAvailable without end", d.name, dc.role)
}

func syncRequest(dc *dcoll, cmds []*wbxml.Element) *wbxml.Element {
	ns := wbxml.NSAirSync
	col := easclient.SyncCollection(dc.key, dc.id)
	if dc.key != "0" {
		if dc.mail() {
			col.Add(wbxml.Text(ns, "DeletesAsMoves", "1"))
		}
		col.Add(wbxml.Text(ns, "GetChanges", "1"), wbxml.Int(ns, "WindowSize", 40))
		opts := wbxml.New(ns, "Options")
		if dc.role != roleContacts {
			opts.Add(wbxml.Text(ns, "FilterType", "0"))
		}
		opts.Add(wbxml.New(wbxml.NSAirSyncBase, "BodyPreference",
			wbxml.Text(wbxml.NSAirSyncBase, "Type", "1"), wbxml.Text(wbxml.NSAirSyncBase, "TruncationSize", "32")))
		col.Add(opts)
		if len(cmds) > 0 {
			col.Add(wbxml.New(ns, "Commands", cmds...))
		}
	}
	return wbxml.New(ns, "Sync", wbxml.New(ns, "Collections", col))
}

// apply reads one Sync answer into the view and returns the collection's
// status (1 for an empty answer: nothing changed) and MoreAvailable.
func (d *device) apply(dc *dcoll, r *easclient.Response, refused map[string]int) (int, bool, error) {
	ns := wbxml.NSAirSync
	if r.Root == nil {
		return 1, false, nil
	}
	if s := r.Root.ChildText(ns, "Status"); s != "" {
		st, _ := strconv.Atoi(s)
		return st, false, nil
	}
	var col *wbxml.Element
	for _, c := range r.Root.Child(ns, "Collections").All(ns, "Collection") {
		if c.ChildText(ns, "CollectionId") == dc.id {
			col = c
		}
	}
	if col == nil {
		return 0, false, fmt.Errorf("%s: Sync answer without collection %s: %s", d.name, dc.id, wbxml.XMLString(r.Root))
	}
	st, _ := col.ChildInt(ns, "Status")
	if st != 1 {
		return st, false, nil
	}
	for _, c := range children(col.Child(ns, "Commands")) {
		sid := c.ChildText(ns, "ServerId")
		switch c.Name {
		case "Add":
			dc.items[sid] = readEntry(dc, entry{Role: dc.role}, c.Child(ns, "ApplicationData"))
		case "Change":
			old, ok := dc.items[sid]
			if !ok {
				d.stats.add("note: Change for an item the phone does not have")
			}
			old.Role = dc.role
			dc.items[sid] = readEntry(dc, old, c.Child(ns, "ApplicationData"))
		case "Delete", "SoftDelete":
			delete(dc.items, sid)
		}
	}
	for _, c := range children(col.Child(ns, "Responses")) {
		rst, _ := c.ChildInt(ns, "Status")
		switch c.Name {
		case "Add":
			cid := c.ChildText(ns, "ClientId")
			local, ok := dc.items["client:"+cid]
			if !ok {
				continue // a repeated answer: already taken
			}
			if rst != 1 {
				refused["client:"+cid] = rst
				if !transientSync(rst) {
					delete(dc.items, "client:"+cid)
				}
				continue
			}
			delete(dc.items, "client:"+cid)
			dc.items[c.ChildText(ns, "ServerId")] = local
		default:
			if rst != 1 {
				refused[c.ChildText(ns, "ServerId")] = rst
			}
		}
	}
	d.note("%s Sync %s: key %s → %s, %d commands, responses %s", d.name, dc.role, dc.key, col.ChildText(ns, "SyncKey"),
		len(children(col.Child(ns, "Commands"))), summary(children(col.Child(ns, "Responses"))))
	dc.key = col.ChildText(ns, "SyncKey")
	return 1, col.Has(ns, "MoreAvailable"), nil
}

// summary renders Sync responses or commands as "Add c1→5:3 (1)".
func summary(es []*wbxml.Element) string {
	var parts []string
	for _, e := range es {
		parts = append(parts, fmt.Sprintf("%s %s%s→%s (%s)", e.Name, e.ChildText(wbxml.NSAirSync, "ClientId"),
			"", e.ChildText(wbxml.NSAirSync, "ServerId"), e.ChildText(wbxml.NSAirSync, "Status")))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func children(e *wbxml.Element) []*wbxml.Element {
	if e == nil {
		return nil
	}
	return e.Children
}

// readEntry updates e from ApplicationData.
func readEntry(dc *dcoll, e entry, data *wbxml.Element) entry {
	if data == nil {
		return e
	}
	switch dc.role {
	case roleInbox, roleArchive:
		if s := data.Child(wbxml.NSEmail, "Subject"); s != nil {
			e.Key = s.Text
		}
		if r := data.Child(wbxml.NSEmail, "Read"); r != nil {
			e.Read = r.Text == "1"
		}
		if f := data.Child(wbxml.NSEmail, "Flag"); f != nil {
			e.Flagged = f.ChildText(wbxml.NSEmail, "Status") == "2"
		}
	case roleCalendar:
		if s := data.Child(wbxml.NSCalendar, "Subject"); s != nil {
			e.Key, e.Ver = splitKey(s.Text)
		}
	case roleContacts:
		if s := data.Child(wbxml.NSContacts, "FileAs"); s != nil {
			e.Key, e.Ver = splitKey(s.Text)
		}
	}
	return e
}

// appData is what a phone sends for a new or changed event or contact
// (a Change carries the whole item).
func appData(role, key string, ver int) *wbxml.Element {
	name := key + "#v" + strconv.Itoa(ver)
	if role == roleCalendar {
		cal := wbxml.NSCalendar
		return wbxml.New(wbxml.NSAirSync, "ApplicationData",
			wbxml.Text(cal, "DtStamp", "20261201T090000Z"),
			wbxml.Text(cal, "StartTime", "20261210T090000Z"),
			wbxml.Text(cal, "EndTime", "20261210T100000Z"),
			wbxml.Text(cal, "Subject", name),
			wbxml.Text(cal, "AllDayEvent", "0"),
			wbxml.Text(cal, "BusyStatus", "2"),
			wbxml.Text(cal, "Sensitivity", "0"),
			wbxml.Text(cal, "MeetingStatus", "0"))
	}
	c := wbxml.NSContacts
	return wbxml.New(wbxml.NSAirSync, "ApplicationData",
		wbxml.Text(c, "FileAs", name), wbxml.Text(c, "LastName", key), wbxml.Text(c, "FirstName", "v"+strconv.Itoa(ver)))
}

// mailChange is the ApplicationData of a read or flag change.
func mailChange(read bool, flag string, on bool) *wbxml.Element {
	data := wbxml.New(wbxml.NSAirSync, "ApplicationData")
	if flag == "read" {
		v := "0"
		if on {
			v = "1"
		}
		return data.Add(wbxml.Text(wbxml.NSEmail, "Read", v))
	}
	f := wbxml.New(wbxml.NSEmail, "Flag")
	if on {
		f.Add(wbxml.Int(wbxml.NSEmail, "Status", 2), wbxml.Text(wbxml.NSEmail, "FlagType", "for Follow Up"))
	}
	return data.Add(f)
}

// moveItems moves messages with MoveItems; a moved item is put in the
// destination under its new ServerId, as a phone does. It returns the
// ServerIds whose move failed.
func (d *device) moveItems(ctx context.Context, moves []phoneOp) (map[string]int, error) {
	ns := wbxml.NSMove
	req := wbxml.New(ns, "MoveItems")
	for _, m := range moves {
		req.Add(wbxml.New(ns, "Move", wbxml.Text(ns, "SrcMsgId", m.sid), wbxml.Text(ns, "SrcFldId", d.colls[m.role].id),
			wbxml.Text(ns, "DstFldId", d.colls[m.dst].id)))
	}
	rs, err := d.send(ctx, "MoveItems", req)
	if err != nil {
		return nil, err
	}
	failed := map[string]int{}
	for _, r := range rs {
		if r.Root == nil {
			return nil, fmt.Errorf("%s: MoveItems: empty answer", d.name)
		}
		for _, res := range r.Root.All(ns, "Response") {
			sid := res.ChildText(ns, "SrcMsgId")
			st, _ := res.ChildInt(ns, "Status")
			var m *phoneOp
			for i := range moves {
				if moves[i].sid == sid {
					m = &moves[i]
				}
			}
			if m == nil {
				return nil, fmt.Errorf("%s: MoveItems answer for unknown %s", d.name, sid)
			}
			if st != 3 {
				failed[sid] = st
				continue
			}
			delete(failed, sid)
			src, dst := d.colls[m.role], d.colls[m.dst]
			if e, ok := src.items[sid]; ok {
				delete(src.items, sid)
				e.Role = dst.role
				dst.items[res.ChildText(ns, "DstMsgId")] = e
			}
		}
	}
	return failed, nil
}

// view lists the phone's items.
func (d *device) view() []entry {
	var out []entry
	for _, dc := range d.colls {
		for _, e := range dc.items {
			out = append(out, e)
		}
	}
	return out
}
