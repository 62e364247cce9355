package rapi

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConfigAndURL(t *testing.T) {
	cases := []struct {
		host string
		port int
		want string
	}{
		{"cluster.example.org", 0, "https://cluster.example.org:5080"},
		{"198.51.100.100", 443, "https://198.51.100.100:443"},
		{"2001:db8::1", 0, "https://[2001:db8::1]:5080"},
		{"[2001:db8::1]", 5081, "https://[2001:db8::1]:5081"},
		{"::1", 0, "https://[::1]:5080"},
	}
	for _, tc := range cases {
		c, err := New(Config{Host: tc.host, Port: tc.port, Username: "u", Password: "p"})
		if err != nil {
			t.Fatalf("New(%q): %v", tc.host, err)
		}
		if got := c.BaseURL(); got != tc.want {
			t.Errorf("BaseURL(%q, %d) = %q, want %q", tc.host, tc.port, got, tc.want)
		}
	}
	for _, cfg := range []Config{
		{Host: "", Username: "u"},
		{Host: "a.example:80", Username: "u"},
		{Host: "https://a.example", Username: "u"},
		{Host: "a.example/x", Username: "u"},
		{Host: "fe80::1%eth0", Username: "u"},
		{Host: "a.example", Port: 70000, Username: "u"},
		{Host: "a.example"},
		{Host: "a.example", Username: "u", TLS: TLSConfig{PinnedSHA256: "zz"}},
		{Host: "a.example", Username: "u", TLS: TLSConfig{CAPEM: []byte("not pem")}},
		{Host: "a.example", Username: "u", TLS: TLSConfig{PinnedSHA256: strings.Repeat("ab", 32), CAPEM: []byte("x")}},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("New(%+v) = %v, want ErrInvalidArgument", cfg, err)
		}
	}
}

