package web

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// applicationJobEvents streams the progress of an application's creation
// job to the application's page, as server-sent events (the same stream
// as an instance's job, see instanceJobEvents). Those who may see the
// job (the applicant, holders of view_applications, reviewers, helpdesk)
// get it; for anyone else, or a job of another application, it is not
// found.
func (s *Server) applicationJobEvents(w http.ResponseWriter, r *http.Request) {
	appID := applicationIDFrom(r)
	jobID, err := strconv.ParseInt(chi.URLParam(r, "job"), 10, 64)
	if s.instances == nil || appID <= 0 || err != nil || jobID <= 0 {
		s.notFound(w, r)
		return
	}
	j, err := s.instances.Job(r.Context(), principalFrom(r), jobID)
	if rf := refusalOf(err); rf != nil || (err == nil && j.ApplicationID != appID) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.streamJob(w, r, j, s.applicationJobProgress)
}

// applicationJobProgress is the progress area of an application's
// creation job on the application's page: it stays on that page, and
// once the VM is created leads to the VM's page.
func (s *Server) applicationJobProgress(loc *i18n.Localizer, j *store.InstanceJob) *jobProgress {
	jp := s.jobProgressOf(loc, j)
	page := s.path(applications.ApplicationPath(j.ApplicationID))
	jp.PageURL = page
	jp.EventsURL = page + "jobs/" + strconv.FormatInt(j.ID, 10) + "/events"
	if !jp.Success {
		jp.NextURL = page
	}
	return jp
}
