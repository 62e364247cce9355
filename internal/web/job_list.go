package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// jobListLimit is the number of jobs the job list shows.
const jobListLimit = 200

// jobListData is the jobs page's content.
type jobListData struct {
	Jobs     []*jobView
	Statuses []string
	Clusters []clusterChoice
	Status   string
	Cluster  string
	Limit    int
}

// jobList shows the most recent cached jobs of every enabled cluster, with
// filters by status and cluster. Helpdesk and administrators only.
func (s *Server) jobList(w http.ResponseWriter, r *http.Request) {
	d := jobListData{Statuses: jobStatuses, Status: r.URL.Query().Get("status"), Cluster: r.URL.Query().Get("cluster"),
		Limit: jobListLimit}
	if d.Status != "" && !slices.Contains(jobStatuses, d.Status) {
		s.badRequest(w, r, i18n.M("jobs.bad.status"))
		return
	}
	r, statuses, err := s.withSyncStatuses(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	enabled := map[int64]bool{}
	q := store.JobQuery{Limit: jobListLimit}
	for _, st := range statuses {
		if st.Disabled {
			continue
		}
		enabled[st.ClusterID] = true
		d.Clusters = append(d.Clusters, clusterChoice{Slug: st.Slug, Demo: st.Demo})
		if st.Slug == d.Cluster {
			q.ClusterID = st.ClusterID
		}
	}
	if d.Cluster != "" && q.ClusterID == 0 {
		s.badRequest(w, r, i18n.M("instances.bad.cluster"))
		return
	}
	if d.Status != "" {
		q.Statuses = []string{d.Status}
	}
	jobs, err := s.store.ListJobs(r.Context(), q)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, j := range jobs {
		if enabled[j.ClusterID] {
			d.Jobs = append(d.Jobs, s.jobView(j))
		}
	}
	s.render(w, r, http.StatusOK, "jobs", d)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
