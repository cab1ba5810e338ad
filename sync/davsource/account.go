package davsource

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"

	"easbridge/server/eas"
	"easbridge/sync/source"
)

// Folder key prefixes.
const (
	CalDAVPrefix  = "caldav:"
	CardDAVPrefix = "carddav:"
)

// DefaultHTTPTimeout bounds each request of the HTTP client NewAccount
// creates when Config.HTTPClient is nil.
const DefaultHTTPTimeout = 60 * time.Second

// ErrClosed is returned by every method of an Account after Close.
var ErrClosed = errors.New("davsource: account closed")

// Config describes how to reach one DAV server.
type Config struct {
	// URL is the DAV base URL, e.g. http://127.0.0.1:5232/ or
	// https://dav.example.com/remote.php/dav/. The calendar and address
	// book homes are discovered from it.
	URL string
	// HTTPClient sends the requests; nil means a client of its own with
	// DefaultHTTPTimeout. Its CheckRedirect is not used (see the package
	// notes); everything else (Transport, Timeout, Jar) is.
	HTTPClient *http.Client
	// OnRequest, when set, is called before every HTTP request the Account
	// sends (each redirect hop too) with the method and the URL path: for
	// request counters in tests, benchmarks and metrics. It may be called
	// concurrently and must not block.
	OnRequest func(method, path string)
}

// Homes is the result of discovery. A home is "" when the server has none
// (a CalDAV-only server has no address book home).
type Homes struct {
	Principal    string
	CalendarHome string
	ContactsHome string
}

// Account is one user's account on one DAV server. It is safe for
// concurrent use.
type Account struct {
	base    *url.URL
	cfgErr  error
	http    *authClient
	ownHTTP *http.Client // created here, so closed here
	cal     *caldav.Client
	card    *carddav.Client
	log     *slog.Logger

	discovering chan struct{} // one token: discovery runs one at a time

	mu     sync.Mutex
	homes  *Homes // nil until discovered
	closed bool
}

var _ source.Folders = (*Account)(nil)

// NewAccount returns an Account for user on the server of cfg. It does no
// I/O; a bad cfg.URL makes every method fail. log may be nil.
func NewAccount(cfg Config, user, password string, log *slog.Logger) *Account {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Account{discovering: make(chan struct{}, 1)}
	hc := cfg.HTTPClient
	if hc == nil {
		a.ownHTTP = &http.Client{Timeout: DefaultHTTPTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
		hc = a.ownHTTP
	}
	a.http = newAuthClient(hc, user, password, cfg.OnRequest)
	a.base, a.cfgErr = parseBase(cfg.URL)
	a.log = log.With("dav", cfg.URL, "user", user)
	if a.cfgErr == nil {
		endpoint := a.base.String()
		var err error
		if a.cal, err = caldav.NewClient(a.http, endpoint); err == nil {
			a.card, err = carddav.NewClient(a.http, endpoint)
		}
		if err != nil {
			a.cfgErr = fmt.Errorf("davsource: client for %q: %w", cfg.URL, err)
		}
	}
	return a
}

func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("davsource: parse URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("davsource: parse URL %q: want http(s)://host[:port]/path", raw)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	u.Fragment = ""
	return u, nil
}

// Close drops cached state and, when the Account created its HTTP client,
// its idle connections. Later calls return ErrClosed.
func (a *Account) Close() error {
	a.mu.Lock()
	a.closed = true
	a.homes = nil
	a.mu.Unlock()
	if a.ownHTTP != nil {
		a.ownHTTP.CloseIdleConnections()
	}
	return nil
}

func (a *Account) check() error {
	if a.cfgErr != nil {
		return a.cfgErr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	return nil
}

// Login checks the credentials with a PROPFIND for the principal and
// refreshes the discovered homes: eas.ErrAuthFailed on 401/403,
// eas.ErrBackendUnavailable when the server cannot be reached or fails.
func (a *Account) Login(ctx context.Context) error {
	_, err := a.discover(ctx, true)
	return err
}

// Homes returns the discovered principal and homes, discovering them when
// not cached.
func (a *Account) Homes(ctx context.Context) (Homes, error) {
	h, err := a.discover(ctx, false)
	if err != nil {
		return Homes{}, err
	}
	return *h, nil
}

// discover returns the cached homes or finds them. Concurrent callers wait
// for one discovery.
func (a *Account) discover(ctx context.Context, force bool) (*Homes, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	select {
	case a.discovering <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("davsource: discovery: %w", ctx.Err())
	}
	defer func() { <-a.discovering }()
	a.mu.Lock()
	h := a.homes
	a.mu.Unlock()
	if h != nil && !force {
		return h, nil
	}
	start := time.Now()
	h, err := a.findHomes(ctx)
	if err != nil {
		a.log.Info("davsource: discovery failed", "err", err, "took", time.Since(start).Round(time.Millisecond))
		return nil, err
	}
	a.log.Debug("davsource: discovered", "principal", h.Principal, "calendars", h.CalendarHome, "contacts", h.ContactsHome)
	a.mu.Lock()
	if !a.closed {
		a.homes = h
	}
	a.mu.Unlock()
	return h, nil
}

// forget drops the cached homes, so that the next call discovers again.
func (a *Account) forget() {
	a.mu.Lock()
	a.homes = nil
	a.mu.Unlock()
}

// findHomes runs discovery: principal (RFC 5397) from the base URL, else
// from the well-known URIs (RFC 6764 §5), then the home sets.
func (a *Account) findHomes(ctx context.Context) (*Homes, error) {
	const op = "discovery"
	var (
		principal string
		errs      error
	)
	for _, p := range []string{a.base.Path, "/.well-known/caldav", "/.well-known/carddav"} {
		found, err := a.findPrincipal(ctx, p)
		if err != nil && fatalForDiscovery(err) {
			return nil, mapErr(ctx, op, err, eas.ErrAuthFailed)
		}
		if found != "" {
			principal = found
			break
		}
		if err == nil {
			err = fmt.Errorf("PROPFIND %s: no current-user-principal", p)
		}
		errs = errors.Join(errs, err)
	}
	if principal == "" {
		// Radicale answers 403 for a path outside the user's rights, so a
		// 403 here may also be a wrong URL; with credentials that are fine
		// the well-known URIs would have found the principal.
		sentinel := eas.ErrBackendUnavailable
		var he *HTTPError
		if errors.As(errs, &he) && he.Code == http.StatusForbidden {
			sentinel = eas.ErrAuthFailed
		}
		return nil, fmt.Errorf("davsource: %s: no principal at %s or the well-known URIs: %w: %w", op, a.base, sentinel, errs)
	}

	resp, err := a.send(ctx, "PROPFIND", principal, "0", propfindHomes)
	if err != nil {
		return nil, mapErr(ctx, op, err, eas.ErrAuthFailed)
	}
	defer resp.Body.Close()
	ms, err := decodeMultistatus(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("davsource: %s: PROPFIND %s: %w", op, principal, err)
	}
	h := &Homes{Principal: principal}
	for _, r := range ms.Responses {
		for _, p := range r.okProps() {
			if s := p.CalendarHomeSet.path(); s != "" && h.CalendarHome == "" {
				h.CalendarHome = s
			}
			if s := p.AddressbookHomeSet.path(); s != "" && h.ContactsHome == "" {
				h.ContactsHome = s
			}
		}
	}
	if h.CalendarHome == "" && h.ContactsHome == "" {
		return nil, fmt.Errorf("davsource: %s: principal %s has neither calendar-home-set nor addressbook-home-set: %w", op, principal, eas.ErrBackendUnavailable)
	}
	return h, nil
}

// fatalForDiscovery reports whether a failed principal lookup ends
// discovery (wrong password, server down) rather than moving on to the
// next candidate URL. 403 is not fatal: see findHomes.
func fatalForDiscovery(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Code == http.StatusUnauthorized || he.Code >= 500
	}
	var te *transportError
	return errors.As(err, &te) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// findPrincipal returns the current-user-principal reported at path, ""
// when the server reports none there.
func (a *Account) findPrincipal(ctx context.Context, path string) (string, error) {
	resp, err := a.send(ctx, "PROPFIND", path, "0", propfindPrincipal)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	ms, err := decodeMultistatus(resp.Body)
	if err != nil {
		return "", fmt.Errorf("PROPFIND %s: %w", path, err)
	}
	for _, r := range ms.Responses {
		for _, p := range r.okProps() {
			if p.CurrentUserPrincipal == nil {
				continue
			}
			if p.CurrentUserPrincipal.Unauthenticated != nil {
				return "", &HTTPError{Method: "PROPFIND", Path: path, Code: http.StatusUnauthorized, Body: "current-user-principal is unauthenticated"}
			}
			if s := p.CurrentUserPrincipal.path(); s != "" {
				return s, nil
			}
		}
	}
	return "", nil
}

// send issues a DAV request with an XML body; non-2xx is *HTTPError.
func (a *Account) send(ctx context.Context, method, path, depth, body string) (*http.Response, error) {
	u := &url.URL{Scheme: a.base.Scheme, Host: a.base.Host, Path: path}
	var rd *bytes.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), rd)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), nil)
	}
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	}
	if depth != "" {
		req.Header.Set("Depth", depth)
	}
	return a.http.Do(req)
}

