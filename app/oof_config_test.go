package app

import (
	"testing"

	"easbridge/app/config"
)

func TestSieveConfig(t *testing.T) {
	for _, tc := range []struct {
		acct     config.Account
		url      string
		insecure bool
	}{
		{config.Account{IMAP: "imaps://mail.example.org"}, "sieve://mail.example.org:4190", false},
		{config.Account{IMAP: "imap://[::1]:10143"}, "sieve://[::1]:4190", false},
		{config.Account{IMAP: "imaps://mail.example.org", Sieve: "sieve://sieve.example.org:2000", InsecureSkipVerify: true}, "sieve://sieve.example.org:2000", true},
		{config.Account{IMAP: "imaps://mail.example.org", Sieve: config.SieveOff}, "", false},
		{config.Account{DAV: "https://dav.example.org/"}, "", false},
	} {
		got := sieveConfig(tc.acct)
		if got.URL != tc.url || (got.TLS != nil && got.TLS.InsecureSkipVerify) != tc.insecure {
			t.Errorf("%+v: %+v, want %q insecure=%v", tc.acct, got, tc.url, tc.insecure)
		}
	}
}
