package rapifake

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Faults are failures injected into a cluster's answers. The zero value
// injects nothing. Faults apply to requests whose path starts with
// PathPrefix (all requests when empty), before authentication; several can
// be combined (latency is applied first).
type Faults struct {
	// Latency is added before the request is handled.
	Latency time.Duration
	// Hang makes the server never answer: the request blocks until the
	// client gives up (its context ends) or the cluster is closed.
	Hang bool
	// Status, when non-zero (e.g. 500, 502, 503, 504), answers every request
	// with that HTTP status and a Ganeti-style error body.
	Status int
	// MalformedJSON answers with the normal status but a truncated,
	// unparsable JSON body.
	MalformedJSON bool
	// Reset drops the connection without an answer (TCP reset).
	Reset bool
	// PathPrefix restricts the faults to matching URL paths.
	PathPrefix string
}

// SetFaults replaces the cluster's faults.
func (c *Cluster) SetFaults(f Faults) {
	c.faultMu.Lock()
	defer c.faultMu.Unlock()
	c.faults = f
}

// Faults returns the cluster's current faults.
func (c *Cluster) Faults() Faults {
	c.faultMu.Lock()
	defer c.faultMu.Unlock()
	return c.faults
}

// ClearFaults removes all injected faults.
func (c *Cluster) ClearFaults() { c.SetFaults(Faults{}) }

func (c *Cluster) updateFaults(fn func(*Faults)) {
	c.faultMu.Lock()
	defer c.faultMu.Unlock()
	fn(&c.faults)
}

// SetLatency sets the latency added to every answer (0 to remove it).
func (c *Cluster) SetLatency(d time.Duration) { c.updateFaults(func(f *Faults) { f.Latency = d }) }

// SetHang makes the cluster stop answering (true) or answer again (false).
func (c *Cluster) SetHang(on bool) { c.updateFaults(func(f *Faults) { f.Hang = on }) }

// SetErrorStatus makes every answer an error with the given HTTP status (0
// to stop).
func (c *Cluster) SetErrorStatus(code int) { c.updateFaults(func(f *Faults) { f.Status = code }) }

// SetMalformedJSON makes every answer carry a truncated JSON body.
func (c *Cluster) SetMalformedJSON(on bool) { c.updateFaults(func(f *Faults) { f.MalformedJSON = on }) }

// SetReset makes the cluster reset every connection instead of answering.
func (c *Cluster) SetReset(on bool) { c.updateFaults(func(f *Faults) { f.Reset = on }) }

// RequestCount returns the number of requests received (every request,
// including rejected and faulted ones) since creation or ResetCounts.
func (c *Cluster) RequestCount() int64 { return c.total.Load() }

// PathCount returns the number of requests received for one URL path
// (without query string).
func (c *Cluster) PathCount(path string) int64 {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	return c.pathCounts[path]
}

// PathCounts returns a copy of the per-path request counters.
func (c *Cluster) PathCounts() map[string]int64 {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	out := make(map[string]int64, len(c.pathCounts))
	for k, v := range c.pathCounts {
		out[k] = v
	}
	return out
}

// ResetCounts sets all request counters to zero.
func (c *Cluster) ResetCounts() {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	c.total.Store(0)
	c.pathCounts = map[string]int64{}
}

// Handler returns the cluster's RAPI handler, e.g. for httptest.NewTLSServer
// (which then serves its own certificate, not the cluster's).
func (c *Cluster) Handler() http.Handler { return http.HandlerFunc(c.serveHTTP) }

// apiError is an HTTP error answered as a Ganeti error body.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.msg) }

