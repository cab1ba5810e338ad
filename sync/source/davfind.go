package source

import "context"

// DAVFinder finds calendar objects by UID (RFC 4791 calendar-query). A
// DAVItems source may offer it; the engine checks with a type assertion
// and otherwise only tries the member path NewPath gives for the UID.
type DAVFinder interface {
	// FindUID returns the members of a calendar collection whose VEVENT
	// UID contains uid (the caller checks for equality).
	FindUID(ctx context.Context, collection, uid string) ([]DAVObject, error)
}