// TestPortIsUsed: the configured port is where the request goes.
func TestPortIsUsed(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	if !strings.HasSuffix(c.BaseURL(), ":"+strconv.Itoa(f.port())) {
		t.Fatalf("BaseURL %s lacks port %d", c.BaseURL(), f.port())
	}
	if _, err := c.Version(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The same client on a port where nothing listens fails to connect.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c2 := f.client(t, func(cfg *Config) { cfg.Port = closedPort })
	_, err = c2.Version(context.Background())
	if !IsUnavailable(err) || errors.Is(err, ErrTimeout) {
		t.Errorf("closed port: %v, want unavailable without timeout", err)
	}
	var te *TransportError
	if !errors.As(err, &te) || te.Path != "/version" {
		t.Errorf("transport error = %#v", err)
	}
}

// TestIPv6Loopback talks to a server on [::1] when the machine has IPv6.
func TestIPv6Loopback(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Logf("no IPv6 loopback here (%v); URL form covered by TestConfigAndURL", err)
		return
	}
	f := newFake(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Config.ErrorLog = quietLog
	srv.Listener.Close()
	srv.Listener = l
	srv.StartTLS()
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().Raw)
	c, err := New(Config{Host: "::1", Port: l.Addr().(*net.TCPAddr).Port, Username: testUser, Password: testPass,
		TLS: TLSConfig{PinnedSHA256: hex.EncodeToString(sum[:])}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.BaseURL(), "https://[::1]:") {
		t.Errorf("BaseURL = %s", c.BaseURL())
	}
	if v, err := c.Version(context.Background()); err != nil || v != 2 {
		t.Errorf("Version over IPv6 = %d, %v", v, err)
	}
}

func TestFingerprints(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	canon := FormatFingerprint(sum[:])
	if len(canon) != 95 || strings.ToUpper(canon) != canon || strings.Count(canon, ":") != 31 {
		t.Fatalf("FormatFingerprint = %q", canon)
	}
	for _, in := range []string{
		canon,
		strings.ToLower(canon),
		hex.EncodeToString(sum[:]),
		strings.ToUpper(hex.EncodeToString(sum[:])),
		"  SHA256:" + canon + " ",
		"sha256 " + hex.EncodeToString(sum[:]),
	} {
		got, err := NormalizeFingerprint(in)
		if err != nil || got != canon {
			t.Errorf("NormalizeFingerprint(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "abc", canon[:94], canon + ":00", strings.Replace(canon, ":", "", 1),
		strings.Repeat("g", 64), strings.Repeat("a:", 31) + "a", strings.Repeat("abc:", 32)} {
		if _, err := ParseFingerprint(in); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ParseFingerprint(%q) = %v, want error", in, err)
		}
	}
}

func TestPinMatchAndMismatch(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	// Match, with the pin given as lowercase plain hex.
	sum := sha256.Sum256(f.srv.Certificate().Raw)
	c := f.client(t, func(cfg *Config) { cfg.TLS.PinnedSHA256 = hex.EncodeToString(sum[:]) })
	if _, err := c.Version(ctx); err != nil {
		t.Fatalf("pinned: %v", err)
	}
	// Mismatch.
	other := sha256.Sum256([]byte("another certificate"))
	n := len(f.requests())
	c = f.client(t, func(cfg *Config) { cfg.TLS.PinnedSHA256 = FormatFingerprint(other[:]) })
	_, err := c.Version(ctx)
	if !errors.Is(err, ErrPinMismatch) {
		t.Fatalf("mismatch: %v, want ErrPinMismatch", err)
	}
	var pm *PinMismatchError
	if !errors.As(err, &pm) || pm.Expected != FormatFingerprint(other[:]) || pm.Presented != f.pin() {
		t.Errorf("PinMismatchError = %+v; presented should be %s", pm, f.pin())
	}
	if IsUnavailable(err) || !strings.Contains(err.Error(), pm.Presented) || !strings.Contains(err.Error(), pm.Expected) {
		t.Errorf("mismatch error = %v (unavailable %v)", err, IsUnavailable(err))
	}
	if len(f.requests()) != n {
		t.Errorf("a request reached the server despite the pin mismatch")
	}
}

// TestGanetiLikeCertificate: Ganeti's self-signed CN-only certificate works
// when pinned and fails CA verification (no SAN), and without any TLS setting
// the system roots reject it: verification is never silently off.
func TestGanetiLikeCertificate(t *testing.T) {
	gc := ganetiLikeCert(t)
	var hits atomic.Int32
	srv := tlsServer(t, gc.tlsCert(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("2"))
	}))
	port := serverPort(srv)
	ctx := context.Background()
	mk := func(tc TLSConfig) *Client {
		c, err := New(Config{Host: "127.0.0.1", Port: port, Username: "u", Password: "p", TLS: tc})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := mk(TLSConfig{PinnedSHA256: CertFingerprint(gc.der)}).Version(ctx); err != nil {
		t.Errorf("pinned ganeti cert: %v", err)
	}
	_, err := mk(TLSConfig{CAPEM: gc.pem()}).Version(ctx)
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) || IsUnavailable(err) {
		t.Errorf("CA mode with CN-only cert: %v, want certificate verification error", err)
	}
	_, err = mk(TLSConfig{}).Version(ctx)
	if !errors.As(err, &cve) {
		t.Errorf("system roots: %v, want certificate verification error", err)
	}
	// Even naming the certificate's CN does not pass: Go requires a SAN.
	_, err = mk(TLSConfig{ServerName: "ganeti.example.com"}).Version(ctx)
	var he x509.HostnameError
	if !errors.As(err, &he) {
		t.Errorf("system roots with the certificate's CN: %v, want hostname error", err)
	}
	if hits.Load() != 1 {
		t.Errorf("server saw %d requests, want 1", hits.Load())
	}

	info, err := FetchCertificate(ctx, "127.0.0.1", port, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != CertFingerprint(gc.der) || info.Subject != "CN=ganeti.example.com" || info.Issuer != info.Subject ||
		!info.SelfSigned || len(info.DNSNames) != 0 || info.Chain != 1 || !info.NotAfter.After(info.NotBefore) ||
		!strings.HasPrefix(string(info.PEM), "-----BEGIN CERTIFICATE-----") {
		t.Errorf("FetchCertificate = %+v", info)
	}
	// What FetchCertificate returns is directly usable as a pin.
	if _, err := mk(TLSConfig{PinnedSHA256: info.SHA256}).Version(ctx); err != nil {
		t.Errorf("pin from FetchCertificate: %v", err)
	}
}

// TestCAMode: a CA-signed certificate with the right SAN verifies; a wrong
// host name fails.
func TestCAMode(t *testing.T) {
	ca := genCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Test RAPI CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil)
	leaf := genCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "cluster.ganeti.test"}, DNSNames: []string{"cluster.ganeti.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}, &ca)
	srv := tlsServer(t, leaf.tlsCert(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("2")) }))
	port := serverPort(srv)
	ctx := context.Background()
	mk := func(host string, tc TLSConfig) *Client {
		c, err := New(Config{Host: host, Port: port, Username: "u", Password: "p", TLS: tc})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := mk("127.0.0.1", TLSConfig{CAPEM: ca.pem()}).Version(ctx); err != nil {
		t.Errorf("CA mode by IP SAN: %v", err)
	}
	if _, err := mk("127.0.0.1", TLSConfig{CAPEM: ca.pem(), ServerName: "cluster.ganeti.test"}).Version(ctx); err != nil {
		t.Errorf("CA mode by DNS SAN: %v", err)
	}
	_, err := mk("127.0.0.1", TLSConfig{CAPEM: ca.pem(), ServerName: "other.ganeti.test"}).Version(ctx)
	var he x509.HostnameError
	if !errors.As(err, &he) {
		t.Errorf("wrong host name: %v, want x509.HostnameError", err)
	}
	// Another CA does not verify it.
	other := genCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Other CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil)
	if _, err := mk("127.0.0.1", TLSConfig{CAPEM: other.pem()}).Version(ctx); err == nil {
		t.Errorf("foreign CA accepted")
	}
	info, err := FetchCertificate(ctx, "127.0.0.1", port, 0)
	if err != nil || info.SelfSigned || info.Issuer != "CN=Test RAPI CA" || len(info.IPAddresses) != 1 || info.IPAddresses[0] != "127.0.0.1" {
		t.Errorf("FetchCertificate CA-signed = %+v, %v", info, err)
	}
}

