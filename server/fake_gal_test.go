package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"easbridge/server/eas"
)

// The GAL side of the fake backend: a fixed address list. Query "fail"
// and To "fail" make the backend fail; FreeBusy knows alice only (every
// slot from 09:00 to 10:00 UTC busy), "down@example.test" fails. Pictures
// are only returned when the query asks for them.

var _ GALSearcher = (*fakeSession)(nil)

var fakeGAL = []GALEntry{
	{DisplayName: "Deborah Poe", FirstName: "Deborah", LastName: "Poe", Alias: "deborah", Company: "Contoso", Title: "Director",
		Office: "B42/1001", Phone: "+1 425 555 0102", HomePhone: "+1 425 555 0105", MobilePhone: "+1 425 555 0108",
		EmailAddress: "deborah@contoso.com", Picture: []byte{0xff, 0xd8, 0xff, 0xe0}},
	{DisplayName: "Deborah Smith", FirstName: "Deborah", LastName: "Smith", EmailAddress: "dsmith@example.org", Contact: true},
	{DisplayName: "Debra Winter", EmailAddress: "debra@contoso.com", Picture: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	{DisplayName: "Jeff Hay", Alias: "jeff", Company: "Contoso", EmailAddress: "jeff@contoso.com"},
	{DisplayName: "Alice", EmailAddress: "alice@example.test"},
	{DisplayName: "Down Server", EmailAddress: "down@example.test"},
	{DisplayName: "Front Desk", Phone: "+1 425 555 0100"},
}

func fakeGALMatch(e GALEntry, q string) bool {
	q = strings.ToLower(q)
	for _, w := range strings.Fields(strings.ToLower(e.DisplayName + " " + e.EmailAddress + " " + e.Company)) {
		if strings.HasPrefix(w, q) {
			return true
		}
	}
	return false
}

func (s *fakeSession) SearchGAL(ctx context.Context, q GALQuery) ([]GALEntry, int, error) {
	query, limit := q.Text, q.Limit
	if query == "fail" {
		return nil, 0, fmt.Errorf("fake: %w", eas.ErrBackendUnavailable)
	}
	var out []GALEntry
	total := 0
	for _, e := range fakeGAL {
		if fakeGALMatch(e, query) {
			total++
			if len(out) < limit {
				if !q.Pictures {
					e.Picture = nil
				}
				out = append(out, e)
			}
		}
	}
	return out, total, nil
}

func (s *fakeSession) ResolveRecipient(ctx context.Context, q GALQuery) (out []GALEntry, total int, err error) {
	to, limit := q.Text, q.Limit
	defer func() {
		if !q.Pictures {
			for i := range out {
				out[i].Picture = nil
			}
		}
	}()
	if to == "fail" {
		return nil, 0, fmt.Errorf("fake: %w", eas.ErrBackendUnavailable)
	}
	for _, e := range fakeGAL {
		if strings.EqualFold(e.EmailAddress, to) {
			return []GALEntry{e}, 1, nil
		}
	}
	for _, e := range fakeGAL {
		if e.EmailAddress != "" && fakeGALMatch(e, to) {
			total++
			if len(out) < limit {
				out = append(out, e)
			}
		}
	}
	return out, total, nil
}

func (s *fakeSession) FreeBusy(ctx context.Context, email string, start, end time.Time) (string, error) {
	switch email {
	case "alice@example.test":
	case "down@example.test":
		return "", fmt.Errorf("fake: %w", eas.ErrBackendUnavailable)
	default:
		return "", fmt.Errorf("fake: no free/busy for %s: %w", email, eas.ErrNotFound)
	}
	var b strings.Builder
	for t := start; t.Before(end); t = t.Add(30 * time.Minute) {
		if h := t.UTC().Hour(); h == 9 {
			b.WriteByte('2')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String(), nil
}
