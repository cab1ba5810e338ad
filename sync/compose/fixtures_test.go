package compose

import "strings"

// crlf turns the LF line ends of a fixture into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// clientHeader is the top of every client fixture; its fields must survive
// Reply and Forward unchanged.
const clientHeader = `From: Alice <alice@example.test>
To: =?utf-8?q?J=C3=B6rg?= <joerg@example.test>
Cc: carol@example.test
Subject: Re: Lunch?
In-Reply-To: <orig-1@example.test>
References: <orig-0@example.test> <orig-1@example.test>
Date: Wed, 4 Mar 2026 09:00:00 +0100
Message-ID: <reply-1@example.test>
`

// Client messages, one per shape a phone sends.
var clientShapes = []struct {
	name string
	raw  string
	// what the parsed-back result must contain
	plainText string // client's text in the text/plain body ("" = no plain part)
	htmlText  string // client's text in the text/html body ("" = no HTML part)
	attach    map[string]string
	opaque    bool // passed through unchanged
}{
	{
		name: "plain-no-mime",
		raw: crlf(clientHeader + `
Sure, see you at noon.
`),
		plainText: "Sure, see you at noon.",
	},
	{
		name: "plain-latin1-qp-flowed",
		raw: crlf(clientHeader + `MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1; format=flowed
Content-Transfer-Encoding: quoted-printable

Gern, J=F6rg. Bis gleich!`),
		plainText: "Gern, Jörg. Bis gleich!",
	},
	{
		name: "html",
		raw: crlf(clientHeader + `MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><meta charset="utf-8"></head><body><p>Sure, see you at <b>noon</b>.</p></BODY></html>
`),
		htmlText: "<p>Sure, see you at <b>noon</b>.</p>",
	},
	{
		name: "alternative",
		raw: crlf(clientHeader + `MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="client-alt"

--client-alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Sure — noon.
--client-alt
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGh0bWw+PGJvZHk+PHA+U3VyZSDigJQgbm9vbi48L3A+PC9ib2R5PjwvaHRtbD4=
--client-alt--
`),
		plainText: "Sure — noon.",
		htmlText:  "<p>Sure — noon.</p>",
	},
	{
		name: "mixed-with-attachment",
		raw: crlf(clientHeader + `MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="client-mix"

This is a multi-part message in MIME format.
--client-mix
Content-Type: multipart/alternative; boundary="client-alt"

--client-alt
Content-Type: text/plain; charset=utf-8

See the plan attached.
--client-alt
Content-Type: text/html; charset=utf-8

<div>See the plan attached.</div>
--client-alt--

--client-mix
Content-Type: text/plain; charset=windows-1252; name="plan.txt"
Content-Disposition: attachment; filename="plan.txt"
Content-Transfer-Encoding: base64

UGxhbjogY2Fm6SBhdCBub29u
--client-mix--
`),
		plainText: "See the plan attached.",
		htmlText:  "<div>See the plan attached.</div>",
		attach:    map[string]string{"plan.txt": "Plan: caf\xe9 at noon"},
	},
	{
		name: "mixed-attachment-only",
		raw: crlf(clientHeader + `MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="client-mix"

--client-mix
Content-Type: application/pdf; name="map.pdf"
Content-Disposition: attachment; filename="map.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--client-mix--
`),
		attach: map[string]string{"map.pdf": "%PDF-1.4\n"},
	},
	{
		name: "related-html-with-image",
		raw: crlf(clientHeader + `MIME-Version: 1.0
Content-Type: multipart/related; boundary="client-rel"; type="text/html"

--client-rel
Content-Type: text/html; charset=utf-8

<html><body><p>Here: <img src="cid:sig@phone"></p></body></html>
--client-rel
Content-Type: image/gif; name="sig.gif"
Content-ID: <sig@phone>
Content-Disposition: inline; filename="sig.gif"
Content-Transfer-Encoding: base64

R0lGODlhAQABAAAAACw=
--client-rel--
`),
		htmlText: `<p>Here: <img src="cid:sig@phone"></p>`,
		attach:   map[string]string{"sig.gif": "GIF89a\x01\x00\x01\x00\x00\x00\x00,"},
	},
	{
		name: "signed",
		raw: crlf(clientHeader + `MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="client-sig"

--client-sig
Content-Type: text/plain; charset=utf-8

Signed text.
--client-sig
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64

AAEC
--client-sig--
`),
		opaque: true,
	},
}

// Original messages (raw RFC 5322), parsed with OriginalFromMessage.
var originalShapes = []struct {
	name      string
	raw       string
	plain     string // a phrase of the original's text that every quote must show
	origAtt   map[string]string
	inlineCID string // Content-ID of an inline image referenced by the HTML
}{
	{
		name: "plain",
		raw: crlf(`From: =?utf-8?q?J=C3=B6rg?= <joerg@example.test>
To: Alice <alice@example.test>
Subject: Lunch?
Date: Tue, 3 Mar 2026 12:30:00 +0100
Message-ID: <orig-1@example.test>

Lunch at noon?
> an older line

Jörg
`),
		plain: "Lunch at noon?",
	},
	{
		name: "html-with-inline-image",
		raw: crlf(`From: joerg@example.test
To: alice@example.test
Subject: Lunch?
Date: Tue, 3 Mar 2026 12:30:00 +0100
MIME-Version: 1.0
Content-Type: multipart/related; boundary="o-rel"

--o-rel
Content-Type: text/html; charset=utf-8

<html><head><style>p{color:red}</style></head><body><p>Lunch at <i>noon</i>?</p><img src="cid:logo@orig"></body></html>
--o-rel
Content-Type: image/png
Content-ID: <logo@orig>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--o-rel--
`),
		plain:     "Lunch at noon?",
		origAtt:   map[string]string{"": "\x89PNG\r\n\x1a\n"},
		inlineCID: "logo@orig",
	},
	{
		name: "alternative-with-attachment",
		raw: crlf(`From: Jörg <joerg@example.test>
To: alice@example.test, Bob <bob@example.test>
Cc: carol@example.test
Subject: =?utf-8?q?Men=C3=BC?=
Date: Tue, 3 Mar 2026 12:30:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="o-mix"

--o-mix
Content-Type: multipart/alternative; boundary="o-alt"

--o-alt
Content-Type: text/plain; charset=utf-8

Lunch at noon? Menu attached.
--o-alt
Content-Type: text/html; charset=utf-8

<p>Lunch at noon? Menu attached.</p>
--o-alt--
--o-mix
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''men%C3%BC.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjcKbWVuw7w=
--o-mix--
`),
		plain:   "Lunch at noon? Menu attached.",
		origAtt: map[string]string{"menü.pdf": "%PDF-1.7\nmenü"},
	},
	{
		name: "latin1",
		raw: crlf(`From: =?iso-8859-1?q?J=F6rg_M=FCller?= <joerg@example.test>
To: alice@example.test
Subject: =?iso-8859-1?q?Gr=FC=DFe?=
Date: Tue, 3 Mar 2026 12:30:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Sch=F6ne Gr=FC=DFe aus K=F6ln.
`),
		plain: "Schöne Grüße aus Köln.",
	},
}
