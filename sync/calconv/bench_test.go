package calconv

import (
	"testing"

	"easbridge/server/eas"
)

// BenchmarkEventToEAS converts a weekly event in Europe/Berlin with a
// VALARM, two EXDATEs and one override (testdata/event-weekly-
// exceptions.ics) for protocol 16.1.
func BenchmarkEventToEAS(b *testing.B) {
	data := readTestdata(b, "event-weekly-exceptions.ics")
	opts := testOpts(eas.V161)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ToEAS(ClassCalendar, data, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkContactToEAS converts a full vCard 3.0 (testdata/contact-v3.vcf:
// 40 properties, phones, addresses, IM, X- fields, a small PHOTO).
func BenchmarkContactToEAS(b *testing.B) {
	data := readTestdata(b, "contact-v3.vcf")
	opts := testOpts(eas.V161)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ToEAS(ClassContacts, data, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventFromEAS applies an unchanged client echo of the same
// event to the stored object (the common Change path).
func BenchmarkEventFromEAS(b *testing.B) {
	data := readTestdata(b, "event-weekly-exceptions.ics")
	opts := testOpts(eas.V161)
	app, err := ToEAS(ClassCalendar, data, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := FromEAS(ClassCalendar, app, data, opts); err != nil {
			b.Fatal(err)
		}
	}
}
