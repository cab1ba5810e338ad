package server

import (
	"easbridge/server/wbxml"
)

// command describes one EAS command: the code page of its root element, and
// what it needs before it may run.
type command struct {
	space     string
	run       func(*Server, *request) (*wbxml.Element, error)
	needsBody bool
	// noPolicy: the command runs without a valid policy key (Provision
	// itself, MS-ASPROV 3.2.5.1.1).
	noPolicy bool
}

// commands is the dispatch table; a command not in it answers HTTP 501.
// Each handler lives in its own file.
var commands = map[string]command{
	"Provision":    {space: wbxml.NSProvision, run: (*Server).cmdProvision, needsBody: true, noPolicy: true},
	"Settings":     {space: wbxml.NSSettings, run: (*Server).cmdSettings, needsBody: true},
	"FolderSync":   {space: wbxml.NSFolderHierarchy, run: (*Server).cmdFolderSync, needsBody: true},
	"FolderCreate": {space: wbxml.NSFolderHierarchy, run: (*Server).cmdFolderCreate, needsBody: true},
	"FolderUpdate": {space: wbxml.NSFolderHierarchy, run: (*Server).cmdFolderUpdate, needsBody: true},
	"FolderDelete": {space: wbxml.NSFolderHierarchy, run: (*Server).cmdFolderDelete, needsBody: true},
}

// commandOrder is the order of MS-ASProtocolCommands.
var commandOrder = []string{
	"Sync", "SendMail", "SmartForward", "SmartReply", "GetAttachment", "GetHierarchy",
	"CreateCollection", "DeleteCollection", "MoveCollection", "FolderSync", "FolderCreate",
	"FolderDelete", "FolderUpdate", "MoveItems", "GetItemEstimate", "MeetingResponse",
	"Search", "Settings", "Ping", "ItemOperations", "Provision", "ResolveRecipients",
	"ValidateCert", "Find",
}
