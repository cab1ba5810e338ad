package mailconv

import (
	"path"
	"strconv"
	"strings"

	"easbridge/sync/source"
)

// MIME structure: which leaves are the body, which are attachments, and
// the message class. The rules follow what Exchange does with internet
// mail (the MS-OXCMAIL body and attachment heuristics), simplified:
//
//   - multipart/alternative: the last text/plain and the last text/html
//     child win (RFC 2046 5.1.4: last is best); other alternatives are
//     neither body nor attachment (an iTIP text/calendar alternative of a
//     meeting request is hidden like Exchange hides it).
//   - multipart/related: the root (start parameter, else the first child)
//     holds the body; the other children are inline attachments.
//   - multipart/signed: the first child holds the body; the signature is
//     an attachment (smime.p7s), as on Exchange.
//   - any other multipart (mixed, report, digest, unknown): the first child
//     that is not an attachment and holds text is the body.
//   - every other leaf is an attachment, message/rfc822 included (as one
//     .eml file; its inner parts are not listed).

// maxDepth bounds the recursion into a Part tree.
const maxDepth = 64

func isMultipart(p *source.Part) bool { return strings.EqualFold(p.Type, "multipart") }

func isType(p *source.Part, typ, sub string) bool {
	return strings.EqualFold(p.Type, typ) && strings.EqualFold(p.Subtype, sub)
}

// filename is the decoded file name of a part: Content-Disposition
// filename (RFC 2183, RFC 2231), else Content-Type name.
func filename(p *source.Part) string {
	if n := paramValue(p.DispParams, "filename"); n != "" {
		return n
	}
	return paramValue(p.Params, "name")
}

// isAttachment reports whether a leaf is an attachment by its own header:
// Content-Disposition attachment, or a named text part that is not marked
// inline.
func isAttachment(p *source.Part) bool {
	if strings.EqualFold(p.Disposition, "attachment") {
		return true
	}
	return strings.EqualFold(p.Type, "text") && !strings.EqualFold(p.Disposition, "inline") && filename(p) != ""
}

// findBodies returns the text/plain and text/html leaves that hold the
// message body (either may be nil).
func findBodies(p *source.Part, depth int) (plain, html *source.Part) {
	if p == nil || depth > maxDepth {
		return nil, nil
	}
	if isMultipart(p) {
		switch strings.ToLower(p.Subtype) {
		case "alternative":
			for i := len(p.Children) - 1; i >= 0; i-- {
				pl, ht := findBodies(p.Children[i], depth+1)
				if plain == nil {
					plain = pl
				}
				if html == nil {
					html = ht
				}
			}
			return plain, html
		case "related":
			return findBodies(relatedRoot(p), depth+1)
		case "signed":
			if len(p.Children) > 0 {
				return findBodies(p.Children[0], depth+1)
			}
			return nil, nil
		}
		for _, c := range p.Children {
			if c == nil || (!isMultipart(c) && isAttachment(c)) {
				continue
			}
			if pl, ht := findBodies(c, depth+1); pl != nil || ht != nil {
				return pl, ht
			}
		}
		return nil, nil
	}
	if !strings.EqualFold(p.Type, "text") || isAttachment(p) {
		return nil, nil
	}
	switch strings.ToLower(p.Subtype) {
	case "plain":
		return p, nil
	case "html":
		return nil, p
	}
	return nil, nil
}

// relatedRoot is the root part of a multipart/related (RFC 2387 3.2).
func relatedRoot(p *source.Part) *source.Part {
	if start := strings.Trim(strings.TrimSpace(p.Params["start"]), "<>"); start != "" {
		for _, c := range p.Children {
			if c != nil && strings.Trim(c.ID, "<>") == start {
				return c
			}
		}
	}
	for _, c := range p.Children {
		if c != nil {
			return c
		}
	}
	return nil
}

// attachment is one leaf listed in AirSyncBase:Attachments.
type attachment struct {
	part   *source.Part
	name   string
	inline bool
}

// findAttachments lists the attachment leaves in document order.
func findAttachments(root, plain, html *source.Part) []attachment {
	var out []attachment
	var walk func(p *source.Part, depth int, inAlt, inRelated bool, relRoot *source.Part)
	walk = func(p *source.Part, depth int, inAlt, inRelated bool, relRoot *source.Part) {
		if p == nil || depth > maxDepth || len(out) >= 1000 {
			return
		}
		if isMultipart(p) {
			sub := strings.ToLower(p.Subtype)
			var rr *source.Part
			if sub == "related" {
				rr = relatedRoot(p)
			}
			for _, c := range p.Children {
				walk(c, depth+1, inAlt || sub == "alternative", inRelated || sub == "related", rr)
			}
			return
		}
		if p == plain || p == html {
			return
		}
		if inAlt && !isAttachment(p) {
			return
		}
		if p == relRoot && strings.EqualFold(p.Type, "text") {
			return
		}
		inline := strings.EqualFold(p.Disposition, "inline") && !strings.EqualFold(p.Type, "text") ||
			(inRelated && p.ID != "" && !strings.EqualFold(p.Disposition, "attachment"))
		out = append(out, attachment{part: p, name: attachmentName(p), inline: inline})
	}
	walk(root, 0, false, false, nil)
	return out
}

