package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestInstanceJobs covers the tracked jobs: one unfinished job per
// instance (concurrent claims: exactly one wins), the job id recorded with
// work in the same transaction, bounded log appends, exactly one finisher,
// and the refusal mail limit.
func TestInstanceJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	if err := store.MigrateURL(ctx, pool.Config().ConnString(), ganetimgr.Migrations()); err != nil {
		t.Fatal(err)
	}
	s := store.New(pool)
	var clusterID int64
	if err := pool.QueryRow(ctx, `INSERT INTO clusters (slug, hostname) VALUES ('c1', 'c1.example.org') RETURNING id`).Scan(&clusterID); err != nil {
		t.Fatal(err)
	}
	u := adminUser(t, s, "ann", false)

	// Ten concurrent claims on one instance: one row, nine conflicts.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, conflicts := []*store.InstanceJob{}, 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := s.ClaimInstanceJob(ctx, store.InstanceJob{ClusterID: clusterID, Instance: "vm1", Kind: "start",
				UserID: u.ID, Username: u.Username})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, j)
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Errorf("claim: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || conflicts != 9 {
		t.Fatalf("claims: %d won, %d conflicts; want 1 and 9", len(won), conflicts)
	}
	j := won[0]
	if j.Status != store.JobSubmitting || j.JobID != 0 || j.ClusterSlug != "c1" || j.Finished() || j.UserID != u.ID {
		t.Errorf("claimed row: %+v", j)
	}
	// The claim's work runs in its transaction: a failure leaves no row.
	boom := errors.New("boom")
	if _, err := s.ClaimInstanceJob(ctx, store.InstanceJob{ClusterID: clusterID, Instance: "vm2", Kind: "start"},
		func(*store.InstanceJob) store.TxFunc {
			return func(context.Context, pgx.Tx) error { return boom }
		}); !errors.Is(err, boom) {
		t.Errorf("claim with failing work: %v", err)
	}
	if _, err := s.ActiveInstanceJob(ctx, clusterID, "vm2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rolled-back claim left a row: %v", err)
	}

	// Recording the job id runs the caller's work in the same transaction.
	ran := false
	j, err := s.SetInstanceJobID(ctx, j.ID, 42, func(ctx context.Context, tx pgx.Tx) error {
		ran = true
		return nil
	})
	if err != nil || !ran || j.JobID != 42 || j.Status != "queued" {
		t.Fatalf("set job id: %v %v %+v", err, ran, j)
	}
	if _, err := s.SetInstanceJobID(ctx, j.ID, 43); !errors.Is(err, store.ErrConflict) {
		t.Errorf("another job id: %v, want ErrConflict", err)
	}
	if err := s.DropInstanceJob(ctx, j.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dropping a row with a job id: %v, want ErrNotFound", err)
	}

	// Log lines are appended, the last MaxInstanceJobLog kept.
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var lines []store.JobLogLine
	for i := 1; i <= store.MaxInstanceJobLog+5; i++ {
		lines = append(lines, store.JobLogLine{Serial: int64(i), Time: at, Type: "message", Message: fmt.Sprintf("line %d", i)})
	}
	if err := s.UpdateInstanceJob(ctx, j.ID, "running", lines[:3]); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateInstanceJob(ctx, j.ID, "", lines[3:]); err != nil {
		t.Fatal(err)
	}
	j, err = s.InstanceJobByID(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != "running" || len(j.Log) != store.MaxInstanceJobLog || j.Log[0].Serial != 6 ||
		j.Log[len(j.Log)-1].Message != fmt.Sprintf("line %d", store.MaxInstanceJobLog+5) || !j.Log[0].Time.Equal(at) {
		t.Errorf("log: status %s, %d lines, first %+v", j.Status, len(j.Log), j.Log[0])
	}
	if err := s.UpdateInstanceJob(ctx, j.ID, "success", nil); err == nil {
		t.Error("a final status through UpdateInstanceJob was accepted")
	}
	if active, err := s.ActiveInstanceJobs(ctx, 0); err != nil || len(active) != 1 || active[0].ID != j.ID {
		t.Errorf("active jobs: %v %v", active, err)
	}

	// Exactly one of two concurrent finishers runs its work.
	var finished, already int
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.FinishInstanceJob(ctx, j.ID, "error", "OpPrereqError: nope", nil,
				func(ctx context.Context, tx pgx.Tx) error { return nil })
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				finished++
			case errors.Is(err, store.ErrJobFinished):
				already++
			default:
				t.Errorf("finish: %v", err)
			}
		}()
	}
	wg.Wait()
	if finished != 1 || already != 1 {
		t.Errorf("finishers: %d finished, %d found it finished", finished, already)
	}
	j, _ = s.InstanceJobByID(ctx, j.ID)
	if !j.Finished() || j.Status != "error" || j.Error != "OpPrereqError: nope" {
		t.Errorf("finished row: %+v", j)
	}
	if err := s.UpdateInstanceJob(ctx, j.ID, "running", nil); !errors.Is(err, store.ErrJobFinished) {
		t.Errorf("update after finish: %v", err)
	}
	// The instance is free again; the latest job is the new one.
	next, err := s.ClaimInstanceJob(ctx, store.InstanceJob{ClusterID: clusterID, Instance: "vm1", Kind: "reboot", Detail: "hard"})
	if err != nil {
		t.Fatal(err)
	}
	if last, err := s.LatestInstanceJob(ctx, clusterID, "vm1"); err != nil || last.ID != next.ID {
		t.Errorf("latest: %v %v", last, err)
	}
	if err := s.DropInstanceJob(ctx, next.ID); err != nil {
		t.Errorf("drop a claimed row: %v", err)
	}
	if last, err := s.LatestInstanceJob(ctx, clusterID, "vm1"); err != nil || last.ID != j.ID {
		t.Errorf("latest after drop: %v %v", last, err)
	}
	if n, err := s.PurgeInstanceJobs(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("purge: %d %v", n, err)
	}

	// The refusal mail is allowed once per period per user and instance.
	claim := func(instance string) bool {
		var ok bool
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			ok, err = store.ClaimRefusalMailTx(ctx, tx, u.ID, clusterID, instance, time.Hour)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("vm1") || claim("vm1") || !claim("vm2") {
		t.Error("refusal mail claims: want true, false, true")
	}
	if _, err := pool.Exec(ctx, `UPDATE instance_refusal_mails SET mailed_at = now() - interval '61 minutes'`); err != nil {
		t.Fatal(err)
	}
	if !claim("vm1") {
		t.Error("refusal mail claim after the period: want true")
	}
}
