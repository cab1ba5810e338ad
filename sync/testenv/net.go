package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

const (
	// startTimeout bounds how long a server may take to answer after start.
	startTimeout = 15 * time.Second
	// stopGrace is how long a server may take to exit after SIGTERM.
	stopGrace = 5 * time.Second
	// startAttempts bounds retries when a port was taken meanwhile.
	startAttempts = 5
)

// errAddrInUse marks a start that failed because a port was taken between
// picking it and the server binding it.
var errAddrInUse = errors.New("address already in use")

// freePorts returns n distinct free TCP ports on 127.0.0.1. All listeners
// are held until every port is picked, so the ports differ from each other;
// another process may still take one before the server binds it, which the
// callers handle by retrying.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func loopback(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// probe checks once whether a service answers properly.
type probe struct {
	name  string
	addr  string
	check func(ctx context.Context, addr string) error
}

// waitReady polls every probe until it succeeds, p exits or ctx ends.
func waitReady(ctx context.Context, p *process, probes []probe) error {
	for _, pr := range probes {
		var lastErr error
		for {
			if p.hasExited() {
				return fmt.Errorf("server exited before %s on %s answered: %v", pr.name, pr.addr, p.waitErr)
			}
			attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			lastErr = pr.check(attemptCtx, pr.addr)
			cancel()
			if lastErr == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s on %s not ready: %w (last error: %v)", pr.name, pr.addr, ctx.Err(), lastErr)
			case <-p.exited:
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// readGreeting connects to addr and reads lines until one starting with
// okPrefix (success) or badPrefix (failure) arrives.
func readGreeting(ctx context.Context, addr, okPrefix, badPrefix string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("read greeting: %w", err)
		}
		switch {
		case strings.HasPrefix(line, okPrefix):
			return nil
		case strings.HasPrefix(line, badPrefix):
			return fmt.Errorf("bad greeting %q", strings.TrimSpace(line))
		}
	}
}

func imapGreeting(ctx context.Context, addr string) error {
	return readGreeting(ctx, addr, "* OK", "* BYE")
}

func smtpGreeting(ctx context.Context, addr string) error {
	return readGreeting(ctx, addr, "220", "5")
}

func sieveGreeting(ctx context.Context, addr string) error {
	return readGreeting(ctx, addr, "OK", "BYE")
}

// httpProbe returns a check that any HTTP response arrives from
// http://addr/ using client.
func httpProbe(client *http.Client) func(context.Context, string) error {
	return func(ctx context.Context, addr string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodOptions, "http://"+addr+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
}
