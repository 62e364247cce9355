//go:build !linux

package pglocal

import "syscall"

// setParentDeathSignal is a no-op outside Linux: there is no parent-death
// signal, so the server is only stopped by Stop.
func setParentDeathSignal(*syscall.SysProcAttr) {}

// isPostgresProcess reports whether pid looks like a PostgreSQL server
// process. Without /proc any live process is assumed to be one.
func isPostgresProcess(pid int) bool {
	return processExists(pid)
}
