package app

import (
	"context"

	"easbridge/server/eas"
	"easbridge/sync/engine"
)

// Policy inheritance (sync/engine/policy.go): the global policy (Policy,
// SetPolicy), then an account's override, then a device's. Changing any
// level makes the devices it covers provision again at their next request
// (status 143): their effective policy's hash changed.

// PolicyLayers are the global policy and an account's and a device's
// overrides; Effective and Source combine them.
type PolicyLayers = engine.PolicyLayers

// PolicyLayers are the levels of a device's policy (deviceID "" for an
// account's).
func (r *Runtime) PolicyLayers(ctx context.Context, user, deviceID string) (PolicyLayers, error) {
	return engine.ReadPolicyLayers(ctx, r.Store, r.Policy(), user, deviceID)
}

// SetAccountPolicy stores an account's override of the global policy (nil
// removes it). It is checked over the global policy: the result must be
// valid.
func (r *Runtime) SetAccountPolicy(ctx context.Context, user string, o eas.PolicyOverride) error {
	if err := engine.SetUserPolicy(ctx, r.Store, r.Policy(), user, o); err != nil {
		return err
	}
	r.log.Info("easbridge: account policy changed", "user", user, "settings", len(o))
	return nil
}

// SetDevicePolicy stores a device's override over its account's policy
// (nil removes it).
func (r *Runtime) SetDevicePolicy(ctx context.Context, user, deviceID string, o eas.PolicyOverride) error {
	if err := engine.SetDevicePolicy(ctx, r.Store, r.Policy(), user, deviceID, o); err != nil {
		return err
	}
	r.log.Info("easbridge: device policy changed", "user", user, "device", deviceID, "settings", len(o))
	return nil
}
