// Package engine is the sync engine: it implements the server's Backend and
// Session interfaces over the account's sources (IMAP, CalDAV/CardDAV) and
// the state store.
//
// Implementation notes:
//   - Login: passthrough accounts check the phone's credentials against the
//     IMAP server; a success is cached for LoginCacheTTL under a salted hash
//     of the password (never the password itself as a key, never on disk).
//     The sources opened for a login (with their connection pools) live in
//     that cache entry and are closed when it expires or the engine closes.
//   - Folder ServerIds are assigned by the state store per user and source
//     key and never reused; a renamed IMAP folder keeps its ServerId.
//   - FolderSync keeps the hierarchy sent with the current and the previous
//     key: a repeated previous key gets the same changes again; any other
//     key is eas.ErrInvalidSyncKey. A source that fails during FolderSync
//     keeps its folders as last sent, so an outage never looks like a
//     deletion to the phone.
//   - Folder operations write to the source first and advance the state
//     only after that succeeded, in one transaction.
//   - What a device is offered is a view (view.go): folder settings
//     (sync/foldermode) and the account's class switches hide folders,
//     offer them in another mode under a key of their own, or merge them
//     into another folder's collection (viewdav.go, viewmail.go).
package engine
