//go:build linux

package mdns

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The mDNS test never touches the machine's interfaces. TestMDNSNetns
// creates a private network namespace whose only interface is lo, turns on
// multicast there, and re-runs this test binary inside it with
// -test.run=^TestMDNSChild$; the child advertises and resolves on that lo,
// and refuses to run anywhere else.

const (
	childEnv   = "EASBRIDGE_MDNS_NETNS"      // set to the namespace name for the child
	parentEnv  = "EASBRIDGE_MDNS_PARENT_NS"  // the parent's /proc/self/ns/net link
	skipEnv    = "EASBRIDGE_MDNS_SKIP_NETNS" // set (to a reason) to skip, loudly
	mdnsPort   = 5353
	testPort   = 8443
	testFP     = "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF"
	testInst   = "Büro.pc (test)" // a dot, a space, parentheses and UTF-8: exercises escaping
	easService = "_easbridge._tcp.local."
)

var mdnsGroup = net.IPv4(224, 0, 0, 251)

func TestMDNSNetns(t *testing.T) {
	if reason := os.Getenv(skipEnv); reason != "" {
		t.Skipf("%s is set (%q): the mDNS namespace test was NOT run", skipEnv, reason)
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Fatalf("the mDNS test needs ip(8) from iproute2 to create a network namespace (set %s=reason to skip it): %v", skipEnv, err)
	}
	if os.Geteuid() != 0 {
		t.Fatalf("the mDNS test must run as root to create a network namespace with `ip netns add` (set %s=reason to skip it)", skipEnv)
	}
	ns := fmt.Sprintf("easbridge-mdns-%d-%08x", os.Getpid(), rand.Uint32())
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(ip, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Errorf("cleanup: ip netns delete %s: %v\n%s", ns, err, out)
			return
		}
		if out, _ := exec.Command(ip, "netns", "list").Output(); strings.Contains(string(out), ns) {
			t.Errorf("cleanup: namespace %s still listed:\n%s", ns, out)
		}
	})
	run("-n", ns, "link", "set", "lo", "up")
	run("-n", ns, "link", "set", "lo", "multicast", "on")
	run("-n", ns, "route", "add", "224.0.0.0/4", "dev", "lo")

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ip, "netns", "exec", ns, exe,
		"-test.run=^TestMDNSChild$", "-test.v", "-test.count=1", "-test.timeout=80s")
	parentNS, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatalf("read own network namespace: %v", err)
	}
	cmd.Env = append(os.Environ(), childEnv+"="+ns, parentEnv+"="+parentNS)
	out, err := cmd.CombinedOutput()
	t.Logf("child in namespace %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("child test in namespace %s failed: %v", ns, err)
	}
	if !strings.Contains(string(out), "--- PASS: TestMDNSChild") {
		t.Fatalf("child test in namespace %s did not report a pass", ns)
	}
}

