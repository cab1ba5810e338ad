package wbxml

// Token tables of the Exchange ActiveSync WBXML code pages.
//
// Sources (facts only, the tables below are written out by hand):
//   - [MS-ASWBXML] 2.1.2.1.1 … 2.1.2.1.26 "Code Page 0: AirSync" … "Code Page
//     25: Find" (protocol 16.1): tag names and tokens.
//   - [MS-ASCMD] section 6 schemas (AirSync.xsd, SyncResponse.xsd, GAL.xsd,
//     …), [MS-ASCAL] 6 (Calendar.xsd), [MS-ASCNTC] 6.1/6.2, [MS-ASPROV] 6,
//     [MS-ASAIRS] 6: the namespace strings (targetNamespace / xmlns values)
//     and the element spellings. Notably GAL.xsd declares
//     targetNamespace="GAL" ([MS-ASCMD] 6.18) and the GetItemEstimate
//     command's namespace is "GetItemEstimate".
//   - [MS-ASWBXML] 2.1.2.1.4: code page 3 (AirNotify) is no longer in use;
//     its tag names are those of the earlier revisions of [MS-ASWBXML].
//
// Tags marked "legacy" are only defined for protocol 2.5 (or are no longer
// used); they are kept so that the codec can still read old clients and
// round-trip whatever it reads. Where two Microsoft documents spell one tag
// differently, the name below is the [MS-ASWBXML] one and the other spelling
// is an alias accepted by Lookup and Encode (see aliases).
//
// Note: the code page of Find is 25, not 24 — [MS-ASWBXML] defines 26 code
// pages, 0 through 25.

// Namespace (code page) names, exactly as the EAS XML schemas spell them.
const (
	NSAirSync           = "AirSync"           // code page 0
	NSContacts          = "Contacts"          // code page 1
	NSEmail             = "Email"             // code page 2
	NSAirNotify         = "AirNotify"         // code page 3 (no longer in use)
	NSCalendar          = "Calendar"          // code page 4
	NSMove              = "Move"              // code page 5
	NSItemEstimate      = "GetItemEstimate"   // code page 6
	NSFolderHierarchy   = "FolderHierarchy"   // code page 7
	NSMeetingResponse   = "MeetingResponse"   // code page 8
	NSTasks             = "Tasks"             // code page 9
	NSResolveRecipients = "ResolveRecipients" // code page 10
	NSValidateCert      = "ValidateCert"      // code page 11
	NSContacts2         = "Contacts2"         // code page 12
	NSPing              = "Ping"              // code page 13
	NSProvision         = "Provision"         // code page 14
	NSSearch            = "Search"            // code page 15
	NSGAL               = "GAL"               // code page 16
	NSAirSyncBase       = "AirSyncBase"       // code page 17
	NSSettings          = "Settings"          // code page 18
	NSDocumentLibrary   = "DocumentLibrary"   // code page 19
	NSItemOperations    = "ItemOperations"    // code page 20
	NSComposeMail       = "ComposeMail"       // code page 21
	NSEmail2            = "Email2"            // code page 22
	NSNotes             = "Notes"             // code page 23
	NSRightsManagement  = "RightsManagement"  // code page 24
	NSFind              = "Find"              // code page 25
)

// NumPages is the number of code pages defined by [MS-ASWBXML] (0–25).
const NumPages = 26

// codePage is one WBXML code page: its namespace, the XML prefix used for it
// when it is not the default namespace, and its tags indexed by token.
type codePage struct {
	space  string
	prefix string
	tags   [64]string
}

