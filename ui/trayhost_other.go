//go:build !(linux || freebsd || openbsd || netbsd)

package ui

// trayHostAvailable is true on Windows and macOS, which always have one.
func trayHostAvailable() bool { return true }
