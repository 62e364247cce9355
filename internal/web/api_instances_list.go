package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// apiInstancesAnswer is the answer of GET /instances/list/, shaped as
// ganetimgr's.
type apiInstancesAnswer struct {
	User     apiUser           `json:"user"`
	Response apiInstancesReply `json:"response"`
}

type apiInstancesReply struct {
	Instances []string `json:"instances"`
	// Errors is true when some cluster's data is stale or its last sync
	// failed, so the list may be incomplete or out of date; ClusterErrors
	// names those clusters.
	Errors        bool              `json:"errors"`
	ClusterErrors []apiClusterError `json:"cluster_errors"`
}

// apiClusterError is a cluster whose cached data may be out of date.
type apiClusterError struct {
	Cluster        string `json:"cluster"`
	Stale          bool   `json:"stale"`       // older than the configured number of sync intervals
	Unreachable    bool   `json:"unreachable"` // the last sync attempt failed
	DataAgeSeconds int64  `json:"data_age_seconds"`
}

// apiInstancesList answers GET /instances/list/ with the names of the
// instances the token's user owns, by user or group tag (even a superuser
// gets only theirs), from the synced data: no cluster is called. ?tag=
// keeps the instances carrying exactly that tag.
func (s *Server) apiInstancesList(w http.ResponseWriter, r *http.Request) {
	a := apiAccessFrom(r)
	q := r.URL.Query()
	if len(q["tag"]) > 1 {
		s.apiError(w, r, http.StatusBadRequest, "invalid_request", i18n.M("api.error.tag.twice"), "")
		return
	}
	tag := q.Get("tag")
	if tag != "" && tags.Validate(tag) != nil {
		s.apiError(w, r, http.StatusBadRequest, "invalid_request", i18n.M("api.error.tag"), "")
		return
	}
	r, statuses, err := s.withSyncStatuses(r)
	if err != nil {
		s.log.Error("api instances: sync status", "err", err, "request_id", requestIDFrom(r))
		s.apiError(w, r, http.StatusInternalServerError, "server_error", i18n.M("error.internal"), "")
		return
	}
	owned, err := s.store.OwnedInstances(r.Context(), a.Token.UserID, tag)
	if err != nil {
		s.log.Error("api instances", "err", err, "request_id", requestIDFrom(r))
		s.apiError(w, r, http.StatusInternalServerError, "server_error", i18n.M("error.internal"), "")
		return
	}
	reply := apiInstancesReply{Instances: make([]string, len(owned)), ClusterErrors: []apiClusterError{}}
	for i, in := range owned {
		reply.Instances[i] = in.Name
	}
	f, now := s.freshness(), s.now()
	for _, st := range statuses {
		if st.Disabled {
			continue
		}
		stale, failing := f.Stale(st, now), st.ConsecutiveFailures > 0
		if stale || failing {
			reply.ClusterErrors = append(reply.ClusterErrors, apiClusterError{Cluster: st.Slug, Stale: stale,
				Unreachable: failing, DataAgeSeconds: int64(f.DataAge(st, now).Seconds())})
		}
	}
	reply.Errors = len(reply.ClusterErrors) > 0
	s.writeJSON(w, r, http.StatusOK, apiInstancesAnswer{User: apiUserOf(a), Response: reply})
}
