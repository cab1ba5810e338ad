package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"easbridge/app"
	"easbridge/server/eas"
	"easbridge/sync/engine"
)

const devicesUsage = `usage:
  easbridge devices list                          every known device
  easbridge devices show ID                       one device: identity, access, wipe, policy overrides
  easbridge devices allow|block|quarantine ID     decide a device's access (rules no longer change it)
  easbridge devices wipe ID [--account-only]      remote wipe (or remove the account only, EAS 16.1)
  easbridge devices forget ID                     delete the device and its sync state
  easbridge devices resync ID [--folder ID]       drop the sync state of one folder, or all

flags (before or after ID):
  --user USER       the device's user, when the same id is known for several
  --data DIR        data directory (also --data-dir; default: the configuration's)
  --config FILE     configuration file whose data_dir to use

Works whether or not easbridge is serving from the data directory: a running
server applies the change at the device's next request.
`

// devices is `easbridge devices`: the device actions of the window, on the
// state in the data directory.
func devices(env Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, devicesUsage)
		return 2
	}
	cmd := args[0]
	switch cmd {
	case "list", "show", "allow", "block", "quarantine", "wipe", "forget", "resync":
	case "-h", "--help", "help":
		fmt.Fprint(env.Stdout, devicesUsage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "easbridge devices: unknown action %q\n\n%s", cmd, devicesUsage)
		return 2
	}
	fs := flag.NewFlagSet("devices "+cmd, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprint(env.Stderr, devicesUsage) }
	var data, cfgPath, user, folder string
	var accountOnly bool
	fs.StringVar(&data, "data", "", "data directory")
	fs.StringVar(&data, "data-dir", "", "data directory")
	fs.StringVar(&cfgPath, "config", "", "configuration file whose data_dir to use")
	fs.StringVar(&user, "user", "", "the device's user")
	fs.StringVar(&folder, "folder", "", "resync: the folder (CollectionId) to start over")
	fs.BoolVar(&accountOnly, "account-only", false, "wipe: remove the account only (EAS 16.1)")
	// Flags may come before and after the device id.
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	var id string
	if rest := fs.Args(); len(rest) > 0 {
		id = rest[0]
		if err := fs.Parse(rest[1:]); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(env.Stderr, "easbridge devices %s: unexpected %q\n", cmd, fs.Arg(0))
			return 2
		}
	}
	if (cmd == "list") != (id == "") {
		fmt.Fprint(env.Stderr, devicesUsage)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "easbridge devices %s: %v\n", cmd, err)
		return 1
	}
	dir, err := dataDir(data, cfgPath)
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, closeStore, err := app.OpenDeviceAdmin(ctx, dir, nil)
	if err != nil {
		return fail(err)
	}
	defer closeStore()

	if cmd == "list" {
		devs, err := admin.Devices(ctx)
		if err != nil {
			return fail(err)
		}
		printDevices(env.Stdout, devs)
		return 0
	}
	d, err := admin.Find(ctx, user, id)
	if err != nil {
		return fail(err)
	}
	done := func(what string) int {
		fmt.Fprintf(env.Stdout, "%s %s (%s): %s\n", cmd, d.ID, d.User, what)
		return 0
	}
	switch cmd {
	case "show":
		l, err := engine.ReadPolicyLayers(ctx, admin.Store, eas.DefaultPolicy(), d.User, d.ID)
		if err != nil {
			return fail(err)
		}
		printDevice(env.Stdout, d, l)
		return 0
	case "allow", "block", "quarantine":
		acc := map[string]eas.Access{"allow": eas.AccessAllowed, "block": eas.AccessBlocked, "quarantine": eas.AccessQuarantined}[cmd]
		if err := admin.SetAccess(ctx, d.User, d.ID, acc); err != nil {
			return fail(err)
		}
		return done("access " + acc.String() + ", from its next request")
	case "wipe":
		if err := admin.RequestWipe(ctx, d.User, d.ID, accountOnly); err != nil {
			return fail(err)
		}
		what := "remote wipe pending: the device erases itself at its next request"
		if accountOnly {
			what = "account-only wipe pending: the device removes the account at its next request (EAS 16.1; older ones are shut out)"
		}
		return done(what)
	case "forget":
		if err := admin.Forget(ctx, d.User, d.ID); err != nil {
			return fail(err)
		}
		return done("forgotten; if it connects again it starts from scratch")
	case "resync":
		if err := admin.Resync(ctx, d.User, d.ID, folder); err != nil {
			return fail(err)
		}
		if folder != "" {
			return done("folder " + folder + " starts over at its next Sync")
		}
		return done("every folder starts over at its next FolderSync")
	}
	return 2
}

func printDevices(w io.Writer, devs []eas.Device) {
	if len(devs) == 0 {
		fmt.Fprintln(w, "no device has connected yet")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tDEVICE\tTYPE\tMODEL\tOS\tEAS\tLAST SEEN\tACCESS\tBY\tWIPE")
	for _, d := range devs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			d.User, d.ID, dash(d.Type), dash(d.Model), dash(d.OS), dash(string(d.ProtocolVersion)),
			when(d.LastSeen), d.Access, d.AccessBy, d.Wipe)
	}
	tw.Flush()
}

func printDevice(w io.Writer, d eas.Device, l engine.PolicyLayers) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, dash(v)) }
	row("User", d.User)
	row("Device", d.ID)
	row("Type", d.Type)
	row("Model", d.Model)
	row("Name", d.FriendlyName)
	row("OS", d.OS)
	row("User agent", d.UserAgent)
	row("Protocol", string(d.ProtocolVersion))
	row("First seen", when(d.FirstSeen))
	row("Last seen", when(d.LastSeen)+" ("+dash(d.LastCommand)+")")
	row("Access", d.Access.String()+" (decided by "+d.AccessBy.String()+")")
	wipe := d.Wipe.String()
	if !d.WipeRequested.IsZero() {
		wipe += ", requested " + when(d.WipeRequested)
	}
	if !d.WipeAcknowledged.IsZero() {
		wipe += ", acknowledged " + when(d.WipeAcknowledged)
	}
	row("Wipe", wipe)
	provisioned := "no"
	if d.PolicyKey != 0 {
		provisioned = "yes (policy " + d.PolicyHash + ")"
	}
	row("Provisioned", provisioned)
	row("Account policy", overrideText(l.User))
	row("Device policy", overrideText(l.Device))
	tw.Flush()
}

func overrideText(o eas.PolicyOverride) string {
	if len(o) == 0 {
		return "inherited"
	}
	parts := make([]string, 0, len(o))
	for _, k := range o.Names() {
		parts = append(parts, fmt.Sprintf("%s=%v", k, o[k]))
	}
	return strings.Join(parts, " ")
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
