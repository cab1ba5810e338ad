package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"easbridge/app"
	"easbridge/app/config"
	"easbridge/server/eas"
)

const foldersUsage = `usage:
  easbridge folders list --user USER [--device ID] [--data DIR | --config FILE]
  easbridge folders mode --user USER [--device ID] --folder KEY --mode MODE
                         [--merge-into KEY] [--incomplete-only] [--hidden] [--filter N] [--inherit]
                         [--data DIR | --config FILE]

Without --device the account-wide defaults are listed or set; with it, that
device's own settings (--inherit drops them so the defaults apply again).
MODE is one of: %s.
The devices see the change at their next sync, without a reset.
`

// folders is `easbridge folders`: per-folder visibility, look-back filter
// and sync modes, stored in the data directory's state (a running instance
// picks them up at the devices' next sync).
func folders(env Env, args []string) int {
	modes := make([]string, 0, len(app.FolderModes))
	for _, m := range app.FolderModes {
		modes = append(modes, string(m))
	}
	usage := fmt.Sprintf(foldersUsage, strings.Join(modes, ", "))
	if len(args) == 0 || (args[0] != "list" && args[0] != "mode") {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet("folders "+cmd, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprint(env.Stderr, usage) }
	data := fs.String("data", "", "data directory (default: the configuration's, else the OS config dir/easbridge)")
	cfgPath := fs.String("config", "", "configuration file whose data_dir to use")
	user := fs.String("user", "", "the user (EAS login as stored, e.g. alice@example.org)")
	device := fs.String("device", "", "a device id; none: the account-wide defaults")
	var s app.FolderSetting
	var mode string
	var inherit bool
	if cmd == "mode" {
		fs.StringVar(&s.Key, "folder", "", "source folder key (see folders list)")
		fs.StringVar(&mode, "mode", string(app.ModePlain), "sync mode")
		fs.StringVar(&s.MergeInto, "merge-into", "", "key of the folder to merge into")
		fs.BoolVar(&s.IncompleteOnly, "incomplete-only", false, "tasks-as-events: incomplete tasks only")
		fs.BoolVar(&s.Hidden, "hidden", false, "hide the folder")
		fs.IntVar(&s.Filter, "filter", 0, "look-back override (EAS FilterType: mail 1-5, calendar 4-7, tasks 8); 0: the phone's")
		fs.BoolVar(&inherit, "inherit", false, "with --device: drop the device's own setting")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "easbridge folders: "+format+"\n", a...)
		return 1
	}
	if *user == "" {
		return fail("--user is required")
	}
	dir, err := dataDir(*data, *cfgPath)
	if err != nil {
		return fail("%v", err)
	}
	ctx := context.Background()
	rt, closeStore, err := app.OpenFolderSettings(ctx, dir, nil)
	if err != nil {
		return fail("%v", err)
	}
	defer closeStore()
	if cmd == "mode" {
		if s.Key == "" {
			return fail("--folder is required")
		}
		if inherit && *device == "" {
			return fail("--inherit needs --device")
		}
		s.Mode, s.Inherited = app.FolderMode(mode), inherit
		if s.MergeInto != "" && mode == string(app.ModePlain) {
			s.Mode = app.ModeMerged
		}
		if err := rt.SetFolderSetting(ctx, *user, *device, s); err != nil {
			return fail("%v", err)
		}
	}
	list, err := rt.FolderSettings(ctx, *user, *device)
	if err != nil {
		return fail("%v", err)
	}
	if len(list) == 0 {
		return fail("no folders known for user %q: name the user as stored (USER in `easbridge devices list`), after one of their devices ran FolderSync", *user)
	}
	printFolders(env.Stdout, list)
	return 0
}

// dataDir picks the data directory: --data, else the configuration's.
func dataDir(data, cfgPath string) (string, error) {
	if data != "" {
		return data, nil
	}
	cfg := config.Default()
	if cfgPath != "" {
		var err error
		if cfg, err = config.Load(cfgPath); err != nil {
			return "", err
		}
	}
	if cfg.DataDir == "" {
		return "", fmt.Errorf("no data directory: give --data")
	}
	return cfg.DataDir, nil
}

func printFolders(w io.Writer, list []app.FolderSetting) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tNAME\tTYPE\tMODE\tHIDDEN\tFILTER\tFROM")
	for _, s := range list {
		m := string(s.Mode)
		if s.MergeInto != "" {
			m += " -> " + s.MergeInto
		}
		if s.IncompleteOnly {
			m += " (incomplete only)"
		}
		from := "own"
		if s.Inherited {
			from = "default"
		}
		filter := "-"
		if s.Filter != 0 {
			filter = fmt.Sprint(s.Filter)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\n", s.Key, s.Name, typeName(s.Type), m, s.Hidden, filter, from)
	}
	_ = tw.Flush()
}

func typeName(t eas.FolderType) string { return t.String() }
