package server

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// Limits of ResolveRecipients (MS-ASCMD 2.2.1.15, 2.2.3.183 To).
const (
	// maxResolveTo: more than 1000 To elements is undefined; we answer
	// Status 5.
	maxResolveTo = 1000
	// maxAvailabilityTo: with Availability at most 100 To elements may be
	// SMTP addresses; beyond that each Availability is Status 160.
	maxAvailabilityTo = 100
	// maxSuggestions bounds the suggestions of one ambiguous To when the
	// client sends no MaxAmbiguousRecipients (MS-ASCMD 2.2.3.100 allows
	// up to 19999).
	maxSuggestions = 100
)

// resolveOptions are the Options of a ResolveRecipients request (MS-ASCMD
// 2.2.3.125.4).
type resolveOptions struct {
	certificates   int // CertificateRetrieval: 1 none, 2 full, 3 mini
	maxAmbiguous   int
	availability   bool
	start, end     time.Time
	pictures       *pictureOptions
	smtpRecipients int // To elements that are addresses
}

// cmdResolveRecipients implements ResolveRecipients, MS-ASCMD 2.2.1.15:
// each To is looked up in the session's GALSearcher (directory and the
// user's contacts). Response Status 1 resolved, 2 ambiguous (every
// suggestion), 3 ambiguous (some of them, RecipientCount says how many
// there are), 4 not found. For a resolved recipient: Availability
// (14.0+) from FreeBusy, Status 163 when there is no free/busy data for
// it; Certificates, when asked for, Status 7 (S/MIME certificates are not
// kept); Picture (14.1+). Bad input is Status 5, a backend failure 6.
func (s *Server) cmdResolveRecipients(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSResolveRecipients
	fail := func(st eas.Status) (*wbxml.Element, error) {
		rq.easStatus = st
		return wbxml.New(ns, "ResolveRecipients", wbxml.Int(ns, "Status", int(st))), nil
	}
	g, ok := rq.session.(GALSearcher)
	if !ok {
		return s.notSupported(rq, ns, "ResolveRecipients")
	}
	var tos []string
	for _, e := range rq.body.All(ns, "To") {
		to := strings.TrimSpace(e.Text)
		if e.IsOpaque || len(e.Children) > 0 || to == "" || len(to) > maxQueryLength {
			return fail(eas.ResolveStatusProtocolError)
		}
		tos = append(tos, to)
	}
	if len(tos) == 0 || len(tos) > maxResolveTo {
		return fail(eas.ResolveStatusProtocolError)
	}
	opts, ok := parseResolveOptions(rq, rq.body.Child(ns, "Options"))
	if !ok {
		return fail(eas.ResolveStatusProtocolError)
	}
	for _, to := range tos {
		if strings.Contains(to, "@") {
			opts.smtpRecipients++
		}
	}
	root := wbxml.New(ns, "ResolveRecipients", wbxml.Int(ns, "Status", int(eas.ResolveStatusSuccess)))
	for _, to := range tos {
		resp, err := s.resolveOne(rq, g, to, &opts)
		if err != nil {
			s.log.Warn("server: resolve recipients failed", "device", rq.device.ID, "err", err)
			return fail(eas.ResolveStatusServerError)
		}
		root.Add(resp)
	}
	rq.easStatus = eas.ResolveStatusSuccess
	return root, nil
}

// parseResolveOptions reads Options; ok is false for values out of range
// or an Availability without a valid StartTime before its EndTime.
func parseResolveOptions(rq *request, o *wbxml.Element) (resolveOptions, bool) {
	ns := wbxml.NSResolveRecipients
	opts := resolveOptions{certificates: 1, maxAmbiguous: maxSuggestions}
	if o == nil {
		return opts, true
	}
	intOpt := func(name string, lo, hi int, dst *int) bool {
		if !o.Has(ns, name) {
			return true
		}
		n, err := strconv.Atoi(strings.TrimSpace(o.ChildText(ns, name)))
		if err != nil || n < lo || n > hi {
			return false
		}
		*dst = n
		return true
	}
	var maxCerts int
	if !intOpt("CertificateRetrieval", 1, 3, &opts.certificates) || !intOpt("MaxCertificates", 0, 9999, &maxCerts) ||
		!intOpt("MaxAmbiguousRecipients", 0, 19999, &opts.maxAmbiguous) {
		return opts, false
	}
	if a := o.Child(ns, "Availability"); a != nil && rq.version.AtLeast(eas.V140) {
		start, ok1 := parseEASTime(a.ChildText(ns, "StartTime"))
		end, ok2 := parseEASTime(a.ChildText(ns, "EndTime"))
		if !ok1 || !ok2 || !end.After(start) {
			return opts, false
		}
		opts.availability, opts.start, opts.end = true, start, end
	}
	var ok bool
	if opts.pictures, ok = parsePictureOptions(rq, ns, o); !ok {
		return opts, false
	}
	return opts, true
}

