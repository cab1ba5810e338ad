package eas

import (
	"errors"
	"fmt"
)

// Status is an EAS status code as carried in a <Status> element. Each
// command has its own meaning for the values 1–20; values 101 and above are
// the common status codes of MS-ASCMD 2.2.2 and mean the same everywhere.
type Status int

// Common status codes, MS-ASCMD 2.2.2 "Common Status Codes".
const (
	StatusInvalidContent                                  Status = 101
	StatusInvalidWBXML                                    Status = 102
	StatusInvalidXML                                      Status = 103
	StatusInvalidDateTime                                 Status = 104
	StatusInvalidCombinationOfIDs                         Status = 105
	StatusInvalidIDs                                      Status = 106
	StatusInvalidMIME                                     Status = 107
	StatusDeviceIDMissingOrInvalid                        Status = 108
	StatusDeviceTypeMissing                               Status = 109
	StatusServerError                                     Status = 110
	StatusServerErrorRetryLater                           Status = 111
	StatusActiveDirectoryAccess                           Status = 112
	StatusMailboxQuotaExceeded                            Status = 113
	StatusMailboxServerOffline                            Status = 114
	StatusSendQuotaExceeded                               Status = 115
	StatusMessageRecipientUnresolved                      Status = 116
	StatusMessageReplyNotAllowed                          Status = 117
	StatusMessagePreviouslySent                           Status = 118
	StatusMessageHasNoRecipient                           Status = 119
	StatusMailSubmissionFailed                            Status = 120
	StatusMessageReplyFailed                              Status = 121
	StatusAttachmentTooLarge                              Status = 122
	StatusUserHasNoMailbox                                Status = 123
	StatusUserCannotBeAnonymous                           Status = 124
	StatusUserPrincipalNotFound                           Status = 125
	StatusUserDisabledForSync                             Status = 126
	StatusUserOnNewMailboxCannotSync                      Status = 127
	StatusUserOnLegacyMailboxCannotSync                   Status = 128
	StatusDeviceIsBlockedForThisUser                      Status = 129
	StatusAccessDenied                                    Status = 130
	StatusAccountDisabled                                 Status = 131
	StatusSyncStateNotFound                               Status = 132
	StatusSyncStateLocked                                 Status = 133
	StatusSyncStateCorrupt                                Status = 134
	StatusSyncStateAlreadyExists                          Status = 135
	StatusSyncStateVersionInvalid                         Status = 136
	StatusCommandNotSupported                             Status = 137
	StatusVersionNotSupported                             Status = 138
	StatusDeviceNotFullyProvisionable                     Status = 139
	StatusRemoteWipeRequested                             Status = 140
	StatusLegacyDeviceOnStrictPolicy                      Status = 141
	StatusDeviceNotProvisioned                            Status = 142
	StatusPolicyRefresh                                   Status = 143
	StatusInvalidPolicyKey                                Status = 144
	StatusExternallyManagedDevicesNotAllowed              Status = 145
	StatusNoRecurrenceInCalendar                          Status = 146
	StatusUnexpectedItemClass                             Status = 147
	StatusRemoteServerHasNoSSL                            Status = 148
	StatusInvalidStoredRequest                            Status = 149
	StatusItemNotFound                                    Status = 150
	StatusTooManyFolders                                  Status = 151
	StatusNoFoldersFound                                  Status = 152
	StatusItemsLostAfterMove                              Status = 153
	StatusFailureInMoveOperation                          Status = 154
	StatusMoveCommandDisallowedForNonPersistentMoveAction Status = 155
	StatusMoveCommandInvalidDestinationFolder             Status = 156
	StatusAvailabilityTooManyRecipients                   Status = 160
	StatusAvailabilityDLLimitReached                      Status = 161
	StatusAvailabilityTransientFailure                    Status = 162
	StatusAvailabilityFailure                             Status = 163
	StatusBodyPartPreferenceTypeNotSupported              Status = 164
	StatusDeviceInformationRequired                       Status = 165
	StatusInvalidAccountID                                Status = 166
	StatusAccountSendDisabled                             Status = 167
	StatusIRMFeatureDisabled                              Status = 168
	StatusIRMTransientError                               Status = 169
	StatusIRMPermanentError                               Status = 170
	StatusIRMInvalidTemplateID                            Status = 171
	StatusIRMOperationNotPermitted                        Status = 172
	StatusNoPicture                                       Status = 173
	StatusPictureTooLarge                                 Status = 174
	StatusPictureLimitReached                             Status = 175
	StatusBodyPartConversationTooLarge                    Status = 176
	StatusMaximumDevicesReached                           Status = 177
	StatusInvalidMimeBodyCombination                      Status = 178
	StatusInvalidSmartForwardParameters                   Status = 179
	StatusInvalidRecipients                               Status = 183
	StatusOneOrMoreExceptionsFailed                       Status = 184
)