// TestConcurrencyCap: no more than MaxConcurrent calls are in flight.
func TestConcurrencyCap(t *testing.T) {
	f := newFake(t)
	var inflight, peak atomic.Int32
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(40 * time.Millisecond)
		inflight.Add(-1)
		w.Write([]byte("2"))
	})
	c := f.client(t, func(cfg *Config) { cfg.MaxConcurrent = 3 })
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Version(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak.Load(); p != 3 {
		t.Errorf("peak in-flight = %d, want 3", p)
	}
	if n := len(f.requests()); n != 20 {
		t.Errorf("requests = %d", n)
	}
}

// TestSlotWaitRespectsContext: waiting for a slot ends with the caller's
// context, and that is not reported as an unreachable cluster.
func TestSlotWaitRespectsContext(t *testing.T) {
	f := newFake(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.Write([]byte("2"))
	})
	c := f.client(t, func(cfg *Config) { cfg.MaxConcurrent = 1 })
	done := make(chan error, 1)
	go func() { _, err := c.Version(context.Background()); done <- err }()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Version(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || IsUnavailable(err) {
		t.Errorf("second call: %v, want deadline exceeded (not unavailable)", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("slot wait took %v", d)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first call: %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestResponseSizeCap(t *testing.T) {
	f := newFake(t)
	big := []byte(`["` + strings.Repeat("x", 5000) + `"]`)
	c := f.client(t, func(cfg *Config) { cfg.MaxResponseBytes = 4096 })
	ctx := context.Background()

	f.set("GET /2/os", 200, big) // with Content-Length
	_, err := c.OSes(ctx)
	var tl *ResponseTooLargeError
	if !errors.As(err, &tl) || tl.Limit != 4096 || !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("with length: %v", err)
	}
	// Streamed without Content-Length.
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 10; i++ {
			w.Write(big[:1000])
			w.(http.Flusher).Flush()
		}
	})
	if _, err := c.OSes(ctx); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("chunked: %v", err)
	}
	// Exactly at the limit is fine.
	f.setHandler(nil)
	exact := []byte(`["` + strings.Repeat("y", 4092) + `"]`)
	f.set("GET /2/os", 200, exact)
	if oses, err := c.OSes(ctx); err != nil || len(oses[0]) != 4092 {
		t.Errorf("at limit: %v", err)
	}
}

