// Package server is the Exchange ActiveSync protocol: the HTTP endpoint
// (MS-ASHTTP), authentication, policy checks and one file per command
// (MS-ASCMD, MS-ASPROV), plus Autodiscover and the setup page.
//
// It knows nothing of IMAP, DAV or SQL: it decodes a request into WBXML
// elements, calls the Backend and Session interfaces of backend.go (which
// sync/engine implements) and encodes the typed answer.
//
// Implementation notes:
//   - Every request runs through one pipeline: query (plain or base64 form)
//     → protocol version → Basic auth (throttled per source address) →
//     command table → device record → body size limit → WBXML decode →
//     access check (blocked, wiped) → policy check (MS-ASPROV 3.2.5.1.1:
//     HTTP 449 for 12.1, Status 142/143/144/140 for 14.0+) → handler →
//     encode. The device record is saved after every command.
//   - Errors carry their meaning: an *httpError becomes an HTTP status; an
//     eas.StatusError or a sentinel from package eas becomes the command's
//     Status element in one mapping per command family; anything else is
//     logged and answered as a server error. A panic is recovered and
//     answered with HTTP 500; other requests are not affected.
//   - Credentials never reach logs or traces: the Authorization header is
//     redacted before the trace hook sees it.
package server
