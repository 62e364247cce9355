//go:build linux

package pglocal

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// setParentDeathSignal asks the kernel to send SIGINT (PostgreSQL's "fast
// shutdown") to the child when the thread that started it dies, so that a
// killed parent does not leave the server running.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGINT
}

// isPostgresProcess reports whether pid looks like a PostgreSQL server
// process.
func isPostgresProcess(pid int) bool {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		// Cannot tell (process gone or /proc unavailable): be conservative
		// and treat it as a server only if it still exists.
		return processExists(pid)
	}
	return strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres")
}
