package demo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// seedMail is one generated message and where it goes.
type seedMail struct {
	mailbox string
	subject string
	flags   []imap.Flag
	date    time.Time
	raw     []byte
}

// mailSpec describes a demo message; build turns it into RFC 5322 bytes.
type mailSpec struct {
	mailbox   string
	id        string // Message-ID local part
	inReplyTo string // Message-ID local part of the parent, if a reply
	from      *mail.Address
	to, cc    []*mail.Address
	subject   string
	ago       time.Duration
	flags     []imap.Flag
	text      string
	html      string    // "" for a text/plain only message
	attach    *mimePart // multipart/mixed attachment
	inline    *mimePart // multipart/related image, referenced as cid: from html
}

type mimePart struct {
	contentType, filename, contentID string
	data                             []byte
}

// msgID returns a full Message-ID for a local part.
func msgID(local string) string { return local + "@easbridge.demo." + domain }

// seedMessages returns the demo mailbox content, dated relative to now.
func seedMessages(address string, now time.Time) ([]seedMail, error) {
	var (
		me      = &mail.Address{Name: "Demo User", Address: address}
		anna    = &mail.Address{Name: "Anna Schmidt", Address: "anna.schmidt@example.com"}
		tom     = &mail.Address{Name: "Tom Becker", Address: "tom.becker@example.com"}
		lena    = &mail.Address{Name: "Lena Wagner", Address: "lena.wagner@example.org"}
		jonas   = &mail.Address{Name: "Jonas Müller", Address: "jonas@mueller-holzbau.example.net"}
		sophie  = &mail.Address{Name: "Sophie Laurent", Address: "sophie.laurent@example.org"}
		bridge  = &mail.Address{Name: "easbridge", Address: "hello@easbridge.example.com"}
		billing = &mail.Address{Name: "Stadtwerke Billing", Address: "billing@stadtwerke.example.net"}
		weekly  = &mail.Address{Name: "Garden Weekly", Address: "news@garden-weekly.example.org"}
		shop    = &mail.Address{Name: "Samen & Co.", Address: "orders@samen.example.com"}
		spam    = &mail.Address{Name: "Prize Department", Address: "winner@lottery.example.net"}
		day     = 24 * time.Hour
		seen    = []imap.Flag{imap.FlagSeen}
	)

	photo, err := gardenPNG()
	if err != nil {
		return nil, fmt.Errorf("draw inline image: %w", err)
	}
	invoiceNo := fmt.Sprintf("%d-%04d", now.Year(), 815)

	specs := []mailSpec{
		{
			mailbox: "INBOX", id: "welcome", from: bridge, to: []*mail.Address{me},
			subject: "Welcome to your easbridge demo account", ago: 20 * time.Minute,
			text: "Hello!\n\nThis is the easbridge demo account. Everything you see here - " +
				"mail, calendar, tasks, notes and contacts - lives in memory on the " +
				"computer running easbridge and is reset when it restarts.\n\n" +
				"Try it: flag a message, move one to a folder, create an event on your " +
				"phone, or send a mail: it shows up in Sent.\n\nHave fun,\nThe easbridge team\n",
			html: `<html><body style="font-family:sans-serif"><h2>Hello!</h2>` +
				`<p>This is the <b>easbridge demo account</b>. Everything you see here &ndash; ` +
				`mail, calendar, tasks, notes and contacts &ndash; lives in memory on the ` +
				`computer running easbridge and is reset when it restarts.</p>` +
				`<p>Try it: flag a message, move one to a folder, create an event on your ` +
				`phone, or send a mail: it shows up in <i>Sent</i>.</p>` +
				`<p>Have fun,<br>The easbridge team</p></body></html>`,
		},
		{
			mailbox: "INBOX", id: "contract", from: tom, to: []*mail.Address{me},
			subject: "Contract review — please sign by Thursday", ago: day + 2*time.Hour,
			flags: []imap.Flag{imap.FlagFlagged},
			text: "Hi,\n\nthe lawyers are done with the service agreement. Could you " +
				"read sections 4 (liability) and 7 (termination) and sign by Thursday " +
				"noon?\n\nThanks,\nTom\n",
			html: `<html><body><p>Hi,</p><p>the lawyers are done with the service agreement. ` +
				`Could you read sections <b>4 (liability)</b> and <b>7 (termination)</b> and ` +
				`sign by <u>Thursday noon</u>?</p><p>Thanks,<br>Tom</p></body></html>`,
		},
		{
			mailbox: "INBOX", id: "lunch", from: anna, to: []*mail.Address{me}, cc: []*mail.Address{tom},
			subject: "Team lunch on Friday?", ago: 2*day + 3*time.Hour,
			flags: []imap.Flag{imap.FlagSeen, imap.FlagAnswered},
			text: "Hi!\n\nShall we go for lunch on Friday? I'd suggest the new Italian " +
				"place around the corner, 12:30.\n\nAnna\n",
			html: `<html><body><p>Hi!</p><p>Shall we go for lunch on Friday? I'd suggest the ` +
				`new Italian place around the corner, <b>12:30</b>.</p><p>Anna</p></body></html>`,
		},
		{
			mailbox: "INBOX", id: "invoice", from: billing, to: []*mail.Address{me},
			subject: "Your invoice " + invoiceNo, ago: 4*day + 5*time.Hour, flags: seen,
			text: "Dear customer,\n\nplease find attached your invoice " + invoiceNo +
				" over EUR 84.20. The amount will be debited on the 15th.\n\n" +
				"Kind regards,\nStadtwerke Billing\n",
			html: `<html><body><p>Dear customer,</p><p>please find attached your invoice <b>` +
				invoiceNo + `</b> over <b>EUR 84.20</b>. The amount will be debited on the ` +
				`15th.</p><p>Kind regards,<br>Stadtwerke Billing</p></body></html>`,
			attach: &mimePart{
				contentType: "application/pdf",
				filename:    "Invoice-" + invoiceNo + ".pdf",
				data:        invoicePDF(invoiceNo, "84.20"),
			},
		},
		{
			mailbox: "INBOX", id: "raised-bed-photo", from: jonas, to: []*mail.Address{me},
			subject: "Photo of the new raised bed", ago: 6*day + 4*time.Hour, flags: seen,
			text: "Hello,\n\nthe raised bed is finished, see the photo. I'll bring the " +
				"invoice next week.\n\nBest,\nJonas\n",
			html: `<html><body><p>Hello,</p><p>the raised bed is finished:</p>` +
				`<p><img src="cid:raised-bed@easbridge.demo" alt="Raised bed" width="256" height="160"></p>` +
				`<p>I'll bring the invoice next week.</p><p>Best,<br>Jonas</p></body></html>`,
			inline: &mimePart{
				contentType: "image/png",
				filename:    "raised-bed.png",
				contentID:   "raised-bed@easbridge.demo",
				data:        photo,
			},
		},
		{
			mailbox: "INBOX", id: "koeln", from: lena, to: []*mail.Address{me},
			subject: "Grüße aus Köln", ago: 9*day + 6*time.Hour, flags: seen,
			text: "Hallo!\n\nViele Grüße aus Köln! Der Dom ist größer als gedacht, und " +
				"das Kölsch schmeckt hervorragend. Nächste Woche bin ich zurück.\n\n" +
				"Bis bald,\nLena\n",
			html: `<html><body><p>Hallo!</p><p>Viele Grüße aus <b>Köln</b>! Der Dom ist ` +
				`größer als gedacht, und das Kölsch schmeckt hervorragend. Nächste Woche ` +
				`bin ich zurück.</p><p>Bis bald,<br>Lena</p></body></html>`,
		},
		{
			mailbox: "INBOX", id: "weekly-42", from: weekly, to: []*mail.Address{me},
			subject: "Garden Weekly: five things to plant now", ago: 12 * day, flags: seen,
			text: "GARDEN WEEKLY\n\n1. Radishes\n2. Spinach\n3. Peas\n4. Lettuce\n" +
				"5. Sweet peas\n\nHappy gardening!\n",
			html: `<html><body style="font-family:Georgia,serif"><h1 style="color:#2e7d32">` +
				`Garden Weekly</h1><h3>Five things to plant now</h3><ol><li>Radishes</li>` +
				`<li>Spinach</li><li>Peas</li><li>Lettuce</li><li>Sweet peas</li></ol>` +
				`<p>Happy gardening!</p></body></html>`,
		},
		{
			mailbox: "INBOX", id: "planning-2", inReplyTo: "planning-1", from: sophie,
			to: []*mail.Address{me}, cc: []*mail.Address{anna},
			subject: "Re: Quarterly planning", ago: 13*day + 2*time.Hour, flags: seen,
			text: "Thanks for the draft! I moved the garden project to Q3 and added " +
				"the budget numbers. Let's discuss on Monday.\n\nSophie\n",
		},
		{
			mailbox: "Sent", id: "lunch-reply", inReplyTo: "lunch", from: me,
			to: []*mail.Address{anna}, cc: []*mail.Address{tom},
			subject: "Re: Team lunch on Friday?", ago: 2*day + time.Hour, flags: seen,
			text: "Sounds great, count me in!\n",
		},
		{
			mailbox: "Sent", id: "shed-quote", from: me, to: []*mail.Address{jonas},
			subject: "Garden shed — quote request", ago: 5 * day, flags: seen,
			text: "Hello Jonas,\n\ncould you send me a quote for a small garden shed " +
				"(2 x 3 m, larch)?\n\nThanks!\n",
			html: `<html><body><p>Hello Jonas,</p><p>could you send me a quote for a small ` +
				`garden shed (<b>2 x 3 m, larch</b>)?</p><p>Thanks!</p></body></html>`,
		},
		{
			mailbox: "Projects/Garden", id: "seed-order", from: shop, to: []*mail.Address{me},
			subject: "Order confirmation #4711", ago: 8 * day, flags: seen,
			text: "Thank you for your order!\n\n2x Tomato 'Black Krim'\n1x Basil 'Genovese'\n" +
				"3x Sunflower 'Giant'\n\nTotal: EUR 17.40\n",
			html: `<html><body><h2>Thank you for your order!</h2><table border="1" cellpadding="4">` +
				`<tr><td>2x</td><td>Tomato 'Black Krim'</td></tr><tr><td>1x</td><td>Basil 'Genovese'</td></tr>` +
				`<tr><td>3x</td><td>Sunflower 'Giant'</td></tr></table><p>Total: <b>EUR 17.40</b></p></body></html>`,
		},
		{
			mailbox: "Projects/Garden", id: "raised-bed-size", from: jonas, to: []*mail.Address{me},
			subject: "Raised bed measurements", ago: 10 * day, flags: seen,
			text: "As discussed: 2.40 m x 1.20 m, 80 cm high, untreated larch, " +
				"with a vole mesh at the bottom.\n\nJonas\n",
		},
		{
			mailbox: "Drafts", id: "holiday-draft", from: me, to: []*mail.Address{lena},
			subject: "Holiday plans", ago: 3 * time.Hour,
			flags: []imap.Flag{imap.FlagSeen, imap.FlagDraft},
			text:  "Hi Lena,\n\nwhat do you think about a week on the Baltic coast in August?\n",
		},
		{
			mailbox: "Archive", id: "onboarding", from: sophie, to: []*mail.Address{me},
			subject: "Welcome to the team!", ago: 13*day + 20*time.Hour, flags: seen,
			text: "Welcome aboard! Your desk is next to Anna's. See you on Monday.\n\nSophie\n",
		},
		{
			mailbox: "Junk", id: "prize", from: spam, to: []*mail.Address{me},
			subject: "Congratulations, you have WON!", ago: 7 * day,
			text: "Click here to claim your prize. (This is a demo junk message.)\n",
		},
	}

	out := make([]seedMail, 0, len(specs))
	for i := range specs {
		s := &specs[i]
		raw, err := s.build(now)
		if err != nil {
			return nil, fmt.Errorf("build %q: %w", s.subject, err)
		}
		out = append(out, seedMail{
			mailbox: s.mailbox,
			subject: s.subject,
			flags:   s.flags,
			date:    now.Add(-s.ago),
			raw:     raw,
		})
	}
	return out, nil
}

