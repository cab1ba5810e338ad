package mailconv

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"
	"unicode"
)

// Conversations (MS-ASCON). IMAP has no conversation identifiers, so they
// are derived from the message alone, the same for every message of a
// thread and stable across syncs, folders and devices:
//
//	ConversationId = first 16 bytes of SHA-256(key), where key is
//	  "msgid:" + the first Message-ID of References (the thread root,
//	            RFC 5322 3.6.4 keeps it first), else of In-Reply-To,
//	            else the message's own Message-ID;
//	  "subject:" + the lower-cased normalized subject when there is no
//	            identifier at all;
//	  "header:" + the whole header block as a last resort, or for a
//	            message without any readable header "message:" + its UID,
//	            INTERNALDATE and size (each such message alone).
//	ConversationIndex = the 22-byte header block of MS-OXOMSG 2.2.1.3:
//	  0x01, the 5 high bytes of the Date (else INTERNALDATE) as a
//	  FILETIME, big endian, and the ConversationId as the GUID. No
//	  response levels: their time deltas are not known.

// conversationID is the 16-byte Email2:ConversationId (MS-ASEMAIL
// 2.2.2.21).
func conversationID(h header, subject string, raw []byte, fallback string) []byte {
	if len(h) == 0 {
		sum := sha256.Sum256([]byte("message:" + fallback))
		return sum[:16]
	}
	var key string
	for _, name := range []string{"References", "In-Reply-To", "Message-ID"} {
		if ids := msgIDs(h.get(name)); len(ids) > 0 {
			key = "msgid:" + ids[0]
			break
		}
	}
	if key == "" {
		if s := normalizeSubject(subject); s != "" {
			key = "subject:" + strings.ToLower(s)
		} else {
			key = "header:" + string(raw)
		}
	}
	sum := sha256.Sum256([]byte(key))
	return sum[:16]
}

// filetimeEpoch is 1601-01-01 in Unix seconds (FILETIME counts 100 ns
// intervals from then).
const filetimeEpoch = -11644473600

// conversationIndex is the 22-byte Email2:ConversationIndex (MS-ASEMAIL
// 2.2.2.22, MS-ASCON 2.2.2.4, layout from MS-OXOMSG 2.2.1.3).
func conversationIndex(date time.Time, id []byte) []byte {
	out := make([]byte, 22)
	out[0] = 0x01
	var ft uint64
	if !date.IsZero() {
		if d := date.Unix() - filetimeEpoch; d > 0 {
			ft = uint64(d)*10_000_000 + uint64(date.Nanosecond()/100)
		}
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], ft)
	copy(out[1:6], b[:5]) // the 40 most significant bits
	copy(out[6:], id)
	return out
}

// subjectPrefixes are the reply and forward prefixes removed to get the
// normalized subject (MS-OXCMAIL 2.2.3.2.6.1 strips one prefix of up to
// three characters followed by a colon; mail in the wild stacks them and
// uses longer localized ones, so this strips known ones repeatedly).
var subjectPrefixes = map[string]bool{
	"re": true, "fw": true, "fwd": true, "aw": true, "wg": true, "sv": true, "vs": true,
	"antw": true, "tr": true, "rif": true, "enc": true, "odp": true, "res": true, "r": true,
	"doorst": true, "vb": true, "ynt": true, "ilt": true, "továbbítás": true, "válasz": true,
	"отв": true, "пересл": true, "回复": true, "转发": true, "答复": true,
}

// normalizeSubject removes leading reply/forward prefixes ("Re: ",
// "Fwd: ", "RE[2]: ", "AW: " …) and white space.
func normalizeSubject(s string) string {
	s = strings.TrimSpace(s)
	for range 16 {
		colon := strings.IndexAny(s, ":：")
		if colon <= 0 || colon > 24 {
			return s
		}
		word := s[:colon]
		// Drop a counter: "RE[2]", "Re(3)", "Re^2".
		if i := strings.IndexAny(word, "[(^"); i > 0 {
			word = word[:i]
		}
		word = strings.ToLower(strings.TrimSpace(word))
		if !subjectPrefixes[word] || strings.IndexFunc(word, unicode.IsSpace) >= 0 {
			return s
		}
		rest := s[colon:]
		if strings.HasPrefix(rest, "：") {
			rest = rest[len("："):]
		} else {
			rest = rest[1:]
		}
		s = strings.TrimSpace(rest)
	}
	return s
}
