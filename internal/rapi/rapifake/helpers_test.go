package rapifake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// tclient talks to a started fake cluster over HTTPS with a pinned
// certificate, like the real client would.
type tclient struct {
	t          testing.TB
	c          *Cluster
	base       string
	hc         *http.Client
	user, pass string
}

func startCluster(t testing.TB, o Options) (*Cluster, *tclient) {
	t.Helper()
	c, err := NewCluster(o)
	if err != nil {
		t.Fatal(err)
	}
	url, err := c.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, newClient(t, c, url)
}

func newClient(t testing.TB, c *Cluster, url string) *tclient {
	tr := &http.Transport{TLSClientConfig: c.ClientTLSConfig(), MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &tclient{t: t, c: c, base: url, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, user: "admin", pass: "admin"}
}

func (tc *tclient) as(user, pass string) *tclient {
	cp := *tc
	cp.user, cp.pass = user, pass
	return &cp
}

func (tc *tclient) doCtx(ctx context.Context, method, path string, body any) (int, []byte, http.Header, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, tc.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tc.user != "" {
		req.SetBasicAuth(tc.user, tc.pass)
	}
	resp, err := tc.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	hdr := resp.Header.Clone()
	if resp.Close {
		// net/http strips "Connection: close" into resp.Close.
		hdr.Set("Connection", "close")
	}
	return resp.StatusCode, raw, hdr, err
}

// do performs a request and fails the test on transport errors.
func (tc *tclient) do(method, path string, body any) (int, []byte) {
	tc.t.Helper()
	code, raw, _, err := tc.doCtx(context.Background(), method, path, body)
	if err != nil {
		tc.t.Fatalf("%s %s: %v", method, path, err)
	}
	return code, raw
}

// ok performs a request expecting 200.
func (tc *tclient) ok(method, path string, body any) []byte {
	tc.t.Helper()
	code, raw := tc.do(method, path, body)
	if code != 200 {
		tc.t.Fatalf("%s %s: HTTP %d: %s", method, path, code, raw)
	}
	return raw
}

// submit performs a mutation and returns the job id.
func (tc *tclient) submit(method, path string, body any) int {
	tc.t.Helper()
	raw := tc.ok(method, path, body)
	var id int
	if err := json.Unmarshal(raw, &id); err != nil {
		tc.t.Fatalf("%s %s: job id expected, got %s", method, path, raw)
	}
	return id
}

type jobResult struct {
	ID       int     `json:"id"`
	Status   *string `json:"status"`
	OpStatus []string
	OpResult []json.RawMessage `json:"opresult"`
	OpLog    [][]json.RawMessage
	raw      []byte
}

// waitJob polls a job until it is finalized.
func (tc *tclient) waitJob(id int) jobResult {
	tc.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		raw := tc.ok("GET", fmt.Sprintf("/2/jobs/%d", id), nil)
		var j jobResult
		if err := json.Unmarshal(raw, &j); err != nil {
			tc.t.Fatal(err)
		}
		j.raw = raw
		if j.Status != nil && (*j.Status == "success" || *j.Status == "error" || *j.Status == "canceled") {
			return j
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("job %d not finished: %s", id, raw)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run submits a mutation and waits for its job.
func (tc *tclient) run(method, path string, body any) jobResult {
	tc.t.Helper()
	return tc.waitJob(tc.submit(method, path, body))
}

func createBody(name string, extra map[string]any) map[string]any {
	b := map[string]any{
		"__version__": 1, "mode": "create", "instance_name": name, "disk_template": "diskless",
		"disks": []any{}, "nics": []any{map[string]any{}}, "os_type": "noop",
		"beparams":   map[string]any{"maxmem": 256, "minmem": 128, "vcpus": 1},
		"name_check": false, "ip_check": false, "tags": []string{"env:test"},
	}
	for k, v := range extra {
		if v == nil {
			delete(b, k)
			continue
		}
		b[k] = v
	}
	return b
}
