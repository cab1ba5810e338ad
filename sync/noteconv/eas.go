package noteconv

import (
	"fmt"
	"strings"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/calconv"
)

// MessageClass is the class of every note, MS-ASNOTE 2.2.2.5.
const MessageClass = "IPM.StickyNote"

// compactTime is the MS-ASNOTE 2.2.2.4 LastModifiedDate form.
const compactTime = "20060102T150405Z"

func htmlText(s string) string { return calconv.HTMLToText(s) }

// ToEAS is the Notes ApplicationData of n (MS-ASNOTE 2.2.2): Body by the
// client's BodyPreference, Subject, MessageClass, LastModifiedDate,
// Categories.
func ToEAS(n Note, opts calconv.Options) (*wbxml.Element, error) {
	if !version(opts).AtLeast(eas.V140) {
		return nil, fmt.Errorf("noteconv: Notes need protocol 14.0 or later (MS-ASNOTE 2.2.2): %w", calconv.ErrUnsupported)
	}
	const N = wbxml.NSNotes
	app := wbxml.New(wbxml.NSAirSync, "ApplicationData")
	app.Add(calconv.BodyElement(n.Text, n.HTML, opts))
	if n.Subject != "" {
		app.Add(wbxml.Text(N, "Subject", n.Subject))
	}
	app.Add(wbxml.Text(N, "MessageClass", MessageClass))
	app.Add(wbxml.Text(N, "LastModifiedDate", n.Modified.UTC().Format(compactTime)))
	if len(n.Categories) > 0 {
		cats := wbxml.New(N, "Categories")
		for _, c := range n.Categories {
			cats.Add(wbxml.Text(N, "Category", c))
		}
		app.Add(cats)
	}
	return app, nil
}

// FromEAS applies a client's Add (old is the zero Note) or Change to a
// note: Subject, Body and Categories the client sent replace the stored
// ones, what it left out is kept. Modified becomes opts.Now.
func FromEAS(app *wbxml.Element, old Note, opts calconv.Options) (Note, error) {
	if !version(opts).AtLeast(eas.V140) {
		return Note{}, fmt.Errorf("noteconv: Notes need protocol 14.0 or later (MS-ASNOTE 2.2.2): %w", calconv.ErrUnsupported)
	}
	if app == nil {
		return Note{}, fmt.Errorf("%w: no ApplicationData", ErrInvalid)
	}
	const N = wbxml.NSNotes
	n := old
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	n.Modified = now
	if n.Created.IsZero() {
		n.Created = now
	}
	if n.UUID == "" {
		n.UUID = NewUUID()
	}
	if s := app.Child(N, "Subject"); s != nil {
		n.Subject = oneLine(s.Text)
	}
	if text, htm, ok := calconv.ClientBody(app); ok {
		n.Text, n.HTML = cleanText(text), cleanText(htm)
	}
	if c := app.Child(N, "Categories"); c != nil {
		n.Categories = nil
		for _, x := range c.All(N, "Category") {
			if v := oneLine(x.Text); v != "" {
				n.Categories = append(n.Categories, v)
			}
		}
	}
	if n.Subject == "" {
		// Apple Notes titles a note by its first line.
		first, _, _ := strings.Cut(strings.TrimSpace(n.Text), "\n")
		n.Subject = oneLine(first)
	}
	return n, nil
}

func version(o calconv.Options) eas.Version {
	if o.Version == "" {
		return eas.V141
	}
	return o.Version
}
