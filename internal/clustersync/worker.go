package clustersync

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// worker syncs one cluster every interval in its own goroutine.
type worker struct {
	cluster *store.Cluster // the row the worker was last given (owned by the session goroutine)
	updates chan *store.Cluster
	cancel  context.CancelFunc
	done    chan struct{}
}

func (s *Syncer) startWorker(ctx context.Context, c *store.Cluster) *worker {
	ctx, cancel := context.WithCancel(ctx)
	w := &worker{cluster: c, updates: make(chan *store.Cluster, 1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		s.runWorker(ctx, c, w.updates)
	}()
	return w
}

// update hands the worker a changed row; it syncs at once with it.
func (w *worker) update(c *store.Cluster) {
	w.cluster = c
	for {
		select {
		case w.updates <- c:
			return
		default:
		}
		select { // replace a row not yet taken
		case <-w.updates:
		default:
		}
	}
}

// stop ends the worker and waits for it (an in-flight RAPI call or write
// is interrupted through the context).
func (w *worker) stop() {
	w.cancel()
	<-w.done
}

// jittered returns d spread by ±jitterPercent.
func jittered(d time.Duration) time.Duration {
	spread := int64(d) * jitterPercent / 100
	if spread <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(2*spread+1)-spread)
}

func (s *Syncer) runWorker(ctx context.Context, c *store.Cluster, updates <-chan *store.Cluster) {
	timer := time.NewTimer(0) // the first sync happens at once
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case c = <-updates:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-timer.C:
		}
		err := s.syncCluster(ctx, c)
		if ctx.Err() != nil {
			return // stopped mid-sync: nothing to report
		}
		if s.opts.OnSync != nil {
			s.opts.OnSync(c.ID, err)
		}
		timer.Reset(jittered(s.opts.Interval))
	}
}

// syncCluster reads everything from one cluster and stores it, or records
// why it could not.
func (s *Syncer) syncCluster(ctx context.Context, c *store.Cluster) error {
	start := time.Now()
	cc, err := s.clientFor(c)
	if err != nil {
		s.recordFailure(ctx, c, start, err.Error())
		return err
	}
	snap, err := s.read(ctx, c, cc)
	if err != nil {
		if ctx.Err() == nil {
			s.recordFailure(ctx, c, start, scrub(err.Error(), cc.password))
		}
		return err
	}
	snap.StartedAt = start
	snap.Duration = time.Since(start)
	snap.SyncedBy = s.opts.ReplicaID
	sctx, cancel := context.WithTimeout(ctx, saveTimeout)
	defer cancel()
	res, err := s.st.SaveClusterSnapshot(sctx, snap)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, store.ErrNotFound) {
			s.recordFailure(ctx, c, start, err.Error())
		}
		return err
	}
	s.log.Debug("cluster synced", "cluster", c.Slug, "instances", len(snap.Instances), "changed", res.Changed,
		"data_version", res.DataVersion, "took", time.Since(start))
	return nil
}

func (s *Syncer) recordFailure(ctx context.Context, c *store.Cluster, start time.Time, text string) {
	s.log.Warn("cluster sync failed", "cluster", c.Slug, "err", text)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	if err := s.st.RecordSyncFailure(sctx, c.ID, start, time.Since(start), s.opts.ReplicaID, text); err != nil &&
		!errors.Is(err, store.ErrNotFound) {
		s.log.Error("cannot record cluster sync failure", "cluster", c.Slug, "err", err)
	}
}

// read fetches the six resources of a cluster in parallel. Info and
// instances are required; a failure of the others is reported in the
// snapshot's Warning and their cached rows are kept.
func (s *Syncer) read(ctx context.Context, c *store.Cluster, cc *clusterClient) (*store.ClusterSnapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.SyncTimeout)
	defer cancel()
	cl := cc.client
	var (
		wg                                                sync.WaitGroup
		info                                              *rapi.Info
		insts                                             []rapi.Instance
		nodes                                             []rapi.Node
		groups                                            []rapi.Group
		nets                                              []rapi.Network
		jobs                                              []rapi.Job
		infoErr, instErr, nodeErr, grpErr, netErr, jobErr error
	)
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	run(func() { info, infoErr = cl.Info(ctx) })
	run(func() { insts, instErr = cl.InstancesBulk(ctx) })
	run(func() { nodes, nodeErr = cl.NodesBulk(ctx) })
	run(func() { groups, grpErr = cl.GroupsBulk(ctx) })
	run(func() { nets, netErr = cl.NetworksBulk(ctx) })
	run(func() { jobs, jobErr = readJobs(ctx, cl) })
	wg.Wait()
	if infoErr != nil || instErr != nil {
		return nil, fmt.Errorf("clustersync: cluster %s: %w", c.Slug, errors.Join(infoErr, instErr))
	}
	snap := buildSnapshot(c.ID, s.codec, info, insts, nodes, groups, nets, jobs)
	var warnings []string
	for _, r := range []struct {
		name string
		err  error
	}{{"nodes", nodeErr}, {"groups", grpErr}, {"networks", netErr}, {"jobs", jobErr}} {
		if r.err != nil {
			snap.Skipped = append(snap.Skipped, r.name)
			warnings = append(warnings, r.name+": "+r.err.Error())
		}
	}
	if grpErr != nil && nodeErr == nil {
		// Nodes without their groups' names would lose their group: keep
		// the cached nodes (instances then take their group from them).
		snap.Skipped = append(snap.Skipped, "nodes")
	}
	if len(warnings) > 0 {
		snap.Warning = scrub("partial sync: "+strings.Join(warnings, "; "), cc.password)
	}
	return snap, nil
}

// readJobs reads the jobs with their logs through the query resource,
// and without logs from the bulk resource when the cluster refuses the
// query (an old Ganeti without /2/query/job).
func readJobs(ctx context.Context, cl *rapi.Client) ([]rapi.Job, error) {
	jobs, err := cl.JobsWithLog(ctx)
	var apiErr *rapi.APIError
	if err != nil && errors.As(err, &apiErr) {
		switch apiErr.Code {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusNotImplemented:
			return cl.JobsBulk(ctx)
		}
	}
	return jobs, err
}

// scrub removes a password (and its Basic-auth encodings) from an error
// text before it is logged or stored.
func scrub(text, password string) string {
	if len(password) < 3 { // too short to replace without mangling the text
		return text
	}
	text = strings.ReplaceAll(text, password, "***")
	text = strings.ReplaceAll(text, base64.StdEncoding.EncodeToString([]byte(password)), "***")
	return text
}