// resolveOne answers one To.
func (s *Server) resolveOne(rq *request, g GALSearcher, to string, opts *resolveOptions) (*wbxml.Element, error) {
	ns := wbxml.NSResolveRecipients
	// One more than the client takes tells "all" from "some".
	limit := max(opts.maxAmbiguous, 1) + 1
	entries, total, err := g.ResolveRecipient(rq.ctx, GALQuery{Text: to, Limit: limit, Pictures: opts.pictures != nil})
	if err != nil {
		return nil, err
	}
	total = max(total, len(entries))
	resp := wbxml.New(ns, "Response", wbxml.Text(ns, "To", to))
	var st eas.Status
	switch {
	case total == 0:
		st = eas.ResolveStatusUnresolved
		entries = nil
	case total == 1:
		st = eas.ResolveStatusSuccess
	case total <= opts.maxAmbiguous:
		st = eas.ResolveStatusAmbiguous
	default:
		st = eas.ResolveStatusAmbiguousPartial
		entries = entries[:min(len(entries), opts.maxAmbiguous)]
	}
	count := len(entries)
	if st == eas.ResolveStatusAmbiguousPartial {
		count = total
	}
	resp.Add(wbxml.Int(ns, "Status", int(st)), wbxml.Int(ns, "RecipientCount", count))
	for _, e := range entries {
		r := wbxml.New(ns, "Recipient", wbxml.Int(ns, "Type", recipientType(e)),
			wbxml.Text(ns, "DisplayName", e.DisplayName), wbxml.Text(ns, "EmailAddress", e.EmailAddress))
		if st == eas.ResolveStatusSuccess {
			if opts.availability {
				r.Add(s.availability(rq.ctx, g, e.EmailAddress, opts))
			}
			if opts.certificates > 1 {
				r.Add(wbxml.New(ns, "Certificates",
					wbxml.Int(ns, "Status", int(eas.CertStatusNoValidCertificate)), wbxml.Int(ns, "CertificateCount", 0)))
			}
		}
		if opts.pictures != nil {
			r.Add(opts.pictures.element(ns, e.Picture))
		}
		resp.Add(r)
	}
	return resp, nil
}

// recipientType is Type (MS-ASCMD 2.2.3.186.5): 1 a directory (GAL)
// entry, 2 a contact.
func recipientType(e GALEntry) int {
	if e.Contact {
		return 2
	}
	return 1
}

// availability answers Availability for a resolved recipient: Status 1
// with MergedFreeBusy, 160 when the request named too many addresses, 163
// when there is no free/busy data for the address, 162 when the backend
// failed (the client may ask again).
func (s *Server) availability(ctx context.Context, g GALSearcher, email string, opts *resolveOptions) *wbxml.Element {
	ns := wbxml.NSResolveRecipients
	a := wbxml.New(ns, "Availability")
	if opts.smtpRecipients > maxAvailabilityTo {
		return a.Add(wbxml.Int(ns, "Status", int(eas.StatusAvailabilityTooManyRecipients)))
	}
	fb, err := g.FreeBusy(ctx, email, opts.start, opts.end)
	switch {
	case errors.Is(err, eas.ErrNotFound) || errors.Is(err, eas.ErrNotSupported):
		return a.Add(wbxml.Int(ns, "Status", int(eas.StatusAvailabilityFailure)))
	case err != nil:
		s.log.Warn("server: free/busy failed", "err", err)
		return a.Add(wbxml.Int(ns, "Status", int(eas.StatusAvailabilityTransientFailure)))
	}
	return a.Add(wbxml.Int(ns, "Status", 1), wbxml.Text(ns, "MergedFreeBusy", fb))
}
