package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
)

// client is `easbridge client`: try a server the way a phone would.
func client(env Env, args []string) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	url := fs.String("url", "https://127.0.0.1:8443", "server base URL")
	user := fs.String("user", "", "user name")
	password := fs.String("password", "", "password (default $EASBRIDGE_PASSWORD)")
	device := fs.String("device", "easbridgecli0001", "DeviceId to use")
	version := fs.String("version", "16.1", "protocol version: 12.1, 14.0, 14.1, 16.0, 16.1")
	insecure := fs.Bool("insecure", false, "accept any server certificate")
	showXML := fs.Bool("xml", false, "print the decoded answer")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: easbridge client [flags] options|provision|foldersync")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *user == "" {
		fs.Usage()
		return 2
	}
	if *password == "" {
		*password = os.Getenv("EASBRIDGE_PASSWORD")
	}
	c := easclient.New(*url, *user, *password, *device)
	c.Version = *version
	if *insecure {
		c.Insecure()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "easbridge client: %v\n", err)
		return 1
	}
	switch fs.Arg(0) {
	case "options":
		r, err := c.Options(ctx)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "HTTP %d\nMS-ASProtocolVersions: %s\nMS-ASProtocolCommands: %s\n",
			r.HTTPStatus, r.Header.Get("MS-ASProtocolVersions"), r.Header.Get("MS-ASProtocolCommands"))
		if r.HTTPStatus != 200 {
			return 1
		}
	case "provision":
		doc, err := c.Provision(ctx)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "provisioned: policy key %s\n", c.PolicyKey)
		if *showXML {
			fmt.Fprintln(env.Stdout, wbxml.XMLString(doc))
		}
	case "foldersync":
		if _, err := c.Provision(ctx); err != nil {
			return fail(err)
		}
		key, folders, r, err := c.FolderSync(ctx, "0")
		if err != nil {
			return fail(err)
		}
		if st := r.Status(); st != 1 {
			return fail(fmt.Errorf("FolderSync status %d", st))
		}
		if *showXML {
			fmt.Fprintln(env.Stdout, wbxml.XMLString(r.Root))
		}
		fmt.Fprintf(env.Stdout, "FolderSync key %s, %d folders:\n", key, len(folders))
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPARENT\tTYPE\tNAME")
		for _, f := range folders {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", f.ServerID, f.ParentID, f.Type, f.DisplayName)
		}
		tw.Flush()
	default:
		fs.Usage()
		return 2
	}
	return 0
}
