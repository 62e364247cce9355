package rapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// quietLog drops the test servers' TLS handshake complaints, which the
// certificate tests provoke on purpose.
var quietLog = log.New(io.Discard, "", 0)

const (
	testUser = "ganetimgr"
	testPass = "s3cret"
)

// sample returns a recorded real RAPI response body.
func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "samples", name))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	return b
}

// recorded is one request seen by the fake server.
type recorded struct {
	Method string
	Path   string
	Query  string
	Body   []byte
	Header http.Header
}

// route is a canned answer.
type route struct {
	status int
	body   []byte
	header map[string]string
}

// fakeRAPI is an httptest TLS server answering with recorded responses. It
// checks Basic auth like ganeti-rapi with --require-authentication.
type fakeRAPI struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	routes map[string]route
	// handler, when set, replaces the route table.
	handler http.HandlerFunc
}

func newFake(t testing.TB) *fakeRAPI {
	t.Helper()
	f := &fakeRAPI{t: t, routes: map[string]route{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = quietLog
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	// Answer the common reads with the recorded samples.
	for key, file := range map[string]string{
		"GET /version":                                    "version.json",
		"GET /2/info":                                     "info.json",
		"GET /2/features":                                 "features.json",
		"GET /2/os":                                       "os.json",
		"GET /2/tags":                                     "cluster-tags.json",
		"GET /2/nodes":                                    "nodes.json",
		"GET /2/nodes?bulk=1":                             "nodes-bulk.json",
		"GET /2/nodes/node1.ganeti.test":                  "node.json",
		"GET /2/nodes/node1.ganeti.test/role":             "node-role.json",
		"GET /2/groups":                                   "groups.json",
		"GET /2/groups?bulk=1":                            "groups-bulk.json",
		"GET /2/groups/default":                           "group.json",
		"GET /2/networks":                                 "networks.json",
		"GET /2/networks?bulk=1":                          "networks-bulk.json",
		"GET /2/networks/t-net":                           "network.json",
		"GET /2/instances":                                "instances.json",
		"GET /2/instances?bulk=1":                         "instances-bulk.json",
		"GET /2/instances/t-file.ganeti.test":             "instance.json",
		"GET /2/instances/t-diskless.ganeti.test/tags":    "instance-tags.json",
		"GET /2/instances/t-diskless.ganeti.test/console": "instance-console.json",
		"GET /2/jobs":                                     "jobs.json",
		"GET /2/jobs?bulk=1":                              "jobs-bulk.json",
		"GET /2/jobs/7":                                   "job-instance-create.json",
		"GET /2/jobs/11":                                  "job-error.json",
		"GET /2/jobs/13":                                  "job-multi-alloc.json",
		"GET /2/jobs/16":                                  "job-instance-info.json",
		"GET /2/jobs/35":                                  "job-reinstall.json",
		"GET /2/jobs/73":                                  "job-canceled-by-filter.json",
		"GET /2/jobs/999999":                              "job-unknown.json",
		"DELETE /2/jobs/46":                               "job-cancel-finished.json",
		"GET /2/query/instance":                           "query-instance.json",
		"PUT /2/query/instance":                           "query-instance-filter.json",
		"GET /2/query/instance/fields":                    "query-instance-fields.json",
		"GET /2/instances/nope.ganeti.test":               "error-404.json",
	} {
		status := http.StatusOK
		if file == "error-404.json" {
			status = http.StatusNotFound
		}
		f.routes[key] = route{status: status, body: sample(t, file)}
	}
	return f
}

// set installs a canned answer for "METHOD /path" or "METHOD /path?query".
func (f *fakeRAPI) set(key string, status int, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[key] = route{status: status, body: body}
}

func (f *fakeRAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Header: r.Header.Clone()})
	h := f.handler
	f.mu.Unlock()
	w.Header().Set("Connection", "close")
	w.Header().Set("Server", "Ganeti 3.0.2")
	if u, p, ok := r.BasicAuth(); !ok || u != testUser || p != testPass {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Basic realm="Ganeti Remote API"`)
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(sample(f.t, "error-401.json"))
		return
	}
	if h != nil {
		h(w, r)
		return
	}
	f.mu.Lock()
	rt, ok := f.routes[r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery]
	if !ok {
		rt, ok = f.routes[r.Method+" "+r.URL.Path]
	}
	f.mu.Unlock()
	if !ok {
		if r.Method != http.MethodGet {
			// Mutations answer with a job id, as ganeti-rapi does.
			rt = route{status: http.StatusOK, body: sample(f.t, "post-instance-create-response.json")}
		} else {
			rt = route{status: http.StatusNotFound, body: sample(f.t, "error-404.json")}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	for k, v := range rt.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rt.body)))
	w.WriteHeader(rt.status)
	w.Write(rt.body)
}

// setHandler replaces the route table with h (nil restores it).
func (f *fakeRAPI) setHandler(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handler = h
}

// requests returns the requests seen so far.
func (f *fakeRAPI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// last returns the last request seen.
func (f *fakeRAPI) last() recorded {
	f.t.Helper()
	r := f.requests()
	if len(r) == 0 {
		f.t.Fatal("no request recorded")
	}
	return r[len(r)-1]
}

func (f *fakeRAPI) port() int {
	return f.srv.Listener.Addr().(*net.TCPAddr).Port
}

// pin returns the server certificate's fingerprint.
func (f *fakeRAPI) pin() string {
	sum := sha256.Sum256(f.srv.Certificate().Raw)
	return FormatFingerprint(sum[:])
}

// client returns a client pinned to the fake server's certificate.
func (f *fakeRAPI) client(t testing.TB, mut ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Host:     "127.0.0.1",
		Port:     f.port(),
		Username: testUser,
		Password: testPass,
		TLS:      TLSConfig{PinnedSHA256: f.pin()},
	}
	for _, m := range mut {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// bodyMap decodes a recorded JSON body.
func bodyMap(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("request body %q is not a JSON object: %v", b, err)
	}
	return m
}

// certPair is a generated certificate with its key.
type certPair struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

func (p certPair) tlsCert() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{p.der}, PrivateKey: p.key, Leaf: p.cert}
}

func (p certPair) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.der})
}

// genCert makes a certificate from tmpl, signed by parent (self-signed when
// parent is nil).
func genCert(t testing.TB, tmpl *x509.Certificate, parent *certPair) certPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(1)
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return certPair{cert: c, der: der, key: key}
}

// ganetiLikeCert mimics Ganeti's rapi.pem: self-signed, CN only, no SAN.
func ganetiLikeCert(t testing.TB) certPair {
	return genCert(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "ganeti.example.com"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, nil)
}

// tlsServer starts a TLS server with the given certificate and handler.
func tlsServer(t testing.TB, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = quietLog
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func serverPort(srv *httptest.Server) int {
	return srv.Listener.Addr().(*net.TCPAddr).Port
}
