package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	gosync "sync"
	"time"

	"easbridge/app/config"
	"easbridge/app/logbus"
	"easbridge/app/mdns"
	"easbridge/app/pairing"
	"easbridge/app/tlscert"
	"easbridge/server"
	"easbridge/server/eas"
	"easbridge/server/wbxml"
	"easbridge/sync/demo"
	"easbridge/sync/engine"
	"easbridge/sync/state"
)

// Runtime is a running easbridge: what the UI shows and the headless
// command waits on.
type Runtime struct {
	cfg    config.Config
	log    *slog.Logger
	Bus    *logbus.Bus
	Store  state.Store
	Engine *engine.Engine
	Cert   *tlscert.Cert // nil with TLS off
	Demo   *demo.Demo    // nil when a real account is configured

	httpSrv  *http.Server
	listener net.Listener
	addr     string
	scheme   string

	mdns     mdns.Advertiser // guarded by mu; nil while paused
	mdnsWant bool            // the configuration asks for mDNS
	eas      *server.Server

	ctx    context.Context
	cancel context.CancelFunc
	wg     gosync.WaitGroup

	mu       gosync.Mutex
	lastErr  string
	serveErr error

	manage manageState  // policy, pause, redaction: changed from the UI (manage.go)
	accts  accountState // accounts changed from the UI (accounts.go)
	devHub deviceHub    // device events for the tray and the Devices tab (access.go)
}

// Start brings up everything the configuration asks for and starts serving.
// Close stops it.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (rt *Runtime, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("app: data dir: %w", err)
	}
	r := &Runtime{cfg: cfg, log: log, Bus: logbus.New(1000)}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			r.Close(context.Background())
		}
	}()

	if r.Store, err = state.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "state.db")); err != nil {
		return nil, err
	}
	accounts, sec, err := r.accounts(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.initManage(); err != nil {
		return nil, err
	}
	eopts := engine.Options{
		Store: r.Store, Accounts: accounts, Log: log.With("part", "engine"),
		DAVPollInterval: time.Duration(cfg.Ping.DAVInterval) * time.Second,
		Policy:          r.Policy, // changed at run time by SetPolicy
		PoisonTries:     cfg.Limits.PoisonTries,
		Now:             engineNow, // nil: the wall clock
	}
	if sec != nil {
		eopts.Secrets = sec
	}
	if r.Engine, err = engine.New(eopts); err != nil {
		return nil, err
	}

	sopts := server.Options{
		Backend:          r.Engine,
		Log:              log.With("part", "server"),
		Trace:            r.trace,
		AccessRules:      newAccessRules(cfg).decide,
		DeviceChanged:    r.deviceChanged,
		MaxRequestBytes:  cfg.Limits.MaxRequestBytes,
		PingMinHeartbeat: cfg.Ping.MinHeartbeat,
		PingMaxHeartbeat: cfg.Ping.MaxHeartbeat,
		PingMaxFolders:   cfg.Ping.MaxFolders,
		Throttle: server.ThrottleOptions{
			FailuresBeforeDelay: cfg.Throttle.FailuresBeforeDelay,
			FailuresBeforeBlock: cfg.Throttle.FailuresBeforeBlock,
			BlockFor:            time.Duration(cfg.Throttle.BlockMinutes) * time.Minute,
		},
	}
	var tlsConf *tls.Config
	r.scheme = "http"
	if cfg.TLS != config.TLSOff {
		names, ips := tlscert.DefaultNames()
		if r.Cert, err = tlscert.LoadOrCreate(filepath.Join(cfg.DataDir, "tls"), names, ips, time.Now()); err != nil {
			return nil, err
		}
		tlsConf = r.Cert.TLSConfig()
		sopts.CAPEM, sopts.Fingerprint = r.Cert.CAPEM(), r.Cert.Fingerprint()
		r.scheme = "https"
	}

	setMemoryLimit(cfg.Limits.MemoryLimitMiB, log)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("app: listen on %s: %w", cfg.Listen, err)
	}
	// Per-address cap first (connlimit.go), so that a refused
	// connection never takes one of max_connections' slots.
	if cfg.Limits.MaxConnectionsPerAddress > 0 {
		ln = limitPerAddress(ln, cfg.Limits.MaxConnectionsPerAddress, log)
	}
	if cfg.Limits.MaxConnections > 0 {
		ln = limitListener(ln, cfg.Limits.MaxConnections)
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	r.listener, r.addr = ln, ln.Addr().String()
	// The EAS server answers everything but the pairing pages.
	root := http.NewServeMux()
	r.eas = server.New(sopts)
	root.Handle("/", r.pauseGate(r.eas))
	pair := pairing.Handler(r.pairingInfo)
	root.Handle("/setup", pair)
	root.Handle("/setup/", pair)
	r.httpSrv = &http.Server{
		Handler: root,
		// Slow clients cannot hold a connection open without sending: the
		// headers must arrive within 20 s; bodies and long-poll answers
		// (Ping up to 3540 s) have their own limits.
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return r.ctx },
	}
	if cfg.LogWBXML != "" {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := logbus.FileSink(r.ctx, r.Bus, cfg.LogWBXML); err != nil {
				r.setError(fmt.Errorf("log file: %w", err))
			}
		}()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := r.httpSrv.Serve(ln)
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.mu.Lock()
			r.serveErr = err
			r.mu.Unlock()
			r.setError(err)
		}
	}()
	if cfg.MDNS && (mdnsOnLoopback || !config.IsLoopbackListen(cfg.Listen)) {
		r.mdnsWant = true
		r.advertise(log)
	}
	log.Info("easbridge: serving", "addr", r.addr, "tls", r.Cert != nil, "data", cfg.DataDir)
	return r, nil
}