// extensions gives generated attachment names an extension for common
// types (a fixed table: the system mime.types differs between machines).
var extensions = map[string]string{
	"text/plain": ".txt", "text/html": ".html", "text/calendar": ".ics", "text/csv": ".csv",
	"text/vcard": ".vcf", "text/x-vcard": ".vcf", "message/rfc822": ".eml",
	"message/delivery-status": ".txt", "message/disposition-notification": ".txt",
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
	"application/pdf": ".pdf", "application/zip": ".zip",
	"application/pkcs7-signature": ".p7s", "application/x-pkcs7-signature": ".p7s",
	"application/pkcs7-mime": ".p7m", "application/x-pkcs7-mime": ".p7m",
	"application/ics": ".ics", "application/pgp-signature": ".asc",
}

// attachmentName is the DisplayName of an attachment: its decoded file
// name without directories, else its Content-Description, else a name made
// from its part number and type ("attachment-2.eml").
func attachmentName(p *source.Part) string {
	name := filename(p)
	if name != "" {
		// Some mailers send Windows paths.
		name = name[strings.LastIndexAny(name, `/\`)+1:]
	}
	if strings.TrimSpace(name) == "" {
		if d := decodeText(p.Description); d != "" && len(d) < 256 {
			name = d
			if path.Ext(name) == "" {
				name += extensions[strings.ToLower(p.Type+"/"+p.Subtype)]
			}
		}
	}
	if strings.TrimSpace(name) == "" {
		name = "attachment"
		if n := dotted(p.Path); n != "" {
			name += "-" + n
		}
		name += extensions[strings.ToLower(p.Type+"/"+p.Subtype)]
	}
	return cleanLine(name)
}

// dotted writes an IMAP part number ("1.2"); "" for the root.
func dotted(path []int) string {
	var sb strings.Builder
	for i, n := range path {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(strconv.Itoa(n))
	}
	return sb.String()
}

// Message classes (MS-ASEMAIL 2.2.2 MessageClass; MS-OXCMAIL and MS-OXOSMIME
// for how MIME structure maps to them).
const (
	classNote            = "IPM.Note"
	classSMIME           = "IPM.Note.SMIME"
	classSMIMESigned     = "IPM.Note.SMIME.MultipartSigned"
	classMeetingRequest  = "IPM.Schedule.Meeting.Request"
	contentClassMessage  = "urn:content-classes:message"
	internetCPIDUTF8     = "65001"
	flagTypeFollowUp     = "for Follow Up"
	dateFormat           = "2006-01-02T15:04:05.000Z"
	defaultFileReference = "1"
)

// messageClass derives the class from the structure: application/pkcs7-mime
// at the top is encrypted or opaque-signed S/MIME, multipart/signed with a
// PKCS #7 signature is clear-signed S/MIME (MS-OXOSMIME), a
// text/calendar part with METHOD=REQUEST is a meeting request. PGP
// (multipart/signed with application/pgp-signature, multipart/encrypted)
// stays IPM.Note: EAS clients cannot verify it, and the S/MIME classes
// would make them try.
func messageClass(root *source.Part) string {
	if root == nil {
		return classNote
	}
	if isType(root, "application", "pkcs7-mime") || isType(root, "application", "x-pkcs7-mime") {
		return classSMIME
	}
	if isType(root, "multipart", "signed") {
		if proto := strings.ToLower(root.Params["protocol"]); strings.Contains(proto, "pkcs7-signature") {
			return classSMIMESigned
		}
	}
	if hasMeetingRequest(root, 0) {
		return classMeetingRequest
	}
	return classNote
}

func hasMeetingRequest(p *source.Part, depth int) bool {
	if p == nil || depth > maxDepth {
		return false
	}
	if isType(p, "text", "calendar") && strings.EqualFold(strings.TrimSpace(p.Params["method"]), "REQUEST") {
		return true
	}
	for _, c := range p.Children {
		if hasMeetingRequest(c, depth+1) {
			return true
		}
	}
	return false
}
