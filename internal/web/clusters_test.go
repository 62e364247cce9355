package web_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Credentials of the fake clusters in these tests.
const (
	fakeWriter   = "gmgr-writer"
	fakeWriterPW = "Wr1te-Secret-7f3a"
	fakeReader   = "gmgr-reader"
	fakeReaderPW = "R3ad-Secret-c91e"
	adminPW      = "correct horse battery"
)

// startFake starts a fake RAPI with a write and a read-only user.
func startFake(t *testing.T) *rapifake.Cluster {
	t.Helper()
	fc, err := rapifake.NewCluster(rapifake.Options{Instances: 3, Users: []rapifake.User{
		{Name: fakeWriter, Password: fakeWriterPW, Write: true}, {Name: fakeReader, Password: fakeReaderPW}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fc.Close() })
	return fc
}

// adminClient logs in a new superuser.
func adminClient(h *harness) *client {
	h.t.Helper()
	h.user("root", adminPW, true)
	c := h.client()
	c.mustLogin("root", adminPW)
	c.get("/") // consume the first-login flash
	return c
}

func clusterValues(host string, port int, slug, user, pass string) url.Values {
	return url.Values{"hostname": {host}, "port": {strconv.Itoa(port)}, "slug": {slug},
		"description": {"Test cluster"}, "rapi_username": {user}, "rapi_password": {pass},
		"tls_mode": {"pin"}, "use_gnt_network": {"1"}}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// confirmValues returns the hidden fields of a certificate confirmation page.
func confirmValues(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("token") == "" || v.Get("fingerprint") == "" {
		t.Fatalf("no confirmation form in:\n%s", body)
	}
	return v
}

var formError = regexp.MustCompile(`(?s)id="(?:form-error|test-result)"[^>]*>(.*?)</p>`)

func pageError(body string) string {
	if m := formError.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

func fieldError(body, name string) string {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(name) + `-error">(.*?)</span>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func countClusters(t *testing.T, h *harness) int {
	t.Helper()
	cs, err := h.store.Clusters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

// addCluster runs the two-step add and returns the stored cluster.
func addCluster(t *testing.T, h *harness, c *client, fc *rapifake.Cluster, slug string) *store.Cluster {
	t.Helper()
	r := c.post("/admin/clusters/new", clusterValues(fc.Host(), fc.Port(), slug, fakeWriter, fakeWriterPW))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("step 1: got %d, want 200: %s", r.StatusCode, pageError(r.body))
	}
	r = c.post("/admin/clusters/new/confirm", confirmValues(t, r.body))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: got %d, want 303: %s", r.StatusCode, pageError(r.body))
	}
	cl, err := h.store.ClusterBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestClusterRoutesRequireSuperuser walks every cluster and network route:
// anonymous visitors are sent to the login page, plain users and helpdesk
// get 403.
func TestClusterRoutesRequireSuperuser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("user1", adminPW, false)
	h.user("help1", adminPW, false, "view_instances")
	var routes [][2]string
	err := chi.Walk(h.site.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/admin/clusters") || strings.HasPrefix(route, "/admin/networks") {
			routes = append(routes, [2]string{method, regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(route, "1")})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 19 {
		t.Fatalf("found only %d cluster and network routes: %v", len(routes), routes)
	}
	anon := h.client()
	users := map[string]*client{}
	for _, name := range []string{"user1", "help1"} {
		c := h.client()
		c.mustLogin(name, adminPW)
		users[name] = c
	}
	for _, rt := range routes {
		method, path := rt[0], rt[1]
		do := func(c *client) *response {
			if method == http.MethodGet {
				return c.get(path)
			}
			return c.post(path, url.Values{"hostname": {"x.example.org"}})
		}
		if r := do(anon); r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "/login") {
			t.Errorf("%s %s as anonymous: got %d %q, want 303 to /login", method, path, r.StatusCode, r.Header.Get("Location"))
		}
		for name, c := range users {
			if r := do(c); r.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as %s: got %d, want 403", method, path, name, r.StatusCode)
			}
		}
	}
}

func TestClusterAddTwoStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fc := startFake(t)
	c := adminClient(h)

	if r := c.get("/admin/clusters/new"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `name="rapi_password"`) {
		t.Fatalf("new form: %d", r.StatusCode)
	}
	// An IP address gives no slug to derive: the form says so without
	// contacting anyone.
	r := c.post("/admin/clusters/new", clusterValues(fc.Host(), fc.Port(), "", fakeWriter, fakeWriterPW))
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(r.body, "slug"), "required") {
		t.Errorf("no slug for an IP address: got %d %q", r.StatusCode, fieldError(r.body, "slug"))
	}
	r = c.post("/admin/clusters/new", clusterValues(fc.Host(), fc.Port(), "fake1", fakeWriter, fakeWriterPW))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("step 1: got %d: %s", r.StatusCode, pageError(r.body))
	}
	if !strings.Contains(r.body, `id="fingerprint">`+fc.Fingerprint()+`<`) {
		t.Errorf("confirmation page does not show the fake's fingerprint %s", fc.Fingerprint())
	}
	if !strings.Contains(r.body, "CN=ganeti.example.com") {
		t.Error("confirmation page does not show the subject")
	}
	if strings.Contains(r.body, fakeWriterPW) {
		t.Error("the confirmation page contains the password")
	}
	if countClusters(t, h) != 0 {
		t.Fatal("a cluster was saved before confirmation")
	}
	// The first step sent no credentials: the fake saw no HTTP request.
	if n := fc.RequestCount(); n != 0 {
		t.Errorf("step 1 made %d RAPI requests, want 0 (only a TLS handshake)", n)
	}
}

func TestClusterAddConfirmSavesPinAndSealedPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fc := startFake(t)
	c := adminClient(h)
	cl := addCluster(t, h, c, fc, "fake1")

	if cl.TLSFingerprint != fc.Fingerprint() || cl.TLSCAPEM != "" {
		t.Errorf("pin = %q (ca %q), want %q", cl.TLSFingerprint, cl.TLSCAPEM, fc.Fingerprint())
	}
	if cl.Hostname != fc.Host() || cl.Port != fc.Port() || cl.RAPIUsername != fakeWriter || !cl.UseGntNetwork || cl.Disabled {
		t.Errorf("stored %+v", cl)
	}
	if bytes.Contains(cl.RAPIPassword, []byte(fakeWriterPW)) {
		t.Error("the stored password is not sealed")
	}
	if pw, err := h.passwords.Open(cl.RAPIPassword); err != nil || pw != fakeWriterPW {
		t.Errorf("stored password opens to %q, %v", pw, err)
	}

	// GET pages make no RAPI call and never show the password.
	fc.ResetCounts()
	for _, p := range []string{"/admin/clusters", "/admin/", fmt.Sprintf("/admin/clusters/%d", cl.ID),
		fmt.Sprintf("/admin/clusters/%d/edit", cl.ID), fmt.Sprintf("/admin/clusters/%d/delete", cl.ID)} {
		r := c.get(p)
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, r.StatusCode)
		}
		if strings.Contains(r.body, fakeWriterPW) {
			t.Errorf("GET %s shows the password", p)
		}
		if p == "/admin/clusters" && !strings.Contains(r.body, `id="cluster-fake1"`) {
			t.Errorf("the list lacks the cluster")
		}
	}
	if n := fc.RequestCount(); n != 0 {
		t.Errorf("GET pages made %d RAPI requests", n)
	}
	// Test connection shows the cluster and that the user can write.
	r := c.post(fmt.Sprintf("/admin/clusters/%d/test", cl.ID), nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `data-ok="true"`) {
		t.Fatalf("test connection: %d %s", r.StatusCode, pageError(r.body))
	}
	for _, want := range []string{`id="test-name">` + fc.Name(), "3.0.2", "instance-create-reqv1", `data-write="true"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("test result lacks %q", want)
		}
	}
	if strings.Contains(r.body, fakeWriterPW) || strings.Contains(h.logs.String(), fakeWriterPW) {
		t.Error("the password appears in the test page or the log")
	}
	if fc.JobCount() != 0 {
		t.Errorf("checks queued %d jobs", fc.JobCount())
	}
	var sessions int
	if err := h.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM sessions WHERE position($1::bytea in data) > 0`, []byte(fakeWriterPW)).Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	if sessions != 0 {
		t.Error("the password is in the session store")
	}
}

func TestClusterTestConnectionReadOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fc := startFake(t)
	c := adminClient(h)
	r := c.post("/admin/clusters/new", clusterValues(fc.Host(), fc.Port(), "ro", fakeReader, fakeReaderPW))
	r = c.post("/admin/clusters/new/confirm", confirmValues(t, r.body))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", r.StatusCode, pageError(r.body))
	}
	// Saving read-only credentials works, with a warning.
	r = c.get(r.Header.Get("Location"))
	if !strings.Contains(r.body, "flash-warning") {
		t.Error("no read-only warning after saving")
	}
	cl, _ := h.store.ClusterBySlug(context.Background(), "ro")
	before := countRows(t, h, "clusters")
	r = c.post(fmt.Sprintf("/admin/clusters/%d/test", cl.ID), nil)
	if !strings.Contains(r.body, `data-write="false"`) || !strings.Contains(r.body, `id="test-readonly"`) {
		t.Errorf("read-only credentials not detected:\n%s", r.body)
	}
	if after := countRows(t, h, "clusters"); after != before {
		t.Error("the test changed the database")
	}
}

func countRows(t *testing.T, h *harness, table string) string {
	t.Helper()
	var s string
	if err := h.store.Pool().QueryRow(context.Background(),
		`SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM `+table+` t`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClusterAddWrongPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fc := startFake(t)
	c := adminClient(h)
	r := c.post("/admin/clusters/new", clusterValues(fc.Host(), fc.Port(), "bad", fakeWriter, "not-the-password"))
	r = c.post("/admin/clusters/new/confirm", confirmValues(t, r.body))
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageError(r.body), "refused the user name or password") {
		t.Errorf("got %d %q, want 422 with the credentials error", r.StatusCode, pageError(r.body))
	}
	if strings.Contains(r.body, "not-the-password") {
		t.Error("the form shows the password back")
	}
	if countClusters(t, h) != 0 {
		t.Error("a cluster was saved")
	}
}

func TestClusterAddPinMismatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fc := startFake(t)
	c := adminClient(h)
	r := c.post("/admin/clusters/new", clusterValues(fc.Host(), fc.Port(), "rot", fakeWriter, fakeWriterPW))
	v := confirmValues(t, r.body)
	if _, err := fc.RotateCertificate(); err != nil {
		t.Fatal(err)
	}
	r = c.post("/admin/clusters/new/confirm", v)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageError(r.body), "different certificate") {
		t.Errorf("got %d %q, want 422 pin mismatch", r.StatusCode, pageError(r.body))
	}
	if countClusters(t, h) != 0 {
		t.Error("a cluster was saved")
	}
	if fc.RequestCount() != 0 {
		t.Errorf("%d requests (with credentials) reached the server with the new certificate", fc.RequestCount())
	}
}

func TestClusterConfirmTokenIsBound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fc := startFake(t)
	c := adminClient(h)
	r := c.post("/admin/clusters/new", clusterValues(fc.Host(), fc.Port(), "bound", fakeWriter, fakeWriterPW))
	v := confirmValues(t, r.body)
	// The sealed password cannot be redirected to another host.
	other := url.Values{}
	for k, vs := range v {
		other[k] = vs
	}
	other.Set("hostname", "192.0.2.10")
	r = c.post("/admin/clusters/new/confirm", other)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageError(r.body), "expired or does not match") {
		t.Errorf("changed host: got %d %q", r.StatusCode, pageError(r.body))
	}
	// Nor be used by another administrator.
	h.user("root2", adminPW, true)
	c2 := h.client()
	c2.mustLogin("root2", adminPW)
	if r := c2.post("/admin/clusters/new/confirm", v); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("other admin: got %d, want 422", r.StatusCode)
	}
	if countClusters(t, h) != 0 || fc.RequestCount() != 0 {
		t.Error("something was saved or sent")
	}
}

func TestClusterAddNotTLS(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>hello</html>")
	}))
	t.Cleanup(srv.Close)
	host, port := splitHostPort(t, srv.Listener.Addr().String())
	c := adminClient(h)
	r := c.post("/admin/clusters/new", clusterValues(host, port, "plain", fakeWriter, fakeWriterPW))
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageError(r.body), "does not speak TLS") {
		t.Errorf("got %d %q, want 422 not TLS", r.StatusCode, pageError(r.body))
	}
	if countClusters(t, h) != 0 {
		t.Error("a cluster was saved")
	}
}

func TestClusterAddNotGaneti(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var sawAuth bool
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, sawAuth = r.BasicAuth()
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>It works!</body></html>")
	}))
	t.Cleanup(srv.Close)
	host, port := splitHostPort(t, srv.Listener.Addr().String())
	c := adminClient(h)
	r := c.post("/admin/clusters/new", clusterValues(host, port, "web", fakeWriter, fakeWriterPW))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("step 1: %d %s", r.StatusCode, pageError(r.body))
	}
	r = c.post("/admin/clusters/new/confirm", confirmValues(t, r.body))
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageError(r.body), "not a Ganeti RAPI") {
		t.Errorf("got %d %q, want 422 not Ganeti", r.StatusCode, pageError(r.body))
	}
	if !sawAuth {
		t.Error("the check did not reach the server")
	}
	if countClusters(t, h) != 0 {
		t.Error("a cluster was saved")
	}
}

func TestClusterAddUnreachable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port := splitHostPort(t, ln.Addr().String())
	ln.Close()
	c := adminClient(h)
	start := time.Now()
	r := c.post("/admin/clusters/new", clusterValues(host, port, "gone", fakeWriter, fakeWriterPW))
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageError(r.body), "Cannot connect") {
		t.Errorf("got %d %q, want 422 unreachable", r.StatusCode, pageError(r.body))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the error took %v", d)
	}
	// The entered values stay, the password does not.
	if !strings.Contains(r.body, `value="`+host+`"`) || strings.Contains(r.body, fakeWriterPW) {
		t.Error("form not kept, or password shown")
	}
}

func TestClusterAddValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fc := startFake(t)
	c := adminClient(h)
	if _, err := h.store.CreateCluster(context.Background(), store.ClusterInput{Slug: "taken", Hostname: "a.example.org",
		Port: 5080, RAPIUsername: "u", TLSFingerprint: fc.Fingerprint()}); err != nil {
		t.Fatal(err)
	}
	keyPEM := "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGQ=\n-----END PRIVATE KEY-----"
	for _, tc := range []struct {
		name, field, want string
		change            func(url.Values)
	}{
		{"duplicate slug", "slug", "already uses", func(v url.Values) { v.Set("slug", "taken") }},
		{"bad slug", "slug", "lowercase", func(v url.Values) { v.Set("slug", "Bad_Slug") }},
		{"hyphen slug", "slug", "lowercase", func(v url.Values) { v.Set("slug", "-x") }},
		{"long slug", "slug", "At most 50", func(v url.Values) { v.Set("slug", strings.Repeat("a", 51)) }},
		{"no host", "hostname", "required", func(v url.Values) { v.Set("hostname", "") }},
		{"bad host", "hostname", "fully qualified", func(v url.Values) { v.Set("hostname", "bad host!") }},
		{"single label", "hostname", "fully qualified", func(v url.Values) { v.Set("hostname", "cluster") }},
		{"broken IP", "hostname", "fully qualified", func(v url.Values) { v.Set("hostname", "10.0.0.256") }},
		{"host with port", "hostname", "fully qualified", func(v url.Values) { v.Set("hostname", "a.example.org:5080") }},
		{"port", "port", "between 1 and 65535", func(v url.Values) { v.Set("port", "70000") }},
		{"port text", "port", "between 1 and 65535", func(v url.Values) { v.Set("port", "http") }},
		{"no user", "rapi_username", "required", func(v url.Values) { v.Set("rapi_username", "") }},
		{"user colon", "rapi_username", "colons", func(v url.Values) { v.Set("rapi_username", "a:b") }},
		{"no password", "rapi_password", "required", func(v url.Values) { v.Set("rapi_password", "") }},
		{"no CA", "tls_ca_pem", "Paste", func(v url.Values) { v.Set("tls_mode", "ca") }},
		{"bad CA", "tls_ca_pem", "not a list of PEM", func(v url.Values) { v.Set("tls_mode", "ca"); v.Set("tls_ca_pem", "hello") }},
		{"key as CA", "tls_ca_pem", "not a list of PEM", func(v url.Values) { v.Set("tls_mode", "ca"); v.Set("tls_ca_pem", keyPEM) }},
		{"tls mode", "tls_mode", "Choose", func(v url.Values) { v.Set("tls_mode", "off") }},
	} {
		v := clusterValues(fc.Host(), fc.Port(), "new1", fakeWriter, fakeWriterPW)
		tc.change(v)
		r := c.post("/admin/clusters/new", v)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(r.body, tc.field), tc.want) {
			t.Errorf("%s: got %d, %s error %q; want 422 with %q", tc.name, r.StatusCode, tc.field, fieldError(r.body, tc.field), tc.want)
		}
		if strings.Contains(r.body, fakeWriterPW) {
			t.Errorf("%s: the form shows the password back", tc.name)
		}
	}
	if n := countClusters(t, h); n != 1 {
		t.Errorf("%d clusters, want 1", n)
	}
	if n := fc.RequestCount(); n != 0 {
		t.Errorf("invalid forms caused %d RAPI requests", n)
	}
	// A valid form with an empty slug takes it from the host name; the
	// IPv6 literal and an FQDN are accepted as host names.
	for host, slug := range map[string]string{"Ganeti-1.Example.org.": "ganeti-1", "[::1]": ""} {
		v := clusterValues(host, 1, "", fakeWriter, fakeWriterPW)
		v.Set("port", "0") // stops before any connection
		r := c.post("/admin/clusters/new", v)
		if fieldError(r.body, "hostname") != "" {
			t.Errorf("host %q refused: %s", host, fieldError(r.body, "hostname"))
		}
		if slug != "" && !strings.Contains(r.body, `value="`+slug+`"`) {
			t.Errorf("host %q: slug %q not derived", host, slug)
		}
	}
}

func TestClusterAddWithCA(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fc, err := rapifake.NewCluster(rapifake.Options{Users: []rapifake.User{{Name: fakeWriter, Password: fakeWriterPW, Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	// httptest's certificate is its own CA and names 127.0.0.1.
	srv := httptest.NewUnstartedServer(fc.Handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the wrong-CA case fails handshakes on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	host, port := splitHostPort(t, srv.Listener.Addr().String())
	c := adminClient(h)

	v := clusterValues(host, port, "ca1", fakeWriter, fakeWriterPW)
	v.Set("tls_mode", "ca")
	v.Set("tls_ca_pem", caPEM)
	r := c.post("/admin/clusters/new", v)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("CA add: got %d %s", r.StatusCode, pageError(r.body))
	}
	cl, err := h.store.ClusterBySlug(context.Background(), "ca1")
	if err != nil || cl.TLSFingerprint != "" || !strings.Contains(cl.TLSCAPEM, "BEGIN CERTIFICATE") {
		t.Fatalf("stored %+v, %v", cl, err)
	}
	// A CA that did not issue the certificate is refused.
	v.Set("slug", "ca2")
	v.Set("tls_ca_pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fakeCA(t)})))
	r = c.post("/admin/clusters/new", v)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageError(r.body), "not trusted") {
		t.Errorf("wrong CA: got %d %q", r.StatusCode, pageError(r.body))
	}
}

// fakeCA returns the DER of a self-signed certificate unrelated to
// httptest's.
func fakeCA(t *testing.T) []byte {
	t.Helper()
	fc, err := rapifake.NewCluster(rapifake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return fc.CertificateDER()
}

func TestClusterEditKeepsPasswordAndRechecks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fc := startFake(t)
	c := adminClient(h)
	cl := addCluster(t, h, c, fc, "edit1")
	editPath := fmt.Sprintf("/admin/clusters/%d/edit", cl.ID)
	ctx := context.Background()

	r := c.get(editPath)
	if r.StatusCode != http.StatusOK || strings.Contains(r.body, fakeWriterPW) || !strings.Contains(r.body, `name="rapi_password" type="password" value=""`) {
		t.Fatalf("edit form: %d, password field not empty", r.StatusCode)
	}
	// Description and flags only: saved without contacting the cluster, the
	// password kept.
	fc.ResetCounts()
	v := clusterValues(fc.Host(), fc.Port(), "edit1", fakeWriter, "")
	v.Set("description", "Changed")
	v.Set("creation_disabled", "1")
	r = c.post(editPath, v)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s %v", r.StatusCode, pageError(r.body), fieldError(r.body, "rapi_password"))
	}
	got, _ := h.store.ClusterByID(ctx, cl.ID)
	if got.Description != "Changed" || !got.CreationDisabled || !bytes.Equal(got.RAPIPassword, cl.RAPIPassword) || got.TLSFingerprint != cl.TLSFingerprint {
		t.Errorf("after edit: %+v", got)
	}
	if fc.RequestCount() != 0 {
		t.Errorf("a description change made %d RAPI requests", fc.RequestCount())
	}

	// A wrong new password is checked and refused; nothing changes.
	v.Set("rapi_password", "wrong-password")
	r = c.post(editPath, v)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageError(r.body), "refused") {
		t.Errorf("wrong password: %d %q", r.StatusCode, pageError(r.body))
	}
	if now, _ := h.store.ClusterByID(ctx, cl.ID); !bytes.Equal(now.RAPIPassword, cl.RAPIPassword) {
		t.Error("the wrong password was stored")
	}

	// A new certificate: "fetch again" confirms the new fingerprint, and the
	// kept password is used for the check.
	newFP, err := fc.RotateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	v.Set("rapi_password", "")
	v.Set("refetch", "1")
	r = c.post(editPath, v)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, newFP) {
		t.Fatalf("refetch: %d %s", r.StatusCode, pageError(r.body))
	}
	r = c.post(editPath+"/confirm", confirmValues(t, r.body))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm new pin: %d %s", r.StatusCode, pageError(r.body))
	}
	got, _ = h.store.ClusterByID(ctx, cl.ID)
	if got.TLSFingerprint != newFP || !bytes.Equal(got.RAPIPassword, cl.RAPIPassword) {
		t.Errorf("after re-pin: fingerprint %s (want %s), password changed %v", got.TLSFingerprint, newFP, !bytes.Equal(got.RAPIPassword, cl.RAPIPassword))
	}
	if strings.Contains(h.logs.String(), fakeWriterPW) {
		t.Error("the password is in the log")
	}
}

func TestClusterBulkAndDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := adminClient(h)
	ctx := context.Background()
	var ids []string
	for _, slug := range []string{"b1", "b2", "b3"} {
		cl, err := h.store.CreateCluster(ctx, store.ClusterInput{Slug: slug, Hostname: slug + ".example.org", Port: 5080,
			RAPIUsername: "u", TLSFingerprint: strings.Repeat("AB:", 31) + "AB"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, strconv.FormatInt(cl.ID, 10))
	}
	r := c.post("/admin/clusters/bulk", url.Values{"action": {"disable"}, "id": ids[:2]})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk disable: %d", r.StatusCode)
	}
	state := func() string {
		cs, _ := h.store.Clusters(ctx)
		var b strings.Builder
		for _, c := range cs {
			fmt.Fprintf(&b, "%s=%v ", c.Slug, c.Disabled)
		}
		return b.String()
	}
	if got := state(); got != "b1=true b2=true b3=false " {
		t.Errorf("after disable: %s", got)
	}
	c.post("/admin/clusters/bulk", url.Values{"action": {"enable"}, "id": {ids[0], ids[2]}})
	if got := state(); got != "b1=false b2=true b3=false " {
		t.Errorf("after enable: %s", got)
	}
	if r := c.post("/admin/clusters/bulk", url.Values{"action": {"explode"}, "id": ids}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown action: %d", r.StatusCode)
	}
	if r := c.post("/admin/clusters/bulk", url.Values{"action": {"disable"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("no selection: %d", r.StatusCode)
	}
	if r := c.get("/admin/clusters"); !strings.Contains(r.body, "bulk-disable") || !strings.Contains(r.body, "No cluster was selected") {
		t.Error("list lacks the bulk buttons or the no-selection message")
	}

	// Delete asks first (GET changes nothing), then removes the cluster and
	// its networks.
	if _, err := h.store.CreateNetwork(ctx, store.NetworkInput{ClusterID: mustID(ids[0]), Description: "n", Link: "br0", Mode: "bridged"}); err != nil {
		t.Fatal(err)
	}
	r = c.get("/admin/clusters/" + ids[0] + "/delete")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "networks (1)") {
		t.Errorf("delete confirmation: %d", r.StatusCode)
	}
	if countClusters(t, h) != 3 {
		t.Fatal("GET deleted")
	}
	r = c.post("/admin/clusters/"+ids[0]+"/delete", nil)
	if r.StatusCode != http.StatusSeeOther || countClusters(t, h) != 2 {
		t.Errorf("delete: %d, %d clusters", r.StatusCode, countClusters(t, h))
	}
	if nets, _ := h.store.Networks(ctx, 0); len(nets) != 0 {
		t.Error("the cluster's network survived")
	}
	if r := c.post("/admin/clusters/"+ids[0]+"/delete", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("second delete: %d", r.StatusCode)
	}
}

func TestClusterDemoIsReadOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := adminClient(h)
	d, err := h.store.UpsertDemoCluster(context.Background(), store.Cluster{Slug: "demo", Hostname: "127.0.0.1", Port: 1,
		RAPIUsername: "u", TLSFingerprint: strings.Repeat("AB:", 31) + "AB"})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(d.ID, 10)
	if r := c.get("/admin/clusters/" + id + "/edit"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("edit demo: %d", r.StatusCode)
	}
	if r := c.post("/admin/clusters/"+id+"/delete", nil); r.StatusCode != http.StatusBadRequest || countClusters(t, h) != 1 {
		t.Errorf("delete demo: %d", r.StatusCode)
	}
	if r := c.get("/admin/clusters/" + id); r.StatusCode != http.StatusOK || strings.Contains(r.body, `id="cluster-edit"`) {
		t.Errorf("demo page: %d", r.StatusCode)
	}
}

func splitHostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

func mustID(s string) int64 {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return id
}
