package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// Path is the EAS endpoint, MS-ASHTTP 2.2.1.1.1.
const Path = "/Microsoft-Server-ActiveSync"

// Options configures a Server. Zero values take the documented defaults.
type Options struct {
	Backend Backend
	// Log receives operational logs. Default: discard.
	Log *slog.Logger
	// Trace, when set, receives every exchange (the live WBXML log). It is
	// called synchronously at the end of each request and must not block.
	// The Authorization header is already redacted.
	Trace func(Exchange)
	// MaxRequestBytes limits a request body. Default 32 MiB (a phone's
	// SendMail with attachments; Exchange's default is 28 MB).
	MaxRequestBytes int64
	// Throttle slows and blocks repeated failed logins per address.
	Throttle ThrottleOptions
	// CAPEM, when set, is offered on the setup page for download.
	CAPEM []byte
	// Fingerprint of the server certificate, shown on the setup page.
	Fingerprint string
	// Now is the clock. Default time.Now.
	Now func() time.Time

	// PingMinHeartbeat and PingMaxHeartbeat bound the HeartbeatInterval of
	// Ping and of Sync, in seconds (Status 5, Sync Status 14 outside).
	// Defaults 60 and 3540: Exchange's MinHeartbeatInterval and
	// MaxHeartbeatInterval (MS-ASCMD 2.2.3.88: the range is
	// implementation-specific). Values below 30 s are raised to 30 s.
	PingMinHeartbeat int
	PingMaxHeartbeat int
	// PingMaxFolders is the most folders one Ping may watch (Status 6
	// above). Default 300, the MaxFolders of the MS-ASCMD 2.2.1.13 example.
	PingMaxFolders int
	// AccessRules decides the access state of a device no administrator
	// decided on (the configured access rules and default); nil allows
	// every such device. See access.go.
	AccessRules func(d eas.Device) (eas.Access, eas.AccessBy)
	// DeviceChanged, when set, is told when a request created a device or
	// changed its access or wipe state (a new device in quarantine, a
	// wipe acknowledged). It is called synchronously and must not block.
	DeviceChanged func(DeviceEvent)
	// testShortHeartbeat lifts the 30 s floor of PingMinHeartbeat so that
	// tests can use 1 s heartbeats. Unexported: production cannot set it.
	testShortHeartbeat bool
}

// Exchange is one request/response pair, for tracing.
type Exchange struct {
	Time           time.Time
	Duration       time.Duration
	Remote         string
	User           string
	DeviceID       string
	DeviceType     string
	Command        string
	Version        string
	UserAgent      string
	HTTPStatus     int
	EASStatus      int
	RequestHeader  http.Header
	ResponseHeader http.Header
	Request        *wbxml.Element // nil when the body was empty or not WBXML
	Response       *wbxml.Element
	RequestBytes   int
	ResponseBytes  int
	Err            string
}

// Server is the EAS HTTP endpoint. It is an http.Handler; the app owns the
// listeners.
type Server struct {
	opts     Options
	log      *slog.Logger
	throttle *throttle
	mux      *http.ServeMux
	// panics counts recovered handler panics; tests fail when it moves.
	panics atomic.Int64
	// push is the state of Ping and of the Sync long poll: ping.go.
	push pushState
}

// New returns a Server.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = 32 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.pushDefaults()
	s := &Server{opts: o, log: o.Log, throttle: newThrottle(o.Throttle, o.Now)}
	mux := http.NewServeMux()
	mux.HandleFunc(Path, s.serveEAS)
	mux.HandleFunc("/autodiscover/autodiscover.xml", s.serveAutodiscover)
	mux.HandleFunc("/Autodiscover/Autodiscover.xml", s.serveAutodiscover)
	mux.HandleFunc("/", s.serveSetup)
	s.mux = mux
	return s
}

