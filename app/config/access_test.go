package config

import (
	"strings"
	"testing"
)

func TestAccessKeys(t *testing.T) {
	tests := []struct {
		name, toml string
		want       string // substring of the error; "" = valid
	}{
		{"default", ``, ""},
		{"quarantine by default", `default_access = "quarantine"`, ""},
		{"bad default", `default_access = "deny"`, `default_access: "deny": must be`},
		{"rule", "[[access_rule]]\ndevice_type = \"iPhone\"\naction = \"block\"", ""},
		{"rule without pattern", "[[access_rule]]\naction = \"block\"", "access_rule[0]: needs at least one of"},
		{"rule with bad action", "[[access_rule]]\nuser = \"*\"\naction = \"wipe\"", `access_rule[0].action: "wipe"`},
		{"unknown rule key", "[[access_rule]]\nimei = \"1\"\naction = \"block\"", "unknown keys: access_rule.imei"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(writeTOML(t, "data_dir = \"/tmp/x\"\n"+tc.toml+"\n"))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			case tc.want == "" && c.DefaultAccess == "":
				t.Error("default_access empty")
			}
		})
	}
}
