package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// auditListData is the history page: a page of audit entries, the filter
// and the links to the next older and newer pages.
type auditListData struct {
	auditLabels
	// All: the reader sees everyone's entries (helpdesk, administrators),
	// with the user filter, client addresses and job links.
	All      bool
	Filter   auditFilter
	Actions  []audit.Action
	Outcomes []audit.Outcome
	Clusters []string
	Rows     []auditRow
	// Older and Newer are the pagination links ("" when there is no such
	// page); Newest goes back to the first page.
	Older, Newer, Newest string
	// RetentionDays is how long entries are kept, 0 for ever.
	RetentionDays int
}

// auditRow is one entry as the page shows it.
type auditRow struct {
	*store.AuditEntry
	// Addr is the client address ("" when unknown or not shown).
	Addr string
	// InstanceURL, JobURL and ApplicationURL are links ("" for none).
	InstanceURL    string
	JobURL         string
	ApplicationURL string
}

// auditList shows the audit log: a user's own entries, or, for holders of
// view_instances and superusers, everyone's with a user filter; filters
// by instance, cluster, action, outcome and days; keyset pages toward
// older and newer entries.
func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r)
	all := p.Can(auth.ViewInstances)
	f, q, bad := parseAuditFilter(r.URL.Query(), all)
	if !bad.IsZero() {
		s.badRequest(w, r, bad)
		return
	}
	if !all {
		q.UserID = p.User.ID
	}
	page, err := s.store.ListAudit(r.Context(), q)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	r, statuses, err := s.withSyncStatuses(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := &auditListData{All: all, Filter: f, Actions: audit.Actions(), Outcomes: audit.Outcomes(),
		RetentionDays: int(s.cfg.AuditRetention / (24 * time.Hour))}
	for _, st := range statuses {
		d.Clusters = append(d.Clusters, st.Slug)
	}
	if f.Cluster != "" && !slices.Contains(d.Clusters, f.Cluster) {
		d.Clusters = append(d.Clusters, f.Cluster) // a deleted cluster's entries
	}
	slices.Sort(d.Clusters)
	for _, e := range page.Entries {
		d.Rows = append(d.Rows, s.auditRowOf(e, all))
	}
	link := func(key string, c *store.AuditCursor) string {
		v := f.query()
		if c != nil {
			v.Set(key, c.String())
		}
		if len(v) == 0 {
			return s.path("/history/")
		}
		return s.path("/history/") + "?" + v.Encode()
	}
	if page.Older != nil {
		d.Older = link("before", page.Older)
	}
	if page.Newer != nil {
		d.Newer = link("after", page.Newer)
	}
	if q.Before != nil || q.After != nil {
		d.Newest = link("", nil)
	}
	s.render(w, r, http.StatusOK, "audit", d)
}

// auditRowOf prepares an entry for the page: the client address and the
// job's page only for helpdesk and administrators, the instance's page
// while the instance exists.
func (s *Server) auditRowOf(e *store.AuditEntry, all bool) auditRow {
	row := auditRow{AuditEntry: e}
	if all && e.ClientAddr.IsValid() {
		row.Addr = e.ClientAddr.String()
	}
	if e.InstanceCached && e.ClusterSlug != "" {
		row.InstanceURL = s.path(applications.InstancePath(e.ClusterSlug, e.Instance))
	}
	if all && e.JobID != 0 && e.ClusterSlug != "" && e.ClusterID != 0 {
		row.JobURL = s.path("/jobs/" + e.ClusterSlug + "/" + strconv.FormatInt(e.JobID, 10) + "/")
	}
	if e.ApplicationID != 0 {
		row.ApplicationURL = s.path(applications.ApplicationPath(e.ApplicationID))
	}
	return row
}