func errorf(code int, format string, args ...any) error {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

func notFound() error { return &apiError{code: 404, msg: "Not Found"} }

// statusTexts are the (message, explain) pairs Python's http.server uses,
// which Ganeti copies into its error bodies.
func statusTexts(code int) (string, string) {
	switch code {
	case 400:
		return "Bad Request", "Bad request syntax or unsupported method"
	case 401:
		return "Unauthorized", "No permission -- see authorization schemes"
	case 403:
		return "Forbidden", "Request forbidden -- authorization will not help"
	case 404:
		return "Not Found", "Nothing matches the given URI"
	case 405:
		return "Method Not Allowed", "Specified method is invalid for this resource."
	case 409:
		return "Conflict", "Request conflict."
	case 415:
		return "Unsupported Media Type", "Entity body in unsupported format."
	case 500:
		return "Internal Server Error", "Server got itself in trouble"
	case 501:
		return "Not Implemented", "Server does not support this operation"
	case 502:
		return "Bad Gateway", "Invalid responses from another server/proxy."
	case 503:
		return "Service Unavailable", "The server cannot process the request due to a high load"
	case 504:
		return "Gateway Timeout", "The gateway server did not receive a timely response"
	}
	t := http.StatusText(code)
	return t, t
}

// htmlEscape escapes like Python's html.escape(s, quote=True).
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;").Replace(s)
}

func errorBody(code int, msg string) []byte {
	def, explain := statusTexts(code)
	if msg == "" {
		msg = def
	}
	return marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Explain string `json:"explain"`
	}{code, htmlEscape(msg), explain})
}

// request is one parsed RAPI request.
type request struct {
	r     *http.Request
	parts []string
	query url.Values
	body  []byte
	user  User
}

