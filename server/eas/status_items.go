package eas

// Status codes of the item commands. The Sync codes are in status.go
// (SyncStatus*); SendMail, SmartReply and SmartForward use the common codes
// of MS-ASCMD 2.2.2 only (MS-ASCMD 2.2.3.177.14, 2.2.3.177.16).
//
// Section numbers are those of the current MS-ASCMD revision.

// GetItemEstimate status codes, MS-ASCMD 2.2.3.177.7.
const (
	EstimateStatusSuccess Status = 1
	// EstimateStatusInvalidCollection: a collection ID is unknown.
	EstimateStatusInvalidCollection Status = 2
	// EstimateStatusNotPrimed: the client asked before its first Sync of
	// the collection (SyncKey 0).
	EstimateStatusNotPrimed      Status = 3
	EstimateStatusInvalidSyncKey Status = 4
)

// ItemOperations status codes, MS-ASCMD 2.2.3.177.8. The values 4–12 were
// written for document libraries; 6, 8, 9 and 11 are also what Exchange
// answers for mailbox items, ranges, stores and sizes.
const (
	ItemOpsStatusSuccess          Status = 1
	ItemOpsStatusProtocolError    Status = 2
	ItemOpsStatusServerError      Status = 3
	ItemOpsStatusBadURI           Status = 4
	ItemOpsStatusAccessDenied     Status = 5
	ItemOpsStatusNotFound         Status = 6 // the object was not found or access denied
	ItemOpsStatusConnectionFailed Status = 7
	ItemOpsStatusInvalidRange     Status = 8 // the byte range is invalid or too large
	ItemOpsStatusUnknownStore     Status = 9 // the store is unknown or unsupported
	ItemOpsStatusEmptyFile        Status = 10
	ItemOpsStatusTooLarge         Status = 11 // the requested data size is too large
	ItemOpsStatusIOFailure        Status = 12
	ItemOpsStatusConversionFailed Status = 14 // mailbox fetch provider: conversion failed
	// ItemOpsStatusInvalidAttachment: the attachment or attachment ID
	// (FileReference) is invalid.
	ItemOpsStatusInvalidAttachment   Status = 15
	ItemOpsStatusBlocked             Status = 16 // access to the resource is denied
	ItemOpsStatusPartialSuccess      Status = 17
	ItemOpsStatusCredentialsRequired Status = 18
	// ItemOpsStatusActionNotSupported answers a conversation Move the
	// server cannot do (MS-ASCON 2.2.2.x Status of Move: 156 "Action not
	// supported").
	ItemOpsStatusActionNotSupported Status = 156
)

// MoveItems status codes, MS-ASCMD 2.2.3.177.10. Note that success is 3.
const (
	MoveStatusInvalidSource      Status = 1
	MoveStatusInvalidDestination Status = 2
	MoveStatusSuccess            Status = 3
	MoveStatusSameFolder         Status = 4
	// MoveStatusFailure: the item could not be moved (more than one item
	// matched, or the source or destination is unsuitable).
	MoveStatusFailure Status = 5
	// MoveStatusLocked: the source or destination is locked; a transient
	// condition, the client retries.
	MoveStatusLocked Status = 7
)

// Search status codes, MS-ASCMD 2.2.3.177.13: the Status of Search (1 or
// 3) and the Status of Store (all of them).
const (
	SearchStatusSuccess             Status = 1
	SearchStatusInvalidRequest      Status = 2
	SearchStatusServerError         Status = 3
	SearchStatusBadLink             Status = 4
	SearchStatusAccessDenied        Status = 5
	SearchStatusNotFound            Status = 6
	SearchStatusConnectionFailed    Status = 7
	SearchStatusTooComplex          Status = 8
	SearchStatusTimedOut            Status = 10
	SearchStatusFolderSyncRequired  Status = 11
	SearchStatusEndOfRange          Status = 12
	SearchStatusAccessBlocked       Status = 13
	SearchStatusCredentialsRequired Status = 14
)
