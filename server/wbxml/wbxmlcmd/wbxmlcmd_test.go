package wbxmlcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	goldenXML   = "../testdata/sync-contacts-response.xml"
	goldenWBXML = "../testdata/sync-contacts-response.wbxml"
)

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRun(t *testing.T) {
	xmlDoc, wbxmlDoc := read(t, goldenXML), read(t, goldenWBXML)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.wbxml")
	if err := os.WriteFile(garbage, []byte{0x03, 0x01, 0x6A, 0x00, 0x45, 0x7F}, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		stdin      []byte
		code       int
		stdout     []byte // exact, when not nil
		stderrHas  string
		stdoutHas  string
		singleLine bool // stderr is exactly one line
	}{
		{name: "decode stdin", args: []string{"decode"}, stdin: wbxmlDoc, code: 0, stdout: xmlDoc},
		{name: "decode dash", args: []string{"decode", "-"}, stdin: wbxmlDoc, code: 0, stdout: xmlDoc},
		{name: "decode file", args: []string{"decode", goldenWBXML}, code: 0, stdout: xmlDoc},
		{name: "encode stdin", args: []string{"encode"}, stdin: xmlDoc, code: 0, stdout: wbxmlDoc},
		{name: "encode file", args: []string{"encode", goldenXML}, code: 0, stdout: wbxmlDoc},
		{name: "decode garbage", args: []string{"decode", garbage}, code: 1,
			stderrHas: "easbridge wbxml decode: wbxml: unknown tag token", singleLine: true},
		{name: "decode truncated", args: []string{"decode"}, stdin: wbxmlDoc[:20], code: 1,
			stderrHas: "easbridge wbxml decode: wbxml: truncated input", singleLine: true},
		{name: "decode XML by mistake", args: []string{"decode"}, stdin: xmlDoc, code: 1,
			stderrHas: "easbridge wbxml decode: wbxml: bad header", singleLine: true},
		{name: "encode WBXML by mistake", args: []string{"encode"}, stdin: wbxmlDoc, code: 1,
			stderrHas: "easbridge wbxml encode: ", singleLine: true},
		{name: "encode unknown tag", args: []string{"encode"}, stdin: []byte("<Sync xmlns=\"AirSync\">\n<Nope/>\n</Sync>"), code: 1,
			stderrHas: "easbridge wbxml encode: wbxml: unknown tag: AirSync:Nope (XML line 2)", singleLine: true},
		{name: "missing file", args: []string{"decode", filepath.Join(dir, "nope")}, code: 1,
			stderrHas: "easbridge wbxml decode: open ", singleLine: true},
		{name: "no command", args: nil, code: 2, stderrHas: "usage: easbridge wbxml decode"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderrHas: `unknown command "frobnicate"`},
		{name: "too many arguments", args: []string{"decode", "a", "b"}, code: 2, stderrHas: "too many arguments"},
		{name: "unknown flag", args: []string{"encode", "-x"}, code: 2, stderrHas: "flag provided but not defined"},
		{name: "help", args: []string{"help"}, code: 0, stdoutHas: "usage: easbridge wbxml"},
		{name: "decode -h", args: []string{"decode", "-h"}, code: 0, stderrHas: "usage: easbridge wbxml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(tt.args, bytes.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if tt.stdout != nil && !bytes.Equal(stdout.Bytes(), tt.stdout) {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.Bytes(), tt.stdout)
			}
			if !strings.Contains(stdout.String(), tt.stdoutHas) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.stdoutHas)
			}
			if !strings.Contains(stderr.String(), tt.stderrHas) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderrHas)
			}
			if tt.singleLine && strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("stderr is not a single line: %q", stderr.String())
			}
			if tt.code != 0 && tt.stdout == nil && stdout.Len() != 0 && tt.stdoutHas == "" {
				t.Errorf("output on failure: %q", stdout.String())
			}
			if tt.code == 0 && tt.stdout != nil && stderr.Len() != 0 {
				t.Errorf("stderr on success: %q", stderr.String())
			}
		})
	}
}

// TestRoundTripAllGolden pipes every golden document through decode and
// encode.
func TestRoundTripAllGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.wbxml")
	if err != nil || len(files) < 30 {
		t.Fatalf("%d golden files (%v)", len(files), err)
	}
	for _, f := range files {
		in := read(t, f)
		var x, back, stderr bytes.Buffer
		if code := Run([]string{"decode"}, bytes.NewReader(in), &x, &stderr); code != 0 {
			t.Fatalf("%s: decode: %d %s", f, code, stderr.String())
		}
		if want := read(t, strings.TrimSuffix(f, ".wbxml")+".xml"); !bytes.Equal(x.Bytes(), want) {
			t.Errorf("%s: decode output differs from the .xml file", f)
		}
		if code := Run([]string{"encode"}, &x, &back, &stderr); code != 0 {
			t.Fatalf("%s: encode: %d %s", f, code, stderr.String())
		}
		if !bytes.Equal(back.Bytes(), in) {
			t.Errorf("%s: decode | encode changed the bytes", f)
		}
	}
}
