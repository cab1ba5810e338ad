package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// MailUserName is the system user that owns the test mail when the tests run
// as root (Dovecot refuses to store mail as root). The rig creates it when
// missing.
const MailUserName = "easbridge-test"

// identity is an OS user and its primary group.
type identity struct {
	User  string
	Group string
	UID   int
	GID   int
}

func identityFromUser(u *user.User) (identity, error) {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return identity{}, fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return identity{}, fmt.Errorf("user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return identity{}, fmt.Errorf("user %s: group %s: %w", u.Username, u.Gid, err)
	}
	return identity{User: u.Username, Group: g.Name, UID: uid, GID: gid}, nil
}

func lookupIdentity(name string) (identity, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return identity{}, fmt.Errorf("look up user %s: %w", name, err)
	}
	return identityFromUser(u)
}

func currentIdentity() (identity, error) {
	u, err := user.Current()
	if err != nil {
		return identity{}, fmt.Errorf("look up current user: %w", err)
	}
	return identityFromUser(u)
}

// mailIdentity returns the user Dovecot stores mail as: MailUserName when
// running as root (creating it if needed), the current user otherwise.
func mailIdentity() (identity, error) {
	if os.Geteuid() != 0 {
		return currentIdentity()
	}
	var lastErr error
	// Parallel rigs may race to create the user: useradd then fails (user
	// exists, or /etc/passwd is locked) and the next lookup settles it.
	for attempt := range 10 {
		id, err := lookupIdentity(MailUserName)
		if err == nil {
			return id, nil
		}
		if !errors.As(err, new(user.UnknownUserError)) {
			return identity{}, err
		}
		out, err := exec.Command("useradd", "--system", "--no-create-home",
			"--shell", "/usr/sbin/nologin", MailUserName).CombinedOutput()
		if err == nil {
			continue
		}
		lastErr = fmt.Errorf("useradd %s: %w: %s", MailUserName, err, strings.TrimSpace(string(out)))
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	return identity{}, fmt.Errorf("create mail user: %w", lastErr)
}