// FolderSync / FolderCreate / FolderUpdate / FolderDelete status codes,
// MS-ASCMD 2.2.3.177.3 (FolderSync), .177.2 (FolderCreate), .177.4
// (FolderDelete), .177.5 (FolderUpdate).
const (
	FolderStatusSuccess        Status = 1
	FolderStatusAlreadyExists  Status = 2 // FolderCreate, FolderUpdate
	FolderStatusSpecialFolder  Status = 3 // system folder: cannot be changed
	FolderStatusNotFound       Status = 4 // parent or folder does not exist
	FolderStatusParentNotFound Status = 5 // FolderUpdate: parent missing
	FolderStatusServerError    Status = 6
	FolderStatusTimeout        Status = 8 // FolderSync: request timed out
	FolderStatusInvalidSyncKey Status = 9
	FolderStatusBadRequest     Status = 10 // malformed request
	FolderStatusUnknownError   Status = 11
	FolderStatusCodeUnknown    Status = 12
)

// Provision status codes, MS-ASPROV 2.2.2.54.1 (Provision) and 2.2.2.54.2
// (Policy).
const (
	ProvisionStatusSuccess       Status = 1
	ProvisionStatusProtocolError Status = 2
	ProvisionStatusServerError   Status = 3
	ProvisionStatusExternal      Status = 4 // device externally managed

	PolicyStatusSuccess        Status = 1
	PolicyStatusNoPolicy       Status = 2
	PolicyStatusUnknownType    Status = 3
	PolicyStatusCorrupt        Status = 4
	PolicyStatusWrongPolicyKey Status = 5
)

// Settings status codes, MS-ASCMD 2.2.3.177.14.
const (
	SettingsStatusSuccess           Status = 1
	SettingsStatusProtocolError     Status = 2
	SettingsStatusAccessDenied      Status = 3
	SettingsStatusServerUnavailable Status = 4
	SettingsStatusInvalidArguments  Status = 5
	SettingsStatusConflicting       Status = 6
	SettingsStatusDeniedByPolicy    Status = 7
)

// Sync status codes, MS-ASCMD 2.2.3.177.16.
const (
	SyncStatusSuccess                Status = 1
	SyncStatusInvalidSyncKey         Status = 3
	SyncStatusProtocolError          Status = 4
	SyncStatusServerError            Status = 5
	SyncStatusConversionError        Status = 6
	SyncStatusConflict               Status = 7
	SyncStatusObjectNotFound         Status = 8
	SyncStatusMaxItems               Status = 9
	SyncStatusFolderHierarchyChanged Status = 12
	SyncStatusIncompleteRequest      Status = 13
	SyncStatusInvalidWaitOrHeartbeat Status = 14
	SyncStatusTooManyCollections     Status = 15
	SyncStatusRetry                  Status = 16
)

// StatusError is an error that carries the EAS status a client must see.
// The protocol layer turns it into the command's <Status> element; any other
// error becomes a server error.
type StatusError struct {
	Status Status
	Err    error
}

func (e *StatusError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("eas: status %d", int(e.Status))
	}
	return fmt.Sprintf("eas: status %d: %v", int(e.Status), e.Err)
}

func (e *StatusError) Unwrap() error { return e.Err }

// Errorf returns a *StatusError with a formatted cause.
func Errorf(s Status, format string, args ...any) error {
	return &StatusError{Status: s, Err: fmt.Errorf(format, args...)}
}

// StatusOf returns the EAS status carried by err, and false when err carries
// none.
func StatusOf(err error) (Status, bool) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status, true
	}
	return 0, false
}

// Sentinel errors shared by server/ and sync/.
var (
	// ErrAuthFailed means the user name or password is wrong (HTTP 401).
	ErrAuthFailed = errors.New("eas: authentication failed")
	// ErrBackendUnavailable means the account's servers cannot be reached
	// (HTTP 503 for login, status 111 for commands).
	ErrBackendUnavailable = errors.New("eas: backend unavailable")
	// ErrNotFound means the asked-for object does not exist for this user.
	ErrNotFound = errors.New("eas: not found")
	// ErrInvalidSyncKey means the client's SyncKey is neither the current
	// nor the previous one.
	ErrInvalidSyncKey = errors.New("eas: invalid sync key")
	// ErrNotSupported means the source cannot do the operation (for example
	// a DAV server that refuses MKCOL).
	ErrNotSupported = errors.New("eas: operation not supported by the source")
	// ErrExists means an object with that name already exists.
	ErrExists = errors.New("eas: already exists")
	// ErrSpecialFolder means the folder is a system folder that cannot be
	// renamed or deleted.
	ErrSpecialFolder = errors.New("eas: special folder")
)