// advertise announces the endpoint with mDNS; a failure is logged, not
// fatal (a machine without multicast still serves).
func (r *Runtime) advertise(log *slog.Logger) {
	_, port, _ := net.SplitHostPort(r.addr)
	p, _ := strconv.Atoi(port)
	svc := mdns.Service{Port: p, Path: server.Path, Scheme: r.scheme, SetupPath: "/setup"}
	if r.Cert != nil {
		svc.Fingerprint = r.Cert.Fingerprint()
	}
	adv, err := advertiseMDNS(r.ctx, svc, mdns.Options{Log: log.With("part", "mdns")})
	if err != nil {
		log.Warn("easbridge: mDNS announcement failed", "err", err)
		return
	}
	r.mu.Lock()
	old := r.mdns
	r.mdns = adv
	r.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
}

// withdraw ends the mDNS announcement (pause, quit).
func (r *Runtime) withdraw() {
	r.mu.Lock()
	adv := r.mdns
	r.mdns = nil
	r.mu.Unlock()
	if adv != nil {
		_ = adv.Close()
	}
}

// Test hooks: the mDNS implementation, and whether a loopback listener is
// announced too (never outside tests: loopback is not the LAN).
var (
	advertiseMDNS  = mdns.Advertise
	mdnsOnLoopback = false
)

// pairingInfo feeds the setup pages.
func (r *Runtime) pairingInfo() pairing.Info {
	info := pairing.Info{Scheme: r.scheme, Domain: r.cfg.Domain}
	if r.Cert != nil {
		info.CAPEM, info.Fingerprint = r.Cert.CAPEM(), r.Cert.Fingerprint()
	}
	if d := r.servedDemo(); d != nil {
		info.DemoUser, info.DemoPassword = d.User, d.Password
	}
	return info
}

// accounts turns the configuration into engine accounts, starting the demo
// account when none is configured (accounts.go).
func (r *Runtime) accounts(ctx context.Context) ([]engine.Account, engine.Secrets, error) {
	r.accts.list = slices.Clone(r.cfg.Accounts)
	if len(r.cfg.Accounts) == 0 {
		d, err := r.demoAccount(ctx)
		if err != nil {
			return nil, nil, err
		}
		return []engine.Account{d}, nil, nil
	}
	return r.engineAccounts(r.cfg.Accounts)
}

// trace publishes one exchange on the bus, redacted unless turned off.
func (r *Runtime) trace(ex server.Exchange) {
	e := logbus.Exchange{
		Time: ex.Time, Duration: ex.Duration, Remote: ex.Remote, User: ex.User,
		DeviceID: ex.DeviceID, DeviceType: ex.DeviceType, Command: ex.Command, Version: ex.Version,
		HTTPStatus: ex.HTTPStatus, EASStatus: ex.EASStatus,
		RequestHeaders: logbus.RedactHeaders(ex.RequestHeader), ResponseHeaders: ex.ResponseHeader,
		Error: ex.Err,
	}
	e.RequestXML = r.xmlOf(ex.Request, ex.RequestBytes)
	e.ResponseXML = r.xmlOf(ex.Response, ex.ResponseBytes)
	r.Bus.Publish(e)
	if ex.HTTPStatus >= 500 {
		r.setError(fmt.Errorf("%s from %s: HTTP %d %s", ex.Command, ex.DeviceID, ex.HTTPStatus, ex.Err))
	}
}

