package config

import (
	"fmt"
	"strings"
)

// Access actions of default_access and [[access_rule]].
const (
	AccessAllow      = "allow"
	AccessBlock      = "block"
	AccessQuarantine = "quarantine"
)

// AccessRule decides the access of a new device (or of one no
// administrator decided on yet): the first rule whose every set pattern
// matches wins; with none, default_access applies. Patterns are globs
// matched case-insensitively against the whole value: '*' matches any run
// of characters (slashes included), '?' one character; "" matches
// anything.
type AccessRule struct {
	// Name labels the rule in the window and the logs; default "rule N".
	Name string `toml:"name"`
	// DeviceType is the DeviceType of the request ("iPhone", "Android").
	DeviceType string `toml:"device_type"`
	// Model and OS are those the device sends in Settings or Provision
	// DeviceInformation ("Pixel 8", "Android 15").
	Model string `toml:"model"`
	OS    string `toml:"os"`
	// UserAgent is the User-Agent header.
	UserAgent string `toml:"user_agent"`
	// User is the canonical login (user@domain).
	User string `toml:"user"`
	// Action is AccessAllow, AccessBlock or AccessQuarantine.
	Action string `toml:"action"`
}

// Label is the rule's name, or "rule N" for the n-th rule (from 1).
func (r AccessRule) Label(n int) string {
	if r.Name != "" {
		return r.Name
	}
	return fmt.Sprintf("rule %d", n)
}

func validAccessAction(s string) bool {
	return s == AccessAllow || s == AccessBlock || s == AccessQuarantine
}

// validateAccess checks default_access and the access rules.
func (c Config) validateAccess(bad func(key, format string, args ...any)) {
	if !validAccessAction(c.DefaultAccess) {
		bad("default_access", "%q: must be %q, %q or %q", c.DefaultAccess, AccessAllow, AccessQuarantine, AccessBlock)
	}
	for i, r := range c.AccessRules {
		key := fmt.Sprintf("access_rule[%d]", i)
		if !validAccessAction(r.Action) {
			bad(key+".action", "%q: must be %q, %q or %q", r.Action, AccessAllow, AccessQuarantine, AccessBlock)
		}
		if strings.TrimSpace(r.DeviceType+r.Model+r.OS+r.UserAgent+r.User) == "" {
			bad(key, "needs at least one of device_type, model, os, user_agent, user")
		}
	}
}
