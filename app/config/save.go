package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"

	"easbridge/app/atomicfile"
)

// Saving accounts from the window.
//
// SaveAccounts changes only the [[account]] tables of a configuration file:
// every other key stays as the user wrote it, comments and layout included.
// It removes the file's account tables (with the comment lines right above
// each) and appends the new ones; it then reads both versions back and
// checks that nothing but the accounts changed. When that check fails (an
// account array written inline, or a multi-line string that looks like a
// table header) the file is rewritten from its decoded keys instead: the
// settings are kept, the comments are not.

// FileName is the configuration file's name in the data directory: when
// started without --config, easbridge reads DataDir/FileName if it exists,
// and the window saves accounts there.
const FileName = "easbridge.toml"

// header matches a table header line: [name] or [[name]].
var header = regexp.MustCompile(`^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(#.*)?$`)

// SaveAccounts replaces the accounts of the configuration file at path by
// accs, keeping every other setting, and replaces the file atomically
// (app/atomicfile) with its previous permissions (0600 for a new file). A
// missing file is created. accs are not validated here: the caller checks
// them with Config.Validate first.
func SaveAccounts(path string, accs []Account) error {
	old, err := os.ReadFile(path)
	perm := fs.FileMode(0o600)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return fmt.Errorf("config: save accounts: %w", err)
	default:
		if st, err := os.Stat(path); err == nil {
			perm = st.Mode().Perm()
		}
	}
	var oldKeys map[string]any
	if _, err := toml.Decode(string(old), &oldKeys); err != nil {
		return fmt.Errorf("config: save accounts: %s: %w", path, err)
	}
	tables, err := encodeAccounts(accs)
	if err != nil {
		return err
	}
	out := replaceAccountTables(old, tables)
	if !sameExceptAccounts(oldKeys, out, accs) {
		if out, err = rewrite(oldKeys, tables); err != nil {
			return err
		}
		if !sameExceptAccounts(oldKeys, out, accs) {
			return fmt.Errorf("config: save accounts: %s: could not write the accounts without changing other settings", path)
		}
	}
	if err := atomicfile.Write(path, out, perm); err != nil {
		return fmt.Errorf("config: save accounts: %w", err)
	}
	return nil
}

// encodeAccounts writes accs as [[account]] tables, leaving out the keys
// that are not set.
func encodeAccounts(accs []Account) ([]byte, error) {
	doc := reflect.New(reflect.StructOf([]reflect.StructField{{
		Name: "Account", Type: omitEmptyType(reflect.TypeFor[[]Account]()), Tag: `toml:"account"`,
	}})).Elem()
	doc.Field(0).Set(omitEmpty(reflect.ValueOf(accs)))
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(doc.Interface()); err != nil {
		return nil, fmt.Errorf("config: save accounts: %w", err)
	}
	return buf.Bytes(), nil
}

// omitEmptyType is t (a struct, or a slice of structs) with ",omitempty"
// added to every toml tag, in nested structs too; "name" is always
// written.
func omitEmptyType(t reflect.Type) reflect.Type {
	switch t.Kind() {
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return reflect.SliceOf(omitEmptyType(t.Elem()))
		}
		return t
	case reflect.Struct:
	default:
		return t
	}
	var fields []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue // not encoded anyway
		}
		name, opts, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name != "-" && name != "name" && !strings.Contains(opts, "omitempty") {
			f.Tag = reflect.StructTag(`toml:"` + name + `,omitempty"`)
		}
		f.Type = omitEmptyType(f.Type)
		f.Index, f.Offset = nil, 0
		fields = append(fields, f)
	}
	return reflect.StructOf(fields)
}

// omitEmpty copies v into a value of omitEmptyType(v.Type()).
func omitEmpty(v reflect.Value) reflect.Value {
	t := omitEmptyType(v.Type())
	if t == v.Type() {
		return v
	}
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() {
			return reflect.Zero(t)
		}
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(omitEmpty(v.Index(i)))
		}
		return out
	default: // struct
		out := reflect.New(t).Elem()
		for i := range t.NumField() {
			out.Field(i).Set(omitEmpty(v.FieldByName(t.Field(i).Name)))
		}
		return out
	}
}

// isAccountTable reports whether a header names an account table.
func isAccountTable(name string) bool {
	name = strings.ReplaceAll(strings.ReplaceAll(name, `"`, ""), "'", "")
	return name == "account" || strings.HasPrefix(name, "account.")
}

// replaceAccountTables drops the account tables of src (and the comment
// lines right above each) and appends tables.
func replaceAccountTables(src, tables []byte) []byte {
	lines := strings.SplitAfter(string(src), "\n")
	var kept, dropped []string
	inAccount := false
	isComment := func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "#") }
	for _, l := range lines {
		if m := header.FindStringSubmatch(l); m != nil {
			was := inAccount
			inAccount = isAccountTable(m[1])
			switch {
			case inAccount:
				// The comments just above describe this table.
				for len(kept) > 0 && isComment(kept[len(kept)-1]) {
					kept = kept[:len(kept)-1]
				}
			case was:
				// The comments at the end of an account table describe
				// the next one.
				i := len(dropped)
				for i > 0 && isComment(dropped[i-1]) {
					i--
				}
				kept = append(kept, dropped[i:]...)
			}
			dropped = dropped[:0]
		}
		if inAccount {
			dropped = append(dropped, l)
		} else {
			kept = append(kept, l)
		}
	}
	body := strings.TrimRight(strings.Join(kept, ""), "\n\t ")
	var b strings.Builder
	if body != "" {
		b.WriteString(body)
		b.WriteString("\n\n")
	}
	if len(tables) > 0 {
		b.WriteString("# Accounts (saved by the easbridge window).\n")
		b.Write(tables)
	}
	return []byte(b.String())
}

// rewrite encodes the file's keys with the accounts replaced.
func rewrite(keys map[string]any, tables []byte) ([]byte, error) {
	rest := withoutAccounts(keys)
	var buf bytes.Buffer
	buf.WriteString("# easbridge configuration, rewritten by the easbridge window (see docs/CONFIG.md).\n")
	if len(rest) > 0 {
		if err := toml.NewEncoder(&buf).Encode(rest); err != nil {
			return nil, fmt.Errorf("config: save accounts: %w", err)
		}
		buf.WriteString("\n")
	}
	buf.Write(tables)
	return buf.Bytes(), nil
}

// sameExceptAccounts reports whether out decodes to oldKeys with the
// accounts replaced by accs.
func sameExceptAccounts(oldKeys map[string]any, out []byte, accs []Account) bool {
	var newKeys map[string]any
	if _, err := toml.Decode(string(out), &newKeys); err != nil {
		return false
	}
	var got struct {
		Account []Account `toml:"account"`
	}
	if _, err := toml.Decode(string(out), &got); err != nil {
		return false
	}
	if len(got.Account) != len(accs) {
		return false
	}
	for i := range accs {
		if !reflect.DeepEqual(normal(got.Account[i]), normal(accs[i])) {
			return false
		}
	}
	return reflect.DeepEqual(withoutAccounts(oldKeys), withoutAccounts(newKeys))
}

func withoutAccounts(keys map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range keys {
		if k != "account" {
			out[k] = v
		}
	}
	return out
}

// normal makes nil and empty user lists equal.
func normal(a Account) Account {
	if len(a.Users) == 0 {
		a.Users = nil
	}
	return a
}
