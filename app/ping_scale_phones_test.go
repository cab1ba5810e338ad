package app_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"easbridge/server/easclient"
)

// psPhonesEnv, when set to a server URL, turns this test binary into the
// phones of BenchmarkPingScale (see TestMain): a separate process, so the
// benchmark measures the server alone.
const psPhonesEnv = "EASBRIDGE_PINGSCALE_PHONES"

// TestMain runs the tests, or the phones of BenchmarkPingScale when the
// benchmark started this binary as its child.
func TestMain(m *testing.M) {
	if url := os.Getenv(psPhonesEnv); url != "" {
		os.Exit(psPhonesMain(url))
	}
	os.Exit(m.Run())
}

// psPhonesMain sets every device up, prints READY, and then for each
// "PING" line on stdin starts one Ping per device (printing SENT) until a
// "STOP" line cancels them (printing STOPPED with how many ended early).
// It exits when stdin closes. Problems are printed as FAIL lines.
func psPhonesMain(url string) int {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: psSetupWorkers}}
	defer hc.CloseIdleConnections()
	var devs []*psDevice
	for i := range psAccounts {
		name, pw := fmt.Sprintf("p%03d", i), fmt.Sprintf("pw%d", i)
		for j := range psDevicesPerUser {
			c := easclient.New(url, name, pw, fmt.Sprintf("scale%s%d", name, j))
			c.HTTP = hc
			devs = append(devs, &psDevice{user: name, c: c})
		}
	}
	start := time.Now()
	// Two phases: one device per account first, then the other four, so
	// that each account's first login is not raced by its own devices.
	for phase := range 2 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		work := make(chan *psDevice)
		for range psSetupWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for dv := range work {
					if err := psSetup(dv); err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("%s: %w", dv.c.DeviceID, err)
						}
						mu.Unlock()
					}
				}
			}()
		}
		for i, dv := range devs {
			if (i%psDevicesPerUser == 0) == (phase == 0) {
				work <- dv
			}
		}
		close(work)
		wg.Wait()
		if firstErr != nil {
			fmt.Printf("FAIL setup: %v\n", firstErr)
			return 1
		}
	}
	fmt.Printf("READY %d devices set up in %v with %d workers\n", len(devs), time.Since(start).Round(time.Millisecond), psSetupWorkers)

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() != "PING" {
			fmt.Printf("FAIL unexpected command %q\n", sc.Text())
			return 1
		}
		ctx, cancel := context.WithCancel(context.Background())
		var answered, failed atomic.Int64
		var first atomic.Value
		var wg sync.WaitGroup
		for _, dv := range devs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, _, err := dv.c.Ping(ctx, psHeartbeat, []easclient.PingFolder{{ID: dv.inbox, Class: "Email"}})
				if ctx.Err() != nil {
					return // cancelled: expected
				}
				if err != nil {
					failed.Add(1)
					first.CompareAndSwap(nil, fmt.Sprintf("%s: %v", dv.c.DeviceID, err))
					return
				}
				answered.Add(1)
				first.CompareAndSwap(nil, fmt.Sprintf("%s: status %d %v", dv.c.DeviceID, res.Status, res.Folders))
			}()
		}
		fmt.Println("SENT")
		if !sc.Scan() || sc.Text() != "STOP" {
			cancel()
			fmt.Println("FAIL no STOP")
			return 1
		}
		cancel()
		wg.Wait()
		hc.CloseIdleConnections()
		if answered.Load()+failed.Load() == 0 {
			fmt.Println("STOPPED answered 0 failed 0")
		} else {
			fmt.Printf("STOPPED answered %d failed %d, e.g. %v\n", answered.Load(), failed.Load(), first.Load())
		}
	}
	return 0
}