// pages is indexed by code page number. Tokens 0x00–0x04 are global tokens
// and never tags; an empty string marks an unassigned token.
var pages = [NumPages]codePage{
	// MS-ASWBXML 2.1.2.1.1 Code Page 0: AirSync
	0: {space: NSAirSync, prefix: "airsync", tags: [64]string{
		0x05: "Sync",
		0x06: "Responses",
		0x07: "Add",
		0x08: "Change",
		0x09: "Delete",
		0x0A: "Fetch",
		0x0B: "SyncKey",
		0x0C: "ClientId",
		0x0D: "ServerId",
		0x0E: "Status",
		0x0F: "Collection",
		0x10: "Class",
		0x11: "Version", // legacy
		0x12: "CollectionId",
		0x13: "GetChanges",
		0x14: "MoreAvailable",
		0x15: "WindowSize",
		0x16: "Commands",
		0x17: "Options",
		0x18: "FilterType",
		0x19: "Truncation",    // legacy (2.5)
		0x1A: "RTFTruncation", // legacy
		0x1B: "Conflict",
		0x1C: "Collections",
		0x1D: "ApplicationData",
		0x1E: "DeletesAsMoves",
		0x1F: "NotifyGUID", // legacy
		0x20: "Supported",
		0x21: "SoftDelete",
		0x22: "MIMESupport",
		0x23: "MIMETruncation",
		0x24: "Wait",
		0x25: "Limit",
		0x26: "Partial",
		0x27: "ConversationMode",
		0x28: "MaxItems",
		0x29: "HeartbeatInterval",
	}},
	// MS-ASWBXML 2.1.2.1.2 Code Page 1: Contacts
	1: {space: NSContacts, prefix: "contacts", tags: [64]string{
		0x05: "Anniversary",
		0x06: "AssistantName",
		0x07: "AssistantPhoneNumber",
		0x08: "Birthday",
		0x09: "Body",          // legacy (2.5)
		0x0A: "BodySize",      // legacy (2.5)
		0x0B: "BodyTruncated", // legacy (2.5)
		0x0C: "Business2PhoneNumber",
		0x0D: "BusinessAddressCity",
		0x0E: "BusinessAddressCountry",
		0x0F: "BusinessAddressPostalCode",
		0x10: "BusinessAddressState",
		0x11: "BusinessAddressStreet",
		0x12: "BusinessFaxNumber",
		0x13: "BusinessPhoneNumber",
		0x14: "CarPhoneNumber",
		0x15: "Categories",
		0x16: "Category",
		0x17: "Children",
		0x18: "Child",
		0x19: "CompanyName",
		0x1A: "Department",
		0x1B: "Email1Address",
		0x1C: "Email2Address",
		0x1D: "Email3Address",
		0x1E: "FileAs",
		0x1F: "FirstName",
		0x20: "Home2PhoneNumber",
		0x21: "HomeAddressCity",
		0x22: "HomeAddressCountry",
		0x23: "HomeAddressPostalCode",
		0x24: "HomeAddressState",
		0x25: "HomeAddressStreet",
		0x26: "HomeFaxNumber",
		0x27: "HomePhoneNumber",
		0x28: "JobTitle",
		0x29: "LastName",
		0x2A: "MiddleName",
		0x2B: "MobilePhoneNumber",
		0x2C: "OfficeLocation",
		0x2D: "OtherAddressCity",
		0x2E: "OtherAddressCountry",
		0x2F: "OtherAddressPostalCode",
		0x30: "OtherAddressState",
		0x31: "OtherAddressStreet",
		0x32: "PagerNumber",
		0x33: "RadioPhoneNumber",
		0x34: "Spouse",
		0x35: "Suffix",
		0x36: "Title",
		0x37: "WebPage",
		0x38: "YomiCompanyName",
		0x39: "YomiFirstName",
		0x3A: "YomiLastName",
		0x3B: "CompressedRTF", // legacy (2.5)
		0x3C: "Picture",
		0x3D: "Alias",
		0x3E: "WeightedRank",
	}},
	// MS-ASWBXML 2.1.2.1.3 Code Page 2: Email
	2: {space: NSEmail, prefix: "email", tags: [64]string{
		0x05: "Attachment",    // legacy (2.5)
		0x06: "Attachments",   // legacy (2.5)
		0x07: "AttName",       // legacy (2.5)
		0x08: "AttSize",       // legacy (2.5)
		0x09: "Att0Id",        // legacy (2.5); spelled with a zero in MS-ASWBXML
		0x0A: "AttMethod",     // legacy (2.5)
		0x0B: "AttRemoved",    // legacy (2.5)
		0x0C: "Body",          // legacy (2.5)
		0x0D: "BodySize",      // legacy (2.5)
		0x0E: "BodyTruncated", // legacy (2.5)
		0x0F: "DateReceived",
		0x10: "DisplayName", // legacy (2.5)
		0x11: "DisplayTo",
		0x12: "Importance",
		0x13: "MessageClass",
		0x14: "Subject",
		0x15: "Read",
		0x16: "To",
		0x17: "Cc",
		0x18: "From",
		0x19: "ReplyTo",
		0x1A: "AllDayEvent",
		0x1B: "Categories",
		0x1C: "Category",
		0x1D: "DtStamp",
		0x1E: "EndTime",
		0x1F: "InstanceType",
		0x20: "BusyStatus",
		0x21: "Location",
		0x22: "MeetingRequest",
		0x23: "Organizer",
		0x24: "RecurrenceId",
		0x25: "Reminder",
		0x26: "ResponseRequested",
		0x27: "Recurrences",
		0x28: "Recurrence",
		0x29: "Type",
		0x2A: "Until",
		0x2B: "Occurrences",
		0x2C: "Interval",
		0x2D: "DayOfWeek",
		0x2E: "DayOfMonth",
		0x2F: "WeekOfMonth",
		0x30: "MonthOfYear",
		0x31: "StartTime",
		0x32: "Sensitivity",
		0x33: "TimeZone",
		0x34: "GlobalObjId",
		0x35: "ThreadTopic",
		0x36: "MIMEData",      // legacy (2.5)
		0x37: "MIMETruncated", // legacy (2.5)
		0x38: "MIMESize",      // legacy (2.5)
		0x39: "InternetCPID",
		0x3A: "Flag",
		0x3B: "Status", // the flag status (child of Flag)
		0x3C: "ContentClass",
		0x3D: "FlagType",
		0x3E: "CompleteTime",
		0x3F: "DisallowNewTimeProposal",
	}},
	// MS-ASWBXML 2.1.2.1.4 Code Page 3: AirNotify (no longer in use)
	3: {space: NSAirNotify, prefix: "airnotify", tags: [64]string{
		0x05: "Notify",
		0x06: "Notification",
		0x07: "Version",
		0x08: "Lifetime",
		0x09: "DeviceInfo",
		0x0A: "Enable",
		0x0B: "Folder",
		0x0C: "ServerId",
		0x0D: "DeviceAddress",
		0x0E: "ValidCarrierProfiles",
		0x0F: "CarrierProfile",
		0x10: "Status",
		0x11: "Responses",
		0x12: "Devices",
		0x13: "Device",
		0x14: "Id",
		0x15: "Expiry",
		0x16: "NotifyGUID",
		0x17: "DeviceFriendlyName",
	}},
	// MS-ASWBXML 2.1.2.1.5 Code Page 4: Calendar
	4: {space: NSCalendar, prefix: "calendar", tags: [64]string{
		0x05: "Timezone",
		0x06: "AllDayEvent",
		0x07: "Attendees",
		0x08: "Attendee",
		0x09: "Email",
		0x0A: "Name",
		0x0B: "Body",          // legacy (2.5)
		0x0C: "BodyTruncated", // legacy (2.5)
		0x0D: "BusyStatus",
		0x0E: "Categories",
		0x0F: "Category",
		0x10: "CompressedRTF", // legacy (2.5)
		0x11: "DtStamp",
		0x12: "EndTime",
		0x13: "Exception",
		0x14: "Exceptions",
		0x15: "Deleted",
		0x16: "ExceptionStartTime",
		0x17: "Location",
		0x18: "MeetingStatus",
		0x19: "OrganizerEmail",
		0x1A: "OrganizerName",
		0x1B: "Recurrence",
		0x1C: "Type",
		0x1D: "Until",
		0x1E: "Occurrences",
		0x1F: "Interval",
		0x20: "DayOfWeek",
		0x21: "DayOfMonth",
		0x22: "WeekOfMonth",
		0x23: "MonthOfYear",
		0x24: "Reminder",
		0x25: "Sensitivity",
		0x26: "Subject",
		0x27: "StartTime",
		0x28: "UID",
		0x29: "AttendeeStatus",
		0x2A: "AttendeeType",
		0x33: "DisallowNewTimeProposal",
		0x34: "ResponseRequested",
		0x35: "AppointmentReplyTime",
		0x36: "ResponseType",
		0x37: "CalendarType",
		0x38: "IsLeapMonth",
		0x39: "FirstDayOfWeek",
		0x3A: "OnlineMeetingConfLink",
		0x3B: "OnlineMeetingExternalLink",
		0x3C: "ClientUid",
	}},
	// MS-ASWBXML 2.1.2.1.6 Code Page 5: Move
	5: {space: NSMove, prefix: "move", tags: [64]string{
		0x05: "MoveItems",
		0x06: "Move",
		0x07: "SrcMsgId",
		0x08: "SrcFldId",
		0x09: "DstFldId",
		0x0A: "Response",
		0x0B: "Status",
		0x0C: "DstMsgId",
	}},
	// MS-ASWBXML 2.1.2.1.7 Code Page 6: GetItemEstimate
	6: {space: NSItemEstimate, prefix: "getitemestimate", tags: [64]string{
		0x05: "GetItemEstimate",
		0x06: "Version", // legacy
		0x07: "Collections",
		0x08: "Collection",
		0x09: "Class",
		0x0A: "CollectionId",
		0x0B: "DateTime", // legacy
		0x0C: "Estimate",
		0x0D: "Response",
		0x0E: "Status",
	}},
	// MS-ASWBXML 2.1.2.1.8 Code Page 7: FolderHierarchy
	7: {space: NSFolderHierarchy, prefix: "folderhierarchy", tags: [64]string{
		0x05: "Folders",
		0x06: "Folder",
		0x07: "DisplayName",
		0x08: "ServerId",
		0x09: "ParentId",
		0x0A: "Type",
		0x0B: "Response", // legacy
		0x0C: "Status",
		0x0D: "ContentClass", // legacy
		0x0E: "Changes",
		0x0F: "Add",
		0x10: "Delete",
		0x11: "Update",
		0x12: "SyncKey",
		0x13: "FolderCreate",
		0x14: "FolderDelete",
		0x15: "FolderUpdate",
		0x16: "FolderSync",
		0x17: "Count",
	}},
	// MS-ASWBXML 2.1.2.1.9 Code Page 8: MeetingResponse
	8: {space: NSMeetingResponse, prefix: "meetingresponse", tags: [64]string{
		0x05: "CalendarId",
		0x06: "CollectionId",
		0x07: "MeetingResponse",
		0x08: "RequestId",
		0x09: "Request",
		0x0A: "Result",
		0x0B: "Status",
		0x0C: "UserResponse",
		0x0E: "InstanceId",
		0x10: "ProposedStartTime",
		0x11: "ProposedEndTime",
		0x12: "SendResponse",
	}},
	// MS-ASWBXML 2.1.2.1.10 Code Page 9: Tasks
	9: {space: NSTasks, prefix: "tasks", tags: [64]string{
		0x05: "Body",          // legacy (2.5)
		0x06: "BodySize",      // legacy (2.5)
		0x07: "BodyTruncated", // legacy (2.5)
		0x08: "Categories",
		0x09: "Category",
		0x0A: "Complete",
		0x0B: "DateCompleted",
		0x0C: "DueDate",
		0x0D: "UtcDueDate",
		0x0E: "Importance",
		0x0F: "Recurrence",
		0x10: "Type",
		0x11: "Start",
		0x12: "Until",
		0x13: "Occurrences",
		0x14: "Interval",
		0x15: "DayOfMonth",
		0x16: "DayOfWeek",
		0x17: "WeekOfMonth",
		0x18: "MonthOfYear",
		0x19: "Regenerate",
		0x1A: "DeadOccur",
		0x1B: "ReminderSet",
		0x1C: "ReminderTime",
		0x1D: "Sensitivity",
		0x1E: "StartDate",
		0x1F: "UtcStartDate",
		0x20: "Subject",
		0x21: "CompressedRTF", // legacy (2.5)
		0x22: "OrdinalDate",
		0x23: "SubOrdinalDate",
		0x24: "CalendarType",
		0x25: "IsLeapMonth",
		0x26: "FirstDayOfWeek",
	}},
	// MS-ASWBXML 2.1.2.1.11 Code Page 10: ResolveRecipients
	10: {space: NSResolveRecipients, prefix: "resolverecipients", tags: [64]string{
		0x05: "ResolveRecipients",
		0x06: "Response",
		0x07: "Status",
		0x08: "Type",
		0x09: "Recipient",
		0x0A: "DisplayName",
		0x0B: "EmailAddress",
		0x0C: "Certificates",
		0x0D: "Certificate",
		0x0E: "MiniCertificate",
		0x0F: "Options",
		0x10: "To",
		0x11: "CertificateRetrieval",
		0x12: "RecipientCount",
		0x13: "MaxCertificates",
		0x14: "MaxAmbiguousRecipients",
		0x15: "CertificateCount",
		0x16: "Availability",
		0x17: "StartTime",
		0x18: "EndTime",
		0x19: "MergedFreeBusy",
		0x1A: "Picture",
		0x1B: "MaxSize",
		0x1C: "Data",
		0x1D: "MaxPictures",
	}},
	// MS-ASWBXML 2.1.2.1.12 Code Page 11: ValidateCert
	11: {space: NSValidateCert, prefix: "validatecert", tags: [64]string{
		0x05: "ValidateCert",
		0x06: "Certificates",
		0x07: "Certificate",
		0x08: "CertificateChain",
		0x09: "CheckCRL",
		0x0A: "Status",
	}},
	// MS-ASWBXML 2.1.2.1.13 Code Page 12: Contacts2
	12: {space: NSContacts2, prefix: "contacts2", tags: [64]string{
		0x05: "CustomerId",
		0x06: "GovernmentId",
		0x07: "IMAddress",
		0x08: "IMAddress2",
		0x09: "IMAddress3",
		0x0A: "ManagerName",
		0x0B: "CompanyMainPhone",
		0x0C: "AccountName",
		0x0D: "NickName",
		0x0E: "MMS",
	}},
	// MS-ASWBXML 2.1.2.1.14 Code Page 13: Ping
	13: {space: NSPing, prefix: "ping", tags: [64]string{
		0x05: "Ping",
		0x06: "AutdState", // legacy (not used by the protocol)
		0x07: "Status",
		0x08: "HeartbeatInterval",
		0x09: "Folders",
		0x0A: "Folder",
		0x0B: "Id",
		0x0C: "Class",
		0x0D: "MaxFolders",
	}},
	// MS-ASWBXML 2.1.2.1.15 Code Page 14: Provision
	14: {space: NSProvision, prefix: "provision", tags: [64]string{
		0x05: "Provision",
		0x06: "Policies",
		0x07: "Policy",
		0x08: "PolicyType",
		0x09: "PolicyKey",
		0x0A: "Data",
		0x0B: "Status",
		0x0C: "RemoteWipe",
		0x0D: "EASProvisionDoc",
		0x0E: "DevicePasswordEnabled",
		0x0F: "AlphanumericDevicePasswordRequired",
		0x10: "RequireStorageCardEncryption", // 12.0 called it DeviceEncryptionEnabled
		0x11: "PasswordRecoveryEnabled",
		0x13: "AttachmentsEnabled",
		0x14: "MinDevicePasswordLength",
		0x15: "MaxInactivityTimeDeviceLock",
		0x16: "MaxDevicePasswordFailedAttempts",
		0x17: "MaxAttachmentSize",
		0x18: "AllowSimpleDevicePassword",
		0x19: "DevicePasswordExpiration",
		0x1A: "DevicePasswordHistory",
		0x1B: "AllowStorageCard",
		0x1C: "AllowCamera",
		0x1D: "RequireDeviceEncryption",
		0x1E: "AllowUnsignedApplications",
		0x1F: "AllowUnsignedInstallationPackages",
		0x20: "MinDevicePasswordComplexCharacters",
		0x21: "AllowWiFi", // MS-ASPROV 2.2.2.19 spells it AllowWifi
		0x22: "AllowTextMessaging",
		0x23: "AllowPOPIMAPEmail",
		0x24: "AllowBluetooth",
		0x25: "AllowIrDA",
		0x26: "RequireManualSyncWhenRoaming",
		0x27: "AllowDesktopSync",
		0x28: "MaxCalendarAgeFilter",
		0x29: "AllowHTMLEmail",
		0x2A: "MaxEmailAgeFilter",
		0x2B: "MaxEmailBodyTruncationSize",
		0x2C: "MaxEmailHTMLBodyTruncationSize",
		0x2D: "RequireSignedSMIMEMessages",
		0x2E: "RequireEncryptedSMIMEMessages",
		0x2F: "RequireSignedSMIMEAlgorithm",
		0x30: "RequireEncryptionSMIMEAlgorithm",
		0x31: "AllowSMIMEEncryptionAlgorithmNegotiation",
		0x32: "AllowSMIMESoftCerts",
		0x33: "AllowBrowser",
		0x34: "AllowConsumerEmail",
		0x35: "AllowRemoteDesktop",
		0x36: "AllowInternetSharing",
		0x37: "UnapprovedInROMApplicationList",
		0x38: "ApplicationName",
		0x39: "ApprovedApplicationList",
		0x3A: "Hash",
		0x3B: "AccountOnlyRemoteWipe",
	}},
	// MS-ASWBXML 2.1.2.1.16 Code Page 15: Search
	15: {space: NSSearch, prefix: "search", tags: [64]string{
		0x05: "Search",
		0x07: "Store",
		0x08: "Name",
		0x09: "Query",
		0x0A: "Options",
		0x0B: "Range",
		0x0C: "Status",
		0x0D: "Response",
		0x0E: "Result",
		0x0F: "Properties",
		0x10: "Total",
		0x11: "EqualTo",
		0x12: "Value",
		0x13: "And",
		0x14: "Or",
		0x15: "FreeText",
		0x17: "DeepTraversal",
		0x18: "LongId",
		0x19: "RebuildResults",
		0x1A: "LessThan",
		0x1B: "GreaterThan",
		0x1C: "Schema",    // legacy
		0x1D: "Supported", // legacy
		0x1E: "UserName",
		0x1F: "Password",
		0x20: "ConversationId",
		0x21: "Picture",
		0x22: "MaxSize",
		0x23: "MaxPictures",
	}},
	// MS-ASWBXML 2.1.2.1.17 Code Page 16: GAL
	16: {space: NSGAL, prefix: "gal", tags: [64]string{
		0x05: "DisplayName",
		0x06: "Phone",
		0x07: "Office",
		0x08: "Title",
		0x09: "Company",
		0x0A: "Alias",
		0x0B: "FirstName",
		0x0C: "LastName",
		0x0D: "HomePhone",
		0x0E: "MobilePhone",
		0x0F: "EmailAddress",
		0x10: "Picture",
		0x11: "Status",
		0x12: "Data",
	}},
	// MS-ASWBXML 2.1.2.1.18 Code Page 17: AirSyncBase
	17: {space: NSAirSyncBase, prefix: "airsyncbase", tags: [64]string{
		0x05: "BodyPreference",
		0x06: "Type",
		0x07: "TruncationSize",
		0x08: "AllOrNone",
		0x0A: "Body",
		0x0B: "Data",
		0x0C: "EstimatedDataSize",
		0x0D: "Truncated",
		0x0E: "Attachments",
		0x0F: "Attachment",
		0x10: "DisplayName",
		0x11: "FileReference",
		0x12: "Method",
		0x13: "ContentId",
		0x14: "ContentLocation",
		0x15: "IsInline",
		0x16: "NativeBodyType",
		0x17: "ContentType",
		0x18: "Preview",
		0x19: "BodyPartPreference",
		0x1A: "BodyPart",
		0x1B: "Status",
		0x1C: "Add",
		0x1D: "Delete",
		0x1E: "ClientId",
		0x1F: "Content",
		0x20: "Location",
		0x21: "Annotation",
		0x22: "Street",
		0x23: "City",
		0x24: "State",
		0x25: "Country",
		0x26: "PostalCode",
		0x27: "Latitude",
		0x28: "Longitude",
		0x29: "Accuracy",
		0x2A: "Altitude",
		0x2B: "AltitudeAccuracy",
		0x2C: "LocationUri",
		0x2D: "InstanceId",
	}},
	// MS-ASWBXML 2.1.2.1.19 Code Page 18: Settings
	18: {space: NSSettings, prefix: "settings", tags: [64]string{
		0x05: "Settings",
		0x06: "Status",
		0x07: "Get",
		0x08: "Set",
		0x09: "Oof",
		0x0A: "OofState",
		0x0B: "StartTime",
		0x0C: "EndTime",
		0x0D: "OofMessage",
		0x0E: "AppliesToInternal",
		0x0F: "AppliesToExternalKnown",
		0x10: "AppliesToExternalUnknown",
		0x11: "Enabled",
		0x12: "ReplyMessage",
		0x13: "BodyType",
		0x14: "DevicePassword",
		0x15: "Password",
		0x16: "DeviceInformation",
		0x17: "Model",
		0x18: "IMEI",
		0x19: "FriendlyName",
		0x1A: "OS",
		0x1B: "OSLanguage",
		0x1C: "PhoneNumber",
		0x1D: "UserInformation",
		0x1E: "EmailAddresses",
		0x1F: "SMTPAddress",
		0x20: "UserAgent",
		0x21: "EnableOutboundSMS",
		0x22: "MobileOperator",
		0x23: "PrimarySmtpAddress",
		0x24: "Accounts",
		0x25: "Account",
		0x26: "AccountId",
		0x27: "AccountName",
		0x28: "UserDisplayName",
		0x29: "SendDisabled",
		0x2B: "RightsManagementInformation",
	}},
	// MS-ASWBXML 2.1.2.1.20 Code Page 19: DocumentLibrary
	19: {space: NSDocumentLibrary, prefix: "documentlibrary", tags: [64]string{
		0x05: "LinkId",
		0x06: "DisplayName",
		0x07: "IsFolder",
		0x08: "CreationDate",
		0x09: "LastModifiedDate",
		0x0A: "IsHidden",
		0x0B: "ContentLength",
		0x0C: "ContentType",
	}},
	// MS-ASWBXML 2.1.2.1.21 Code Page 20: ItemOperations
	20: {space: NSItemOperations, prefix: "itemoperations", tags: [64]string{
		0x05: "ItemOperations",
		0x06: "Fetch",
		0x07: "Store",
		0x08: "Options",
		0x09: "Range",
		0x0A: "Total",
		0x0B: "Properties",
		0x0C: "Data",
		0x0D: "Status",
		0x0E: "Response",
		0x0F: "Version",
		0x10: "Schema",
		0x11: "Part",
		0x12: "EmptyFolderContents",
		0x13: "DeleteSubFolders",
		0x14: "UserName",
		0x15: "Password",
		0x16: "Move",
		0x17: "DstFldId",
		0x18: "ConversationId",
		0x19: "MoveAlways",
	}},
	// MS-ASWBXML 2.1.2.1.22 Code Page 21: ComposeMail
	21: {space: NSComposeMail, prefix: "composemail", tags: [64]string{
		0x05: "SendMail",
		0x06: "SmartForward",
		0x07: "SmartReply",
		0x08: "SaveInSentItems",
		0x09: "ReplaceMime",
		0x0B: "Source",
		0x0C: "FolderId",
		0x0D: "ItemId",
		0x0E: "LongId",
		0x0F: "InstanceId",
		0x10: "Mime",
		0x11: "ClientId",
		0x12: "Status",
		0x13: "AccountId",
		0x15: "Forwardees",
		0x16: "Forwardee",
		0x17: "ForwardeeName",
		0x18: "ForwardeeEmail",
	}},
	// MS-ASWBXML 2.1.2.1.23 Code Page 22: Email2
	22: {space: NSEmail2, prefix: "email2", tags: [64]string{
		0x05: "UmCallerID",
		0x06: "UmUserNotes",
		0x07: "UmAttDuration",
		0x08: "UmAttOrder",
		0x09: "ConversationId",
		0x0A: "ConversationIndex",
		0x0B: "LastVerbExecuted",
		0x0C: "LastVerbExecutionTime",
		0x0D: "ReceivedAsBcc",
		0x0E: "Sender",
		0x0F: "CalendarType",
		0x10: "IsLeapMonth",
		0x11: "AccountId",
		0x12: "FirstDayOfWeek",
		0x13: "MeetingMessageType",
		0x15: "IsDraft",
		0x16: "Bcc",
		0x17: "Send",
	}},
	// MS-ASWBXML 2.1.2.1.24 Code Page 23: Notes
	23: {space: NSNotes, prefix: "notes", tags: [64]string{
		0x05: "Subject",
		0x06: "MessageClass",
		0x07: "LastModifiedDate",
		0x08: "Categories",
		0x09: "Category",
	}},
	// MS-ASWBXML 2.1.2.1.25 Code Page 24: RightsManagement
	24: {space: NSRightsManagement, prefix: "rm", tags: [64]string{
		0x05: "RightsManagementSupport",
		0x06: "RightsManagementTemplates",
		0x07: "RightsManagementTemplate",
		0x08: "RightsManagementLicense",
		0x09: "EditAllowed",
		0x0A: "ReplyAllowed",
		0x0B: "ReplyAllAllowed",
		0x0C: "ForwardAllowed",
		0x0D: "ModifyRecipientsAllowed",
		0x0E: "ExtractAllowed",
		0x0F: "PrintAllowed",
		0x10: "ExportAllowed",
		0x11: "ProgrammaticAccessAllowed",
		0x12: "Owner",
		0x13: "ContentExpiryDate",
		0x14: "TemplateID",
		0x15: "TemplateName",
		0x16: "TemplateDescription",
		0x17: "ContentOwner",
		0x18: "RemoveRightsManagementProtection",
	}},
	// MS-ASWBXML 2.1.2.1.26 Code Page 25: Find
	25: {space: NSFind, prefix: "find", tags: [64]string{
		0x05: "Find",
		0x06: "SearchId",
		0x07: "ExecuteSearch",
		0x08: "MailBoxSearchCriterion",
		0x09: "Query",
		0x0A: "Status",
		0x0B: "FreeText",
		0x0C: "Options",
		0x0D: "Range",
		0x0E: "DeepTraversal",
		0x11: "Response",
		0x12: "Result",
		0x13: "Properties",
		0x14: "Preview",
		0x15: "HasAttachments",
		0x16: "Total",
		0x17: "DisplayCc",
		0x18: "DisplayBcc",
		0x19: "GalSearchCriterion",
		0x20: "MaxPictures",
		0x21: "MaxSize",
		0x22: "Picture",
	}},
}

