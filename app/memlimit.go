package app

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// setMemoryLimit sets the Go runtime's soft memory limit to mib MiB (0:
// leave it) unless GOMEMLIMIT is set. The limit is per process: the last
// Runtime started sets it.
func setMemoryLimit(mib int, log *slog.Logger) {
	if mib <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(int64(mib) << 20)
	log.Debug("app: soft memory limit", "MiB", mib)
}
