package testenv

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// List returns the paths of the members of a collection (PROPFIND,
// Depth 1), sorted, without the collection itself.
func (r *Radicale) List(t testing.TB, user, collection string) []string {
	t.Helper()
	paths, err := r.list(user, collection)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return paths
}

func (r *Radicale) list(user, collection string) ([]string, error) {
	body := []byte(`<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>`)
	_, resp, err := r.expect(user, "PROPFIND", collection, map[string]string{"Depth": "1", "Content-Type": "application/xml"}, body, http.StatusMultiStatus)
	if err != nil {
		return nil, err
	}
	var ms struct {
		Responses []struct {
			Href string `xml:"href"`
		} `xml:"response"`
	}
	if err := xml.Unmarshal(resp, &ms); err != nil {
		return nil, fmt.Errorf("PROPFIND %s: %w", collection, err)
	}
	var out []string
	for _, x := range ms.Responses {
		p := x.Href
		if u, err := url.Parse(p); err == nil {
			p = u.Path
		}
		if strings.TrimSuffix(p, "/") == strings.TrimSuffix(collection, "/") {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}
