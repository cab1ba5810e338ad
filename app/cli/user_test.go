package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"easbridge/app/secrets"
	"easbridge/sync/engine"
)

// TestUserSetPasswordFileFallback runs `easbridge user set-password` where
// the keychain does not answer: the passwords go to the encrypted file, and
// the message names that file and its key (not the key as the store).
func TestUserSetPasswordFileFallback(t *testing.T) {
	keyring.MockInitWithError(errors.New("no Secret Service"))
	t.Cleanup(keyring.MockInit)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "easbridge.toml")
	toml := "data_dir = \"" + data + "\"\n" + `[[account]]
name = "office"
imap = "imap://127.0.0.1:1"
domain = "office.example"
login = "stored"
[[account.user]]
eas_user = "alice"
remote_user = "alice.smith"
`
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, stdin string
		code        int
		stdout      string
		stderr      string
	}{
		{"both passwords", "localpw\nremotepw\n", 0,
			"stored the passwords of office/alice in " + filepath.Join(data, secrets.SecretsFile) +
				" (encrypted; its key is " + filepath.Join(data, secrets.KeyFile) + ")\n", "keychain unavailable"},
		{"one line only", "localpw\n", 1, "", "expected two lines on stdin"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := Main(Env{
			Args:  []string{"user", "set-password", "--config", cfg, "--account", "office", "--user", "alice"},
			Stdin: strings.NewReader(tt.stdin), Stdout: &out, Stderr: &errb,
		})
		if code != tt.code || out.String() != tt.stdout || !strings.Contains(errb.String(), tt.stderr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d, %q, stderr with %q",
				tt.name, code, out.String(), errb.String(), tt.code, tt.stdout, tt.stderr)
		}
	}
	st, err := secrets.OpenFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(engine.SecretName("office", "alice", "remote")); err != nil || got != "remotepw" {
		t.Errorf("remote password in %s = %q, %v; want remotepw", secrets.SecretsFile, got, err)
	}
}