// TestConnectTimeout: a server that accepts TCP but never speaks TLS.
func TestConnectTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	c, err := New(Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Username: "u", Password: "p",
		ConnectTimeout: 300 * time.Millisecond, ResponseTimeout: 10 * time.Second,
		TLS: TLSConfig{PinnedSHA256: strings.Repeat("00", 32)}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Version(context.Background())
	d := time.Since(start)
	if !errors.Is(err, ErrTimeout) || !IsUnavailable(err) {
		t.Errorf("err = %v, want timeout + unavailable", err)
	}
	var te *TransportError
	if !errors.As(err, &te) || !te.Timeout {
		t.Errorf("err = %#v, want *TransportError with Timeout", err)
	}
	if d < 250*time.Millisecond || d > 3*time.Second {
		t.Errorf("took %v, want about the 300ms connect timeout", d)
	}

	info, err := FetchCertificate(context.Background(), "127.0.0.1", l.Addr().(*net.TCPAddr).Port, 200*time.Millisecond)
	if err == nil || !errors.Is(err, ErrTimeout) {
		t.Errorf("FetchCertificate on a silent server = %v, %v", info, err)
	}
}

// TestResponseTimeout: a server that accepts the request and hangs.
func TestResponseTimeout(t *testing.T) {
	f := newFake(t)
	stop := make(chan struct{})
	defer close(stop)
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		<-stop // never answers while the client waits
	})
	c := f.client(t, func(cfg *Config) { cfg.ResponseTimeout = 300 * time.Millisecond })
	start := time.Now()
	_, err := c.Info(context.Background())
	d := time.Since(start)
	if !errors.Is(err, ErrTimeout) || !IsUnavailable(err) {
		t.Errorf("err = %v, want timeout + unavailable", err)
	}
	if d < 250*time.Millisecond || d > 3*time.Second {
		t.Errorf("took %v, want about 300ms", d)
	}

	// A hanging body (headers sent, body never finished).
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte(`{"name":`))
		w.(http.Flusher).Flush()
		<-stop // never answers while the client waits
	})
	start = time.Now()
	if _, err := c.Info(context.Background()); !errors.Is(err, ErrTimeout) {
		t.Errorf("hanging body: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("hanging body took %v", d)
	}
}

// TestContextCancel: the caller's cancellation ends a call at once and is
// reported as such.
func TestContextCancel(t *testing.T) {
	f := newFake(t)
	f.setHandler(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := f.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.InstancesBulk(ctx)
	if !errors.Is(err, context.Canceled) || IsUnavailable(err) || errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want context.Canceled only", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	// An already canceled context sends nothing.
	n := len(f.requests())
	if _, err := c.Info(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: %v", err)
	}
	if len(f.requests()) != n {
		t.Errorf("request sent with a canceled context")
	}
}

// TestWaitJob follows a job through the wait resource with progress.
func TestWaitJob(t *testing.T) {
	f := newFake(t)
	var mu sync.Mutex
	var waitBodies []string
	step := 0
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.URL.Path == "/2/jobs/7/wait" && r.Method == "GET":
			f.mu.Lock()
			waitBodies = append(waitBodies, string(f.reqs[len(f.reqs)-1].Body))
			f.mu.Unlock()
			step++
			switch step {
			case 1:
				fmt.Fprint(w, `{"job_info": ["running"], "log_entries": [[1, [1795771097, 301855], "message", "* creating instance disks..."]]}`)
			case 2:
				fmt.Fprint(w, `null`)
			case 3:
				fmt.Fprint(w, `{"job_info": ["running"], "log_entries": [[2, [1795771097, 306697], "message", "adding instance"], [3, [1795771097, 333893], "message-list", ["a", "b"]]]}`)
			default:
				fmt.Fprint(w, `{"job_info": ["success"], "log_entries": [[4, [1795771098, 79674], "message", "* starting instance..."]]}`)
			}
		case r.URL.Path == "/2/jobs/7":
			if step < 2 {
				// Not finished yet when asked after the null answer.
				fmt.Fprint(w, `{"id": 7, "status": "running", "oplog": [[]], "opresult": [null]}`)
				return
			}
			if step < 4 {
				fmt.Fprint(w, `{"id": 7, "status": "running", "oplog": [[]], "opresult": [null]}`)
				return
			}
			w.Write(sample(t, "job-instance-create.json"))
		default:
			http.NotFound(w, r)
		}
	})
	c := f.client(t)
	var logs []LogEntry
	job, err := c.WaitJobProgress(context.Background(), 7, func(e LogEntry) { logs = append(logs, e) })
	if err != nil || job.Status != JobStatusSuccess {
		t.Fatalf("WaitJob = %+v, %v", job, err)
	}
	if len(logs) != 4 || logs[0].Message != "* creating instance disks..." || logs[2].Type != "message-list" ||
		logs[2].Message != `["a", "b"]` || logs[3].Message != "* starting instance..." {
		t.Errorf("logs = %+v", logs)
	}
	if len(waitBodies) != 4 {
		t.Fatalf("wait calls = %d", len(waitBodies))
	}
	assertJSONEqual(t, []byte(waitBodies[0]), `{"fields":["status"],"previous_job_info":null,"previous_log_serial":null}`)
	assertJSONEqual(t, []byte(waitBodies[1]), `{"fields":["status"],"previous_job_info":["running"],"previous_log_serial":1}`)
	assertJSONEqual(t, []byte(waitBodies[3]), `{"fields":["status"],"previous_job_info":["running"],"previous_log_serial":3}`)
}

