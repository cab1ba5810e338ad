package app_test

import (
	"context"
	"net"
	"net/http"
	gosync "sync"
	"testing"
	"time"

	"easbridge/app/config"
	"easbridge/server/easclient"
)

// TestMaxConnectionsPerAddress: with limits.max_connections_per_address
// = 5, twenty slow connections (headers never finished) from one address
// hold at most five slots, the others being closed at once; a client from
// another address is served meanwhile, and the address is served again
// once its connections close.
func TestMaxConnectionsPerAddress(t *testing.T) {
	const n, perAddr = 20, 5
	rt := demoRuntime(t, func(c *config.Config) { c.Limits.MaxConnectionsPerAddress = perAddr })
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := d.Dial("tcp", rt.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		// The start of a request whose headers never end (the header
		// deadline, 20 s, is far off); a refused connection may already
		// be closed, so a write error is not a failure.
		c.Write([]byte("POST /Microsoft-Server-ActiveSync?Cmd=Sync HTTP/1.1\r\nHost: x\r\n"))
	}
	// A held connection stays silent until the read deadline; a refused
	// one is closed by the server (EOF or reset).
	held := make([]bool, n)
	var wg gosync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err := c.Read(make([]byte, 1))
			held[i] = err != nil && isTimeout(err)
		}()
	}
	ctx := context.Background()
	other := easclient.New("http://"+rt.Addr(), "x", "y", "otherphone")
	other.HTTP = clientFrom("127.0.0.3")
	if r, err := other.Options(ctx); err != nil || r.HTTPStatus != http.StatusUnauthorized {
		t.Errorf("a client from another address during the flood: %v", err)
	}
	wg.Wait()
	nHeld := 0
	for _, h := range held {
		if h {
			nHeld++
		}
	}
	if nHeld != perAddr {
		t.Fatalf("%d of %d slow connections from one address held, want %d", nHeld, n, perAddr)
	}

	// Closing the held connections gives the address its slots back.
	for i, c := range conns {
		if held[i] {
			c.Close()
		}
	}
	again := easclient.New("http://"+rt.Addr(), "x", "y", "againphone")
	again.HTTP = clientFrom("127.0.0.2")
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := again.Options(ctx)
		if err == nil && r.HTTPStatus == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("127.0.0.2 not served after its connections closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
