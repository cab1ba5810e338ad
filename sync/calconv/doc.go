// Package calconv converts stored CalDAV/CardDAV objects to and from
// Exchange ActiveSync ApplicationData: VEVENT ↔ Calendar ([MS-ASCAL]),
// VTODO ↔ Tasks ([MS-ASTASK]), VJOURNAL ↔ Notes ([MS-ASNOTE], 14.0+) and
// vCard 3.0/4.0 ↔ Contacts ([MS-ASCNTC]).
//
//	app, err := calconv.ToEAS("Calendar", ics, calconv.Options{Version: eas.V161, UserAddress: "alice@example.com"})
//	data, uid, err := calconv.FromEAS("Calendar", clientApp, storedICS, opts)
//
// # Implementation notes
//
// Parsing. iCalendar and vCard share one content-line parser (ical.go):
// unfolding, groups, quoted and RFC 6868 parameter values, vCard 2.1 bare
// parameters; properties keep their order, parameters and raw value, so
// that FromEAS changes only what the client changed and writes the rest
// back as it was (lines are re-folded at 75 octets with CRLF). A broken
// object (unbalanced BEGIN/END, a line without ':', a VEVENT without
// DTSTART, …) is an error wrapping ErrInvalid; the engine skips it. We do
// not use go-ical/go-vcard here: go-ical's decoder panics on some
// malformed parameters and its encoder sorts properties, does not fold
// lines and refuses objects with repeated properties; go-vcard sorts
// fields and loses escaped semicolons in structured values.
//
// Round trips. FromEAS reads the stored object into the same EAS view
// ToEAS sends and compares it with the client's data field by field: an
// equal value leaves the stored property untouched (parameters, X-
// properties, VALARMs and vCard fields we do not map, an RRULE EAS can
// only approximate). In a Change, a missing element removes the property
// ([MS-ASCMD] 2.2.3.179: without a Supported list nothing is ghosted),
// except the bodies and the contact picture (treated as ghosted: clients
// leave out bodies they did not edit; an empty Picture removes the
// photo) and the enumerations BusyStatus, Sensitivity, AllDayEvent and
// MeetingStatus (left as they are).
//
// Time zones. The Calendar Timezone element ([MS-ASCAL] 2.2.2.44) is the
// TIME_ZONE_INFORMATION structure of [MS-ASDTYPE] 2.7.6: Bias,
// StandardName, StandardDate (SYSTEMTIME, "day-in-month" form: wYear 0,
// wDay 1–5 with 5 = last), StandardBias, DaylightName, DaylightDate,
// DaylightBias, 172 bytes, base64. Out: the event's TZID is resolved to
// an Olson zone (time.LoadLocation with the embedded time/tzdata; vendor
// prefixes such as /mozilla.org/…/Europe/Berlin; Windows names; else the
// VTIMEZONE's RRULEs, matched against the table's zones, or used as they
// are); the yearly rule is derived from the zone's actual transitions in
// the event's year (so Europe/Berlin 2026 gives Bias −60, StandardDate
// October last Sunday 03:00, DaylightDate March last Sunday 02:00,
// DaylightBias −60; Australia/Sydney has its DaylightDate in October);
// a negative DST like Europe/Dublin's is normalised (the larger offset is
// daylight time). StandardName is the Windows zone ID from the table in
// windows.go (~95 zones after CLDR's windowsZones). All-day, UTC and
// floating events get the UTC structure. In: the blob's StandardName is
// looked up in the table (or taken as an Olson name) and accepted when
// its standard offset agrees; else the table's zones are tried in order
// and the first with the same offsets and the same transition instants
// in the event's year and the next is taken; else Etc/GMT±N for whole
// hours without DST; else a zone with the blob's own rules and a
// synthetic TZID ("EAS/UTC+05:45/…") with a generated VTIMEZONE. A
// stored event keeps its TZID (and VTIMEZONE) when the client's blob has
// the same rules. Local times are resolved as RFC 5545 3.3.5 says: a time
// in a spring-forward gap takes the offset before the gap (02:30 on
// 2026-03-29 in Berlin is 01:30Z, shown as 03:30 CEST — Go's time.Date
// normalises the same way), a repeated time is its first occurrence
// (02:30 on 2026-10-25 in Berlin is 00:30Z; time.Date would give 01:30Z
// east of UTC, so zone.instant decides). Missing VTIMEZONEs are
// generated for the TZIDs we write (observances from the year before the
// event, with the current yearly rule), unused ones are dropped.
//
// Calendar dates are compact UTC (yyyyMMddTHHmmssZ, [MS-ASDTYPE] 2.7.2).
// All-day events are DATE values; EAS gets midnight UTC of the dates and
// the UTC structure. Coming in, a value at midnight UTC is taken as the
// date (16.x clients send floating midnight), anything else is read in
// the client's TimeZone and rounded to the day (12.1–14.1 clients send
// local midnight). Tasks and Contacts use the long form
// (yyyy-MM-ddTHH:mm:ss.fffZ, [MS-ASDTYPE] 2.3); task StartDate/DueDate
// are the wall time in the task's zone written as if UTC, UtcStartDate/
// UtcDueDate the instant. Birthdays and anniversaries go out at midnight
// UTC and come back rounded to the nearest day (phones send local
// midnight as UTC); a date without year uses 1604 (Apple's convention).
//
// Recurrence ([MS-ASCAL] 2.2.2.37). FREQ=DAILY → Type 0 (with BYDAY:
// Type 1 weekly with the day mask); WEEKLY → 1 with DayOfWeek; MONTHLY
// BYMONTHDAY=n → 2; MONTHLY BYDAY=nDD or BYDAY=set;BYSETPOS=n → 3
// (WeekOfMonth 5 = last; BYMONTHDAY=-1 is DayOfWeek 127/WeekOfMonth 5,
// Outlook's "last day"); YEARLY → 5 (BYMONTHDAY) or 6 (BYDAY); INTERVAL,
// COUNT → Occurrences, UNTIL → Until; WKST → FirstDayOfWeek (14.1+;
// always for weekly rules, Monday by default); CalendarType 0 for all
// but daily rules (14.0+). Rules EAS cannot express
// (BYHOUR, BYWEEKNO, BYYEARDAY, several ordinals, several BYMONTHDAYs,
// the 5th or 2nd-to-last weekday, RDATE, HOURLY…) are sent as their
// nearest EAS form (HOURLY and finer: no Recurrence); as long as the
// client sends back the same Recurrence, FromEAS keeps the stored RRULE
// untouched. EXDATEs and cancelled overrides are Exceptions with Deleted
// 1; RECURRENCE-ID overrides are Exceptions with StartTime, EndTime,
// Subject and every field that differs from the master, keyed by
// ExceptionStartTime (12.1–14.1) or airsyncbase:InstanceId (16.x). A
// 16.x Change of one occurrence (the Change's InstanceId, passed as a
// child of app) creates or updates that occurrence's override;
// DeleteInstance handles a 16.x Delete of one occurrence.
//
// Meetings. MeetingStatus is 0 without attendees, 1 when ORGANIZER is
// Options.UserAddress (or missing), 3 when received, +4 when
// STATUS:CANCELLED. ResponseType is the user's PARTSTAT, AttendeeStatus
// each attendee's, AttendeeType 1 required, 2 optional, 3 resource
// (CUTYPE=RESOURCE/ROOM). Attendee lists of received meetings are never
// rewritten from the client (only the organizer may, RFC 6638); the
// user's own answer is. BusyStatus uses X-MICROSOFT-CDO-BUSYSTATUS,
// else TRANSP; Sensitivity CLASS (PUBLIC 0, X-PERSONAL 1, PRIVATE 2,
// CONFIDENTIAL 3); Reminder the first DISPLAY/AUDIO VALARM firing at or
// before the start; Body DESCRIPTION (HTML from X-ALT-DESC;FMTTYPE=
// text/html when the client prefers type 2); Location calendar:Location
// before 16.0, airsyncbase:Location/DisplayName from 16.0.
//
// iTIP (itip.go, RFC 5546). ParseInvitation reads a meeting message's
// iCalendar part for the Email MeetingRequest (intended busy status,
// SEQUENCE, RECURRENCE-ID, the user's RSVP); EventFromInvitation turns a
// REQUEST into the object to store (METHOD dropped); SetPartstat writes
// the user's answer into the meeting and its overrides, or into one
// occurrence's override (created from the master when missing), and
// refuses organizers and non-attendees; Reply builds the METHOD:REPLY
// object: UID, SEQUENCE, RECURRENCE-ID, DTSTAMP now, the ORGANIZER and
// only the user's ATTENDEE, with the VTIMEZONEs it uses.
//
// Contacts. N, FN (FileAs), ORG, TITLE, NICKNAME, URL, NOTE, BDAY,
// CATEGORIES, PHOTO (≤ 48 KB of base64, else left out, [MS-ASCNTC]
// 2.2.2.58) map directly; EMAILs fill Email1–3 (PREF first, then
// document order), TELs fill the phone elements by TYPE (work, home,
// cell, fax, pager, car, X-RADIO, X-ASSISTANT, X-COMPANY-MAIN, X-MMS;
// untyped numbers go to Home2/Business2), ADRs the Business/Home/Other
// addresses, IMPP and X-JABBER/X-AIM/… the IMAddress elements. Fields
// without a vCard property live in X- properties (X-ASSISTANT,
// X-SPOUSE or RELATED;TYPE=spouse, X-MANAGER, X-OFFICE, X-CHILD or
// RELATED;TYPE=child, X-ANNIVERSARY or ANNIVERSARY, X-PHONETIC-*,
// X-CUSTOMERID, X-GOVERNMENTID, X-ACCOUNTNAME), with Evolution,
// KAddressBook and Outlook spellings read as well. New cards are vCard
// 3.0; a stored card keeps its version.
//
// Robustness. Nothing here panics on bad input (fuzzed: FuzzToEAS over
// random bytes for each class, FuzzFromEAS over random WBXML); as a last
// resort ToEAS/FromEAS recover a panic into an ErrInvalid error. Texts
// sent to the client are valid UTF-8 without NUL bytes.
package calconv
