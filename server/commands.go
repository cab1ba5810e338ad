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
	// rawBody, when set, says whether this request's body is kept
	// undecoded in request.raw instead of being decoded as WBXML (the MIME
	// body of a 12.1 SendMail, MS-ASCMD 2.2.1.17).
	rawBody func(*request) bool
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

	// Items: sync.go, getitemestimate.go, itemoperations.go,
	// getattachment.go, moveitems.go, search.go, sendmail.go.
	"Sync":            {space: wbxml.NSAirSync, run: (*Server).cmdSync},
	"GetItemEstimate": {space: wbxml.NSItemEstimate, run: (*Server).cmdGetItemEstimate, needsBody: true},
	"ItemOperations":  {space: wbxml.NSItemOperations, run: (*Server).cmdItemOperations, needsBody: true},
	"GetAttachment":   {space: wbxml.NSComposeMail, run: (*Server).cmdGetAttachment},
	"MoveItems":       {space: wbxml.NSMove, run: (*Server).cmdMoveItems, needsBody: true},
	"Search":          {space: wbxml.NSSearch, run: (*Server).cmdSearch, needsBody: true},
	"SendMail":        {space: wbxml.NSComposeMail, run: (*Server).cmdSendMail, needsBody: true, rawBody: composeBodyIsMIME},
	"SmartReply":      {space: wbxml.NSComposeMail, run: (*Server).cmdSmartReply, needsBody: true, rawBody: composeBodyIsMIME},
	"SmartForward":    {space: wbxml.NSComposeMail, run: (*Server).cmdSmartForward, needsBody: true, rawBody: composeBodyIsMIME},
	"MeetingResponse": {space: wbxml.NSMeetingResponse, run: (*Server).cmdMeetingResponse, needsBody: true}, // meetingresponse.go

	// Push: ping.go (an empty Ping reuses the cached parameters).
	"Ping": {space: wbxml.NSPing, run: (*Server).cmdPing},

	// GAL: resolverecipients.go; Search GAL is in gal.go.
	"ResolveRecipients": {space: wbxml.NSResolveRecipients, run: (*Server).cmdResolveRecipients, needsBody: true},
}

// commandOrder is the order of MS-ASProtocolCommands.
var commandOrder = []string{
	"Sync", "SendMail", "SmartForward", "SmartReply", "GetAttachment", "GetHierarchy",
	"CreateCollection", "DeleteCollection", "MoveCollection", "FolderSync", "FolderCreate",
	"FolderDelete", "FolderUpdate", "MoveItems", "GetItemEstimate", "MeetingResponse",
	"Search", "Settings", "Ping", "ItemOperations", "Provision", "ResolveRecipients",
	"ValidateCert", "Find",
}