// TestMDNSChild is the half of TestMDNSNetns that runs inside the namespace.
func TestMDNSChild(t *testing.T) {
	ns := os.Getenv(childEnv)
	if ns == "" {
		t.Skip("helper of TestMDNSNetns: runs only inside the network namespace that test creates")
	}
	lo := requireIsolated(t)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := Options{Interfaces: []net.Interface{lo}, Log: log}
	p := newProbe(t, lo)
	host, _ := os.Hostname()
	target := sanitizeHost(host) + ".local."
	inst := presentation(testInst) // how an independent resolver writes the label

	ctx := t.Context()
	adv, err := Advertise(ctx, Service{
		Instance: testInst, Port: testPort, Fingerprint: testFP, Scheme: "https", Version: "test-1",
	}, opts)
	if err != nil {
		t.Fatalf("Advertise: %v", err)
	}
	t.Cleanup(func() { _ = adv.Close() })

	t.Run("PTR query answered", func(t *testing.T) {
		rrs := p.ask(t, easService, dns.TypePTR)
		ptr := findPTR(rrs, easService, inst+"."+easService)
		if ptr == nil || ptr.Hdr.Ttl == 0 {
			t.Fatalf("no live PTR %s -> %s in %v", easService, inst+"."+easService, rrs)
		}
		checkInstance(t, rrs, inst+"."+easService, target, map[string]string{
			"txtvers": "1", "path": "/Microsoft-Server-ActiveSync", "scheme": "https", "fp": testFP, "version": "test-1",
		})
	})
	t.Run("setup page as _https._tcp", func(t *testing.T) {
		const svc = "_https._tcp.local."
		rrs := p.ask(t, svc, dns.TypePTR)
		if findPTR(rrs, svc, inst+"."+svc) == nil {
			t.Fatalf("no PTR %s -> %s in %v", svc, inst+"."+svc, rrs)
		}
		checkInstance(t, rrs, inst+"."+svc, target, map[string]string{"path": "/setup"})
	})
	t.Run("instance SRV query answered", func(t *testing.T) {
		// zeroconf compares question names textually: this passes only if
		// the escaped instance name matches miekg/dns's rendering.
		rrs := p.ask(t, inst+"."+easService, dns.TypeSRV)
		checkInstance(t, rrs, inst+"."+easService, target, map[string]string{"path": "/Microsoft-Server-ActiveSync"})
	})
	t.Run("Browse", func(t *testing.T) {
		bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		found, err := Browse(bctx, opts)
		if err != nil {
			t.Fatalf("Browse: %v", err)
		}
		if len(found) != 1 {
			t.Fatalf("Browse found %d services, want 1: %+v", len(found), found)
		}
		f := found[0]
		if f.Instance != testInst || f.Port != testPort || f.Host != strings.TrimSuffix(target, ".") ||
			f.TXT["fp"] != testFP || f.TXT["path"] != "/Microsoft-Server-ActiveSync" || f.TXT["scheme"] != "https" {
			t.Errorf("Browse found %+v", f)
		}
		if len(f.Addrs) == 0 || !f.Addrs[0].Equal(net.IPv4(127, 0, 0, 1)) {
			t.Errorf("Browse addrs = %v, want 127.0.0.1 first", f.Addrs)
		}
	})
	t.Run("Close sends goodbyes and stops answering", func(t *testing.T) {
		p.drain()
		if err := adv.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for _, svc := range []string{easService, "_https._tcp.local."} {
			if !p.waitGoodbye(inst+"."+svc, svc, 3*time.Second) {
				t.Errorf("no goodbye (TTL 0 PTR and SRV) for %s after Close", inst+"."+svc)
			}
		}
		if rrs := p.askOnce(easService, dns.TypePTR, 2*time.Second); rrs != nil {
			t.Errorf("a fresh query after Close was answered: %v", rrs)
		}
		if err := adv.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
	t.Run("context end withdraws", func(t *testing.T) {
		actx, cancel := context.WithCancel(ctx)
		a, err := Advertise(actx, Service{Instance: "ctx bound", Port: 8080}, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		name := presentation("ctx bound") + "." + easService
		if rrs := p.ask(t, easService, dns.TypePTR); findPTR(rrs, easService, name) == nil {
			t.Fatalf("no PTR for %s: %v", name, rrs)
		}
		p.drain()
		cancel()
		if !p.waitGoodbye(name, easService, 3*time.Second) {
			t.Errorf("no goodbye after the context was canceled")
		}
	})
	t.Run("bad options", func(t *testing.T) {
		if _, err := Advertise(ctx, Service{Port: 1}, Options{Interfaces: []net.Interface{}}); err == nil {
			t.Error("Advertise with an empty interface list succeeded")
		}
	})
}

// requireIsolated fails unless the process is in a network namespace other
// than its parent test's whose only interface is a multicast-capable
// loopback, and returns that interface.
func requireIsolated(t *testing.T) net.Interface {
	t.Helper()
	self, err := os.Readlink("/proc/self/ns/net")
	if parent := os.Getenv(parentEnv); err != nil || parent == "" || self == parent {
		t.Fatalf("refusing to run: not in a network namespace of its own (self %q %v, parent %q)", self, err, parent)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifaces) != 1 || ifaces[0].Flags&net.FlagLoopback == 0 {
		t.Fatalf("refusing to run: want only lo in the namespace, have %v", ifaces)
	}
	lo := ifaces[0]
	if lo.Flags&net.FlagUp == 0 || lo.Flags&net.FlagMulticast == 0 {
		t.Fatalf("lo is not up with multicast on: %v", lo.Flags)
	}
	return lo
}

// probe is an independent mDNS resolver built on miekg/dns and a plain UDP
// socket: it joins 224.0.0.251 on lo, sends queries and collects responses.
type probe struct {
	conn *net.UDPConn
	msgs chan *dns.Msg
}

func newProbe(t *testing.T, lo net.Interface) *probe {
	t.Helper()
	conn, err := net.ListenMulticastUDP("udp4", &lo, &net.UDPAddr{IP: mdnsGroup, Port: mdnsPort})
	if err != nil {
		t.Fatalf("probe: join %v on %s: %v", mdnsGroup, lo.Name, err)
	}
	// ListenMulticastUDP turns multicast loopback off; the responder runs on
	// this same host, so our queries must loop back to it.
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_MULTICAST_LOOP, 1)
	}); err != nil || serr != nil {
		t.Fatalf("probe: IP_MULTICAST_LOOP: %v %v", err, serr)
	}
	p := &probe{conn: conn, msgs: make(chan *dns.Msg, 256)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return // closed by cleanup
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) != nil || !m.Response {
				continue
			}
			select {
			case p.msgs <- m:
			default: // nobody is reading this far behind; drop
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return p
}

func (p *probe) send(name string, qtype uint16) (uint16, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.Id = uint16(rand.IntN(0xfffe) + 1) // zeroconf copies it into its answer
	buf, err := m.Pack()
	if err != nil {
		return 0, err
	}
	_, err = p.conn.WriteToUDP(buf, &net.UDPAddr{IP: mdnsGroup, Port: mdnsPort})
	return m.Id, err
}

// askOnce sends one query and returns the records of the first response
// that carries its ID, nil when none came within wait.
func (p *probe) askOnce(name string, qtype uint16, wait time.Duration) []dns.RR {
	id, err := p.send(name, qtype)
	if err != nil {
		return nil
	}
	deadline := time.After(wait)
	for {
		select {
		case m := <-p.msgs:
			if m.Id == id {
				return append(append([]dns.RR{}, m.Answer...), m.Extra...)
			}
		case <-deadline:
			return nil
		}
	}
}

// ask retries a query for up to five seconds.
func (p *probe) ask(t *testing.T, name string, qtype uint16) []dns.RR {
	t.Helper()
	for range 5 {
		if rrs := p.askOnce(name, qtype, time.Second); rrs != nil {
			return rrs
		}
	}
	t.Fatalf("no answer to %s %s", name, dns.TypeToString[qtype])
	return nil
}

func (p *probe) drain() {
	for {
		select {
		case <-p.msgs:
		default:
			return
		}
	}
}

// waitGoodbye waits for a response withdrawing instance: PTR service ->
// instance and SRV instance, both with TTL 0.
func (p *probe) waitGoodbye(instance, service string, wait time.Duration) bool {
	deadline := time.After(wait)
	for {
		select {
		case m := <-p.msgs:
			rrs := append(append([]dns.RR{}, m.Answer...), m.Extra...)
			ptr, srv := findPTR(rrs, service, instance), findSRV(rrs, instance)
			if ptr != nil && srv != nil && ptr.Hdr.Ttl == 0 && srv.Hdr.Ttl == 0 {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func checkInstance(t *testing.T, rrs []dns.RR, instance, target string, txt map[string]string) {
	t.Helper()
	srv := findSRV(rrs, instance)
	if srv == nil {
		t.Fatalf("no SRV for %s in %v", instance, rrs)
	}
	if srv.Port != testPort || !strings.EqualFold(srv.Target, target) || srv.Hdr.Ttl == 0 {
		t.Errorf("SRV = %v, want port %d target %s", srv, testPort, target)
	}
	var got map[string]string
	for _, rr := range rrs {
		if r, ok := rr.(*dns.TXT); ok && strings.EqualFold(r.Hdr.Name, instance) {
			got = map[string]string{}
			for _, s := range r.Txt {
				k, v, _ := strings.Cut(s, "=")
				got[k] = v
			}
		}
	}
	if got == nil {
		t.Fatalf("no TXT for %s in %v", instance, rrs)
	}
	for k, v := range txt {
		if got[k] != v {
			t.Errorf("TXT %s=%q, want %q (all: %q)", k, got[k], v, got)
		}
	}
	var a bool
	for _, rr := range rrs {
		if r, ok := rr.(*dns.A); ok && strings.EqualFold(r.Hdr.Name, target) && r.A.Equal(net.IPv4(127, 0, 0, 1)) {
			a = true
		}
	}
	if !a {
		t.Errorf("no A %s -> 127.0.0.1 in %v", target, rrs)
	}
}

func findPTR(rrs []dns.RR, name, ptr string) *dns.PTR {
	for _, rr := range rrs {
		if r, ok := rr.(*dns.PTR); ok && strings.EqualFold(r.Hdr.Name, name) && strings.EqualFold(r.Ptr, ptr) {
			return r
		}
	}
	return nil
}

func findSRV(rrs []dns.RR, name string) *dns.SRV {
	for _, rr := range rrs {
		if r, ok := rr.(*dns.SRV); ok && strings.EqualFold(r.Hdr.Name, name) {
			return r
		}
	}
	return nil
}

// presentation is how miekg/dns writes a raw label (without the dot),
// computed from the wire form rather than with escapeLabel.
func presentation(raw string) string {
	wire := append(append([]byte{byte(len(raw))}, raw...), 0)
	s, _, err := dns.UnpackDomainName(wire, 0)
	if err != nil {
		panic(err)
	}
	return strings.TrimSuffix(s, ".")
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

var _ io.Writer = testWriter{}
