// Command easbridge runs a personal Exchange ActiveSync server in front of
// IMAP, SMTP, CalDAV and CardDAV accounts. See README.md.
package main

import (
	"os"

	"easbridge/app/cli"
	"easbridge/app/desktop"
)

func main() {
	os.Exit(cli.Main(cli.Env{
		Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, GUI: desktop.Run,
	}))
}
