// Package mdns announces easbridge on the local network with DNS-SD over
// multicast DNS (RFC 6762, RFC 6763) and looks for it.
//
// It is a small layer over github.com/grandcat/zeroconf v1.0.0. Two services
// are advertised under the same instance name:
//
//   - "_easbridge._tcp": the EAS endpoint, with TXT keys txtvers, path, fp
//     (the server certificate's SHA-256 fingerprint), scheme and version;
//   - "_https._tcp" when the server speaks TLS, "_http._tcp" otherwise: the
//     phone setup page, with TXT key path (RFC 6763 §7 "path" convention).
//     The type follows the scheme so that a generic browser that builds
//     http://host:port/path from "_http._tcp" is never sent to a TLS port.
//
// Interfaces are chosen explicitly: Options.Interfaces, or every interface
// that is up, multicast-capable and not loopback. zeroconf's Register refuses
// interfaces that carry loopback addresses only, so registration goes through
// RegisterProxy with the addresses collected here; loopback addresses are
// used only for an interface that is itself loopback (tests).
//
// Caveats of zeroconf v1.0.0 that callers should know: it does not probe for
// name conflicts; its announcement goroutine runs for about three seconds
// after registration and is not stopped by Shutdown (it only writes to the
// closed sockets, which fails silently); it logs through the standard "log"
// package when an address family cannot join the multicast group.
package mdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/grandcat/zeroconf"
)

const (
	// ServiceType is the DNS-SD service type of the EAS endpoint.
	ServiceType = "_easbridge._tcp"
	// Domain is the DNS-SD domain: multicast DNS.
	Domain = "local."
	// DefaultPath is the EAS endpoint path advertised when Service.Path is empty.
	DefaultPath = "/Microsoft-Server-ActiveSync"
	// DefaultSetupPath is the setup page path advertised when Service.SetupPath is empty.
	DefaultSetupPath = "/setup"
	// DefaultBrowseTimeout bounds Browse when its context has no deadline.
	DefaultBrowseTimeout = 3 * time.Second

	// txtVersion is the version of the TXT key set (RFC 6763 §6.7).
	txtVersion = "1"
	// maxLabel is the longest DNS label, in bytes.
	maxLabel = 63
)

// Service describes what Advertise announces.
type Service struct {
	// Instance is the advertised name; empty means "easbridge on <host>"
	// with the machine's short host name. It is cut to 63 bytes.
	Instance string
	// Port is the TCP port of the EAS server (and its setup page).
	Port int
	// Path is the EAS endpoint; empty means DefaultPath.
	Path string
	// Fingerprint is the TLS server certificate's SHA-256; empty leaves the
	// fp key out.
	Fingerprint string
	// Scheme is "https" or "http"; empty means "https" when Fingerprint is
	// set and "http" otherwise.
	Scheme string
	// SetupPath is the setup page; empty means DefaultSetupPath.
	SetupPath string
	// Version is the application version for the version key; empty leaves
	// the key out.
	Version string
}

// Options selects the network side of Advertise and Browse.
type Options struct {
	// Interfaces to use; nil means every interface that is up and
	// multicast-capable, loopback excluded (what the app wants). Tests pass
	// the loopback interface of a private network namespace.
	Interfaces []net.Interface
	// Log receives progress messages; nil discards them.
	Log *slog.Logger
}

// Advertiser is a running advertisement.
type Advertiser interface {
	// Close withdraws the services (zeroconf sends goodbye packets, records
	// with TTL 0) and releases the sockets. It is safe to call more than once.
	Close() error
}

// Found is one easbridge server seen by Browse.
type Found struct {
	Instance string            // unescaped instance name, e.g. "easbridge on pc"
	Host     string            // SRV target without the trailing dot, e.g. "pc.local"
	Port     int               // SRV port
	Addrs    []net.IP          // A and AAAA records that came with the answer
	TXT      map[string]string // TXT keys (lower case) to values
}

// record is one DNS-SD registration.
type record struct {
	service string
	txt     []string
}

