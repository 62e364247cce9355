package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// fastCreatePath is the fast-create form.
const fastCreatePath = "/admin/applications/fast"

// fastCreateData is the fast-create form: a reviewer's request fields and
// placement (the shared partials of the review form), only on clusters
// allowing fast creation.
type fastCreateData struct {
	Review    applications.Form
	Images    []applications.Image
	Orgs      []store.Organization
	Placement placementSelects
	Comment   string
	Errors    fieldErrors
	// NoClusters: no eligible cluster allows fast creation.
	NoClusters bool
}

// adminApplicationFastNew shows the fast-create form, prefilled from the
// administrator's profile, with the first usable placement chosen.
func (s *Server) adminApplicationFastNew(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	d := &fastCreateData{Review: s.apps.NewForm(principalFrom(r))}
	s.renderFastCreate(w, r, http.StatusOK, d, nil)
}

// renderFastCreate renders the fast-create form with the choices of the
// cluster cache; submitted, when set, is the placement a POST carried
// (nil preselects the first usable one).
func (s *Server) renderFastCreate(w http.ResponseWriter, r *http.Request, status int, d *fastCreateData, submitted *applications.PlacementChoice) {
	ch, err := s.reviewerChoices(r, true)
	if s.applicationFailed(w, r, err) {
		return
	}
	d.Images, d.Orgs, d.NoClusters = ch.images, ch.orgs, len(ch.opts) == 0
	choice := defaultPlacement(ch.opts, &store.Application{}, "")
	if submitted != nil {
		choice = *submitted
	}
	d.Placement = placementSelectsOf(ch.opts, choice)
	s.render(w, r, status, "admin_application_fast", d)
}
