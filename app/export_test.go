package app

import "time"

// SetReadHeaderTimeout shortens the header deadline of runtimes started
// afterwards and returns the function that restores it.
func SetReadHeaderTimeout(d time.Duration) (restore func()) {
	old := readHeaderTimeout
	readHeaderTimeout = d
	return func() { readHeaderTimeout = old }
}