// aliases are other spellings of a tag found in Microsoft's documents. They
// are accepted by Lookup and Encode; decoding always yields the name in
// pages.
var aliases = []struct {
	page  byte
	name  string
	token byte
}{
	{14, "DeviceEncryptionEnabled", 0x10}, // the 12.0 name of RequireStorageCardEncryption
	{14, "AllowWifi", 0x21},               // MS-ASPROV 2.2.2.19 spelling
	{11, "CheckCrl", 0x09},                // Microsoft's protocol test suites
	{25, "GALSearchCriterion", 0x19},      // Microsoft's protocol test suites
}

// tagKey identifies a tag by namespace and name.
type tagKey struct{ space, name string }

var (
	// byName maps a tag to page<<8 | token.
	byName = make(map[tagKey]uint16, 1024)
	// pageBySpace maps a namespace to its code page.
	pageBySpace = make(map[string]byte, NumPages)
)

func init() {
	for p := range pages {
		pg := &pages[p]
		pageBySpace[pg.space] = byte(p)
		for tok, name := range pg.tags {
			if name == "" {
				continue
			}
			if tok < 0x05 {
				panic("wbxml: tag table uses a global token")
			}
			k := tagKey{pg.space, name}
			if _, dup := byName[k]; dup {
				panic("wbxml: duplicate tag " + pg.space + ":" + name)
			}
			byName[k] = uint16(p)<<8 | uint16(tok)
		}
	}
	for _, a := range aliases {
		byName[tagKey{pages[a.page].space, a.name}] = uint16(a.page)<<8 | uint16(a.token)
	}
}

