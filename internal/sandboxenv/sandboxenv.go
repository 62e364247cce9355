// Package sandboxenv gives tests the settings of the single-node Ganeti
// sandbox that test/ganeti/up.sh brings up (see test/ganeti/README.md).
//
// A test that needs the sandbox calls Load. When the sandbox is missing the
// test fails in CI (CI=true), where the sandbox is always brought up, and is
// skipped elsewhere, as it is in -short mode outside CI.
package sandboxenv

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// DefaultPath is where up.sh writes the settings; GANETI_SANDBOX_ENV
// overrides it.
const DefaultPath = "/run/ganetimgr-sandbox/env"

// Required is the message of a test that cannot run without the sandbox.
const Required = "the Ganeti sandbox is required in CI: run test/ganeti/up.sh"

// InCI reports whether the tests run in CI.
func InCI() bool { return os.Getenv("CI") == "true" }

// Path returns the env file's path.
func Path() string {
	if p := os.Getenv("GANETI_SANDBOX_ENV"); p != "" {
		return p
	}
	return DefaultPath
}

// Load returns the sandbox settings (KEY=VALUE) and checks that the RAPI
// settings and every key in extra are present.
func Load(tb testing.TB, extra ...string) map[string]string {
	tb.Helper()
	if testing.Short() && !InCI() {
		tb.Skip("test against the Ganeti sandbox skipped in -short mode")
	}
	vars, err := Read(Path())
	if err != nil {
		if InCI() {
			tb.Fatalf("%s (%v)", Required, err)
		}
		tb.Skipf("%s (%v)", Required, err)
	}
	// The RAPI settings are in every env file up.sh writes.
	keys := []string{"GANETI_RAPI_HOST", "GANETI_RAPI_PORT", "GANETI_RAPI_USER", "GANETI_RAPI_PASS",
		"GANETI_RAPI_RO_USER", "GANETI_RAPI_RO_PASS", "GANETI_RAPI_FINGERPRINT"}
	for _, k := range append(keys, extra...) {
		if vars[k] == "" {
			tb.Fatalf("sandbox env file %s lacks %s", Path(), k)
		}
	}
	return vars
}

// Read parses KEY=VALUE lines; blank lines and # comments are ignored, an
// "export " prefix and surrounding quotes are removed.
func Read(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sandboxenv: %w", err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			vars[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sandboxenv: %s: %w", path, err)
	}
	return vars, nil
}
