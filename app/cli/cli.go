// Package cli is easbridge's command line: serve (headless or with the
// window), the WBXML inspector, a small EAS client, and user management for
// stored logins. main only calls Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/app/pairing"
	"easbridge/server/wbxml/wbxmlcmd"
)

// GUI runs the desktop app over a started runtime until the user quits.
// It is nil in builds without a GUI (-tags nogui).
type GUI func(ctx context.Context, rt *app.Runtime, stop context.CancelFunc) error

// Env is what Main needs from the process.
type Env struct {
	Args   []string // without the program name
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	GUI    GUI
}

const usage = `easbridge — a personal Exchange ActiveSync server for your IMAP, SMTP, CalDAV and CardDAV accounts

usage:
  easbridge                         start (window and tray when a display is there, headless otherwise)
  easbridge serve [flags]           start; --headless never opens a window
  easbridge wbxml decode|encode [FILE]
                                    WBXML inspector: WBXML -> XML, XML -> WBXML (stdin when no FILE)
  easbridge client [flags] options|provision|foldersync
                                    a small EAS client to try a server
  easbridge folders list|mode --user USER [--device ID] ...
                                    per-folder visibility, look-back filter and sync modes
  easbridge devices list|show|allow|block|quarantine|wipe|forget|resync [ID] [flags]
                                    manage devices, whether or not easbridge is serving
  easbridge user set-password --config FILE --account NAME --user EASUSER
                                    store a stored login's passwords (read from stdin: local, then remote)

run "easbridge serve -h" or "easbridge client -h" for flags.
`

