package eas

// FolderType is the EAS folder type, MS-ASCMD 2.2.3.186.3 (FolderSync Type).
type FolderType int

// Folder types.
const (
	FolderUserGeneric   FolderType = 1
	FolderInbox         FolderType = 2
	FolderDrafts        FolderType = 3
	FolderDeletedItems  FolderType = 4
	FolderSentItems     FolderType = 5
	FolderOutbox        FolderType = 6
	FolderTasks         FolderType = 7
	FolderCalendar      FolderType = 8
	FolderContacts      FolderType = 9
	FolderNotes         FolderType = 10
	FolderJournal       FolderType = 11
	FolderUserMail      FolderType = 12
	FolderUserCalendar  FolderType = 13
	FolderUserContacts  FolderType = 14
	FolderUserTasks     FolderType = 15
	FolderUserJournal   FolderType = 16
	FolderUserNotes     FolderType = 17
	FolderUnknown       FolderType = 18
	FolderRecipientInfo FolderType = 19
)

var folderTypeNames = map[FolderType]string{
	FolderUserGeneric: "generic", FolderInbox: "inbox", FolderDrafts: "drafts",
	FolderDeletedItems: "deleted-items", FolderSentItems: "sent-items", FolderOutbox: "outbox",
	FolderTasks: "tasks", FolderCalendar: "calendar", FolderContacts: "contacts",
	FolderNotes: "notes", FolderJournal: "journal", FolderUserMail: "mail",
	FolderUserCalendar: "user-calendar", FolderUserContacts: "user-contacts",
	FolderUserTasks: "user-tasks", FolderUserJournal: "user-journal", FolderUserNotes: "user-notes",
	FolderUnknown: "unknown", FolderRecipientInfo: "recipient-info",
}

func (t FolderType) String() string {
	if s, ok := folderTypeNames[t]; ok {
		return s
	}
	return "folder-type-" + itoa(int(t))
}

// Class is the EAS item class of the folder's content ("Email", "Calendar",
// "Contacts", "Tasks", "Notes").
func (t FolderType) Class() string {
	switch t {
	case FolderTasks, FolderUserTasks:
		return "Tasks"
	case FolderCalendar, FolderUserCalendar:
		return "Calendar"
	case FolderContacts, FolderUserContacts, FolderRecipientInfo:
		return "Contacts"
	case FolderNotes, FolderUserNotes:
		return "Notes"
	case FolderJournal, FolderUserJournal:
		return "Journal"
	default:
		return "Email"
	}
}

// IsSpecial reports whether the type is a default (system) folder that a
// client may not rename or delete.
func (t FolderType) IsSpecial() bool {
	switch t {
	case FolderInbox, FolderDrafts, FolderDeletedItems, FolderSentItems, FolderOutbox,
		FolderTasks, FolderCalendar, FolderContacts, FolderNotes, FolderJournal:
		return true
	}
	return false
}

// Folder is one entry of the folder hierarchy as the client sees it.
// ServerID is stable for the account across runs and devices; ParentID is
// "0" for a top-level folder.
type Folder struct {
	ServerID    string     `json:"id"`
	ParentID    string     `json:"parent"`
	DisplayName string     `json:"name"`
	Type        FolderType `json:"type"`
}

// FolderChanges is the answer to a FolderSync: the new SyncKey and the
// changes since the key the client sent.
type FolderChanges struct {
	SyncKey string
	Adds    []Folder
	Updates []Folder
	Deletes []string // ServerIDs
}

// Count is the number of changes.
func (c FolderChanges) Count() int { return len(c.Adds) + len(c.Updates) + len(c.Deletes) }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
