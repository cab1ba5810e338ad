package mailconv

import (
	"slices"
	"strings"
	"testing"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

func appData(children ...*wbxml.Element) *wbxml.Element {
	return wbxml.New(wbxml.NSAirSync, "ApplicationData", children...)
}

func em(name, text string) *wbxml.Element { return wbxml.Text(wbxml.NSEmail, name, text) }

func tk(name, text string) *wbxml.Element { return wbxml.Text(wbxml.NSTasks, name, text) }

func cats(list ...string) *wbxml.Element {
	e := wbxml.New(wbxml.NSEmail, "Categories")
	for _, c := range list {
		e.Add(em("Category", c))
	}
	return e
}

func TestParseChange(t *testing.T) {
	yes, no := true, false
	d := time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		data    *wbxml.Element
		want    Change
		wantErr bool
	}{
		{"nothing", appData(), Change{}, false},
		{"read", appData(em("Read", "1")), Change{Read: &yes}, false},
		{"unread", appData(em("Read", " 0 ")), Change{Read: &no}, false},
		{"read invalid", appData(em("Read", "true")), Change{}, true},
		{"flag cleared", appData(wbxml.Empty(wbxml.NSEmail, "Flag")), Change{Flag: &Flag{}}, false},
		{"flag status 0", appData(wbxml.New(wbxml.NSEmail, "Flag", em("Status", "0"))), Change{Flag: &Flag{}}, false},
		{"flag set", appData(wbxml.New(wbxml.NSEmail, "Flag",
			em("Status", "2"), em("FlagType", "Flag for follow up"),
			tk("StartDate", "2025-03-20T00:00:00.000Z"), tk("UtcStartDate", "2025-03-20T00:00:00.000Z"),
			tk("DueDate", "2025-03-20T00:00:00.000Z"), tk("UtcDueDate", "2025-03-20T00:00:00.000Z"),
			tk("ReminderSet", "1"), tk("ReminderTime", "2025-03-20T00:00:00.000Z"))),
			Change{Flag: &Flag{Status: 2, Type: "Flag for follow up", StartDate: d, UTCStartDate: d, DueDate: d, UTCDueDate: d, ReminderSet: true, ReminderTime: d}}, false},
		{"flag complete", appData(wbxml.New(wbxml.NSEmail, "Flag",
			em("Status", "1"), em("CompleteTime", "2025-03-20T00:00:00.000Z"), tk("DateCompleted", "20250320T000000Z"))),
			Change{Flag: &Flag{Status: 1, CompleteTime: d, DateCompleted: d}}, false},
		{"flag type without status", appData(wbxml.New(wbxml.NSEmail, "Flag", em("FlagType", "for Follow Up"))),
			Change{Flag: &Flag{Status: 2, Type: "for Follow Up"}}, false},
		{"flag status invalid", appData(wbxml.New(wbxml.NSEmail, "Flag", em("Status", "3"))), Change{}, true},
		{"flag date invalid", appData(wbxml.New(wbxml.NSEmail, "Flag", em("Status", "2"), tk("DueDate", "tomorrow"))), Change{}, true},
		{"reminder invalid", appData(wbxml.New(wbxml.NSEmail, "Flag", em("Status", "2"), tk("ReminderSet", "yes"))), Change{}, true},
		{"categories cleared", appData(wbxml.Empty(wbxml.NSEmail, "Categories")), Change{Categories: &[]string{}}, false},
		{"categories", appData(cats("Work", " Project X ", "", "Проект")), Change{Categories: &[]string{"Work", "Project X", "Проект"}}, false},
		{"all", appData(em("Read", "1"), wbxml.Empty(wbxml.NSEmail, "Flag"), cats("A")),
			Change{Read: &yes, Flag: &Flag{}, Categories: &[]string{"A"}}, false},
		{"read-only fields ignored", appData(em("Subject", "new"), em("Importance", "2")), Change{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Through WBXML and back, as the handler sees it.
			b, err := wbxml.Encode(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := wbxml.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseChange(tree)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && !changeEqual(got, tc.want) {
				t.Errorf("got %s, want %s", describe(got), describe(tc.want))
			}
		})
	}
	if _, err := ParseChange(nil); err == nil {
		t.Error("nil ApplicationData: no error")
	}
}

func changeEqual(a, b Change) bool {
	return describe(a) == describe(b)
}

func describe(c Change) string {
	var sb strings.Builder
	if c.Read != nil {
		sb.WriteString("read=" + boolText(*c.Read) + " ")
	}
	if c.Flag != nil {
		f := *c.Flag
		sb.WriteString("flag=" + string(rune('0'+f.Status)) + "/" + f.Type)
		for _, d := range []time.Time{f.StartDate, f.DueDate, f.UTCStartDate, f.UTCDueDate, f.CompleteTime, f.DateCompleted, f.ReminderTime} {
			sb.WriteString("/" + d.Format(time.RFC3339))
		}
		sb.WriteString("/" + boolText(f.ReminderSet) + " ")
	}
	if c.Categories != nil {
		sb.WriteString("cats=[" + strings.Join(*c.Categories, "|") + "]")
	}
	return sb.String()
}

func TestIMAPFlags(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name        string
		c           Change
		current     []string
		add, remove []string
	}{
		{"nothing", Change{}, []string{`\Seen`}, nil, nil},
		{"read", Change{Read: &yes}, nil, []string{`\Seen`}, nil},
		{"unread", Change{Read: &no}, []string{`\Seen`}, nil, []string{`\Seen`}},
		{"flag", Change{Flag: &Flag{Status: 2}}, nil, []string{`\Flagged`}, []string{"$Completed"}},
		{"complete", Change{Flag: &Flag{Status: 1}}, []string{`\Flagged`}, []string{"$Completed"}, []string{`\Flagged`}},
		{"clear", Change{Flag: &Flag{}}, []string{`\Flagged`}, nil, []string{`\Flagged`, "$Completed"}},
		{"categories replace", Change{Categories: &[]string{"Work", "Project X"}},
			[]string{`\Seen`, "Old", "$Forwarded", "Work"}, []string{"$Category_Project=20X"}, []string{"Old"}},
		{"categories cleared", Change{Categories: &[]string{}},
			[]string{`\Seen`, "A", "$Category_B=20C", "$label1", "$Junk", "NonJunk"}, nil, []string{"A", "$Category_B=20C", "$label1"}},
		{"thunderbird label kept", Change{Categories: &[]string{"Work", "Important"}},
			[]string{"$label2"}, []string{"Important"}, nil},
		{"duplicate categories", Change{Categories: &[]string{"A", "A", " A "}}, nil, []string{"A"}, nil},
		{"duplicate keywords for one category", Change{Categories: &[]string{"Work"}}, []string{"Work", "$label2"}, nil, []string{"$label2"}},
		{"all", Change{Read: &yes, Flag: &Flag{Status: 2}, Categories: &[]string{"Ä"}},
			[]string{"B"}, []string{`\Seen`, `\Flagged`, "$Category_=C3=84"}, []string{"$Completed", "B"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			add, remove := IMAPFlags(tc.c, tc.current)
			if !slices.Equal(add, tc.add) || !slices.Equal(remove, tc.remove) {
				t.Errorf("add %q remove %q, want %q %q", add, remove, tc.add, tc.remove)
			}
		})
	}
}