// Main runs the command line and returns the exit status.
func Main(env Env) int {
	args := env.Args
	if len(args) == 0 {
		return serve(env, nil, false)
	}
	switch args[0] {
	case "serve":
		return serve(env, args[1:], true)
	case "wbxml":
		return wbxmlcmd.Run(args[1:], env.Stdin, env.Stdout, env.Stderr)
	case "client":
		return client(env, args[1:])
	case "user":
		return user(env, args[1:])
	case "folders":
		return folders(env, args[1:])
	case "devices":
		return devices(env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	}
	fmt.Fprintf(env.Stderr, "easbridge: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// serveFlags are the quick single-account flags of `easbridge serve`.
type serveFlags struct {
	config, listen, data, tls, imap, smtp, dav, sieve, domain, logWBXML string
	headless, forcePlain, verbose                                       bool
}

func serve(env Env, args []string, explicit bool) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var f serveFlags
	fs.StringVar(&f.config, "config", "", "TOML configuration file (see docs/CONFIG.md)")
	fs.StringVar(&f.listen, "listen", "", "address to listen on (default :8443)")
	fs.StringVar(&f.data, "data", "", "data directory (default the OS config dir/easbridge)")
	fs.StringVar(&f.tls, "tls", "", "auto (local CA and certificate) or off (loopback only unless --force-plain-http)")
	fs.StringVar(&f.imap, "imap", "", "IMAP server of a quick single account: imap://host:port or imaps://host:port")
	fs.StringVar(&f.smtp, "smtp", "", "SMTP submission server: smtp://host:port or smtps://host:port")
	fs.StringVar(&f.dav, "dav", "", "CalDAV/CardDAV base URL; calendar and address book homes are discovered")
	fs.StringVar(&f.sieve, "sieve", "", "ManageSieve server for out-of-office replies: sieve://host:port (default the IMAP host, port 4190; off disables)")
	fs.StringVar(&f.domain, "domain", "", "mail domain: a login without @ has the address LOGIN@DOMAIN")
	fs.StringVar(&f.logWBXML, "log-wbxml", "", "append every decoded exchange to this file")
	fs.BoolVar(&f.headless, "headless", false, "never open a window")
	fs.BoolVar(&f.forcePlain, "force-plain-http", false, "allow --tls off on a non-loopback address")
	fs.BoolVar(&f.verbose, "v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f.config = configFile(f)
	cfg, err := buildConfig(f)
	if err != nil {
		fmt.Fprintf(env.Stderr, "easbridge: %v\n", err)
		return 1
	}
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rt, err := app.Start(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "easbridge: %v\n", err)
		return 1
	}
	if f.config != "" {
		rt.SetConfigFile(f.config) // the window saves accounts there
	}
	printBanner(env.Stdout, rt)

	useGUI := !f.headless && env.GUI != nil && hasDisplay()
	if !f.headless && !useGUI {
		if env.GUI == nil {
			fmt.Fprintln(env.Stdout, "easbridge: built without a GUI (-tags nogui): running headless")
		} else {
			fmt.Fprintln(env.Stdout, "easbridge: no display found (DISPLAY/WAYLAND_DISPLAY unset): running headless")
		}
	}
	status := 0
	if useGUI {
		if err := env.GUI(ctx, rt, stop); err != nil {
			fmt.Fprintf(env.Stderr, "easbridge: window: %v\n", err)
			status = 1
		}
	} else {
		<-ctx.Done()
	}
	fmt.Fprintln(env.Stdout, "easbridge: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Close(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(env.Stderr, "easbridge: shutdown: %v\n", err)
	}
	return status
}

func hasDisplay() bool {
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// configFile is --config, else the data directory's config.FileName when
// it exists (where the window saves accounts), else "".
func configFile(f serveFlags) string {
	if f.config != "" {
		return f.config
	}
	dir := f.data
	if dir == "" {
		dir = config.Default().DataDir
	}
	p := filepath.Join(dir, config.FileName)
	if _, err := os.Stat(p); err != nil || dir == "" {
		return ""
	}
	return p
}

// buildConfig reads --config (if any) and lays the flags over it.
func buildConfig(f serveFlags) (config.Config, error) {
	cfg := config.Default()
	if f.config != "" {
		var err error
		if cfg, err = config.Load(f.config); err != nil {
			return cfg, err
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.Listen, f.listen)
	set(&cfg.DataDir, f.data)
	set(&cfg.TLS, f.tls)
	set(&cfg.Domain, f.domain)
	set(&cfg.LogWBXML, f.logWBXML)
	if f.forcePlain {
		cfg.AllowPlainHTTP = true
	}
	if f.imap != "" {
		// The flags' account replaces one of the same name that the
		// window saved with the others.
		cfg.Accounts = slices.DeleteFunc(cfg.Accounts, func(a config.Account) bool { return a.Name == "default" })
		cfg.Accounts = append([]config.Account{{
			Name: "default", IMAP: f.imap, SMTP: f.smtp, DAV: f.dav, Sieve: f.sieve, Login: config.LoginPassthrough,
		}}, cfg.Accounts...)
	} else if f.smtp != "" || f.dav != "" || f.sieve != "" {
		return cfg, errors.New("--smtp, --dav and --sieve need --imap (the account's IMAP server)")
	}
	return cfg, cfg.Validate()
}

func printBanner(w io.Writer, rt *app.Runtime) {
	st := rt.Status(context.Background())
	fmt.Fprintf(w, "easbridge: serving Exchange ActiveSync on %s\n", rt.Addr())
	for _, u := range st.URLs {
		fmt.Fprintf(w, "  server URL: %s\n", u)
	}
	if st.Fingerprint != "" {
		fmt.Fprintf(w, "  certificate SHA-256: %s\n", st.Fingerprint)
		fmt.Fprintf(w, "  CA for your phone: %s/easbridge-ca.pem\n", firstOr(st.URLs, "https://HOST:PORT"))
	}
	if len(st.URLs) > 0 {
		fmt.Fprintf(w, "  phone setup page: %s%s\n", strings.TrimSuffix(st.URLs[0], "/"), pairing.Prefix)
	}
	if st.Demo {
		fmt.Fprintf(w, "  no account configured: demo account user %q password %q\n", st.DemoUser, st.DemoPass)
	}
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}
