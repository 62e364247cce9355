package web

import (
	"context"
	"net/http"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// StaleCluster is a cluster the banner on every logged-in page names: its
// cached data is stale, or its last sync failed.
type StaleCluster struct {
	Slug        string
	Unreachable bool // the last sync attempt failed
	Stale       bool // older than the configured number of intervals
	Age         i18n.Message
}

// statusesKey keys the per-request sync statuses in a request context.
type statusesKey struct{}

// withSyncStatuses gets every cluster's sync status once for the request
// (from the server's cacheState, read from the database at most once per
// stateTTL) and keeps it in the request's context, where the banner and
// the page handler both find it.
func (s *Server) withSyncStatuses(r *http.Request) (*http.Request, []*store.SyncStatus, error) {
	if st, ok := r.Context().Value(statusesKey{}).([]*store.SyncStatus); ok {
		return r, st, nil
	}
	cs, err := s.state(r.Context())
	if err != nil {
		return r, nil, err
	}
	return r.WithContext(context.WithValue(r.Context(), statusesKey{}, cs.statuses)), cs.statuses, nil
}

func (s *Server) freshness() clustersync.Freshness {
	return clustersync.Freshness{Interval: s.cfg.SyncInterval, StaleAfter: s.cfg.SyncStaleAfter}
}

// staleClusters returns the enabled clusters to name in the banner. A
// failure to read the statuses is logged and shows no banner: the banner
// must never break a page.
func (s *Server) staleClusters(r *http.Request) []StaleCluster {
	_, statuses, err := s.withSyncStatuses(r)
	if err != nil {
		s.log.Warn("sync status for banner", "err", err, "request_id", requestIDFrom(r))
		return nil
	}
	return s.staleOf(statuses, s.now())
}

// staleOf returns the enabled clusters of statuses to name in the banner
// at now.
func (s *Server) staleOf(statuses []*store.SyncStatus, now time.Time) []StaleCluster {
	f := s.freshness()
	var out []StaleCluster
	for _, st := range statuses {
		if st.Disabled {
			continue
		}
		stale, failing := f.Stale(st, now), st.ConsecutiveFailures > 0
		if !stale && !failing {
			continue
		}
		out = append(out, StaleCluster{Slug: st.Slug, Stale: stale, Unreachable: failing, Age: dataAge(f.DataAge(st, now))})
	}
	return out
}

// dataAge formats an age for people: seconds (in steps of ten, so that a
// page naming it changes at most every ten seconds: cached pages and
// frames are keyed by it), minutes, hours or days.
func dataAge(d time.Duration) i18n.Message {
	switch {
	case d < time.Minute:
		return i18n.Message{Msg: i18n.M("age.seconds"), Args: []any{"N", int(d.Seconds()) / 10 * 10}}
	case d < time.Hour:
		return i18n.Message{Msg: i18n.M("age.minutes"), Args: []any{"N", int(d.Minutes())}}
	case d < 48*time.Hour:
		return i18n.Message{Msg: i18n.M("age.hours"), Args: []any{"N", int(d.Hours())}}
	default:
		return i18n.Message{Msg: i18n.M("age.days"), Args: []any{"N", int(d.Hours() / 24)}}
	}
}
