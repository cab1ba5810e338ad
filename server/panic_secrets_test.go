package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"easbridge/server/easclient"
)

// TestPanicLogHasNoSecrets: what a recovered panic writes (the log record
// with its stack) and answers holds neither the password nor the
// Authorization header of the request that panicked.
func TestPanicLogHasNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	srv := New(Options{Backend: panicBackend{newFakeBackend()}, Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	const password = "Panic-s3cret-0420"
	c := easclient.New(hs.URL, "boom", password, "p1")
	r, err := c.Do(context.Background(), "FolderSync", folderSyncReq("0"))
	if err != nil || r.HTTPStatus != 500 || srv.panics.Load() != 1 {
		t.Fatalf("panicking request: %v HTTP %d, %d panics", err, r.HTTPStatus, srv.panics.Load())
	}
	out := logs.String()
	if !strings.Contains(out, "panic in handler") || !strings.Contains(out, "goroutine") {
		t.Fatalf("no panic record with a stack in the log:\n%s", out)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("boom:" + password))
	for _, s := range []string{password, basic} {
		if strings.Contains(out, s) || strings.Contains(string(r.Body), s) {
			t.Errorf("%q in the panic output or answer", s)
		}
	}
}