func TestWaitJobErrors(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()
	// A failed job: the real wait answer, then the real job.
	f.set("GET /2/jobs/11/wait", 200, []byte(`{"job_info": ["error"], "log_entries": []}`))
	job, err := c.WaitJob(ctx, 11)
	var je *JobError
	if !errors.As(err, &je) || je.Code != ECodeInval || job == nil || job.ID != 11 {
		t.Errorf("WaitJob(11) = %v, %v", job, err)
	}
	// A job rejected by a filter.
	f.set("GET /2/jobs/73/wait", 200, []byte(`{"job_info": ["canceled"], "log_entries": []}`))
	if _, err := c.WaitJob(ctx, 73); !errors.Is(err, ErrJobCanceled) {
		t.Errorf("WaitJob(73) = %v", err)
	}
	// Unknown job: the wait answers with null fields, the job is unknown.
	f.set("GET /2/jobs/999999/wait", 200, []byte(`{"job_info": [null], "log_entries": []}`))
	if _, err := c.WaitJob(ctx, 999999); !IsNotFound(err) {
		t.Errorf("WaitJob(unknown) = %v", err)
	}
	// A read-only user gets 403 on the wait resource: fall back to polling.
	f.set("GET /2/jobs/7/wait", 403, sample(t, "error-403.json"))
	job, err = c.WaitJob(ctx, 7)
	if err != nil || job.Status != JobStatusSuccess {
		t.Errorf("WaitJob with 403 wait = %v, %v", job, err)
	}
	// The caller's context bounds the wait.
	f.set("GET /2/jobs/8/wait", 200, []byte(`null`))
	f.set("GET /2/jobs/8", 200, []byte(`{"id": 8, "status": "running"}`))
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := c.WaitJob(cctx, 8); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitJob running forever = %v", err)
	}
}

// TestWaitJobShortTimeout: with a response timeout shorter than Ganeti's
// long-poll, WaitJob falls back to polling instead of failing.
func TestWaitJobShortTimeout(t *testing.T) {
	f := newFake(t)
	stop := make(chan struct{})
	defer close(stop)
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/wait") {
			select {
			case <-stop:
			case <-r.Context().Done():
			}
			return
		}
		w.Write(sample(t, "job-instance-create.json"))
	})
	c := f.client(t, func(cfg *Config) { cfg.ResponseTimeout = 200 * time.Millisecond })
	var n int
	job, err := c.WaitJobProgress(context.Background(), 7, func(LogEntry) { n++ })
	if err != nil || job.Status != JobStatusSuccess || n != 4 {
		t.Errorf("WaitJob = %v, %v, %d log entries", job, err, n)
	}
}
