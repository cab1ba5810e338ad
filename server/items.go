package server

import (
	"context"
	"io"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// The interfaces of this file are the item side of a Session: Sync,
// GetItemEstimate, ItemOperations, MoveItems, Search and sending. A Session
// offers each of them by implementing it; the handlers check with a type
// assertion and answer "not supported" otherwise.
//
// Item content crosses the boundary as AirSync ApplicationData elements
// (*wbxml.Element): the converters in sync/ build them for the version and
// body preferences given, and parse them for client changes. The protocol
// layer only handles the envelopes (collections, commands, windows,
// statuses).

// BodyPreference is one AirSyncBase:BodyPreference (MS-ASAIRS 2.2.2.7) or
// BodyPartPreference.
type BodyPreference struct {
	Type           int  // 1 plain text, 2 HTML, 3 RTF, 4 MIME
	TruncationSize int  // 0 = no truncation
	AllOrNone      bool // send nothing rather than a truncated body
	Preview        int  // 0 = no preview, else up to 255 characters
}

// ItemOptions are the per-collection Options of Sync (MS-ASCMD
// 2.2.3.125.6) and the Options of ItemOperations Fetch.
type ItemOptions struct {
	Class          string // "Email", "Calendar", … ("" = the folder's class)
	FilterType     int    // 0 all, 1 one day … 5 one month, 6 three months, 7 six months, 8 incomplete tasks
	BodyPrefs      []BodyPreference
	BodyPartPrefs  []BodyPreference
	MIMESupport    int // 0 never, 1 S/MIME only, 2 always
	MIMETruncation int // octets, mapped from the code by the handler: 0 = none, -1 = code 0 (no body data)
	Conflict       int // 0 client wins, 1 server wins (default)
	MaxItems       int
	// Truncation is the 12.1-era MIMETruncation/Truncation size in bytes
	// (0 = none), kept for old clients.
	RightsManagement bool
}

// ClientCommand is one Add, Change, Delete or Fetch sent by the client in a
// Sync collection.
type ClientCommand struct {
	Op       string // "Add", "Change", "Delete", "Fetch"
	ServerID string
	ClientID string
	Class    string
	Data     *wbxml.Element // AirSync ApplicationData for Add and Change
	// InstanceID names one occurrence of a recurring event (16.x Change
	// and Delete); "" for the whole item.
	InstanceID string
}

// SyncCollection is one Collection of a Sync request (MS-ASCMD 2.2.3.29.2).
type SyncCollection struct {
	Version        eas.Version
	CollectionID   string
	SyncKey        string
	GetChanges     bool // false for SyncKey 0, and when the client says 0
	WindowSize     int  // 1..512; the handler applies the default 100
	DeletesAsMoves bool // default true
	Options        ItemOptions
	Commands       []ClientCommand
}

// ItemResponse answers one client command in Responses.
type ItemResponse struct {
	Op       string // "Add", "Change", "Delete", "Fetch"
	ServerID string
	ClientID string
	Status   eas.Status
	Data     *wbxml.Element // ApplicationData of a Fetch
}

// ServerChange is one change the server sends in Commands.
type ServerChange struct {
	Op       string // "Add", "Change", "Delete", "SoftDelete"
	ServerID string
	Data     *wbxml.Element // ApplicationData of Add and Change
}

// SyncCollectionResult is the answer for one collection. Status 1 with a
// new SyncKey on success; any other Status (3 invalid key, 8 object not
// found, 12 folder hierarchy changed, …) carries only the key the client
// should use next (usually "0").
type SyncCollectionResult struct {
	Class         string
	SyncKey       string
	Status        eas.Status
	Responses     []ItemResponse
	Changes       []ServerChange
	MoreAvailable bool
}

// ItemSync is item synchronisation (MS-ASCMD 2.2.1.21 Sync, 2.2.1.9
// GetItemEstimate).
type ItemSync interface {
	// SyncCollection runs one collection: apply client commands, then
	// collect up to WindowSize server changes, and advance the key in one
	// state transaction. An unknown key is an error wrapping
	// eas.ErrInvalidSyncKey; a collection of another user or a deleted
	// folder wraps eas.ErrNotFound.
	SyncCollection(ctx context.Context, deviceID string, req *SyncCollection) (*SyncCollectionResult, error)
	// ItemEstimate counts the changes the next Sync with syncKey would
	// send (GetItemEstimate, MS-ASCMD 2.2.1.9).
	ItemEstimate(ctx context.Context, deviceID, collectionID, syncKey string, opts ItemOptions) (int, error)
}

// Attachment is the content behind a FileReference, streamed.
type Attachment struct {
	ContentType string
	Size        int64 // -1 when unknown
	Body        io.ReadCloser
}

// ItemFetcher serves ItemOperations (MS-ASCMD 2.2.1.10) and GetAttachment.
type ItemFetcher interface {
	// FetchItem returns the ApplicationData-shaped Properties of one item.
	FetchItem(ctx context.Context, deviceID, collectionID, serverID string, opts ItemOptions, version eas.Version) (*wbxml.Element, error)
	// FetchLongID returns a search result's item (LongId from Search).
	FetchLongID(ctx context.Context, longID string, opts ItemOptions, version eas.Version) (*wbxml.Element, error)
	// OpenAttachment opens an attachment by FileReference (or 12.1
	// AttachmentName); eas.ErrNotFound when it is not this user's.
	OpenAttachment(ctx context.Context, fileReference string) (*Attachment, error)
	// EmptyFolder deletes a folder's items (and subfolders when asked).
	EmptyFolder(ctx context.Context, deviceID, collectionID string, deleteSubFolders bool) error
}

// ItemMover serves MoveItems (MS-ASCMD 2.2.1.12).
type ItemMover interface {
	// MoveItem moves one item and returns its new ServerId. Errors carry
	// the MoveItems status (eas.StatusError): 1 invalid source, 2 invalid
	// destination, 4 same folder, 5 failure, 7 locked.
	MoveItem(ctx context.Context, deviceID, serverID, srcCollection, dstCollection string) (string, error)
}

// SearchQuery is a Store=Mailbox search (MS-ASCMD 2.2.1.16).
type SearchQuery struct {
	FreeText       string
	CollectionIDs  []string // empty = all mail folders
	Class          string
	DeepTraversal  bool
	Since, Until   time.Time
	RangeStart     int
	RangeEnd       int
	RebuildResults bool
	Options        ItemOptions
	Version        eas.Version
}

// SearchHit is one found item.
type SearchHit struct {
	LongID       string
	CollectionID string
	Class        string
	Properties   *wbxml.Element // Search:Properties content (Email fields, Body)
}

// Searcher serves Search with Store Mailbox.
type Searcher interface {
	SearchMailbox(ctx context.Context, q SearchQuery) (hits []SearchHit, total int, err error)
}

// ItemRef names an existing message: by folder and ServerId, or by LongId.
type ItemRef struct {
	CollectionID string
	ServerID     string
	LongID       string
	InstanceID   string
}

// Sender serves SendMail, SmartReply and SmartForward (MS-ASCMD 2.2.1.17,
// 2.2.1.19, 2.2.1.20). mime is the RFC 5322 message the client composed.
// Errors carry the ComposeMail status (eas.StatusError with 110 server
// error, 113 quota, 118 previously sent, 120 submission failed, …); on any
// error nothing is saved as sent.
type Sender interface {
	SendMail(ctx context.Context, deviceID, clientID string, mime io.Reader, saveInSent bool) error
	SmartReply(ctx context.Context, deviceID, clientID string, mime io.Reader, src ItemRef, replaceMime, saveInSent bool) error
	SmartForward(ctx context.Context, deviceID, clientID string, mime io.Reader, src ItemRef, replaceMime, saveInSent bool) error
}
