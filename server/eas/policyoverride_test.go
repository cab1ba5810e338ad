package eas

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestPolicyOverride(t *testing.T) {
	base := DefaultPolicy()
	tests := []struct {
		name string
		json string
		want func(*Policy)
		err  string
	}{
		{"empty", `{}`, func(*Policy) {}, ""},
		{"bool and int", `{"allow_camera": false, "min_password_length": 6}`,
			func(p *Policy) { p.AllowCamera, p.MinDevicePasswordLength = false, 6 }, ""},
		{"negative int", `{"max_email_body_truncation_size": 20}`, func(p *Policy) { p.MaxEmailBodyTruncationSize = 20 }, ""},
		{"unknown", `{"allow_teleport": true}`, nil, `"allow_teleport" unknown`},
		{"wrong type", `{"allow_camera": 1}`, nil, "allow_camera: 1 is not true or false"},
		{"fraction", `{"min_password_length": 6.5}`, nil, "not a whole number"},
		{"string for int", `{"min_password_length": "6"}`, nil, "not a whole number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o PolicyOverride
			err := json.Unmarshal([]byte(tc.json), &o)
			var got Policy
			if err == nil {
				got, err = o.Apply(base)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := base
			tc.want(&want)
			if got != want {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
			// Diff gives back the override's effect, and it survives JSON.
			d := Diff(base, got)
			b, _ := json.Marshal(d)
			var back PolicyOverride
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if again, err := back.Apply(base); err != nil || again != got {
				t.Errorf("Diff round trip: %+v, %v", again, err)
			}
		})
	}
	if v, ok := base.Get("allow_bluetooth"); !ok || v != 2 {
		t.Errorf("Get = %v, %v", v, ok)
	}
	if names := PolicySettings(); len(names) != reflect.TypeFor[Policy]().NumField() || names[0] != "device_password_enabled" {
		t.Errorf("settings %v", names)
	}
}

// FuzzPolicyOverride: any stored override either fails to decode or
// applies (or fails) without panicking, and what applies survives Diff.
func FuzzPolicyOverride(f *testing.F) {
	f.Add([]byte(`{"allow_camera": false, "min_password_length": 6}`))
	f.Add([]byte(`{"allow_bluetooth": 1e300}`))
	f.Add([]byte(`{"x": [1, {"y": null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var o PolicyOverride
		if json.Unmarshal(b, &o) != nil {
			return
		}
		p, err := o.Apply(DefaultPolicy())
		if err != nil {
			return
		}
		if again, err := Diff(DefaultPolicy(), p).Apply(DefaultPolicy()); err != nil || again != p {
			t.Fatalf("Diff of %s: %+v, %v", b, again, err)
		}
	})
}
