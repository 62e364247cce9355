package clustersync

import (
	"time"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Freshness decides how old a cluster's cached data may get before pages
// call it stale. It is the one place that rule lives; pages build one from
// the configuration (GANETIMGR_SYNC_INTERVAL, GANETIMGR_SYNC_STALE_AFTER).
type Freshness struct {
	// Interval is the sync interval.
	Interval time.Duration
	// StaleAfter is the number of missed intervals after which the data is
	// stale.
	StaleAfter int
}

// DataAge returns the age of a cluster's cached data: the time since its
// last successful sync, or, if it never synced, since the syncer took it on
// (or the cluster was registered).
func (f Freshness) DataAge(st *store.SyncStatus, now time.Time) time.Duration {
	ref := st.LastSuccessAt
	if ref.IsZero() {
		ref = st.Since
	}
	return max(now.Sub(ref), 0)
}

// Stale reports whether a cluster's data is stale at now: StaleAfter
// intervals (plus the 10% jitter of each) went by without a successful
// sync. Disabled clusters are judged like the others; callers show them as
// disabled.
func (f Freshness) Stale(st *store.SyncStatus, now time.Time) bool {
	n := max(f.StaleAfter, 1)
	limit := time.Duration(n) * f.Interval * (100 + jitterPercent) / 100
	return f.DataAge(st, now) > limit
}
