package calconv

import "easbridge/server/wbxml"

// BodyElement builds the airsyncbase:Body of an item from its plain text
// and its HTML form (either may be ""), by the client's BodyPreference in
// opts (type 1 or 2, TruncationSize, AllOrNone, Preview). nil when both
// are empty. Other note sources (sync/noteconv) share it.
func BodyElement(text, htm string, opts Options) *wbxml.Element {
	return bodyElement(text, htm, opts)
}

// ClientBody reads the client's airsyncbase:Body: text is the plain form
// (derived from HTML when the client sent HTML), htm the HTML the client
// sent ("" for plain). present is false when the client sent no usable
// body, so that the stored one is kept.
func ClientBody(app *wbxml.Element) (text, htm string, present bool) {
	return clientBody(app, "")
}

// HTMLToText is the small tag stripper used for bodies.
func HTMLToText(s string) string { return htmlToText(s) }
