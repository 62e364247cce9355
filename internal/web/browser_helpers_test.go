package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Browser tests drive a real Chromium through the DevTools protocol against
// the site of newHarness. Each test has its own browser, profile, server and
// database, so the tests run in parallel.
const (
	// browserTestTimeout bounds a whole browser test, from starting the
	// browser: when it passes, the browser is stopped and every step still
	// waiting fails. A test takes about 2 s on an idle machine, but starting
	// Chromium alone took 25 s on a busy 2-CPU machine (load average 20).
	browserTestTimeout = 90 * time.Second
	// browserStepTimeout bounds one step (a navigation, a click, a query),
	// so that a step that hangs fails early enough to leave time for the
	// failure screenshot.
	browserStepTimeout = 20 * time.Second
	// captureTimeout bounds taking the failure screenshot and HTML.
	captureTimeout = 10 * time.Second
	// failureDir (relative to the package directory, where go test runs)
	// receives a screenshot and the HTML of the page of a failed test.
	failureDir = "testdata/failures"
)

// chromiumPath finds the browser: $CHROMIUM_PATH when set, else chromium on
// the PATH, else Debian's /usr/bin/chromium.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("CHROMIUM_PATH=%s: %w", p, err)
		}
		return found, nil
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if found, err := exec.LookPath(name); err == nil {
			return found, nil
		}
	}
	return "", errors.New("chromium not found (looked for chromium on PATH and /usr/bin/chromium; set CHROMIUM_PATH)")
}

// requireChromium returns the browser's path. Without one it skips the test,
// except in CI, where a skipped browser test would hide a broken setup.
func requireChromium(t *testing.T) string {
	t.Helper()
	path, err := chromiumPath()
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium is required in CI: %v", err)
	}
	t.Skipf("skipping browser test: %v", err)
	return ""
}

// browser is one Chromium with one tab, pointed at one harness.
type browser struct {
	t    *testing.T
	h    *harness
	ctx  context.Context // the tab; ends with the test or at browserTestTimeout
	logs *syncBuffer     // chromedp's and Chromium's own output

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowserHarness starts the site (newHarness) and a headless Chromium for
// it. It skips (or, in CI, fails) before starting anything when Chromium is
// missing.
func newBrowserHarness(t *testing.T, opts ...harnessOption) (*harness, *browser) {
	t.Helper()
	return newBrowserHarnessFor(t, browserTestTimeout, opts...)
}

// newBrowserHarnessFor is newBrowserHarness for a test that needs longer
// than browserTestTimeout (one waiting on a real cluster).
func newBrowserHarnessFor(t *testing.T, timeout time.Duration, hopts ...harnessOption) (*harness, *browser) {
	t.Helper()
	path := requireChromium(t)
	h := newHarness(t, hopts...)
	b := &browser{t: t, h: h, logs: &syncBuffer{}}

	// Chromium leaves a directory in its TMPDIR for each run (the lock of
	// its profile); give it one that goes away with the test. The profile
	// itself (--user-data-dir) is a fresh temporary directory that chromedp
	// makes, and removes after killing any helper process left using it.
	tmp, err := os.MkdirTemp("", "ganetimgr-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root, in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// English unless the site is told otherwise: the site negotiates
		// the language from Accept-Language.
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("accept-lang", "en-US,en"),
		chromedp.WindowSize(1280, 800),
		chromedp.Env("TMPDIR="+tmp),
		chromedp.CombinedOutput(b.logs),
	)
	root, cancelRoot := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	logf := func(format string, args ...any) { fmt.Fprintf(b.logs, format+"\n", args...) }
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(logf), chromedp.WithErrorf(logf))
	b.ctx = tab
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit and its profile to go
		cancelRoot()
		removeTemp(t, tmp)
	})

	// Start the browser now, so that a broken installation fails here and
	// not in the middle of a test. The first run binds the browser's life
	// to the context, so it gets no shorter timeout than the test's.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting %s: %v\n%s", path, err, withoutDBusNoise(b.logs.String()))
	}
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	// Registered last, so it runs first: while the browser and the server
	// are still up.
	t.Cleanup(b.captureOnFailure)
	return h, b
}

// removeTemp deletes the browser's temporary directory, retrying briefly:
// the last helper processes of the browser may still be writing to it.
func removeTemp(t *testing.T, dir string) {
	var err error
	for range 10 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("removing the browser's temporary directory %s: %v", dir, err)
}

