package testenv

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// Deliver hands msg to Dovecot's LDA for user, as a mail server's local
// delivery would, with the user's active Sieve script run (the sieve
// plugin is enabled for this delivery only). from is the envelope sender;
// the envelope recipient is user@Domain. Sieve actions that send mail
// (vacation, redirect) go to Sink.
func (d *Dovecot) Deliver(t testing.TB, user, from string, msg []byte) {
	t.Helper()
	u, err := findUser(d.Users, user)
	if err != nil {
		t.Fatal(err)
	}
	name, _, _ := strings.Cut(u.Name, "@")
	// dovecot-lda is in dovecot-core, like the master binary.
	cmd := exec.Command("/usr/lib/dovecot/dovecot-lda", "-c", d.ConfigPath, "-d", name, "-f", from, "-a", name+"@"+Domain,
		"-o", "mail_plugins=sieve",
		"-o", "submission_host="+d.Sink.Addr)
	cmd.Stdin = bytes.NewReader(msg)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("testenv: deliver to %s: %v\n%s\n--- dovecot log:\n%s", user, err, out.String(), d.logTail())
	}
	if out.Len() > 0 {
		t.Logf("testenv: dovecot-lda: %s", out.String())
	}
}
