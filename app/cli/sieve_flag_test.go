package cli

import (
	"strings"
	"testing"
)

func TestBuildConfigSieveFlag(t *testing.T) {
	base := serveFlags{data: t.TempDir(), listen: "127.0.0.1:0", tls: "off"}
	for _, tc := range []struct {
		name      string
		imap      string
		sieve     string
		wantSieve string
		err       string
	}{
		{name: "default is empty (IMAP host, port 4190)", imap: "imap://127.0.0.1:143", wantSieve: ""},
		{name: "explicit", imap: "imap://127.0.0.1:143", sieve: "sieve://127.0.0.1:14190", wantSieve: "sieve://127.0.0.1:14190"},
		{name: "off", imap: "imap://127.0.0.1:143", sieve: "off", wantSieve: "off"},
		{name: "bad scheme", imap: "imap://127.0.0.1:143", sieve: "imap://h", err: "account[0].sieve"},
		{name: "needs imap", sieve: "sieve://h", err: "--sieve need --imap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			f.imap, f.sieve = tc.imap, tc.sieve
			cfg, err := buildConfig(f)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Accounts) != 1 || cfg.Accounts[0].Sieve != tc.wantSieve {
				t.Fatalf("accounts %+v", cfg.Accounts)
			}
		})
	}
}
