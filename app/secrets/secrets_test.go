package secrets

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"
)

// exercise runs the same Get/Set/Delete checks on any backend.
func exercise(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.Get("home/alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v, want ErrNotFound", err)
	}
	steps := []struct {
		op, name, secret string
		want             string // Get after the op; "" = ErrNotFound
	}{
		{"set", "home/alice", "s3cret-α", "s3cret-α"},
		{"set", "home/bob", "other", "other"},
		{"set", "home/alice", "changed", "changed"},
		{"set", "home/empty", "", ""},
		{"delete", "home/alice", "", ""},
		{"delete", "home/never", "", ""}, // not an error
	}
	for _, st := range steps {
		var err error
		if st.op == "set" {
			err = s.Set(st.name, st.secret)
		} else {
			err = s.Delete(st.name)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", st.op, st.name, err)
		}
		got, err := s.Get(st.name)
		if st.op == "delete" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("after delete %s: %q, %v", st.name, got, err)
			}
			continue
		}
		if err != nil || got != st.want {
			t.Errorf("after %s %s: %q, %v; want %q", st.op, st.name, got, err, st.want)
		}
	}
	if got, err := s.Get("home/bob"); err != nil || got != "other" {
		t.Errorf("home/bob = %q, %v", got, err)
	}
	for _, err := range []error{s.Set("", "x"), s.Delete("")} {
		if err == nil {
			t.Error("empty name accepted")
		}
	}
	if _, err := s.Get(""); err == nil {
		t.Error("empty name accepted")
	}
}

func TestFileBackend(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, KeyFile)
	if s.Backend() != "file:"+keyPath {
		t.Errorf("Backend = %q", s.Backend())
	}
	exercise(t, s)

	for _, f := range []string{KeyFile, SecretsFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o", f, fi.Mode().Perm())
		}
	}

	// Reopened, the same key reads the same secrets.
	s2, err := OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Get("home/bob"); err != nil || got != "other" {
		t.Errorf("after reopen: %q, %v", got, err)
	}
}

func TestFileHasNoPlaintext(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "correct horse battery staple"
	if err := s.Set("office/alice", secret); err != nil {
		t.Fatal(err)
	}
	enc, err := os.ReadFile(filepath.Join(dir, SecretsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, needle := range []string{secret, "office/alice", base64.StdEncoding.EncodeToString([]byte(secret))} {
		if bytes.Contains(enc, []byte(needle)) {
			t.Errorf("secrets.enc contains %q", needle)
		}
	}
	// A second write uses a fresh nonce.
	if err := s.Set("office/alice", secret); err != nil {
		t.Fatal(err)
	}
	enc2, _ := os.ReadFile(filepath.Join(dir, SecretsFile))
	if bytes.Equal(enc, enc2) {
		t.Error("identical ciphertext after rewrite")
	}
	// No leftover temporary files.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("dir has %d entries", len(ents))
	}
}

func TestFileErrors(t *testing.T) {
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		s, err := OpenFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Set("a/b", "pw"); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name    string
		breakIt func(t *testing.T, dir string)
		want    string
	}{
		{"wrong key", func(t *testing.T, dir string) {
			other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
			mustWrite(t, filepath.Join(dir, KeyFile), other)
		}, "wrong key or damaged file"},
		{"damaged file", func(t *testing.T, dir string) {
			p := filepath.Join(dir, SecretsFile)
			b, _ := os.ReadFile(p)
			b[len(b)-1] ^= 1
			mustWrite(t, p, string(b))
		}, "wrong key or damaged file"},
		{"not a secrets file", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, SecretsFile), "hello")
		}, "not an easbridge secrets file"},
		{"bad key file", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, KeyFile), "short")
		}, "not a base64 32-byte key"},
		{"key missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, KeyFile)); err != nil {
				t.Fatal(err)
			}
		}, "is missing: restore the key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := setup(t)
			tt.breakIt(t, dir)
			_, err := OpenFile(dir)
			if err == nil {
				t.Fatalf("OpenFile: no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if tt.name != "not a secrets file" && !strings.Contains(err.Error(), filepath.Join(dir, KeyFile)) {
				t.Errorf("error %q does not name the key file", err)
			}
			if strings.Contains(err.Error(), "pw\"") {
				t.Errorf("error leaks secret: %v", err)
			}
			// The secrets file was not replaced.
			if _, serr := os.Stat(filepath.Join(dir, SecretsFile)); serr != nil {
				t.Errorf("secrets file gone: %v", serr)
			}
		})
	}
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFileConcurrent(t *testing.T) {
	s, err := OpenFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := "acct/u" + string(rune('0'+i))
			if err := s.Set(name, "pw"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 8 {
		if _, err := s.Get("acct/u" + string(rune('0'+i))); err != nil {
			t.Errorf("u%d: %v", i, err)
		}
	}
}

// The tests below replace go-keyring's global provider; they do not run in
// parallel.

func TestKeychain(t *testing.T) {
	keyring.MockInit()
	var logs bytes.Buffer
	dir := t.TempDir()
	s, err := Open(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "keychain" {
		t.Fatalf("Backend = %q", s.Backend())
	}
	exercise(t, s)
	if got, err := keyring.Get(Service, "home/bob"); err != nil || got != "other" {
		t.Errorf("not in keychain service %q: %q, %v", Service, got, err)
	}
	if logs.Len() != 0 {
		t.Errorf("unexpected log: %s", logs.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("keychain backend wrote %d files", len(ents))
	}
}

func TestFallback(t *testing.T) {
	keyring.MockInitWithError(errors.New("org.freedesktop.DBus.Error.ServiceUnknown"))
	t.Cleanup(keyring.MockInit)
	var logs bytes.Buffer
	dir := t.TempDir()
	s, err := Open(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, KeyFile)
	if s.Backend() != "file:"+keyPath {
		t.Errorf("Backend = %q", s.Backend())
	}
	out := logs.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "level=WARN") || !strings.Contains(out, keyPath) {
		t.Errorf("want one Warn naming %s, got:\n%s", keyPath, out)
	}
	if err := s.Set("a/b", "hunter2"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Error("secret logged")
	}
	if got, err := s.Get("a/b"); err != nil || got != "hunter2" {
		t.Errorf("Get = %q, %v", got, err)
	}
}