func TestKeywordMapping(t *testing.T) {
	tests := []struct{ category, keyword string }{
		{"Work", "Work"},
		{"to-do_list.2", "to-do_list.2"},
		{"Project X", "$Category_Project=20X"},
		{"Ärger", "$Category_=C3=84rger"},
		{"a=b", "$Category_a=3Db"},
		{"50%", "$Category_50=25"},
		{"$Forwarded", "$Category_=24Forwarded"},
		{`\Seen`, "$Category_=5CSeen"},
		{"Junk", "$Category_Junk"},
		{"-lead", "$Category_-lead"},
		{"x]y", "$Category_x=5Dy"},
		{strings.Repeat("a", 65), "$Category_" + strings.Repeat("a", 65)},
	}
	for _, tc := range tests {
		if got := KeywordForCategory(tc.category); got != tc.keyword {
			t.Errorf("KeywordForCategory(%q) = %q, want %q", tc.category, got, tc.keyword)
		}
		if got, ok := CategoryForKeyword(tc.keyword); !ok || got != tc.category {
			t.Errorf("CategoryForKeyword(%q) = %q, %v, want %q", tc.keyword, got, ok, tc.category)
		}
	}
	notCategories := []string{`\Seen`, `\Flagged`, "$Forwarded", "$MDNSent", "$Junk", "$NotJunk", "Junk", "NonJunk", "notjunk", "$Completed", "$Phishing", "$MailFlagBit0", "$Important", ""}
	for _, k := range notCategories {
		if c, ok := CategoryForKeyword(k); ok {
			t.Errorf("CategoryForKeyword(%q) = %q, a category", k, c)
		}
	}
	for k, want := range map[string]string{"$label1": "Important", "$Label4": "To Do", "$category_a=20b": "a b", "$Category_=ZZ": "=ZZ", "$Category_=FF": "$Category_=FF"} {
		if got, ok := CategoryForKeyword(k); !ok || got != want {
			t.Errorf("CategoryForKeyword(%q) = %q, %v, want %q", k, got, ok, want)
		}
	}
}

// TestCategoriesRoundTrip: categories a phone sets survive IMAP keywords
// and come back in the next Sync.
func TestCategoriesRoundTrip(t *testing.T) {
	want := []string{"Work", "Project X", "Проект", "日本語", "50% done", "$Forwarded", "Junk", "a=b", "Tab\there", "😀 emoji"}
	b, err := wbxml.Encode(appData(cats(want...)))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := wbxml.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := ParseChange(tree)
	if err != nil {
		t.Fatal(err)
	}
	flags := []string{`\Seen`, "$Forwarded", "Stale"}
	add, remove := IMAPFlags(ch, flags)
	for _, k := range add {
		if !isAtom(k) {
			t.Errorf("keyword %q is not an IMAP atom", k)
		}
	}
	// The server applies the STORE.
	var next []string
	for _, f := range flags {
		if !slices.Contains(remove, f) {
			next = append(next, f)
		}
	}
	next = append(next, add...)
	m := rawMessage(t, "Subject: x\n\nx\n", next...)
	e := convert(t, m, opts(eas.V141))
	var got []string
	for _, c := range e.Child(wbxml.NSEmail, "Categories").Children {
		got = append(got, c.Text)
	}
	slices.Sort(got)
	sorted := slices.Clone(want)
	slices.Sort(sorted)
	if !slices.Equal(got, sorted) {
		t.Errorf("categories after the round trip %q, want %q", got, sorted)
	}
	// A second identical change stores nothing.
	if add, remove := IMAPFlags(ch, next); add != nil || remove != nil {
		t.Errorf("idempotent change: add %q remove %q", add, remove)
	}
}

// isAtom reports whether s is an IMAP flag-keyword (RFC 3501 atom).
func isAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}