// mapErr maps an error of a DAV exchange onto the eas sentinels. forbidden
// is what 403 means for the operation.
func mapErr(ctx context.Context, op string, err error, forbidden error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{eas.ErrAuthFailed, eas.ErrBackendUnavailable, eas.ErrNotFound, eas.ErrExists,
		eas.ErrSpecialFolder, eas.ErrNotSupported, ErrClosed, ErrInvalidName} {
		if errors.Is(err, s) {
			return err
		}
	}
	var he *HTTPError
	if errors.As(err, &he) {
		var sentinel error
		switch {
		case he.Code == http.StatusUnauthorized:
			sentinel = eas.ErrAuthFailed
		case he.Code == http.StatusForbidden:
			sentinel = forbidden
		case he.Code == http.StatusNotFound || he.Code == http.StatusGone:
			sentinel = eas.ErrNotFound
		case he.Code == http.StatusMethodNotAllowed || he.Code == http.StatusUnsupportedMediaType ||
			he.Code == http.StatusNotImplemented:
			sentinel = eas.ErrNotSupported
		case he.Code >= 500:
			sentinel = eas.ErrBackendUnavailable
		}
		if sentinel != nil {
			return fmt.Errorf("davsource: %s: %w: %w", op, sentinel, err)
		}
		return fmt.Errorf("davsource: %s: %w", op, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("davsource: %s: %w (%v)", op, cerr, err)
	}
	var te *transportError
	if errors.As(err, &te) {
		return fmt.Errorf("davsource: %s: %w: %w", op, eas.ErrBackendUnavailable, err)
	}
	return fmt.Errorf("davsource: %s: %w", op, err)
}

// newSegment returns a random RFC 4122 version 4 UUID for a new
// collection's path.
func newSegment() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// CalDAV returns the go-webdav CalDAV client (Basic auth, errors as
// *HTTPError) for item sync; nil when the URL is invalid.
func (a *Account) CalDAV() *caldav.Client { return a.cal }

// CardDAV returns the go-webdav CardDAV client, like CalDAV.
func (a *Account) CardDAV() *carddav.Client { return a.card }