func (r *Runtime) xmlOf(root *wbxml.Element, n int) string {
	switch {
	case root != nil && r.Redact():
		return wbxml.XMLString(logbus.RedactTree(root, 256))
	case root != nil:
		// Bodies whole, but passwords still removed.
		return wbxml.XMLString(logbus.RedactTree(root, -1))
	case n == 0:
		return "(empty)"
	default:
		return "(not WBXML: " + strconv.Itoa(n) + " bytes)"
	}
}

func (r *Runtime) setError(err error) {
	r.log.Error("easbridge: error", "err", err)
	r.mu.Lock()
	r.lastErr = time.Now().Format("15:04:05") + " " + err.Error()
	r.mu.Unlock()
}

// Addr is the address the server listens on.
func (r *Runtime) Addr() string { return r.addr }

// Scheme is "https" or "http".
func (r *Runtime) Scheme() string { return r.scheme }

// URLs are the addresses a phone on the LAN can use, best first.
func (r *Runtime) URLs() []string {
	_, port, _ := net.SplitHostPort(r.addr)
	host, _, _ := net.SplitHostPort(r.cfg.Listen)
	var hosts []string
	if host != "" && host != "0.0.0.0" && host != "::" {
		hosts = []string{host}
	} else {
		names, ips := tlscert.DefaultNames()
		for _, n := range names {
			if n != "localhost" && len(n) > 6 && n[len(n)-6:] == ".local" {
				hosts = append(hosts, n)
			}
		}
		for _, ip := range ips {
			if !ip.IsLoopback() {
				hosts = append(hosts, ip.String())
			}
		}
		if len(hosts) == 0 {
			hosts = []string{"127.0.0.1"}
		}
	}
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, r.scheme+"://"+net.JoinHostPort(h, port))
	}
	return out
}

// Status is a snapshot for the UI and the tray.
type Status struct {
	Running     bool
	URLs        []string
	Fingerprint string
	Demo        bool
	DemoUser    string
	DemoPass    string
	Devices     []eas.Device
	LastError   string
}

// Status returns the current state.
func (r *Runtime) Status(ctx context.Context) Status {
	s := Status{Running: r.ctx.Err() == nil, URLs: r.URLs()}
	if r.Cert != nil {
		s.Fingerprint = r.Cert.Fingerprint()
	}
	if d := r.servedDemo(); d != nil {
		s.Demo, s.DemoUser, s.DemoPass = true, d.User, d.Password
	}
	if devs, err := r.Store.Devices(ctx); err == nil {
		sort.Slice(devs, func(i, j int) bool { return devs[i].LastSeen.After(devs[j].LastSeen) })
		s.Devices = devs
	}
	r.mu.Lock()
	s.LastError = r.lastErr
	r.mu.Unlock()
	return s
}

// Close shuts down gracefully: stop accepting, let requests finish until
// ctx ends, then cancel in-flight work and release everything.
func (r *Runtime) Close(ctx context.Context) error {
	var errs []error
	r.withdraw()
	if r.eas != nil {
		r.eas.EndPush() // held Pings answer now instead of at their heartbeat
	}
	if r.httpSrv != nil {
		if err := r.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	r.cancel()
	if r.httpSrv != nil {
		_ = r.httpSrv.Close()
	}
	r.wg.Wait()
	if r.Engine != nil {
		errs = append(errs, r.Engine.Close())
	}
	if r.Store != nil {
		errs = append(errs, r.Store.Close())
	}
	if r.Demo != nil {
		errs = append(errs, r.Demo.Close())
	}
	return errors.Join(errs...)
}

// readHeaderTimeout is how long a client may take to send its request
// headers before the connection is cut (slowloris); a variable so that
// tests can shorten it (export_test.go).
var readHeaderTimeout = 20 * time.Second

// engineNow is the engine's clock of runtimes started afterwards; nil is
// the wall clock. Tests move it (export_test.go).
var engineNow func() time.Time

// limitListener caps concurrent connections: Accept waits for a free slot.
func limitListener(l net.Listener, n int) net.Listener {
	return &limitedListener{Listener: l, sem: make(chan struct{}, n)}
}

type limitedListener struct {
	net.Listener
	sem chan struct{}
}

func (l *limitedListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitedConn struct {
	net.Conn
	once    gosync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
