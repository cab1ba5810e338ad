package app

import (
	"testing"

	"easbridge/app/config"
	"easbridge/server/eas"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"iPhone", "iphone", true},
		{"iPhone", "iPhone15", false},
		{"iPhone*", "iPhone15C2", true},
		{"*emulator*", "Android SDK built for x86 (emulator)", true},
		{"Apple-iPhone*/*", "Apple-iPhone15C2/2104.200", true},
		{"iOS 1?.*", "iOS 17.4 21E219", true},
		{"iOS 1?.*", "iOS 9.3", false},
		{"*", "", true},
		{"?", "", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*@office.example", "bob@office.example", true},
		{"*@office.example", "bob@office.example.net", false},
	}
	for _, tc := range tests {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestAccessRulesDecide(t *testing.T) {
	c := config.Default()
	c.DefaultAccess = config.AccessQuarantine
	c.AccessRules = []config.AccessRule{
		{DeviceType: "Android", Model: "*emulator*", Action: config.AccessBlock},
		{Name: "staff", User: "*@office.example", OS: "iOS*", Action: config.AccessAllow},
	}
	rules := newAccessRules(c)
	tests := []struct {
		name   string
		d      eas.Device
		access eas.Access
		by     eas.AccessBy
	}{
		{"first rule", eas.Device{Type: "android", Model: "x86 emulator"}, eas.AccessBlocked, "rule 1"},
		{"every pattern must match", eas.Device{Type: "Android", Model: "Pixel 8"}, eas.AccessQuarantined, eas.AccessByDefault},
		{"named rule", eas.Device{User: "bob@office.example", OS: "iOS 18.2"}, eas.AccessAllowed, "rule staff"},
		{"no OS yet", eas.Device{User: "bob@office.example"}, eas.AccessQuarantined, eas.AccessByDefault},
	}
	for _, tc := range tests {
		a, by := rules.decide(tc.d)
		if a != tc.access || by != tc.by {
			t.Errorf("%s: %v by %q, want %v by %q", tc.name, a, by, tc.access, tc.by)
		}
	}
}
