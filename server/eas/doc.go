// Package eas holds the Exchange ActiveSync domain types shared by the
// protocol layer (server/) and the bridge (sync/): protocol versions, folder
// types, typed status codes, devices, policies and the errors that carry an
// EAS status. It has no dependencies outside the standard library and knows
// nothing of HTTP, WBXML, IMAP or DAV.
package eas
