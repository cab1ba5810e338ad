package mdns

import (
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/grandcat/zeroconf"
	"github.com/miekg/dns"
)

func TestNormalize(t *testing.T) {
	host := hostLabel()
	tests := []struct {
		name    string
		in      Service
		want    Service
		wantErr string
	}{
		{
			name: "defaults",
			in:   Service{Port: 8443, Fingerprint: "AB:CD"},
			want: Service{Instance: "easbridge on " + host, Port: 8443, Path: DefaultPath, Fingerprint: "AB:CD", Scheme: "https", SetupPath: DefaultSetupPath},
		},
		{
			name: "plain http without fingerprint",
			in:   Service{Instance: "  .my box.  ", Port: 80},
			want: Service{Instance: "my box", Port: 80, Path: DefaultPath, Scheme: "http", SetupPath: DefaultSetupPath},
		},
		{
			name: "long instance cut at a rune boundary",
			in:   Service{Instance: strings.Repeat("é", 40), Port: 1, Scheme: "HTTP"},
			want: Service{Instance: strings.Repeat("é", 31), Port: 1, Path: DefaultPath, Scheme: "http", SetupPath: DefaultSetupPath},
		},
		{name: "no port", in: Service{}, wantErr: "port 0 out of range"},
		{name: "port too big", in: Service{Port: 70000}, wantErr: "port 70000 out of range"},
		{name: "bad scheme", in: Service{Port: 1, Scheme: "ftp"}, wantErr: `scheme "ftp"`},
		{name: "relative path", in: Service{Port: 1, Path: "eas"}, wantErr: `path "eas": must start with /`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.normalize()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRecords(t *testing.T) {
	tests := []struct {
		name      string
		in        Service
		setupType string
		eas       []string
		wantErr   string
	}{
		{
			name:      "https",
			in:        Service{Port: 443, Fingerprint: "AA:BB", Version: "1.2.3"},
			setupType: "_https._tcp",
			eas:       []string{"txtvers=1", "path=/Microsoft-Server-ActiveSync", "scheme=https", "fp=AA:BB", "version=1.2.3"},
		},
		{
			name:      "http leaves fp and version out",
			in:        Service{Port: 80, Path: `/a\b`},
			setupType: "_http._tcp",
			eas:       []string{"txtvers=1", `path=/a\\b`, "scheme=http"},
		},
		{name: "TXT too long", in: Service{Port: 80, Version: strings.Repeat("v", 250)}, wantErr: "limit is 255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.in.normalize()
			if err != nil {
				t.Fatal(err)
			}
			rs, err := s.records()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 2 || rs[0].service != ServiceType || rs[1].service != tt.setupType {
				t.Fatalf("records = %+v", rs)
			}
			if !slices.Equal(rs[0].txt, tt.eas) {
				t.Errorf("EAS TXT = %q, want %q", rs[0].txt, tt.eas)
			}
			if want := []string{"path=/setup"}; !slices.Equal(rs[1].txt, want) {
				t.Errorf("setup TXT = %q, want %q", rs[1].txt, want)
			}
		})
	}
}

// TestEscapeLabel checks escapeLabel against what miekg/dns makes of the raw
// label on the wire, and that unescape undoes it.
func TestEscapeLabel(t *testing.T) {
	for _, raw := range []string{"easbridge on pc", "Büro.pc (test)", `a\b"c;d@e`, "tab\there", "plain"} {
		t.Run(raw, func(t *testing.T) {
			wire := append([]byte{byte(len(raw))}, raw...)
			wire = append(wire, 0)
			want, _, err := dns.UnpackDomainName(wire, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := escapeLabel(raw) + "."; got != want {
				t.Errorf("escapeLabel(%q) = %q, miekg/dns says %q", raw, got, want)
			}
			// Packing the escaped form gives back the raw label.
			buf := make([]byte, 256)
			n, err := dns.PackDomainName(escapeLabel(raw)+".", buf, 0, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if string(buf[:n]) != string(wire) {
				t.Errorf("packed %q, want %q", buf[:n], wire)
			}
			if got := unescape(escapeLabel(raw)); got != raw {
				t.Errorf("unescape(escapeLabel(%q)) = %q", raw, got)
			}
		})
	}
}

func TestSanitizeHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pc", "pc"},
		{"pc.fritz.box", "pc"},
		{"my_pc", "my-pc"},
		{"--", "easbridge"},
		{"", "easbridge"},
		{strings.Repeat("x", 80), strings.Repeat("x", 63)},
	}
	for _, tt := range tests {
		if got := sanitizeHost(tt.in); got != tt.want {
			t.Errorf("sanitizeHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPickAddrs(t *testing.T) {
	cidr := func(s string) net.Addr {
		ip, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		return n
	}
	tests := []struct {
		name     string
		loopback bool
		addrs    []net.Addr
		want     []string
	}{
		{"lan", false, []net.Addr{cidr("192.168.1.5/24"), cidr("fe80::1/64"), cidr("2001:db8::5/64")}, []string{"192.168.1.5", "2001:db8::5"}},
		{"link-local v6 only", false, []net.Addr{cidr("10.0.0.2/8"), cidr("fe80::1/64")}, []string{"10.0.0.2", "fe80::1"}},
		{"loopback addresses on a normal interface are ignored", false, []net.Addr{cidr("127.0.0.1/8")}, nil},
		{"loopback interface", true, []net.Addr{cidr("127.0.0.1/8"), cidr("::1/128")}, []string{"127.0.0.1", "::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickAddrs(tt.loopback, tt.addrs); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFound(t *testing.T) {
	e := zeroconf.NewServiceEntry(`B\195\188ro\ pc`, ServiceType, Domain)
	e.HostName = "pc.local."
	e.Port = 8443
	e.AddrIPv4 = []net.IP{net.IPv4(10, 0, 0, 1), net.IPv4(10, 0, 0, 1)}
	e.AddrIPv6 = []net.IP{net.ParseIP("fe80::1")}
	e.Text = []string{"Path=/eas", "path=/ignored", "fp=AA", "flag", `v=a\\b`}
	f := found(e)
	if f.Instance != "Büro pc" || f.Host != "pc.local" || f.Port != 8443 {
		t.Errorf("found = %+v", f)
	}
	if len(f.Addrs) != 2 {
		t.Errorf("addrs = %v, want 2 unique", f.Addrs)
	}
	want := map[string]string{"path": "/eas", "fp": "AA", "flag": "", "v": `a\b`}
	if len(f.TXT) != len(want) {
		t.Errorf("TXT = %q, want %q", f.TXT, want)
	}
	for k, v := range want {
		if f.TXT[k] != v {
			t.Errorf("TXT[%q] = %q, want %q", k, f.TXT[k], v)
		}
	}
}

func TestSelectInterfacesEmptyList(t *testing.T) {
	if _, err := selectInterfaces([]net.Interface{}); err == nil {
		t.Fatal("an explicit empty list must be an error, not every interface")
	}
}