// Advertise registers the EAS service and the setup page on the chosen
// interfaces. The advertisement lasts until Close is called or ctx is done,
// whichever comes first; both withdraw it.
func Advertise(ctx context.Context, s Service, opts Options) (Advertiser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mdns: advertise: %w", err)
	}
	log := logger(opts.Log)
	s, err := s.normalize()
	if err != nil {
		return nil, fmt.Errorf("mdns: advertise: %w", err)
	}
	records, err := s.records()
	if err != nil {
		return nil, fmt.Errorf("mdns: advertise %q: %w", s.Instance, err)
	}
	ifaces, err := selectInterfaces(opts.Interfaces)
	if err != nil {
		return nil, fmt.Errorf("mdns: advertise %q: %w", s.Instance, err)
	}
	ips := interfaceAddrs(ifaces)
	if len(ips) == 0 {
		return nil, fmt.Errorf("mdns: advertise %q: no usable IP address on %s", s.Instance, ifaceNames(ifaces))
	}
	host := hostLabel()
	instance := escapeLabel(s.Instance)

	a := &advertiser{log: log, stop: make(chan struct{}), done: make(chan struct{})}
	for _, r := range records {
		srv, err := zeroconf.RegisterProxy(instance, r.service, Domain, s.Port, host, ips, r.txt, ifaces)
		if err != nil {
			a.shutdown()
			return nil, fmt.Errorf("mdns: register %s %q on %s: %w", r.service, s.Instance, ifaceNames(ifaces), err)
		}
		a.servers = append(a.servers, srv)
	}
	log.Info("mdns: advertising", "instance", s.Instance, "port", s.Port, "scheme", s.Scheme,
		"types", []string{records[0].service, records[1].service}, "interfaces", ifaceNames(ifaces), "addrs", ips)
	go a.run(ctx, s.Instance)
	return a, nil
}

type advertiser struct {
	servers []*zeroconf.Server
	log     *slog.Logger
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when run has withdrawn everything
	once    sync.Once
}

// run withdraws the services when ctx is done or Close is called.
func (a *advertiser) run(ctx context.Context, instance string) {
	defer close(a.done)
	select {
	case <-ctx.Done():
	case <-a.stop:
	}
	a.shutdown()
	a.log.Info("mdns: advertisement withdrawn", "instance", instance)
}

func (a *advertiser) shutdown() {
	for _, s := range a.servers {
		s.Shutdown() // sends the goodbye (TTL 0) records, closes the sockets
	}
	a.servers = nil
}

func (a *advertiser) Close() error {
	a.once.Do(func() { close(a.stop) })
	<-a.done
	return nil
}

// Browse looks for easbridge servers until ctx is done (DefaultBrowseTimeout
// when ctx has no deadline) and returns what it found, sorted by instance.
// Reaching the deadline is the normal end and is not an error; a canceled ctx
// returns what was found so far with the cancellation error.
func Browse(ctx context.Context, opts Options) ([]Found, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mdns: browse: %w", err)
	}
	ifaces, err := selectInterfaces(opts.Interfaces)
	if err != nil {
		return nil, fmt.Errorf("mdns: browse: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultBrowseTimeout)
		defer cancel()
	}
	res, err := newResolver(ifaces)
	if err != nil {
		return nil, fmt.Errorf("mdns: browse on %s: %w", ifaceNames(ifaces), err)
	}
	// The resolver's goroutines stop when ctx is done; they close entries
	// on the way out, which ends the loop below.
	entries := make(chan *zeroconf.ServiceEntry)
	if err := res.Browse(ctx, ServiceType, Domain, entries); err != nil {
		return nil, fmt.Errorf("mdns: browse %s on %s: %w", ServiceType, ifaceNames(ifaces), err)
	}
	byName := map[string]Found{}
	for e := range entries {
		f := found(e)
		byName[f.Instance] = f
	}
	out := make([]Found, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Found) int { return strings.Compare(a.Instance, b.Instance) })
	logger(opts.Log).Debug("mdns: browse done", "found", len(out))
	if errors.Is(ctx.Err(), context.Canceled) {
		return out, fmt.Errorf("mdns: browse: %w", ctx.Err())
	}
	return out, nil
}