// ServeHTTP dispatches, recovering from any panic so that one bad request
// never disturbs others.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.panics.Add(1)
			s.log.Error("server: panic in handler", "panic", v, "path", r.URL.Path, "stack", string(debug.Stack()))
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	// Autodiscover paths are case-insensitive (clients vary).
	if strings.EqualFold(r.URL.Path, "/autodiscover/autodiscover.xml") {
		s.serveAutodiscover(w, r)
		return
	}
	if strings.EqualFold(r.URL.Path, Path) {
		s.serveEAS(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// httpError is a failure answered with an HTTP status instead of an EAS one.
type httpError struct {
	code   int
	reason string
	header http.Header
}

func (e *httpError) Error() string { return fmt.Sprintf("http %d: %s", e.code, e.reason) }

func httpErr(code int, format string, args ...any) *httpError {
	return &httpError{code: code, reason: fmt.Sprintf(format, args...)}
}

// request carries one EAS request through the pipeline.
type request struct {
	ctx     context.Context
	http    *http.Request
	q       query
	version eas.Version
	session Session
	device  eas.Device
	// loaded is the device as stored when the request began (zero when
	// new): saveDevice merges only what the request changed.
	loaded eas.Device
	body   *wbxml.Element
	// raw is the undecoded body of a command whose body is not WBXML (the
	// MIME message of a 12.1 SendMail, SmartReply or SmartForward); see
	// command.rawBody.
	raw []byte
	// w is the response writer, for the commands that answer with
	// something else than one WBXML document (a multipart ItemOperations
	// response, GetAttachment). A handler that writes to it returns a nil
	// element and a nil error.
	w http.ResponseWriter
	// easStatus is the status the handler answered with, for the trace.
	easStatus eas.Status
}

// supportedCommands is sent in MS-ASProtocolCommands (MS-ASHTTP 2.2.2.2.3).
func supportedCommands() string {
	names := make([]string, 0, len(commands))
	for _, n := range commandOrder {
		if _, ok := commands[n]; ok {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

func versionsHeader() string {
	v := make([]string, len(eas.Versions))
	for i, x := range eas.Versions {
		v[i] = string(x)
	}
	return strings.Join(v, ",")
}

func (s *Server) serveEAS(w http.ResponseWriter, r *http.Request) {
	start := s.opts.Now()
	ex := Exchange{
		Time:          start,
		Remote:        r.RemoteAddr,
		UserAgent:     r.UserAgent(),
		RequestHeader: redactedHeader(r.Header),
	}
	rec := &recorder{ResponseWriter: w, code: http.StatusOK}
	defer func() {
		ex.Duration = s.opts.Now().Sub(start)
		ex.HTTPStatus = rec.code
		ex.ResponseHeader = rec.Header().Clone()
		ex.ResponseBytes = rec.n
		if s.opts.Trace != nil {
			s.opts.Trace(ex)
		}
	}()
	w = rec
	w.Header().Set("MS-Server-ActiveSync", "16.1")
	switch r.Method {
	case http.MethodOptions:
		ex.Command = "OPTIONS"
		s.serveOptions(w, r, &ex)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "OPTIONS, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rq, err := s.prepare(w, r, &ex)
	if err == nil {
		var resp *wbxml.Element
		resp, err = s.dispatch(rq)
		ex.Response = resp
		ex.EASStatus = int(rq.easStatus)
		if err == nil {
			err = s.writeWBXML(w, resp)
		}
		s.saveDevice(rq)
	}
	if err != nil {
		ex.Err = err.Error()
		s.writeError(w, err)
	}
}

// prepare parses, authenticates and loads the device: everything before the
// command handler.
func (s *Server) prepare(w http.ResponseWriter, r *http.Request, ex *Exchange) (*request, error) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, httpErr(http.StatusBadRequest, "%v", err)
	}
	ex.Command, ex.DeviceID, ex.DeviceType = q.Cmd, q.DeviceID, q.DeviceType
	vs := q.Version
	if !q.Base64 {
		vs = r.Header.Get("MS-ASProtocolVersion")
	}
	ex.Version = vs
	if vs == "" {
		return nil, httpErr(http.StatusBadRequest, "MS-ASProtocolVersion header missing (supported: %s)", versionsHeader())
	}
	ver, ok := eas.ParseVersion(vs)
	if !ok {
		return nil, httpErr(http.StatusBadRequest, "protocol version %q not supported (supported: %s)", vs, versionsHeader())
	}
	sess, err := s.authenticate(w, r)
	if err != nil {
		return nil, err
	}
	ex.User = sess.User()
	cmd, ok := commands[q.Cmd]
	if !ok {
		return nil, httpErr(http.StatusNotImplemented, "command %q not implemented", q.Cmd)
	}
	if !validDeviceID(q.DeviceID) {
		return nil, httpErr(http.StatusBadRequest, "DeviceId missing or invalid")
	}
	if q.DeviceType == "" {
		return nil, httpErr(http.StatusBadRequest, "DeviceType missing")
	}
	if !q.Base64 {
		if pk := r.Header.Get("X-MS-PolicyKey"); pk != "" {
			q.PolicyKey, q.HasPolicyKey = pk, true
		}
	}
	rq := &request{ctx: r.Context(), http: r, q: q, version: ver, session: sess, w: w}
	if err := s.loadDevice(rq); err != nil {
		return nil, err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	ex.RequestBytes = len(body)
	if len(body) > 0 && cmd.rawBody != nil && cmd.rawBody(rq) {
		rq.raw = body
	} else if len(body) > 0 {
		root, err := wbxml.Decode(body)
		if err != nil {
			return nil, httpErr(http.StatusBadRequest, "request body is not valid WBXML: %v", err)
		}
		ex.Request = root
		if !root.Is(cmd.space, q.Cmd) {
			return nil, httpErr(http.StatusBadRequest, "request root is %s:%s, want %s:%s", root.Space, root.Name, cmd.space, q.Cmd)
		}
		rq.body = root
	} else if cmd.needsBody {
		return nil, httpErr(http.StatusBadRequest, "%s needs a request body", q.Cmd)
	}
	return rq, nil
}

func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > s.opts.MaxRequestBytes {
		return nil, httpErr(http.StatusRequestEntityTooLarge, "request body of %d bytes exceeds the limit of %d", r.ContentLength, s.opts.MaxRequestBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, httpErr(http.StatusRequestEntityTooLarge, "request body exceeds the limit of %d bytes", s.opts.MaxRequestBytes)
		}
		return nil, httpErr(http.StatusBadRequest, "read body: %v", err)
	}
	return body, nil
}

// authenticate checks Basic credentials against the backend, with the
// per-address throttle around it.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (Session, error) {
	ip := remoteIP(r.RemoteAddr)
	if blocked, left := s.throttle.blocked(ip); blocked {
		e := httpErr(http.StatusTooManyRequests, "too many failed logins from %s; try again in %d s", ip, int(left.Seconds())+1)
		e.header = http.Header{"Retry-After": {strconv.Itoa(int(left.Seconds()) + 1)}}
		return nil, e
	}
	user, password, ok := basicAuth(r)
	if !ok {
		return nil, unauthorized("credentials required")
	}
	sess, err := s.opts.Backend.Login(r.Context(), user, password)
	switch {
	case err == nil:
		s.throttle.succeed(ip)
		return sess, nil
	case errors.Is(err, eas.ErrAuthFailed):
		delay := s.throttle.fail(ip)
		s.log.Info("server: login failed", "user", user, "remote", ip)
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
		}
		return nil, unauthorized("wrong user name or password")
	case errors.Is(err, eas.ErrBackendUnavailable):
		s.log.Warn("server: backend unavailable at login", "user", user, "err", err)
		e := httpErr(http.StatusServiceUnavailable, "the mail server cannot be reached; try again later")
		e.header = http.Header{"Retry-After": {"60"}}
		return nil, e
	default:
		s.log.Error("server: login", "user", user, "err", err)
		return nil, httpErr(http.StatusInternalServerError, "login failed on the server")
	}
}

func unauthorized(reason string) *httpError {
	e := httpErr(http.StatusUnauthorized, "%s", reason)
	e.header = http.Header{"WWW-Authenticate": {`Basic realm="easbridge"`}}
	return e
}

// loadDevice finds or creates the device record and refreshes what the
// request says about it.
func (s *Server) loadDevice(rq *request) error {
	store := s.opts.Backend.Devices()
	d, err := store.Device(rq.ctx, rq.session.User(), rq.q.DeviceID)
	switch {
	case errors.Is(err, eas.ErrNotFound):
		d = eas.Device{User: rq.session.User(), ID: rq.q.DeviceID, FirstSeen: s.opts.Now()}
	case err != nil:
		return fmt.Errorf("server: load device %s: %w", rq.q.DeviceID, err)
	default:
		rq.loaded = d
	}
	d.Type = rq.q.DeviceType
	if ua := rq.http.UserAgent(); ua != "" {
		d.UserAgent = ua
	}
	d.ProtocolVersion = rq.version
	d.LastSeen = s.opts.Now()
	d.LastCommand = rq.q.Cmd
	s.decideAccess(&d)
	rq.device = d
	return nil
}

// dispatch runs the access and policy checks, then the command handler.
func (s *Server) dispatch(rq *request) (*wbxml.Element, error) {
	cmd := commands[rq.q.Cmd]
	if st, block := s.accessCheck(rq); block {
		return s.refuse(rq, cmd, st)
	}
	if !cmd.noPolicy {
		if st, ok := s.policyCheck(rq); !ok {
			return s.refuse(rq, cmd, st)
		}
	}
	return cmd.run(s, rq)
}

// refuse answers a command that may not run: HTTP 449/403 for 12.1
// clients, the command's root element with a common status for 14.0+
// (MS-ASPROV 3.2.5.1.1, MS-ASCMD 2.2.2).
func (s *Server) refuse(rq *request, cmd command, st eas.Status) (*wbxml.Element, error) {
	rq.easStatus = st
	if !rq.version.AtLeast(eas.V140) {
		switch st {
		case eas.StatusDeviceIsBlockedForThisUser, eas.StatusAccessDenied:
			return nil, httpErr(http.StatusForbidden, "device %s is blocked", rq.q.DeviceID)
		default:
			return nil, httpErr(449, "device must provision (Retry after Provision)")
		}
	}
	return wbxml.New(cmd.space, rq.q.Cmd, wbxml.Int(cmd.space, "Status", int(st))), nil
}

// policyCheck decides whether the device is provisioned under the current
// policy (MS-ASPROV 3.2.5.1.1).
func (s *Server) policyCheck(rq *request) (eas.Status, bool) {
	d := rq.device
	if d.Wipe == eas.WipePending || (d.Wipe == eas.WipeAccountPending && rq.version.AtLeast(eas.V161)) {
		return eas.StatusRemoteWipeRequested, false
	}
	if !rq.q.HasPolicyKey || rq.q.PolicyKey == "0" || d.PolicyKey == 0 {
		return eas.StatusDeviceNotProvisioned, false
	}
	if rq.q.PolicyKey != strconv.FormatUint(uint64(d.PolicyKey), 10) {
		return eas.StatusInvalidPolicyKey, false
	}
	p, err := s.opts.Backend.Policy(rq.ctx, d.User, d.ID)
	if err == nil && p.Hash() != d.PolicyHash {
		return eas.StatusPolicyRefresh, false
	}
	return 0, true
}

func (s *Server) writeWBXML(w http.ResponseWriter, root *wbxml.Element) error {
	if root == nil {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	b, err := wbxml.Encode(root)
	if err != nil {
		return fmt.Errorf("server: encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/vnd.ms-sync.wbxml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

// writeError answers an error that reached the top: an *httpError with its
// code, anything else as 500 after logging it.
func (s *Server) writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		s.log.Error("server: request failed", "err", err)
		he = httpErr(http.StatusInternalServerError, "internal server error")
	}
	for k, v := range he.header {
		w.Header()[k] = v
	}
	if rec, ok := w.(*recorder); ok && rec.wrote {
		return
	}
	http.Error(w, he.reason, he.code)
}

// serveOptions answers OPTIONS (MS-ASHTTP 2.2.3): the versions and the
// commands. Credentials are checked like for any command, so that a client
// can validate an account with it.
func (s *Server) serveOptions(w http.ResponseWriter, r *http.Request, ex *Exchange) {
	sess, err := s.authenticate(w, r)
	if err != nil {
		ex.Err = err.Error()
		s.writeError(w, err)
		return
	}
	ex.User = sess.User()
	h := w.Header()
	h.Set("Allow", "OPTIONS,POST")
	h.Set("Public", "OPTIONS,POST")
	h.Set("MS-ASProtocolVersions", versionsHeader())
	h.Set("MS-ASProtocolCommands", supportedCommands())
	w.WriteHeader(http.StatusOK)
}

// redactedHeader copies h with credentials hidden.
func redactedHeader(h http.Header) http.Header {
	c := h.Clone()
	if a := c.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		c.Set("Authorization", scheme+" [redacted]")
	}
	if c.Get("Cookie") != "" {
		c.Set("Cookie", "[redacted]")
	}
	return c
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	code  int
	n     int
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	if r.wrote {
		return
	}
	r.code, r.wrote = code, true
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.n += n
	return n, err
}

// Flush lets long-poll commands push their answer.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