func (q *request) flag(name string) bool {
	v := q.query.Get(name)
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

// route is a resolved resource method.
type route struct {
	write bool
	fn    func(*request) ([]byte, error)
}

func (c *Cluster) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c.total.Add(1)
	c.countMu.Lock()
	c.pathCounts[r.URL.Path]++
	c.countMu.Unlock()

	f := c.Faults()
	faulty := f.PathPrefix == "" || strings.HasPrefix(r.URL.Path, f.PathPrefix)
	if faulty && f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-c.ctx.Done():
			t.Stop()
		}
	}
	if faulty && f.Hang {
		select {
		case <-r.Context().Done():
			return
		case <-c.ctx.Done():
			resetConn(w)
			return
		}
	}
	if faulty && f.Reset {
		resetConn(w)
		return
	}
	h := w.Header()
	h.Set("Server", ServerHeader)
	if !c.opts.KeepAlive {
		h.Set("Connection", "close")
	}
	h.Set("Content-Type", "application/json")
	if faulty && f.Status != 0 {
		writeBody(w, f.Status, errorBody(f.Status, ""))
		return
	}
	code, body := c.answer(r)
	if code == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="Ganeti Remote API"`)
	}
	if faulty && f.MalformedJSON {
		body = append(body[:len(body)/2:len(body)/2], []byte(`{"broken": [`)...)
	}
	writeBody(w, code, body)
}

func writeBody(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// resetConn drops the connection under w, with a TCP reset when possible.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		raw = nc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = raw.Close()
}

// answer resolves, authenticates, authorises and runs a request.
func (c *Cluster) answer(r *http.Request) (int, []byte) {
	parts := splitPath(r.URL.Path)
	rt, err := c.resolve(r.Method, parts)
	if err != nil {
		return errorAnswer(err)
	}
	user, ok := c.authenticate(r)
	if !ok {
		return 401, errorBody(401, "")
	}
	if rt.write && !user.Write {
		return 403, errorBody(403, "")
	}
	q := &request{r: r, parts: parts, query: r.URL.Query(), user: user}
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			return 400, errorBody(400, "Unable to read request body")
		}
		q.body = b
	}
	if len(bytes.TrimSpace(q.body)) > 0 && r.Method != http.MethodGet {
		ct := r.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(ct, "application/json") {
			return 415, errorBody(415, "")
		}
	}
	body, err := rt.fn(q)
	if err != nil {
		return errorAnswer(err)
	}
	return 200, body
}

func errorAnswer(err error) (int, []byte) {
	if ae, ok := err.(*apiError); ok {
		return ae.code, errorBody(ae.code, ae.msg)
	}
	return 500, errorBody(500, err.Error())
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func (c *Cluster) authenticate(r *http.Request) (User, bool) {
	name, pass, ok := r.BasicAuth()
	if !ok {
		return User{}, false
	}
	u, ok := c.users[name]
	if !ok {
		return User{}, false
	}
	want := u.Password
	switch {
	case strings.HasPrefix(strings.ToLower(want), "{cleartext}"):
		want = want[len("{cleartext}"):]
	case strings.HasPrefix(strings.ToLower(want), "{ha1}"):
		sum := md5.Sum([]byte(name + ":Ganeti Remote API:" + pass))
		return u, strings.EqualFold(hex.EncodeToString(sum[:]), want[len("{ha1}"):])
	}
	return u, pass == want
}

// validName reports whether s matches Ganeti's resource name pattern
// [\w._-]+.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

type methods map[string]route

func (c *Cluster) resolve(method string, parts []string) (route, error) {
	ms, err := c.routes(parts)
	if err != nil {
		return route{}, err
	}
	rt, ok := ms[method]
	if !ok {
		return route{}, errorf(501, "Method %s is unsupported for path /%s", method, strings.Join(parts, "/"))
	}
	return rt, nil
}

func get(fn func(*request) ([]byte, error)) route  { return route{fn: fn} }
func wrte(fn func(*request) ([]byte, error)) route { return route{write: true, fn: fn} }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (c *Cluster) routes(p []string) (methods, error) {
	n := len(p)
	for _, s := range p {
		if !validName(s) {
			return nil, notFound()
		}
	}
	switch {
	case n == 0:
		return methods{"GET": get(func(*request) ([]byte, error) { return []byte("null"), nil })}, nil
	case n == 1 && p[0] == "version":
		return methods{"GET": get(func(*request) ([]byte, error) { return []byte("2"), nil })}, nil
	case p[0] != "2":
		return nil, notFound()
	case n == 1:
		return methods{"GET": get(func(*request) ([]byte, error) { return []byte("null"), nil })}, nil
	}
	res := p[1]
	switch {
	case n == 2:
		switch res {
		case "info":
			return methods{"GET": get(c.getInfo)}, nil
		case "features":
			return methods{"GET": get(func(*request) ([]byte, error) {
				return marshal([]string{"node-migrate-reqv1", "instance-create-reqv1", "instance-reinstall-reqv1", "node-evac-res1"}), nil
			})}, nil
		case "os":
			return methods{"GET": get(c.getOS)}, nil
		case "tags":
			return c.tagRoutes("cluster", ""), nil
		case "filters":
			return methods{"GET": get(func(*request) ([]byte, error) { return []byte("[]"), nil })}, nil
		case "modify":
			return methods{"PUT": wrte(c.putClusterModify)}, nil
		case "redistribute-config":
			return methods{"PUT": wrte(c.putRedistConfig)}, nil
		case "nodes":
			return methods{"GET": get(c.getNodes)}, nil
		case "groups":
			return methods{"GET": get(c.getGroups)}, nil
		case "networks":
			return methods{"GET": get(c.getNetworks)}, nil
		case "instances":
			return methods{"GET": get(c.getInstances), "POST": wrte(c.postInstances)}, nil
		case "instances-multi-alloc":
			return methods{"POST": wrte(c.postMultiAlloc)}, nil
		case "jobs":
			return methods{"GET": get(c.getJobs)}, nil
		}
	case res == "nodes":
		name := p[2]
		switch {
		case n == 3:
			return methods{"GET": get(func(q *request) ([]byte, error) { return c.getNode(name) })}, nil
		case n == 4 && p[3] == "role":
			return methods{"GET": get(func(q *request) ([]byte, error) { return c.getNodeRole(name) }),
				"PUT": wrte(func(q *request) ([]byte, error) { return c.putNodeRole(q, name) })}, nil
		case n == 4 && p[3] == "tags":
			return c.tagRoutes("node", name), nil
		case n == 4 && p[3] == "modify":
			return methods{"POST": wrte(func(q *request) ([]byte, error) { return c.postNodeModify(q, name) })}, nil
		case n == 4 && p[3] == "storage":
			return methods{"GET": wrte(func(q *request) ([]byte, error) { return c.getNodeStorage(q, name) })}, nil
		}
	case res == "groups":
		name := p[2]
		switch {
		case n == 3:
			return methods{"GET": get(func(q *request) ([]byte, error) { return c.getGroup(name) })}, nil
		case n == 4 && p[3] == "tags":
			return c.tagRoutes("nodegroup", name), nil
		}
	case res == "networks":
		name := p[2]
		switch {
		case n == 3:
			return methods{"GET": get(func(q *request) ([]byte, error) { return c.getNetwork(name) })}, nil
		case n == 4 && p[3] == "tags":
			return c.tagRoutes("network", name), nil
		case n == 4 && p[3] == "connect":
			return methods{"PUT": wrte(func(q *request) ([]byte, error) { return c.putNetworkConnect(q, name, true) })}, nil
		case n == 4 && p[3] == "disconnect":
			return methods{"PUT": wrte(func(q *request) ([]byte, error) { return c.putNetworkConnect(q, name, false) })}, nil
		}
	case res == "instances":
		return c.instanceRoutes(p)
	case res == "jobs":
		id, err := strconv.Atoi(p[2])
		if err != nil || !isDigits(p[2]) {
			return nil, notFound()
		}
		switch {
		case n == 3:
			return methods{"GET": get(func(q *request) ([]byte, error) { return c.getJob(id) }),
				"DELETE": wrte(func(q *request) ([]byte, error) { return c.deleteJob(id) })}, nil
		case n == 4 && p[3] == "wait":
			return methods{"GET": wrte(func(q *request) ([]byte, error) { return c.waitJob(q, id) })}, nil
		}
	case res == "query":
		kind := p[2]
		switch {
		case n == 3:
			return methods{"GET": get(func(q *request) ([]byte, error) { return c.query(q, kind, false) }),
				"PUT": get(func(q *request) ([]byte, error) { return c.query(q, kind, true) })}, nil
		case n == 4 && p[3] == "fields":
			return methods{"GET": get(func(q *request) ([]byte, error) { return c.queryFields(q, kind) })}, nil
		}
	}
	return nil, notFound()
}

func (c *Cluster) instanceRoutes(p []string) (methods, error) {
	n := len(p)
	name := p[2]
	op := func(fn func(*request, string) ([]byte, error)) route {
		return wrte(func(q *request) ([]byte, error) { return fn(q, name) })
	}
	if n == 3 {
		return methods{"GET": get(func(q *request) ([]byte, error) { return c.getInstance(name) }),
			"DELETE": op(c.deleteInstance)}, nil
	}
	if n == 6 && p[3] == "disk" && p[5] == "grow" && isDigits(p[4]) {
		idx, _ := strconv.Atoi(p[4])
		return methods{"POST": wrte(func(q *request) ([]byte, error) { return c.postGrowDisk(q, name, idx) })}, nil
	}
	if n != 4 {
		return nil, notFound()
	}
	switch p[3] {
	case "info":
		return methods{"GET": get(func(q *request) ([]byte, error) { return c.getInstanceInfo(q, name) })}, nil
	case "startup":
		return methods{"PUT": op(c.putStartup)}, nil
	case "shutdown":
		return methods{"PUT": op(c.putShutdown)}, nil
	case "reboot":
		return methods{"POST": op(c.postReboot)}, nil
	case "reinstall":
		return methods{"POST": op(c.postReinstall)}, nil
	case "modify":
		return methods{"PUT": op(c.putModify)}, nil
	case "rename":
		return methods{"PUT": op(c.putRename)}, nil
	case "migrate":
		return methods{"PUT": op(c.putMigrate)}, nil
	case "failover":
		return methods{"PUT": op(c.putFailover)}, nil
	case "activate-disks":
		return methods{"PUT": op(c.putActivateDisks)}, nil
	case "deactivate-disks":
		return methods{"PUT": op(c.putDeactivateDisks)}, nil
	case "console":
		return methods{"GET": get(func(q *request) ([]byte, error) { return c.getConsole(name) })}, nil
	case "tags":
		return c.tagRoutes("instance", name), nil
	}
	return nil, notFound()
}
