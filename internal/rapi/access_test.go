package rapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
)

func TestCanWriteFake(t *testing.T) {
	t.Parallel()
	fc, err := rapifake.NewCluster(rapifake.Options{Users: []rapifake.User{
		{Name: "writer", Password: "w-secret", Write: true}, {Name: "reader", Password: "r-secret"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fc.Close() })
	for _, tc := range []struct {
		user, pass string
		want       bool
		unauth     bool
	}{
		{"writer", "w-secret", true, false},
		{"reader", "r-secret", false, false},
		{"writer", "wrong", false, true},
	} {
		c, err := rapi.New(rapi.Config{Host: fc.Host(), Port: fc.Port(), Username: tc.user, Password: tc.pass,
			TLS: rapi.TLSConfig{PinnedSHA256: fc.Fingerprint()}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := c.CanWrite(ctx)
		cancel()
		if tc.unauth {
			if !rapi.IsUnauthorized(err) {
				t.Errorf("%s with a wrong password: got %v, %v; want a 401 error", tc.user, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: CanWrite = %v, %v; want %v", tc.user, got, err, tc.want)
		}
	}
	if n := fc.JobCount(); n != 0 {
		t.Errorf("the probe queued %d jobs, want none", n)
	}
}

// TestIntegrationCanWrite checks the probe on the real Ganeti: the write
// user can write, the read-only user cannot, and no job is queued.
func TestIntegrationCanWrite(t *testing.T) {
	sb := loadSandbox(t)
	ctx := ctxFor(t, 3*callTimeout)
	rw, ro := sb.client(t), sb.roClient(t)
	before, err := rw.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := rw.CanWrite(ctx); err != nil || !ok {
		t.Errorf("write user: CanWrite = %v, %v; want true", ok, err)
	}
	if ok, err := ro.CanWrite(ctx); err != nil || ok {
		t.Errorf("read-only user: CanWrite = %v, %v; want false", ok, err)
	}
	after, err := rw.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Other tests may run jobs meanwhile: look for an instance creation
	// without a name, which only the probe could have sent.
	seen := map[rapi.JobID]bool{}
	for _, id := range before {
		seen[id] = true
	}
	for _, id := range after {
		if seen[id] {
			continue
		}
		j, err := rw.Job(ctx, id)
		if err == nil && j.OpID() == "OP_INSTANCE_CREATE" && j.Ops[0].InstanceName == "" {
			t.Errorf("job %s (%s) appeared during the probe", id, j.OpID())
		}
	}
}
