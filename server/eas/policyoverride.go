package eas

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
)

// PolicyOverride sets some settings of a Policy, by their toml/json names
// ("min_password_length"), to a bool or an int: the per-account and
// per-device layers over the global policy. A nil or empty override
// changes nothing.
type PolicyOverride map[string]any

// policyFields maps each setting name to its field index, in Policy's
// field order.
var policyFields, policyNames = func() (map[string]int, []string) {
	t := reflect.TypeFor[Policy]()
	m := make(map[string]int, t.NumField())
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("json")
		m[name] = i
		names = append(names, name)
	}
	return m, names
}()

// PolicySettings are the names of every policy setting, in the order of
// MS-ASPROV's EASProvisionDoc.
func PolicySettings() []string { return append([]string(nil), policyNames...) }

// Get returns a setting's value (bool or int); false when the name is
// unknown.
func (p Policy) Get(name string) (any, bool) {
	i, ok := policyFields[name]
	if !ok {
		return nil, false
	}
	return reflect.ValueOf(p).Field(i).Interface(), true
}

// Apply returns p with the override's settings set. An unknown name or a
// value of the wrong type is an error naming it; ranges are Validate's.
func (o PolicyOverride) Apply(p Policy) (Policy, error) {
	v := reflect.ValueOf(&p).Elem()
	for _, name := range o.Names() {
		i, ok := policyFields[name]
		if !ok {
			return p, fmt.Errorf("eas: policy setting %q unknown", name)
		}
		f := v.Field(i)
		switch x := o[name]; f.Kind() {
		case reflect.Bool:
			b, ok := x.(bool)
			if !ok {
				return p, fmt.Errorf("eas: policy setting %s: %v is not true or false", name, x)
			}
			f.SetBool(b)
		case reflect.Int:
			n, ok := toInt(x)
			if !ok {
				return p, fmt.Errorf("eas: policy setting %s: %v is not a whole number", name, x)
			}
			f.SetInt(int64(n))
		}
	}
	return p, nil
}

// Names are the override's setting names, sorted.
func (o PolicyOverride) Names() []string {
	names := make([]string, 0, len(o))
	for k := range o {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Diff is the override that turns base into p: the settings whose values
// differ.
func Diff(base, p Policy) PolicyOverride {
	o := PolicyOverride{}
	bv, pv := reflect.ValueOf(base), reflect.ValueOf(p)
	for i, name := range policyNames {
		if a, b := bv.Field(i).Interface(), pv.Field(i).Interface(); a != b {
			o[name] = b
		}
	}
	return o
}

// UnmarshalJSON reads an override, keeping whole numbers as ints.
func (o *PolicyOverride) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(PolicyOverride, len(raw))
	for k, v := range raw {
		if f, ok := v.(float64); ok {
			n, ok := toInt(f)
			if !ok {
				return fmt.Errorf("eas: policy setting %s: %v is not a whole number", k, f)
			}
			v = n
		}
		out[k] = v
	}
	*o = out
	return nil
}

func toInt(x any) (int, bool) {
	switch n := x.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > math.MaxInt32 {
			return 0, false
		}
		return int(n), true
	}
	return 0, false
}
