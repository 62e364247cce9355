package app_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/app"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeMetricsAndGracefulShutdown runs the real server: pages on one
// listener, Prometheus metrics on another, and a shutdown that lets an
// in-flight request finish.
func TestServeMetricsAndGracefulShutdown(t *testing.T) {
	web, metrics := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"DATABASE_URL":             pgtest.NewDB(t),
		"GANETIMGR_SECRET_KEY":     strings.Repeat("q", 40),
		"GANETIMGR_LISTEN":         web,
		"GANETIMGR_METRICS_LISTEN": metrics,
		"GANETIMGR_LOG_FORMAT":     "json",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, app.NewLogger(cfg, logs), "test", io.Discard) }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + web + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Twice: the second request counts on the series the first made.
	for range 2 {
		resp, err := http.Get("http://" + web + "/login")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("login page: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `ganetimgr_http_requests_total{method="GET",route="/login",status="200"} 2`) ||
		!strings.Contains(string(body), "go_goroutines") {
		t.Errorf("metrics lack the request counter or Go metrics:\n%.2000s", body)
	}
	if r, _ := http.Get("http://" + web + "/metrics"); r != nil && r.StatusCode != http.StatusNotFound {
		t.Errorf("metrics exposed on the public listener: %d", r.StatusCode)
	}
	if !strings.Contains(logs.String(), `"request_id"`) || strings.Contains(logs.String(), "q"+strings.Repeat("q", 30)) {
		t.Errorf("logs lack request ids or contain the secret key")
	}

	// A slow client is uploading a form when shutdown starts: its handler
	// is running, so it still gets its answer, and Serve returns cleanly.
	conn, err := net.Dial("tcp", web)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	form := "username=nobody&password=wrong-password"
	head := "POST /login HTTP/1.1\r\nHost: " + web + "\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		"Content-Length: " + strconv.Itoa(len(form)) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head + form[:10])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	time.Sleep(300 * time.Millisecond)
	if _, err := conn.Write([]byte(form[10:])); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 64)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _ := conn.Read(reply)
	if !strings.HasPrefix(string(reply[:n]), "HTTP/1.1 422") {
		t.Errorf("in-flight request during shutdown got %q, want its 422 answer", reply[:n])
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if _, err := http.Get("http://" + web + "/healthz"); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

// serveUntilReady runs app.Serve with cfg and waits until its listener web
// answers /readyz. It returns the server's log and stop, which ends Serve
// and returns its error (called at the end of the test if not before).
func serveUntilReady(t *testing.T, ctx context.Context, cfg *config.Config, web string) (logs *lockedBuffer, stop func() error) {
	t.Helper()
	logs = &lockedBuffer{}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Serve(sctx, cfg, app.NewLogger(cfg, logs), "test", io.Discard) }()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			serveErr = <-done
		})
		return serveErr
	}
	t.Cleanup(func() { _ = stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + web + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return logs, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
