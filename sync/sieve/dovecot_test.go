package sieve

import (
	"context"
	"strings"
	"testing"

	"easbridge/sync/testenv"
)

// TestClientAgainstDovecot runs every command against Dovecot's real
// ManageSieve (Pigeonhole).
func TestClientAgainstDovecot(t *testing.T) {
	d := testenv.StartDovecot(t, testenv.DovecotOptions{})
	ep, err := ParseURL("sieve://" + d.SieveAddr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(context.Background(), ep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	caps := c.Capabilities()
	for _, ext := range []string{"vacation", "include", "date", "relational"} {
		if !caps.HasExtension(ext) {
			t.Errorf("Pigeonhole lacks %s: %v", ext, caps.Sieve)
		}
	}
	u := d.User(t, "alice")
	if err := c.AuthenticatePlain(u.Name, "wrong"); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad password: %v", err)
	}
	if err := c.AuthenticatePlain(u.Name, u.Password); err != nil {
		t.Fatal(err)
	}
	own := "require \"fileinto\";\r\nif header :contains \"subject\" \"[list]\" { fileinto \"Lists\"; }\r\n"
	if err := c.CheckScript(own); err != nil {
		t.Fatalf("CHECKSCRIPT of a valid script: %v", err)
	}
	if err := c.CheckScript("frobnicate;\r\n"); err == nil {
		t.Fatal("CHECKSCRIPT accepted an unknown command")
	}
	if err := c.PutScript("mine", own); err != nil {
		t.Fatal(err)
	}
	if err := c.SetActive("mine"); err != nil {
		t.Fatal(err)
	}
	v := Vacation{Domain: "example.test", Addresses: []string{"alice@example.test"}, Subject: `Away "now"`,
		Internal: Reply{Enabled: true, Text: "in\nline two"}, External: Reply{Enabled: true, Text: "<b>out</b>", HTML: true}}
	if err := EnableVacation(c, v); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListScripts()
	if err != nil || len(list) != 2 {
		t.Fatalf("LISTSCRIPTS %+v %v", list, err)
	}
	got, active, found, err := ReadVacation(c)
	if err != nil || !active || !found || got.Include != "mine" || got.Internal.Text != "in\nline two" || got.Subject != `Away "now"` {
		t.Fatalf("ReadVacation %+v active %v found %v err %v", got, active, found, err)
	}
	// Enabling again keeps including the user's script, not ours.
	if err := EnableVacation(c, v); err != nil {
		t.Fatal(err)
	}
	if got, _, _, _ := ReadVacation(c); got.Include != "mine" {
		t.Fatalf("second enable includes %q", got.Include)
	}
	if err := c.DeleteScript(ScriptName); !IsCode(err, "ACTIVE") {
		t.Errorf("deleting the active script: %v", err)
	}
	if err := DisableVacation(c); err != nil {
		t.Fatal(err)
	}
	if a, err := c.Active(); err != nil || a != "mine" {
		t.Fatalf("active after disable: %q %v", a, err)
	}
	if content, err := c.GetScript("mine"); err != nil || content != own {
		t.Errorf("the user's script changed: %q %v", content, err)
	}
	if err := c.DeleteScript(ScriptName); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetScript(ScriptName); !IsCode(err, "NONEXISTENT") {
		t.Errorf("GETSCRIPT of a deleted script: %v", err)
	}
	if err := c.Logout(); err != nil {
		t.Fatal(err)
	}
}
