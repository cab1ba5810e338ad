package ui

import "easbridge/app/config"

// ClassLabels name the class switches of an account in the account form,
// in the order of config.AccountClasses.
var ClassLabels = [4]string{"Email", "Contacts", "Calendar and tasks", "Notes"}

// classSwitches are the switches of c in the order of ClassLabels.
func classSwitches(c *config.AccountClasses) [4]**bool {
	return [4]**bool{&c.Email, &c.Contacts, &c.Calendar, &c.Notes}
}

// setClasses checks the classes c leaves on.
func (f *AccountForm) setClasses(c config.AccountClasses) {
	var on []string
	for i, sw := range classSwitches(&c) {
		if *sw == nil || **sw {
			on = append(on, ClassLabels[i])
		}
	}
	f.Classes.SetSelected(on)
}

// classes are the class switches the form shows: an unchecked class is
// off; a checked one keeps the account's value when it was on (nil, the
// default, stays nil).
func (f *AccountForm) classes() config.AccountClasses {
	checked := map[string]bool{}
	for _, l := range f.Classes.Selected {
		checked[l] = true
	}
	out := f.orig.Classes
	for i, sw := range classSwitches(&out) {
		switch {
		case !checked[ClassLabels[i]]:
			off := false
			*sw = &off
		case *sw != nil && !**sw:
			*sw = nil // turned back on
		}
	}
	return out
}
