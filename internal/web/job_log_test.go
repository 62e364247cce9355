package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
)

// TestJobPageLog checks that the job page shows a synced job's log, and
// says so when a job has none.
func TestJobPageLog(t *testing.T) {
	t.Parallel()
	f := newPagesFixture(t, 6)
	rc, err := rapi.New(rapi.Config{Host: f.fake.Host(), Port: f.fake.Port(), Username: "ganetimgr",
		Password: "rapi-secret", TLS: rapi.TLSConfig{PinnedSHA256: f.fake.Fingerprint()}})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id, err := rc.CreateInstance(ctx, rapi.InstanceCreate{Name: "logged.example.org", DiskTemplate: "diskless",
		OS: "noop", BeParams: map[string]any{"maxmem": 128, "vcpus": 1}, NICs: []rapi.NICSpec{{}}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := rc.WaitJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	f.sync(t)

	for _, who := range []string{"helpdesk", "root"} {
		r := f.clients[who].get(fmt.Sprintf("/jobs/alpha/%d/", id))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: job page: %d", who, r.StatusCode)
		}
		for _, e := range job.Log() {
			row := fmt.Sprintf(`<tr data-serial="%d">`, e.Serial)
			i := strings.Index(r.body, row)
			if i < 0 {
				t.Errorf("%s: log entry %d missing", who, e.Serial)
				continue
			}
			end := strings.Index(r.body[i:], "</tr>")
			if cell := r.body[i : i+end]; !strings.Contains(cell, e.Message) || !strings.Contains(cell, e.Type) ||
				!strings.Contains(cell, e.Time.UTC().Format("2006-01-02 15:04:05 UTC")) {
				t.Errorf("%s: log row %s, want %+v", who, cell, e)
			}
		}
		if strings.Contains(r.body, `id="job-log-earlier"`) {
			t.Errorf("%s: a whole log is said to lack its first entries", who)
		}
	}
	// The fixture's reboot job logs nothing on the fake.
	jobs, err := f.store.CachedJobs(context.Background(), f.cluster.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.ID == int64(id) {
			continue
		}
		r := f.clients["root"].get(fmt.Sprintf("/jobs/alpha/%d/", j.ID))
		if !strings.Contains(r.body, `id="job-log-empty"`) {
			t.Errorf("job %d without a log: no empty-log message", j.ID)
		}
	}
	// Users without view_instances do not get job pages.
	if r := f.clients["alice"].get(fmt.Sprintf("/jobs/alpha/%d/", id)); r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
		t.Errorf("alice: job page: %d", r.StatusCode)
	}
}
