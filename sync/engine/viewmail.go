package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
	"easbridge/sync/foldermode"
	"easbridge/sync/mailconv"
	"easbridge/sync/source"
)

// Groupware shown as mail (foldermode.GroupwareAsEmail): each calendar
// object or vCard is a message built on the fly — a short plain and HTML
// summary (calconv.DigestOf) with the stored object attached as it is
// (.ics or .vcf) — converted by mailconv like any IMAP message. The
// attachment's FileReference is "<CollectionId>:~<base64url(path)>": it
// names the member itself, so ItemOperations and GetAttachment need no
// device state to serve it.

const groupwareRefMark = ":~"

func groupwareRef(collectionID, p string) string {
	return collectionID + groupwareRefMark + base64.RawURLEncoding.EncodeToString([]byte(p))
}

func parseGroupwareRef(ref string) (coll, p string, ok bool) {
	coll, enc, ok := strings.Cut(ref, groupwareRefMark)
	if !ok || coll == "" {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(b) == 0 {
		return "", "", false
	}
	return coll, string(b), true
}

// digestMessage writes the message offered for a stored object at p.
func digestMessage(dg calconv.Digest, p string, obj []byte, user string, now time.Time) ([]byte, error) {
	var h mail.Header
	date := dg.Date
	if date.IsZero() {
		date = now
	}
	h.SetDate(date)
	h.SetSubject(dg.Subject)
	addr := []*mail.Address{{Name: "easbridge", Address: user}}
	h.SetAddressList("From", addr)
	h.SetAddressList("To", []*mail.Address{{Address: user}})
	sum := sha256.Sum256([]byte(p))
	h.SetMessageID(fmt.Sprintf("%x@groupware.easbridge", sum[:12]))
	h.SetContentType("multipart/mixed", nil)
	var buf bytes.Buffer
	mw, err := message.CreateWriter(&buf, h.Header)
	if err != nil {
		return nil, err
	}
	var ah message.Header
	ah.SetContentType("multipart/alternative", nil)
	aw, err := mw.CreatePart(ah)
	if err != nil {
		return nil, err
	}
	for _, part := range []struct{ typ, body string }{{"text/plain", dg.Text}, {"text/html", dg.HTML}} {
		var ph message.Header
		ph.SetContentType(part.typ, map[string]string{"charset": "utf-8"})
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		pw, err := aw.CreatePart(ph)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(pw, strings.ReplaceAll(strings.ReplaceAll(part.body, "\r\n", "\n"), "\n", "\r\n")); err != nil {
			return nil, err
		}
		if err := pw.Close(); err != nil {
			return nil, err
		}
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	var fh message.Header
	fh.SetContentType(dg.ContentType, map[string]string{"charset": "utf-8"})
	fh.SetContentDisposition("attachment", map[string]string{"filename": attachmentName(p, dg.Ext)})
	fh.Set("Content-Transfer-Encoding", "base64")
	fw, err := mw.CreatePart(fh)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(obj); err != nil {
		return nil, err
	}
	if err := fw.Close(); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// attachmentName is the member's file name, with the extension of its
// kind.
func attachmentName(p, ext string) string {
	name := path.Base(p)
	if name == "." || name == "/" || name == "" {
		name = "item"
	}
	if !strings.HasSuffix(strings.ToLower(name), ext) {
		name += ext
	}
	return name
}

// groupwareMail converts a stored object into Email ApplicationData.
func (d *davSync) groupwareMail(o source.DAVObject, _ calconv.Options) (*wbxml.Element, error) {
	return d.s.groupwareMail(d.req.CollectionID, o, d.req.Options, d.req.Version, wbxml.NSAirSync, "ApplicationData")
}

func (s *session) groupwareMail(collectionID string, o source.DAVObject, opts server.ItemOptions, v eas.Version, space, name string) (*wbxml.Element, error) {
	dg, err := calconv.DigestOf(o.Data)
	if err != nil {
		return nil, err
	}
	raw, err := digestMessage(dg, o.Path, o.Data, s.l.email, s.e.opts.Now())
	if err != nil {
		return nil, fmt.Errorf("engine: groupware message: %w", err)
	}
	msg, err := mailconv.MessageFromRaw(raw, 0, []string{`\Seen`}, dg.Date)
	if err != nil {
		return nil, err
	}
	co := s.convOptions(collectionID, opts, v)
	co.FileReference = func([]int) string { return groupwareRef(collectionID, o.Path) }
	msg = mailconv.ApplyFetchSpec(msg, mailconv.Spec(co))
	if space == wbxml.NSAirSync {
		return mailconv.ApplicationData(msg, co)
	}
	return mailconv.Properties(space, msg, co)
}

// openGroupwareAttachment serves the stored object behind a groupware
// message's attachment.
func (s *session) openGroupwareAttachment(ctx context.Context, coll, p string) (*server.Attachment, error) {
	key, err := s.collectionKey(ctx, coll)
	if err != nil {
		return nil, err
	}
	mode, _, src, ok := parseViewKey(key)
	if !ok || mode != foldermode.GroupwareAsEmail || s.l.dav == nil || !strings.HasPrefix(p, collectionPath(src)) {
		return nil, fmt.Errorf("engine: attachment of %s: %w", coll, eas.ErrNotFound)
	}
	objs, err := s.l.dav.Get(ctx, src, []string{p})
	if err != nil {
		return nil, fmt.Errorf("engine: attachment %s: %w", p, err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("engine: attachment %s: %w", p, eas.ErrNotFound)
	}
	ct := "text/calendar"
	if strings.HasPrefix(src, "carddav:") {
		ct = "text/vcard"
	}
	return &server.Attachment{ContentType: ct, Size: int64(len(objs[0].Data)), Body: io.NopCloser(bytes.NewReader(objs[0].Data))}, nil
}
