package rapi_test

// Helpers for the integration tests that run against the real Ganeti sandbox
// brought up by test/ganeti/up.sh (see test/ganeti/README.md).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/sandboxenv"
)

const (
	// jobTimeout bounds every wait for a job: jobs serialise on the
	// cluster and a busy CI machine can be slow.
	jobTimeout = 120 * time.Second
	// callTimeout bounds a single read.
	callTimeout = 60 * time.Second
)

// runID makes the names of one test run unique on the shared sandbox.
var runID = func() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return strconv.FormatInt(time.Now().UnixNano()%1e8, 36)
	}
	return hex.EncodeToString(b)
}()

// sandbox holds the settings of the running Ganeti sandbox.
type sandbox struct {
	Host        string
	Port        int
	User        string
	Pass        string
	ROUser      string
	ROPass      string
	Fingerprint string
	CertFile    string
	ClusterName string
	Node        string
	Group       string
	OS          string
	Network     string
	NetworkCIDR string
	Gateway     string
	NICLink     string
	Templates   []string
	FakeHVDir   string
	Exec        string
	vars        map[string]string
}

// loadSandbox reads the sandbox's env file. Without it the test fails in CI
// and is skipped elsewhere; -short skips it outside CI.
func loadSandbox(tb testing.TB) *sandbox {
	tb.Helper()
	vars := sandboxenv.Load(tb)
	path := sandboxenv.Path()
	need := func(k string) string {
		v := vars[k]
		if v == "" {
			tb.Fatalf("sandbox env file %s lacks %s", path, k)
		}
		return v
	}
	port, err := strconv.Atoi(need("GANETI_RAPI_PORT"))
	if err != nil {
		tb.Fatalf("GANETI_RAPI_PORT: %v", err)
	}
	sb := &sandbox{
		Host:        need("GANETI_RAPI_HOST"),
		Port:        port,
		User:        need("GANETI_RAPI_USER"),
		Pass:        need("GANETI_RAPI_PASS"),
		ROUser:      need("GANETI_RAPI_RO_USER"),
		ROPass:      need("GANETI_RAPI_RO_PASS"),
		Fingerprint: need("GANETI_RAPI_FINGERPRINT"),
		CertFile:    vars["GANETI_RAPI_CERT"],
		ClusterName: vars["GANETI_CLUSTER_NAME"],
		Node:        need("GANETI_NODE"),
		Group:       need("GANETI_NODE_GROUP"),
		OS:          need("GANETI_OS"),
		Network:     need("GANETI_NETWORK"),
		NetworkCIDR: vars["GANETI_NETWORK_CIDR"],
		Gateway:     vars["GANETI_NETWORK_GATEWAY"],
		NICLink:     need("GANETI_NIC_LINK"),
		Templates:   strings.Split(need("GANETI_DISK_TEMPLATES"), ","),
		FakeHVDir:   need("GANETI_FAKE_HV_DIR"),
		Exec:        need("GANETI_EXEC"),
		vars:        vars,
	}
	return sb
}

// client returns a client for the write user, pinned to the sandbox's
// certificate.
func (sb *sandbox) client(tb testing.TB) *rapi.Client {
	tb.Helper()
	return sb.clientAs(tb, sb.User, sb.Pass, sb.Fingerprint)
}

// roClient returns a client for the read-only user.
func (sb *sandbox) roClient(tb testing.TB) *rapi.Client {
	tb.Helper()
	return sb.clientAs(tb, sb.ROUser, sb.ROPass, sb.Fingerprint)
}