// Lookup returns the code page and token of the tag name in namespace space.
// Aliases (other spellings used in Microsoft's documents) are accepted.
func Lookup(space, name string) (page, token byte, ok bool) {
	v, ok := byName[tagKey{space, name}]
	if !ok {
		return 0, 0, false
	}
	return byte(v >> 8), byte(v), true
}

// TagName returns the namespace and name of token on code page page. The
// token may carry the content bit (0x40); the attribute bit (0x80) is not
// accepted.
func TagName(page, token byte) (space, name string, ok bool) {
	if int(page) >= NumPages || token&0x80 != 0 {
		return "", "", false
	}
	name = pages[page].tags[token&0x3F]
	if name == "" {
		return "", "", false
	}
	return pages[page].space, name, true
}

// PageOf returns the code page number of namespace space.
func PageOf(space string) (page byte, ok bool) {
	page, ok = pageBySpace[space]
	return page, ok
}

// PageName returns the namespace of code page page.
func PageName(page byte) (space string, ok bool) {
	if int(page) >= NumPages {
		return "", false
	}
	return pages[page].space, true
}

// Prefix returns the XML namespace prefix ToXML uses for namespace space
// when it is not the document's default namespace: the lower-cased page name
// as in the [MS-ASCMD] examples (xmlns:airsyncbase="AirSyncBase"), and "rm"
// for RightsManagement as in the schemas.
func Prefix(space string) (prefix string, ok bool) {
	p, ok := pageBySpace[space]
	if !ok {
		return "", false
	}
	return pages[p].prefix, true
}
