package server

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// query is the request line of an EAS POST in either of its two forms,
// MS-ASHTTP 2.2.1.1.1.1 (base64) and 2.2.1.1.1.2 (plain text).
type query struct {
	Cmd        string
	User       string // plain form only; the base64 form takes it from Authorization
	DeviceID   string
	DeviceType string
	// Version and PolicyKey come from the base64 form; the plain form
	// carries them in the MS-ASProtocolVersion and X-MS-PolicyKey headers.
	Version      string
	PolicyKey    string
	HasPolicyKey bool
	Locale       uint16
	Params       map[string]string // CollectionId, ItemId, LongId, Occurrence, AttachmentName, SaveInSent, AcceptMultiPart
	Base64       bool
}

// Command codes of the base64 form, MS-ASHTTP 2.2.1.1.1.1.2.
var commandCodes = map[byte]string{
	0: "Sync", 1: "SendMail", 2: "SmartForward", 3: "SmartReply", 4: "GetAttachment",
	9: "FolderSync", 10: "FolderCreate", 11: "FolderDelete", 12: "FolderUpdate",
	13: "MoveItems", 14: "GetItemEstimate", 15: "MeetingResponse", 16: "Search",
	17: "Settings", 18: "Ping", 19: "ItemOperations", 20: "Provision",
	21: "ResolveRecipients", 22: "ValidateCert", 23: "Find",
}

// Parameter tags of the base64 form, MS-ASHTTP 2.2.1.1.1.1.3.
var paramTags = map[byte]string{
	0: "AttachmentName", 1: "CollectionId", 3: "ItemId", 4: "LongId",
	6: "Occurrence", 7: "Options", 8: "User",
}

var errBadQuery = errors.New("bad query")

// parseQuery reads the query in whichever form it comes.
func parseQuery(raw string) (query, error) {
	if raw == "" {
		return query{}, fmt.Errorf("%w: empty query", errBadQuery)
	}
	// The plain form always names the command; base64 never contains
	// "Cmd=" ('=' appears there only as padding at the end).
	if !strings.Contains(raw, "Cmd=") {
		return parseBase64Query(raw)
	}
	return parsePlainQuery(raw)
}

func parsePlainQuery(raw string) (query, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return query{}, fmt.Errorf("%w: %v", errBadQuery, err)
	}
	q := query{
		Cmd:        v.Get("Cmd"),
		User:       v.Get("User"),
		DeviceID:   v.Get("DeviceId"),
		DeviceType: v.Get("DeviceType"),
		Params:     map[string]string{},
	}
	for _, k := range []string{"CollectionId", "ItemId", "LongId", "Occurrence", "AttachmentName", "SaveInSent", "AcceptMultiPart"} {
		if s := v.Get(k); s != "" {
			q.Params[k] = s
		}
	}
	if q.Cmd == "" {
		return query{}, fmt.Errorf("%w: no Cmd parameter", errBadQuery)
	}
	return q, nil
}

// parseBase64Query decodes MS-ASHTTP 2.2.1.1.1.1: version, command code,
// locale (little endian), length-prefixed device id, policy key (uint32
// little endian) and device type, then tag/length/value parameters.
func parseBase64Query(raw string) (query, error) {
	s, err := url.QueryUnescape(raw)
	if err != nil {
		return query{}, fmt.Errorf("%w: %v", errBadQuery, err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			return query{}, fmt.Errorf("%w: not base64: %v", errBadQuery, err)
		}
	}
	r := byteReader{b: b}
	ver, ok1 := r.byte()
	cmd, ok2 := r.byte()
	loc, ok3 := r.n(2)
	if !ok1 || !ok2 || !ok3 {
		return query{}, fmt.Errorf("%w: base64 query too short", errBadQuery)
	}
	q := query{Base64: true, Params: map[string]string{}}
	q.Version = fmt.Sprintf("%d.%d", ver/10, ver%10)
	name, ok := commandCodes[cmd]
	if !ok {
		name = "Unknown" + strconv.Itoa(int(cmd))
	}
	q.Cmd = name
	q.Locale = binary.LittleEndian.Uint16(loc)
	dev, ok := r.lenPrefixed()
	if !ok {
		return query{}, fmt.Errorf("%w: base64 query: device id", errBadQuery)
	}
	q.DeviceID = string(dev)
	pk, ok := r.lenPrefixed()
	if !ok || (len(pk) != 0 && len(pk) != 4) {
		return query{}, fmt.Errorf("%w: base64 query: policy key", errBadQuery)
	}
	if len(pk) == 4 {
		q.PolicyKey = strconv.FormatUint(uint64(binary.LittleEndian.Uint32(pk)), 10)
		q.HasPolicyKey = true
	}
	dt, ok := r.lenPrefixed()
	if !ok {
		return query{}, fmt.Errorf("%w: base64 query: device type", errBadQuery)
	}
	q.DeviceType = string(dt)
	for !r.done() {
		tag, _ := r.byte()
		val, ok := r.lenPrefixed()
		if !ok {
			return query{}, fmt.Errorf("%w: base64 query: parameter %d truncated", errBadQuery, tag)
		}
		pname, known := paramTags[tag]
		if !known {
			continue // MS-ASHTTP: unknown parameters are ignored
		}
		if pname == "Options" {
			if len(val) == 1 {
				if val[0]&0x01 != 0 {
					q.Params["SaveInSent"] = "T"
				}
				if val[0]&0x02 != 0 {
					q.Params["AcceptMultiPart"] = "T"
				}
			}
			continue
		}
		if pname == "User" {
			q.User = string(val)
			continue
		}
		q.Params[pname] = string(val)
	}
	return q, nil
}

type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) done() bool { return r.i >= len(r.b) }

func (r *byteReader) byte() (byte, bool) {
	if r.i >= len(r.b) {
		return 0, false
	}
	c := r.b[r.i]
	r.i++
	return c, true
}

func (r *byteReader) n(n int) ([]byte, bool) {
	if r.i+n > len(r.b) {
		return nil, false
	}
	s := r.b[r.i : r.i+n]
	r.i += n
	return s, true
}

func (r *byteReader) lenPrefixed() ([]byte, bool) {
	n, ok := r.byte()
	if !ok {
		return nil, false
	}
	return r.n(int(n))
}

// validDeviceID reports whether id is acceptable: MS-ASHTTP 2.2.1.1.1.2.3
// allows up to 32 characters; real clients send letters, digits, '-' and
// '_' and sometimes more, so we allow up to 64 of those.
func validDeviceID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}