func (sb *sandbox) clientAs(tb testing.TB, user, pass, pin string) *rapi.Client {
	tb.Helper()
	c, err := rapi.New(rapi.Config{
		Host:     sb.Host,
		Port:     sb.Port,
		Username: user,
		Password: pass,
		TLS:      rapi.TLSConfig{PinnedSHA256: pin},
		// A loaded CI machine can be slow; Ganeti's job wait long-poll
		// lasts about 10 s.
		ResponseTimeout: 45 * time.Second,
		ConnectTimeout:  20 * time.Second,
	})
	if err != nil {
		tb.Fatalf("rapi.New: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

// uniqueName returns an instance name unique to this run.
func uniqueName(kind string) string {
	return "it-" + runID + "-" + kind + ".example.org"
}

// ctx returns a context bounded by d and tied to the test.
func ctxFor(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(tb.Context(), d)
	tb.Cleanup(cancel)
	return ctx
}

// waitJob waits for a job that must succeed and returns it.
func waitJob(tb testing.TB, c *rapi.Client, id rapi.JobID, what string) *rapi.Job {
	tb.Helper()
	job, err := waitJobErr(tb, c, id)
	if err != nil {
		tb.Fatalf("%s: job %s: %v", what, id, err)
	}
	if job.Status != rapi.JobStatusSuccess {
		tb.Fatalf("%s: job %s ended %q, want success", what, id, job.Status)
	}
	return job
}

// waitJobErr waits for a job with jobTimeout.
func waitJobErr(tb testing.TB, c *rapi.Client, id rapi.JobID) (*rapi.Job, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
	defer cancel()
	return c.WaitJob(ctx, id)
}

// submitAndWait runs a mutation and waits for its job to succeed.
func submitAndWait(tb testing.TB, c *rapi.Client, what string, submit func(ctx context.Context) (rapi.JobID, error)) *rapi.Job {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	id, err := submit(ctx)
	cancel()
	if err != nil {
		tb.Fatalf("%s: submit: %v", what, err)
	}
	if id <= 0 {
		tb.Fatalf("%s: job id %d", what, id)
	}
	return waitJob(tb, c, id, what)
}

// instanceRef is an instance a test owns. Its current name is deleted at
// cleanup, whatever happened to the test.
type instanceRef struct {
	Name string
}

// trackInstance registers the deletion of the instance (under its name at
// cleanup time) before it is even created, so that a half-finished creation
// is removed too.
func trackInstance(tb testing.TB, c *rapi.Client, name string) *instanceRef {
	tb.Helper()
	ref := &instanceRef{Name: name}
	tb.Cleanup(func() {
		if err := removeInstance(c, ref.Name); err != nil {
			tb.Errorf("cleanup: delete instance %s: %v", ref.Name, err)
		}
	})
	return ref
}

// removeInstance deletes an instance and waits; an instance that does not
// exist is not an error.
func removeInstance(c *rapi.Client, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
	defer cancel()
	if _, err := c.Instance(ctx, name); rapi.IsNotFound(err) {
		return nil
	}
	id, err := c.DeleteInstance(ctx, name, rapi.DeleteOptions{ShutdownTimeout: 10 * time.Second})
	if err != nil {
		if rapi.IsNotFound(err) {
			return nil
		}
		return err
	}
	if _, err := c.WaitJob(ctx, id); err != nil {
		var je *rapi.JobError
		if errors.As(err, &je) && je.Code == rapi.ECodeNoEnt {
			return nil
		}
		return err
	}
	if _, err := c.Instance(ctx, name); !rapi.IsNotFound(err) {
		return errors.New("instance still present after delete (err " + errString(err) + ")")
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// createSpec returns a creation request following the sandbox's rules:
// explicit primary node, no name/IP checks, 128 MB, 1 vCPU, the noop OS.
func (sb *sandbox) createSpec(name, template string, start bool, disks ...int64) rapi.InstanceCreate {
	r := rapi.InstanceCreate{
		Name:         name,
		DiskTemplate: template,
		OS:           sb.OS,
		PNode:        sb.Node,
		BeParams:     map[string]any{"maxmem": 128, "minmem": 128, "vcpus": 1},
		NICs:         []rapi.NICSpec{{Link: sb.NICLink, Mode: "bridged"}},
		Start:        start,
		NameCheck:    false,
		IPCheck:      false,
	}
	for _, s := range disks {
		r.Disks = append(r.Disks, rapi.DiskSpec{Size: s})
	}
	return r
}

// createInstance creates an instance (tracked for cleanup) and waits for
// the creation job to succeed.
func (sb *sandbox) createInstance(tb testing.TB, c *rapi.Client, r rapi.InstanceCreate) (*instanceRef, *rapi.Job) {
	tb.Helper()
	ref := trackInstance(tb, c, r.Name)
	job := submitAndWait(tb, c, "create "+r.Name, func(ctx context.Context) (rapi.JobID, error) {
		return c.CreateInstance(ctx, r)
	})
	return ref, job
}

// getInstance reads an instance, failing the test on error.
func getInstance(tb testing.TB, c *rapi.Client, name string) *rapi.Instance {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	in, err := c.Instance(ctx, name)
	if err != nil {
		tb.Fatalf("Instance(%s): %v", name, err)
	}
	return in
}

// pollInstance re-reads an instance until cond holds or timeout passes and
// returns the last state read.
func pollInstance(tb testing.TB, c *rapi.Client, name string, timeout time.Duration, cond func(*rapi.Instance) bool) (*rapi.Instance, bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		in := getInstance(tb, c, name)
		if cond(in) {
			return in, true
		}
		if time.Now().After(deadline) {
			return in, false
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// onNode runs a command inside the sandbox node's namespaces.
func (sb *sandbox) onNode(tb testing.TB, args ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, sb.Exec, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", sb.Exec, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// fakeHVFile is the fake hypervisor's state file of a running instance.
func (sb *sandbox) fakeHVFile(name string) string {
	return filepath.Join(sb.FakeHVDir, name)
}

// jobError asserts that err is a *rapi.JobError and returns it.
func jobError(tb testing.TB, err error, what string) *rapi.JobError {
	tb.Helper()
	var je *rapi.JobError
	if !errors.As(err, &je) {
		tb.Fatalf("%s: error %v (%T), want a *rapi.JobError", what, err, err)
	}
	return je
}

// opRaw returns the raw JSON of a job's first opcode.
func opRaw(job *rapi.Job) string {
	if job == nil || len(job.Ops) == 0 {
		return ""
	}
	return string(job.Ops[0].Raw)
}

// median returns the median of a sample (the sample is sorted in place).
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}