// captureOnFailure saves a full-page screenshot and the HTML of the current
// page of a failed test, and logs the browser's and the server's output.
func (b *browser) captureOnFailure() {
	t := b.t
	if !t.Failed() {
		return
	}
	t.Logf("browser log:\n%s", withoutDBusNoise(b.logs.String()))
	t.Logf("server log:\n%s", b.h.logs.String())
	for _, m := range b.consoleMessages() {
		t.Logf("console: %s", m)
	}

	ctx, cancel := context.WithTimeout(b.ctx, captureTimeout)
	defer cancel()
	if err := os.MkdirAll(failureDir, 0o755); err != nil {
		t.Logf("failure capture: %v", err)
		return
	}
	base := filepath.Join(failureDir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		t.Logf("failed at %s", loc)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Logf("failure screenshot: %v", err)
	} else if err := os.WriteFile(base+".png", png, 0o644); err != nil {
		t.Logf("failure screenshot: %v", err)
	} else {
		t.Logf("failure screenshot: %s.png", base)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err != nil {
		t.Logf("failure HTML: %v", err)
	} else if err := os.WriteFile(base+".html", []byte(html), 0o644); err != nil {
		t.Logf("failure HTML: %v", err)
	} else {
		t.Logf("failure HTML: %s.html", base)
	}
}

// run runs one action with the step timeout and fails the test on error.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// openStatus navigates to a path of the site, waits for the page to load
// and returns the document's HTTP status.
func (b *browser) openStatus(path string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(b.h.baseURL+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	if resp == nil {
		b.t.Fatalf("open %s: no response", path)
	}
	return resp.Status
}

// open navigates to a path of the site and waits for the page to load.
func (b *browser) open(path string) {
	b.t.Helper()
	run(b, "open "+path, chromedp.Navigate(b.h.baseURL+path))
}

// fill types into the form field sel, replacing its value.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	run(b, "fill "+sel, chromedp.Steps(
		chromedp.Clear(chromedp.CSS(sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value),
	))
}

// click clicks the element sel, which must cause a navigation (a link, or
// a form's submit button), and waits for the new page to load. It returns
// the response of the final document, after any redirects.
func (b *browser) click(sel string) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
	return resp
}

// text returns the rendered text of the first element matching sel,
// waiting for it to be there.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// value returns the value of the form field sel.
func (b *browser) value(sel string) string {
	b.t.Helper()
	return run(b, "value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// present reports, without waiting, whether an element matches sel.
func (b *browser) present(sel string) bool {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	return run(b, "look for "+sel, chromedp.Evaluate[bool](`document.querySelector(`+string(q)+`) !== null`))
}

// location returns the page's address, relative to the site.
func (b *browser) location() *url.URL {
	b.t.Helper()
	loc := run(b, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("location %q: %v", loc, err)
	}
	if !strings.HasPrefix(loc, b.h.baseURL+"/") {
		b.t.Fatalf("left the site: at %s", loc)
	}
	return u
}

// wantText checks the text of the element sel.
func (b *browser) wantText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); got != want {
		b.t.Errorf("%s: text %q, want %q", sel, got, want)
	}
}

// wantAt checks the page's path and query ("/login?next=%2F").
func (b *browser) wantAt(want string) {
	b.t.Helper()
	if got := b.location().RequestURI(); got != want {
		b.t.Fatalf("at %s, want %s", got, want)
	}
}

// wantLang checks the page's language (<html lang>).
func (b *browser) wantLang(want string) {
	b.t.Helper()
	if got := run(b, "html lang", chromedp.Evaluate[string](`document.documentElement.lang`)); got != want {
		b.t.Errorf("<html lang=%q>, want %q", got, want)
	}
}

// screenshot returns a full-page PNG of the current page.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	return run(b, "screenshot", chromedp.FullScreenshot(100))
}

// consoleMessages returns what the pages wrote to the console so far
// (console calls, uncaught exceptions, browser log entries such as failed
// loads and CSP violations).
func (b *browser) consoleMessages() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

// noConsoleErrors fails the test if a page logged an error or threw, except
// for messages containing one of the expected substrings (Chromium logs an
// error for every document answered with a 4xx status, such as the 422 of
// a failed login). The messages arrive asynchronously, so a message of the
// very last page may be missed; the check is meant to catch errors (a
// missing asset, a CSP violation) on the pages on the way.
func (b *browser) noConsoleErrors(expected ...string) {
	b.t.Helper()
next:
	for _, m := range b.consoleMessages() {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		for _, e := range expected {
			if strings.Contains(m.Text, e) {
				continue next
			}
		}
		b.t.Errorf("console %s: %s (%s)", m.Type, m.Text, m.URL)
	}
}

// withoutDBusNoise drops the lines in which Chromium complains that it has
// no D-Bus, as in a container, which would bury anything useful.
func withoutDBusNoise(log string) string {
	var kept []string
	for line := range strings.Lines(log) {
		if !strings.Contains(line, ":ERROR:dbus/") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "")
}
