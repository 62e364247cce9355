package clustersync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
)

// TestSyncJobLog checks that a synced job keeps its log (read with the
// jobs in one query call) and that a sync with nothing new writes no job
// row again.
func TestSyncJobLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	f := e.fake(rapifake.Options{Instances: 2})
	c := e.register("gamma", f, rapiPass)
	s := e.syncer(e.fastOptions(nil))

	rc := client(t, f)
	job, err := rc.CreateInstance(ctx, rapi.InstanceCreate{Name: "logged.example.org", DiskTemplate: "diskless",
		OS: "noop", BeParams: map[string]any{"maxmem": 128, "vcpus": 1}, NICs: []rapi.NICSpec{{}}})
	if err != nil {
		t.Fatal(err)
	}
	done, err := rc.WaitJob(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	want := done.Log()
	if len(want) == 0 {
		t.Fatal("the fake's create job has no log")
	}
	f.ResetCounts()
	if err := s.SyncNow(ctx, c); err != nil {
		t.Fatal(err)
	}
	if n := f.PathCount("/2/query/job"); n != 1 {
		t.Errorf("%d calls of /2/query/job in one sync, want 1", n)
	}
	if n := f.PathCount("/2/jobs"); n != 0 {
		t.Errorf("%d calls of /2/jobs in one sync, want 0 (the query has everything)", n)
	}

	j, err := e.st.CachedJobBySlug(ctx, "gamma", int64(job))
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Log) != len(want) {
		t.Fatalf("cached log has %d entries, want %d: %+v", len(j.Log), len(want), j.Log)
	}
	for i, e := range j.Log {
		w := want[i]
		if e.Serial != w.Serial || e.Type != w.Type || e.Message != w.Message || !e.Time.Equal(w.Time.Time) {
			t.Errorf("log[%d] = %+v, want %+v", i, e, w)
		}
	}
	if !strings.Contains(j.Log[0].Message, "creating instance disks") {
		t.Errorf("first log message %q", j.Log[0].Message)
	}
	if len(j.OpResult) == 0 {
		t.Error("the job's result was not kept")
	}

	// Nothing changed: the job rows are not written again.
	var before, after time.Time
	q := `SELECT max(synced_at) FROM cluster_jobs WHERE cluster_id = $1`
	if err := e.pool.QueryRow(ctx, q, c.ID).Scan(&before); err != nil {
		t.Fatal(err)
	}
	v1 := e.status(c.ID).DataVersion
	if err := s.SyncNow(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.QueryRow(ctx, q, c.ID).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if !after.Equal(before) {
		t.Errorf("job rows rewritten by a sync without change (synced_at %s, then %s)", before, after)
	}
	if v2 := e.status(c.ID).DataVersion; v2 != v1 {
		t.Errorf("data version %d after a sync without change, was %d", v2, v1)
	}

	// A job without a log (a tag change on the fake logs nothing) has an
	// empty one.
	tj, err := rc.AddInstanceTags(ctx, "logged.example.org", []string{"ganetimgr:user:dora"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.WaitJob(ctx, tj); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncNow(ctx, c); err != nil {
		t.Fatal(err)
	}
	if j, err := e.st.CachedJobBySlug(ctx, "gamma", int64(tj)); err != nil || len(j.Log) != 0 {
		t.Errorf("tag job: %v, log %+v; want an empty log", err, j)
	}
}
