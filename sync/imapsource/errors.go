package imapsource

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

// ErrInvalidName is wrapped by the error for a folder name the source will
// not send to the server (empty, containing the hierarchy delimiter, a LIST
// wildcard or a control character). That error is an *eas.StatusError with
// eas.FolderStatusBadRequest.
var ErrInvalidName = errors.New("imapsource: invalid folder name")

// mapErr turns an error from an IMAP exchange into one wrapping the eas
// sentinel a caller can act on. Errors that already carry a sentinel (from
// the pool, or from pre-checks) or ErrClosed pass through unchanged.
func mapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if passThrough(err) {
		return err
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		// RFC 5530 response codes.
		var sentinel error
		switch ie.Code {
		case imap.ResponseCodeAlreadyExists:
			sentinel = eas.ErrExists
		case imap.ResponseCodeNonExistent, imap.ResponseCodeTryCreate:
			sentinel = eas.ErrNotFound
		case imap.ResponseCodeCannot, imap.ResponseCodeNoPerm:
			sentinel = eas.ErrNotSupported
		case imap.ResponseCodeUnavailable, imap.ResponseCodeInUse, imap.ResponseCodeServerBug:
			sentinel = eas.ErrBackendUnavailable
		case imap.ResponseCodeAuthenticationFailed, imap.ResponseCodeAuthorizationFailed, imap.ResponseCodeExpired:
			sentinel = eas.ErrAuthFailed
		}
		if sentinel != nil {
			return fmt.Errorf("imapsource: %s: %w: %w", op, sentinel, err)
		}
		return fmt.Errorf("imapsource: %s: %w", op, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("imapsource: %s: %w (%v)", op, cerr, err)
	}
	// Anything else is the connection failing under us.
	return fmt.Errorf("imapsource: %s: %w: %w", op, eas.ErrBackendUnavailable, err)
}

func passThrough(err error) bool {
	for _, s := range []error{
		eas.ErrAuthFailed, eas.ErrBackendUnavailable, eas.ErrNotFound, eas.ErrExists,
		eas.ErrSpecialFolder, eas.ErrNotSupported, ErrClosed, ErrInvalidName,
		source.ErrUIDValidity, source.ErrNoCondstore,
		context.Canceled, context.DeadlineExceeded,
	} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// invalidName is the error for a name the server never sees.
func invalidName(op, format string, args ...any) error {
	return &eas.StatusError{
		Status: eas.FolderStatusBadRequest,
		Err:    fmt.Errorf("imapsource: %s: %w: %s", op, ErrInvalidName, fmt.Sprintf(format, args...)),
	}
}
