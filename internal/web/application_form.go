package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// What the application pages (application_*.go) share: reading the
// application form, the errors of the workflow service, the URL's id.

// applicationsPath is the applicant's list of applications.
const applicationsPath = "/applications/"

// applicationsOff answers 404 when the site runs without the application
// workflow (Deps.Applications is nil) and reports whether it did.
func (s *Server) applicationsOff(w http.ResponseWriter, r *http.Request) bool {
	if s.apps == nil {
		s.notFound(w, r)
		return true
	}
	return false
}

// notReviewer answers 404 to a user who does not review applications
// (change_application) and reports whether it did, so the reviewer
// actions reveal nothing, not even a form error, to anyone else. The
// attempt (action on the URL's application) is recorded in the audit log
// as refused.
func (s *Server) notReviewer(w http.ResponseWriter, r *http.Request, action audit.Action) bool {
	if p := principalFrom(r); !applications.CanReview(p) {
		s.apps.RecordRefusedReview(r.Context(), p, action, applicationIDFrom(r))
		s.errorPage(w, r, http.StatusNotFound, i18n.M("applications.error.not_found"))
		return true
	}
	return false
}

// applicationIDFrom returns the URL's {id}; the route pattern guarantees
// digits, so 0 means a number too large.
func applicationIDFrom(r *http.Request) int64 {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// applicationFormData is the application form: its values, what it
// offers and its errors.
type applicationFormData struct {
	Form    applications.Form
	Choices *applications.Choices
	Limits  applications.Limits
	Errors  fieldErrors
}

// formInt reads a whole number of a form; 0 when missing or not a number
// (which the service's validation refuses).
func formInt(r *http.Request, name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get(name)))
	if err != nil {
		return 0
	}
	return n
}

func formInt64(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get(name)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// parseApplicationForm reads the request fields of an application (the
// applicant's form and a reviewer's edits share their names). The
// service validates everything.
func parseApplicationForm(r *http.Request) applications.Form {
	f := r.PostForm
	return applications.Form{
		Hostname:          strings.TrimSpace(f.Get("hostname")),
		MemoryMB:          formInt(r, "memory"),
		VCPUs:             formInt(r, "vcpus"),
		DiskGB:            formInt(r, "disk"),
		OSImage:           strings.TrimSpace(f.Get("os")),
		OSName:            strings.TrimSpace(f.Get("os_name")),
		NetworkID:         formInt64(r, "network"),
		OrganizationID:    formInt64(r, "organization"),
		AdminContactName:  strings.TrimSpace(f.Get("admin_contact_name")),
		AdminContactEmail: strings.TrimSpace(f.Get("admin_contact_email")),
		AdminContactPhone: strings.TrimSpace(f.Get("admin_contact_phone")),
		HostsMailServer:   f.Get("hosts_mail_server") != "",
		Comments:          strings.ReplaceAll(f.Get("comments"), "\r\n", "\n"),
		AcceptTerms:       f.Get("accept_terms") != "",
	}
}

// parsePlacement reads a reviewer's placement choice.
func parsePlacement(r *http.Request) applications.PlacementChoice {
	f := r.PostForm
	return applications.PlacementChoice{ClusterID: formInt64(r, "cluster"), NodeGroup: f.Get("node_group"),
		Network: f.Get("network"), DiskTemplate: f.Get("disk_template"), VG: strings.TrimSpace(f.Get("vg"))}
}

// validationErrors returns the field errors of a *ValidationError in err;
// false when err is not one.
func validationErrors(err error) (fieldErrors, bool) {
	var verr *applications.ValidationError
	if !errors.As(err, &verr) {
		return nil, false
	}
	e := fieldErrors{}
	for _, f := range verr.Fields {
		if _, ok := e[f.Field]; !ok {
			e[f.Field] = f.Message
		}
	}
	return e, true
}

// applicationFailed answers an error of the workflow service that is not
// a form's and reports whether there was one: an application the user may
// not see (or act on) is not found, a change the status does not allow (or
// that someone else made first) a conflict, anything unexpected a 500.
func (s *Server) applicationFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	msg, ok := applications.ErrorMessage(err)
	switch {
	case !ok:
		s.serverError(w, r, err)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, applications.ErrForbidden):
		s.errorPage(w, r, http.StatusNotFound, msg)
	case errors.Is(err, applications.ErrFastCreateDisabled):
		s.errorPage(w, r, http.StatusUnprocessableEntity, msg)
	default:
		s.errorPage(w, r, http.StatusConflict, msg)
	}
	return true
}

// statusLabel names an application status (for templates).
func statusLabel(st store.ApplicationStatus) i18n.Msg { return applications.StatusLabel(st) }
