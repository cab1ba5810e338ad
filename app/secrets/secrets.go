// Package secrets keeps the upstream passwords of accounts using the
// "stored" login model.
//
// Secrets go to the OS keychain (macOS Keychain, Windows Credential Manager,
// Secret Service on Linux) under the service "easbridge". Where there is no
// keychain — typically a server without D-Bus or Secret Service — they go to
// secrets.enc in the data directory, encrypted with AES-256-GCM under a
// random key kept in secret.key (mode 0600) beside it. That fallback only
// keeps secrets out of plain sight (backups, casual reads of the data
// directory); anyone who can read secret.key can read them, so Open
// announces it once, naming the key file, and Backend reports it.
//
// Nothing is ever written to disk in plain text, and secret values are
// never logged.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/zalando/go-keyring"

	"easbridge/app/atomicfile"
)

// Service is the keychain service name under which secrets are stored.
const Service = "easbridge"

// Files of the fallback backend, inside the data directory.
const (
	KeyFile     = "secret.key"
	SecretsFile = "secrets.enc"
)

// ErrNotFound is returned by Get for a name that has no secret.
var ErrNotFound = errors.New("secrets: not found")

// probeName is looked up to find out whether the keychain works.
const probeName = "easbridge-keychain-probe"

// Store reads and writes named secrets. It is safe for concurrent use.
type Store struct {
	b       backend
	backend string
}

type backend interface {
	get(name string) (string, error)
	set(name, secret string) error
	del(name string) error
}

// Open returns a Store on the OS keychain or, when the keychain does not
// answer, on the encrypted file in dataDir; the fallback is logged at Warn
// level with the key file's path.
func Open(dataDir string, log *slog.Logger) (*Store, error) {
	_, err := keyring.Get(Service, probeName)
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return &Store{b: keychain{}, backend: "keychain"}, nil
	}
	s, ferr := OpenFile(dataDir)
	if ferr != nil {
		return nil, fmt.Errorf("secrets: keychain unavailable (%v) and file fallback failed: %w", err, ferr)
	}
	if log != nil {
		log.Warn("keychain unavailable; storing account passwords in an encrypted file whose key is on disk: protect and back up the key file",
			"key_file", s.b.(*file).keyPath, "secrets_file", s.b.(*file).encPath, "reason", err.Error())
	}
	return s, nil
}

// OpenFile returns a Store on the encrypted file backend in dataDir,
// creating the directory (0700) and a new key if there is neither key nor
// secrets file yet. A secrets file without its key is an error: a new key
// could not decrypt it.
func OpenFile(dataDir string) (*Store, error) {
	if dataDir == "" {
		return nil, errors.New("secrets: no data directory")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: create data dir: %w", err)
	}
	f := &file{
		keyPath: filepath.Join(dataDir, KeyFile),
		encPath: filepath.Join(dataDir, SecretsFile),
	}
	key, err := loadKey(f.keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(f.encPath); serr == nil {
			return nil, fmt.Errorf("secrets: %s exists but its key %s is missing: restore the key, or delete %s to start over (its secrets are lost)", f.encPath, f.keyPath, SecretsFile)
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("secrets: generate key: %w", err)
		}
		enc := []byte(base64.StdEncoding.EncodeToString(key) + "\n")
		if err := atomicfile.Write(f.keyPath, enc, 0o600); err != nil {
			return nil, fmt.Errorf("secrets: write key: %w", err)
		}
	case err != nil:
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: cipher: %w", err)
	}
	if f.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("secrets: gcm: %w", err)
	}
	// Fail now rather than at the first Get if the key does not fit.
	if _, err := f.load(); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Store{b: f, backend: "file:" + f.keyPath}, nil
}

// Backend is "keychain" or "file:" followed by the key file's path.
func (s *Store) Backend() string { return s.backend }

// Get returns the secret stored under name, or ErrNotFound.
func (s *Store) Get(name string) (string, error) {
	if name == "" {
		return "", errors.New("secrets: get: empty name")
	}
	v, err := s.b.get(name)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", err
		}
		return "", fmt.Errorf("secrets: get %q: %w", name, err)
	}
	return v, nil
}

// Set stores secret under name, replacing any previous one.
func (s *Store) Set(name, secret string) error {
	if name == "" {
		return errors.New("secrets: set: empty name")
	}
	if err := s.b.set(name, secret); err != nil {
		return fmt.Errorf("secrets: set %q: %w", name, err)
	}
	return nil
}

// Delete removes the secret stored under name; deleting a missing name is
// not an error.
func (s *Store) Delete(name string) error {
	if name == "" {
		return errors.New("secrets: delete: empty name")
	}
	if err := s.b.del(name); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("secrets: delete %q: %w", name, err)
	}
	return nil
}

// keychain is the OS keychain through go-keyring.
type keychain struct{}

func (keychain) get(name string) (string, error) {
	v, err := keyring.Get(Service, name)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", ErrNotFound
	}
	return v, err
}

func (keychain) set(name, secret string) error { return keyring.Set(Service, name, secret) }

func (keychain) del(name string) error {
	err := keyring.Delete(Service, name)
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// file is the encrypted-file fallback. secrets.enc holds magic, a 12-byte
// nonce and the GCM sealing of a JSON object name → secret, with the magic
// as additional data. Every change rewrites it atomically with a fresh
// nonce.
type file struct {
	keyPath, encPath string
	aead             cipher.AEAD

	mu sync.Mutex // serializes read-modify-write of encPath
}

var magic = []byte("EASBSEC1")

func loadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secrets: read key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("secrets: key file %s is not a base64 32-byte key", path)
	}
	return key, nil
}

func (f *file) load() (map[string]string, error) {
	b, err := os.ReadFile(f.encPath)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.encPath, err)
	}
	ns := f.aead.NonceSize()
	if len(b) < len(magic)+ns || !bytes.Equal(b[:len(magic)], magic) {
		return nil, fmt.Errorf("%s is not an easbridge secrets file", f.encPath)
	}
	nonce, sealed := b[len(magic):len(magic)+ns], b[len(magic)+ns:]
	plain, err := f.aead.Open(nil, nonce, sealed, magic)
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt %s with the key in %s: wrong key or damaged file", f.encPath, f.keyPath)
	}
	m := map[string]string{}
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", f.encPath, err)
	}
	return m, nil
}

func (f *file) store(m map[string]string) error {
	plain, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	nonce := make([]byte, f.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("nonce: %w", err)
	}
	out := make([]byte, 0, len(magic)+len(nonce)+len(plain)+f.aead.Overhead())
	out = append(out, magic...)
	out = append(out, nonce...)
	out = f.aead.Seal(out, nonce, plain, magic)
	clear(plain)
	if err := atomicfile.Write(f.encPath, out, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", f.encPath, err)
	}
	return nil
}

func (f *file) get(name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return "", err
	}
	v, ok := m[name]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (f *file) set(name, secret string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return err
	}
	m[name] = secret
	return f.store(m)
}

func (f *file) del(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return err
	}
	if _, ok := m[name]; !ok {
		return ErrNotFound
	}
	delete(m, name)
	return f.store(m)
}
