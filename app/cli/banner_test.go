package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBannerNamesSetupPage: the headless banner names the server URL, the
// phone setup page and the demo login, so a headless user can pair a phone
// without the window's QR code.
func TestBannerNamesSetupPage(t *testing.T) {
	rt, _ := startDemo(t)
	ctx := context.Background()
	st := rt.Status(ctx)
	var b bytes.Buffer
	printBanner(&b, rt)
	base := "http://" + rt.Addr()
	for _, want := range []string{
		"  server URL: " + base + "\n",
		"  phone setup page: " + base + "/setup\n",
		"demo account user \"" + st.DemoUser + "\" password \"" + st.DemoPass + "\"\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("banner %q lacks %q", b.String(), want)
		}
	}
	if strings.Contains(b.String(), "CA for your phone") {
		t.Errorf("banner without TLS names a CA: %q", b.String())
	}
}
