// Package wbxmlcmd implements the inspector subcommand "easbridge wbxml":
//
//	easbridge wbxml decode [FILE]   WBXML from FILE or standard input → indented XML
//	easbridge wbxml encode [FILE]   XML from FILE or standard input → WBXML
//
// The XML form is the one of package wbxml (ToXML/FromXML), so
// "decode | encode" gives back the same bytes for every document that
// wbxml.Encode produced. A FILE of "-" means standard input.
package wbxmlcmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"easbridge/server/wbxml"
)

const usage = `usage: easbridge wbxml decode [FILE]   WBXML (FILE or standard input) to XML on standard output
       easbridge wbxml encode [FILE]   XML (FILE or standard input) to WBXML on standard output
`

// Run runs "easbridge wbxml" with args (without the program name and
// "wbxml", so args[0] is "decode" or "encode") and returns the exit status:
// 0 on success, 1 when the input cannot be read or converted (with a
// one-line message on stderr), 2 on a usage error.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd := args[0]
	switch cmd {
	case "decode", "encode":
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "easbridge wbxml: unknown command %q\n", cmd)
		fmt.Fprint(stderr, usage)
		return 2
	}

	name := "easbridge wbxml " + cmd
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "%s: too many arguments\n", name)
		fmt.Fprint(stderr, usage)
		return 2
	}

	in := stdin
	if path := fs.Arg(0); path != "" && path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fail(stderr, name, err)
		}
		defer f.Close()
		in = f
	}

	var err error
	if cmd == "decode" {
		err = decode(in, stdout)
	} else {
		err = encode(in, stdout)
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	return 0
}

func decode(in io.Reader, out io.Writer) error {
	root, err := wbxml.NewDecoder(in).Decode()
	if err != nil {
		return err
	}
	return wbxml.ToXML(out, root)
}

func encode(in io.Reader, out io.Writer) error {
	root, err := wbxml.FromXML(in)
	if err != nil {
		return err
	}
	b, err := wbxml.Encode(root)
	if err != nil {
		return err
	}
	if _, err := out.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// fail prints err as a single line and returns exit status 1.
func fail(stderr io.Writer, name string, err error) int {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	fmt.Fprintf(stderr, "%s: %s\n", name, msg)
	return 1
}