// build writes the message with go-message: text/plain alone,
// multipart/alternative, multipart/mixed with an attachment, or
// multipart/related with an inline image.
func (s *mailSpec) build(now time.Time) ([]byte, error) {
	var h mail.Header
	h.SetDate(now.Add(-s.ago))
	h.SetAddressList("From", []*mail.Address{s.from})
	h.SetAddressList("To", s.to)
	if len(s.cc) > 0 {
		h.SetAddressList("Cc", s.cc)
	}
	h.SetSubject(s.subject) // RFC 2047 encoded when not ASCII
	h.SetMessageID(msgID(s.id))
	if s.inReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{msgID(s.inReplyTo)})
		h.SetMsgIDList("References", []string{msgID(s.inReplyTo)})
	}

	var buf bytes.Buffer
	var err error
	switch {
	case s.inline != nil:
		err = writeRelated(&buf, h, s.text, s.html, s.inline)
	case s.attach != nil:
		err = writeMixed(&buf, h, s.text, s.html, s.attach)
	case s.html != "":
		var iw *mail.InlineWriter
		if iw, err = mail.CreateInlineWriter(&buf, h); err == nil {
			err = writeAlternative(iw.CreatePart, s.text, s.html)
			err = closeAfter(err, iw)
		}
	default:
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		var w io.WriteCloser
		if w, err = mail.CreateSingleInlineWriter(&buf, h); err == nil {
			_, err = io.WriteString(w, s.text)
			err = closeAfter(err, w)
		}
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeAlternative writes a text/plain and a text/html part with create.
func writeAlternative(create func(mail.InlineHeader) (io.WriteCloser, error), text, html string) error {
	for _, p := range []struct{ typ, body string }{{"text/plain", text}, {"text/html", html}} {
		var ph mail.InlineHeader
		ph.SetContentType(p.typ, map[string]string{"charset": "utf-8"})
		w, err := create(ph)
		if err != nil {
			return fmt.Errorf("create %s part: %w", p.typ, err)
		}
		_, err = io.WriteString(w, p.body)
		if err := closeAfter(err, w); err != nil {
			return fmt.Errorf("write %s part: %w", p.typ, err)
		}
	}
	return nil
}

// writeMixed writes multipart/mixed: the alternative text, then a file.
func writeMixed(w io.Writer, h mail.Header, text, html string, att *mimePart) error {
	mw, err := mail.CreateWriter(w, h)
	if err != nil {
		return err
	}
	iw, err := mw.CreateInline()
	if err != nil {
		return err
	}
	if err := closeAfter(writeAlternative(iw.CreatePart, text, html), iw); err != nil {
		return err
	}
	var ah mail.AttachmentHeader
	ah.SetContentType(att.contentType, map[string]string{"name": att.filename})
	ah.SetFilename(att.filename)
	aw, err := mw.CreateAttachment(ah)
	if err != nil {
		return fmt.Errorf("create attachment: %w", err)
	}
	_, err = aw.Write(att.data)
	if err := closeAfter(err, aw); err != nil {
		return fmt.Errorf("write attachment: %w", err)
	}
	return mw.Close()
}

// writeRelated writes multipart/related: the alternative text, then an
// image the HTML refers to by Content-ID. mail.Writer has no related
// support, so this uses go-message's generic writer.
func writeRelated(w io.Writer, h mail.Header, text, html string, img *mimePart) error {
	root := h.Header.Copy()
	root.SetContentType("multipart/related", map[string]string{"type": "multipart/alternative"})
	mw, err := message.CreateWriter(w, root)
	if err != nil {
		return err
	}

	var alt message.Header
	alt.SetContentType("multipart/alternative", nil)
	aw, err := mw.CreatePart(alt)
	if err != nil {
		return fmt.Errorf("create alternative part: %w", err)
	}
	create := func(ih mail.InlineHeader) (io.WriteCloser, error) {
		ih.Set("Content-Transfer-Encoding", "quoted-printable")
		return aw.CreatePart(ih.Header)
	}
	if err := closeAfter(writeAlternative(create, text, html), aw); err != nil {
		return err
	}

	var ih message.Header
	ih.SetContentType(img.contentType, map[string]string{"name": img.filename})
	ih.SetContentDisposition("inline", map[string]string{"filename": img.filename})
	ih.Set("Content-Id", "<"+img.contentID+">")
	ih.Set("Content-Transfer-Encoding", "base64")
	pw, err := mw.CreatePart(ih)
	if err != nil {
		return fmt.Errorf("create image part: %w", err)
	}
	_, err = pw.Write(img.data)
	if err := closeAfter(err, pw); err != nil {
		return fmt.Errorf("write image part: %w", err)
	}
	return mw.Close()
}

// closeAfter closes c and returns the first of err and the close error.
func closeAfter(err error, c io.Closer) error {
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return err
}

// gardenPNG draws a small picture (sky, sun, lawn, a raised bed with
// flowers) for the inline-image message.
func gardenPNG() ([]byte, error) {
	const w, h = 64, 40
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	sky := color.RGBA{135, 206, 235, 255}
	grass := color.RGBA{76, 153, 0, 255}
	sun := color.RGBA{255, 214, 0, 255}
	wood := color.RGBA{139, 90, 43, 255}
	soil := color.RGBA{92, 64, 51, 255}
	bloom := color.RGBA{233, 30, 99, 255}
	for y := range h {
		for x := range w {
			c := sky
			switch dx, dy := x-52, y-8; {
			case dx*dx+dy*dy <= 25:
				c = sun
			case y >= 26:
				c = grass
			}
			if x >= 12 && x < 44 && y >= 24 && y < 34 {
				c = wood
				if y < 26 {
					c = soil
				}
			}
			if x >= 15 && x < 41 && y >= 18 && y < 24 && (x-15)%5 == 0 {
				c = grass // stems
			}
			if x >= 14 && x < 42 && y >= 15 && y < 18 && (x-15)%5 <= 1 {
				c = bloom
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// invoicePDF returns a minimal, valid one-page PDF (correct xref offsets)
// saying which invoice it is.
func invoicePDF(number, amount string) []byte {
	content := fmt.Sprintf("BT /F1 20 Tf 72 760 Td (Invoice %s) Tj ET\n"+
		"BT /F1 12 Tf 72 730 Td (Stadtwerke - electricity and water) Tj ET\n"+
		"BT /F1 12 Tf 72 712 Td (Amount due: EUR %s) Tj ET\n", number, amount)
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R " +
			"/Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, obj := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, obj)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}
