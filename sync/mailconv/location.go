package mailconv

import (
	"mime"
	"strings"
)

// contentLocation is the AirSyncBase:ContentLocation (MS-ASAIRS 2.2.2.17.2)
// of a part's Content-Location value, a URI (RFC 2557 4.2). A long one may
// have been folded and its unsafe characters RFC 2047-encoded before the
// folding (RFC 2557 4.4.1, 4.4.2): the folding white space is removed
// first, then the encoded words are decoded. Surrounding quotes, which
// some senders add, are dropped. "" when nothing is left.
func contentLocation(v string) string {
	v = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, v)
	return decodeText(strings.Trim(v, `"`))
}

// locationHeader is the Content-Location field value of a draft
// attachment: the URI as it is when it is printable ASCII without white
// space, else RFC 2047 Q-encoded as RFC 2557 4.4.1 asks.
func locationHeader(uri string) string {
	for i := 0; i < len(uri); i++ {
		if c := uri[i]; c <= ' ' || c >= 0x7f {
			return mime.QEncoding.Encode("utf-8", uri)
		}
	}
	return uri
}
