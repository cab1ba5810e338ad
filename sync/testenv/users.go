package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Domain is the mail domain of every test user.
const Domain = "example.test"

// User is a test account on a rig. Its email address is Name+"@example.test".
type User struct{ Name, Password string }

// Email returns the user's address, Name@example.test.
func (u User) Email() string { return u.Name + "@" + Domain }

// DefaultUsers returns the accounts a rig creates when its options name none:
// alice/alicepw and bob/bobpw.
func DefaultUsers() []User {
	return []User{{Name: "alice", Password: "alicepw"}, {Name: "bob", Password: "bobpw"}}
}

// userNameRE restricts names to what is safe in passwd-files, htpasswd files,
// paths and URLs.
var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// checkUsers returns users, or DefaultUsers when empty, after validating them.
func checkUsers(users []User) ([]User, error) {
	if len(users) == 0 {
		return DefaultUsers(), nil
	}
	seen := make(map[string]bool)
	for _, u := range users {
		if !userNameRE.MatchString(u.Name) {
			return nil, fmt.Errorf("user name %q: want lower-case letters, digits, '.', '_' or '-'", u.Name)
		}
		if u.Password == "" || strings.ContainsAny(u.Password, ":\r\n") {
			return nil, fmt.Errorf("user %s: password must be non-empty without ':' or line breaks", u.Name)
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("user %s listed twice", u.Name)
		}
		seen[u.Name] = true
	}
	return append([]User(nil), users...), nil
}

// findUser finds name, which may also be given as an email address, in users.
func findUser(users []User, name string) (User, error) {
	local := strings.TrimSuffix(strings.ToLower(name), "@"+Domain)
	for _, u := range users {
		if u.Name == local {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("testenv: no user %q on this rig", name)
}

// makeRigDir creates a fresh directory for one server. It lives directly in
// the system temp directory rather than in t.TempDir(): Dovecot puts UNIX
// sockets in it (their paths are limited to 107 bytes) and its unprivileged
// processes must be able to reach it, while t.TempDir() paths are long and
// mode 0700 on every level.
func makeRigDir(prefix string) (string, error) {
	base := os.TempDir()
	if len(base) > 40 || strings.ContainsAny(base, " \t\"'%$\\") {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		return "", fmt.Errorf("create rig directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("create rig directory: %w", err)
	}
	return filepath.Clean(dir), nil
}
