package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"easbridge/server/eas"
	"easbridge/sync/state"
)

// Policy inheritance: the global policy (Options.Policy), then the
// account's override, then the device's, each kept as JSON
// (eas.PolicyOverride) in the state store's per-user settings. A device
// provisioned under another effective policy gets status 143 at its next
// command (server.policyCheck compares eas.Policy.Hash).

// userPolicySetting is the setting name of an account's override, under
// the canonical user; devicePolicySetting that of a device's.
const userPolicySetting = "policy"

func devicePolicySetting(deviceID string) string { return "policy/device/" + deviceID }

// PolicyLayers are the three levels of a device's policy; Device is nil
// for an account's layers.
type PolicyLayers struct {
	Global       eas.Policy
	User, Device eas.PolicyOverride
}

// Effective is the policy the device gets.
func (l PolicyLayers) Effective() (eas.Policy, error) {
	p, err := l.User.Apply(l.Global)
	if err != nil {
		return p, fmt.Errorf("engine: account policy: %w", err)
	}
	if p, err = l.Device.Apply(p); err != nil {
		return p, fmt.Errorf("engine: device policy: %w", err)
	}
	return p, nil
}

// Source says which level sets a setting: "device", "account" or
// "global".
func (l PolicyLayers) Source(name string) string {
	if _, ok := l.Device[name]; ok {
		return "device"
	}
	if _, ok := l.User[name]; ok {
		return "account"
	}
	return "global"
}

// Policy implements server.Backend: the effective policy of a device.
func (e *Engine) Policy(ctx context.Context, user, deviceID string) (eas.Policy, error) {
	l, err := ReadPolicyLayers(ctx, e.opts.Store, e.opts.Policy(), user, deviceID)
	if err != nil {
		return eas.Policy{}, err
	}
	return l.Effective()
}

// ReadPolicyLayers reads the account's and (deviceID not "") the device's
// overrides over global.
func ReadPolicyLayers(ctx context.Context, st state.Store, global eas.Policy, user, deviceID string) (PolicyLayers, error) {
	l := PolicyLayers{Global: global}
	var err error
	if l.User, err = readOverride(ctx, st, user, userPolicySetting); err != nil {
		return l, err
	}
	if deviceID != "" {
		if l.Device, err = readOverride(ctx, st, user, devicePolicySetting(deviceID)); err != nil {
			return l, err
		}
	}
	return l, nil
}

func readOverride(ctx context.Context, st state.Store, user, name string) (eas.PolicyOverride, error) {
	b, err := st.Setting(ctx, user, name)
	if errors.Is(err, state.ErrNotFound) || err == nil && len(b) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("engine: %s of %s: %w", name, user, err)
	}
	var o eas.PolicyOverride
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("engine: %s of %s: %w", name, user, err)
	}
	return o, nil
}

// SetUserPolicy stores an account's override (nil or empty removes it)
// after checking that it applies over global and gives a valid policy.
func SetUserPolicy(ctx context.Context, st state.Store, global eas.Policy, user string, o eas.PolicyOverride) error {
	return writeOverride(ctx, st, global, user, userPolicySetting, o)
}

// SetDevicePolicy stores a device's override (nil or empty removes it),
// checked over global and the account's override.
func SetDevicePolicy(ctx context.Context, st state.Store, global eas.Policy, user, deviceID string, o eas.PolicyOverride) error {
	return writeOverride(ctx, st, global, user, devicePolicySetting(deviceID), o)
}

func writeOverride(ctx context.Context, st state.Store, global eas.Policy, user, name string, o eas.PolicyOverride) error {
	if len(o) > 0 {
		l, err := ReadPolicyLayers(ctx, st, global, user, "")
		if err != nil {
			return err
		}
		if name == userPolicySetting {
			l.User = o
		} else {
			l.Device = o
		}
		p, err := l.Effective()
		if err == nil {
			err = p.Validate()
		}
		if err != nil {
			return err
		}
	}
	var b []byte // empty: no override (the store has no delete)
	if len(o) > 0 {
		var err error
		if b, err = json.Marshal(o); err != nil {
			return fmt.Errorf("engine: %s of %s: %w", name, user, err)
		}
	}
	if err := st.PutSetting(ctx, user, name, b); err != nil {
		return fmt.Errorf("engine: %s of %s: %w", name, user, err)
	}
	return nil
}
