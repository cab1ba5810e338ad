package cli

import (
	"bufio"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"easbridge/app/config"
	"easbridge/app/secrets"
	"easbridge/sync/engine"
)

// user is `easbridge user set-password`: stores a stored login's local EAS
// password (as a bcrypt hash) and remote password in the keychain (or the
// encrypted fallback file). Passwords are read from stdin, one per line,
// so that they never appear in the process list or shell history.
func user(env Env, args []string) int {
	if len(args) == 0 || args[0] != "set-password" {
		fmt.Fprintln(env.Stderr, "usage: easbridge user set-password --config FILE --account NAME --user EASUSER  (stdin: local password, then remote password)")
		return 2
	}
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfgPath := fs.String("config", "", "configuration file")
	account := fs.String("account", "", "account name")
	easUser := fs.String("user", "", "local EAS login")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "easbridge user: "+format+"\n", a...)
		return 1
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return fail("%v", err)
	}
	var acct *config.Account
	for i := range cfg.Accounts {
		if cfg.Accounts[i].Name == *account {
			acct = &cfg.Accounts[i]
		}
	}
	if acct == nil || acct.Login != config.LoginStored {
		return fail("no account %q with login = \"stored\" in %s", *account, *cfgPath)
	}
	known := false
	for _, u := range acct.Users {
		known = known || strings.EqualFold(u.EASUser, *easUser)
	}
	if !known {
		return fail("account %q has no [[account.user]] with eas_user = %q", *account, *easUser)
	}
	sc := bufio.NewScanner(env.Stdin)
	var pw [2]string
	for i := range pw {
		if !sc.Scan() || sc.Text() == "" {
			return fail("expected two lines on stdin: the local password, then the remote password")
		}
		pw[i] = sc.Text()
	}
	st, err := secrets.Open(cfg.DataDir, slog.New(slog.NewTextHandler(env.Stderr, nil)))
	if err != nil {
		return fail("%v", err)
	}
	hash, err := engine.HashLocalPassword(pw[0])
	if err != nil {
		return fail("%v", err)
	}
	if err := st.Set(engine.SecretName(*account, *easUser, "eas"), hash); err != nil {
		return fail("%v", err)
	}
	if err := st.Set(engine.SecretName(*account, *easUser, "remote"), pw[1]); err != nil {
		return fail("%v", err)
	}
	where := "the OS keychain"
	if key, ok := strings.CutPrefix(st.Backend(), "file:"); ok {
		where = fmt.Sprintf("%s (encrypted; its key is %s)", filepath.Join(cfg.DataDir, secrets.SecretsFile), key)
	}
	fmt.Fprintf(env.Stdout, "stored the passwords of %s/%s in %s\n", *account, *easUser, where)
	return 0
}
