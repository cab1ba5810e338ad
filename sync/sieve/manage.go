package sieve

import (
	"errors"
	"fmt"
)

// ErrNoInclude is returned when the user has an active script of their own
// but the server's Sieve lacks the include extension needed to keep it in
// force next to ours.
var ErrNoInclude = errors.New("sieve: the server's Sieve has no include extension; cannot keep the active script's rules")

// ErrNoVacation is returned when the server's Sieve has no vacation
// extension.
var ErrNoVacation = errors.New("sieve: the server's Sieve has no vacation extension")

// EnableVacation stores v as the script ScriptName and activates it. The
// script that was active before (unless it is ours) is left unchanged
// under its name and included after our block, so its rules keep working;
// DisableVacation activates it again.
func EnableVacation(c *Client, v Vacation) error {
	if !c.caps.HasExtension("vacation") {
		return ErrNoVacation
	}
	list, err := c.ListScripts()
	if err != nil {
		return err
	}
	active := ""
	for _, s := range list {
		if s.Active {
			active = s.Name
		}
	}
	switch {
	case active == ScriptName:
		// Already on: keep including what we included before.
		cur, err := c.GetScript(ScriptName)
		if err != nil {
			return err
		}
		old, _, err := ParseScript(cur)
		if err != nil {
			return err
		}
		v.Include = old.Include
	default:
		v.Include = active
	}
	if v.Include != "" && !c.caps.HasExtension("include") {
		return ErrNoInclude
	}
	script, err := Render(v)
	if err != nil {
		return err
	}
	if err := c.PutScript(ScriptName, script); err != nil {
		return fmt.Errorf("sieve: store the vacation script: %w", err)
	}
	if err := c.SetActive(ScriptName); err != nil {
		return fmt.Errorf("sieve: activate the vacation script: %w", err)
	}
	return nil
}

// DisableVacation turns our script off and makes the script it included
// (the user's own) active again; with none, no script is active. Our
// script stays stored, inactive, so that its texts can be read back.
func DisableVacation(c *Client) error {
	active, err := c.Active()
	if err != nil {
		return err
	}
	if active != ScriptName {
		return nil // not ours: already off
	}
	cur, err := c.GetScript(ScriptName)
	if err != nil {
		return err
	}
	v, _, err := ParseScript(cur)
	if err != nil {
		return err
	}
	if err := c.SetActive(v.Include); err != nil {
		return fmt.Errorf("sieve: reactivate %q: %w", v.Include, err)
	}
	return nil
}

// ReadVacation returns the settings of our script and whether it is the
// active one; found is false when there is no script of ours.
func ReadVacation(c *Client) (v Vacation, active, found bool, err error) {
	list, err := c.ListScripts()
	if err != nil {
		return v, false, false, err
	}
	for _, s := range list {
		if s.Name != ScriptName {
			continue
		}
		content, err := c.GetScript(ScriptName)
		if err != nil {
			return v, false, false, err
		}
		v, ok, err := ParseScript(content)
		if err != nil || !ok {
			return v, false, false, err
		}
		return v, s.Active, true, nil
	}
	return v, false, false, nil
}