// newResolver prefers both address families but settles for one: a machine
// without IPv6 (or without IPv4 multicast) can still browse.
func newResolver(ifaces []net.Interface) (*zeroconf.Resolver, error) {
	var errs []error
	for _, t := range []zeroconf.IPType{zeroconf.IPv4AndIPv6, zeroconf.IPv4, zeroconf.IPv6} {
		r, err := zeroconf.NewResolver(zeroconf.SelectIfaces(ifaces), zeroconf.SelectIPTraffic(t))
		if err == nil {
			return r, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func found(e *zeroconf.ServiceEntry) Found {
	f := Found{
		Instance: unescape(e.Instance),
		Host:     strings.TrimSuffix(unescape(e.HostName), "."),
		Port:     e.Port,
		TXT:      map[string]string{},
	}
	for _, ip := range append(slices.Clone(e.AddrIPv4), e.AddrIPv6...) {
		if !slices.ContainsFunc(f.Addrs, ip.Equal) {
			f.Addrs = append(f.Addrs, ip)
		}
	}
	for _, t := range e.Text {
		k, v, _ := strings.Cut(unescape(t), "=")
		if k == "" {
			continue
		}
		// RFC 6763 §6.4: keys are case-insensitive; the first one wins.
		if k = strings.ToLower(k); !hasKey(f.TXT, k) {
			f.TXT[k] = v
		}
	}
	return f
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// normalize fills defaults and validates.
func (s Service) normalize() (Service, error) {
	s.Instance = strings.Trim(strings.TrimSpace(s.Instance), ".")
	if s.Instance == "" {
		s.Instance = "easbridge on " + hostLabel()
	}
	s.Instance = truncate(s.Instance, maxLabel)
	if s.Port <= 0 || s.Port > 65535 {
		return s, fmt.Errorf("port %d out of range", s.Port)
	}
	if s.Path == "" {
		s.Path = DefaultPath
	}
	if s.SetupPath == "" {
		s.SetupPath = DefaultSetupPath
	}
	if s.Scheme == "" {
		s.Scheme = "http"
		if s.Fingerprint != "" {
			s.Scheme = "https"
		}
	}
	s.Scheme = strings.ToLower(s.Scheme)
	if s.Scheme != "https" && s.Scheme != "http" {
		return s, fmt.Errorf("scheme %q: want https or http", s.Scheme)
	}
	for name, p := range map[string]string{"path": s.Path, "setup path": s.SetupPath} {
		if !strings.HasPrefix(p, "/") {
			return s, fmt.Errorf("%s %q: must start with /", name, p)
		}
	}
	return s, nil
}

// records are the two registrations of a normalized Service.
func (s Service) records() ([]record, error) {
	eas := []string{"txtvers=" + txtVersion, "path=" + s.Path, "scheme=" + s.Scheme}
	if s.Fingerprint != "" {
		eas = append(eas, "fp="+s.Fingerprint)
	}
	if s.Version != "" {
		eas = append(eas, "version="+s.Version)
	}
	setupType := "_http._tcp"
	if s.Scheme == "https" {
		setupType = "_https._tcp"
	}
	rs := []record{
		{service: ServiceType, txt: eas},
		{service: setupType, txt: []string{"path=" + s.SetupPath}},
	}
	for i := range rs {
		for j, t := range rs[i].txt {
			if len(t) > 255 {
				return nil, fmt.Errorf("TXT entry %.20q… is %d bytes, the limit is 255", t, len(t))
			}
			// miekg/dns reads backslash escapes in TXT strings it packs.
			rs[i].txt[j] = strings.ReplaceAll(t, `\`, `\\`)
		}
	}
	return rs, nil
}

// selectInterfaces returns the explicit list, or the default one.
func selectInterfaces(explicit []net.Interface) ([]net.Interface, error) {
	if explicit != nil {
		if len(explicit) == 0 {
			return nil, errors.New("empty interface list")
		}
		return explicit, nil
	}
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []net.Interface
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 && ifi.Flags&net.FlagLoopback == 0 {
			out = append(out, ifi)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no interface is up and multicast-capable")
	}
	return out, nil
}

// interfaceAddrs lists the addresses to announce: every IPv4 address, and
// the global IPv6 addresses of an interface (its link-local ones when it has
// none), as zeroconf's Register does. Loopback addresses only count on a
// loopback interface.
func interfaceAddrs(ifaces []net.Interface) []string {
	var out []string
	for _, ifi := range ifaces {
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		out = append(out, pickAddrs(ifi.Flags&net.FlagLoopback != 0, addrs)...)
	}
	return out
}

func pickAddrs(loopbackIface bool, addrs []net.Addr) []string {
	var v4, v6, v6local []string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || (ipn.IP.IsLoopback() && !loopbackIface) {
			continue
		}
		switch ip := ipn.IP; {
		case ip.To4() != nil:
			v4 = append(v4, ip.String())
		case ip.IsGlobalUnicast() || ip.IsLoopback():
			v6 = append(v6, ip.String())
		case ip.IsLinkLocalUnicast():
			v6local = append(v6local, ip.String())
		}
	}
	if len(v6) == 0 {
		v6 = v6local
	}
	return append(v4, v6...)
}

func ifaceNames(ifaces []net.Interface) string {
	names := make([]string, len(ifaces))
	for i, ifi := range ifaces {
		names[i] = ifi.Name
	}
	return strings.Join(names, ",")
}

// hostLabel is the machine's short host name as a DNS label, "easbridge"
// when it has none usable.
func hostLabel() string {
	h, err := os.Hostname()
	if err != nil {
		return "easbridge"
	}
	return sanitizeHost(h)
}

func sanitizeHost(h string) string {
	h, _, _ = strings.Cut(h, ".")
	var b strings.Builder
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(truncate(b.String(), maxLabel), "-")
	if out == "" {
		return "easbridge"
	}
	return out
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n])
}

// escapeLabel writes a label in the presentation form miekg/dns produces
// when it unpacks one, so that names in questions (unpacked by miekg/dns)
// compare equal to zeroconf's names built from it, and the packed wire form
// is the raw label.
func escapeLabel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case strings.IndexByte(`.()"; @\`, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, `\%03d`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescape reverses miekg/dns presentation escapes: \X and \DDD.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigits(s[i+1:i+4]) {
			if n, err := strconv.Atoi(s[i+1 : i+4]); err == nil && n < 256 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		i++
		b.WriteByte(s[i])
	}
	return b.String()
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
