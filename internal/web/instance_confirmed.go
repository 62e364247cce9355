package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// What the pages of the confirmed actions (reinstall, rename, destroy)
// share. Each has a form page (GET) with the warnings and its input (the
// operating system, the new name) and a POST that, depending on
// GANETIMGR_ACTION_CONFIRM, either mails the user a single-use link
// (instance_confirm*.go confirms it) or checks the user's password, which
// counts against the login throttle like a failed login, and carries the
// action out.

// confirmForm is the form page of a confirmed action.
type confirmForm struct {
	Kind instanceops.Kind
	// Name and Cluster name the instance; URL is its page and Action the
	// form's target.
	Name, Cluster, URL, Action string
	// Password: the form asks for the password (else a link is mailed).
	Password bool
	// Refusal is why the action cannot be done now (no form is shown);
	// Detail the cluster's own words, if it refused the call.
	Refusal *i18n.Message
	Detail  string
	// Current describes the current operating system and Images are the
	// ones to choose from (reinstall); Image is the chosen one.
	Current string
	Images  []applications.Image
	Image   string
	// NewName is the name typed (rename).
	NewName string
	Errors  fieldErrors
}

// confirmedValue reads the posted value of a confirmed action: the OS
// image of a reinstall, the new name of a rename, nothing for a destroy.
func confirmedValue(r *http.Request, k instanceops.Kind) (string, bool) {
	switch k {
	case instanceops.Reinstall:
		return field(r, instanceops.FieldOS, 64)
	case instanceops.Rename:
		return field(r, instanceops.FieldNewName, 255)
	}
	return "", true
}

// confirmedShow shows the form page of action k, or why it cannot be done
// now (with the refusal's status).
func (s *Server) confirmedShow(w http.ResponseWriter, r *http.Request, k instanceops.Kind) {
	s.renderConfirmForm(w, r, k, http.StatusOK, &confirmForm{})
}

// renderConfirmForm renders the form page of action k with status, after
// filling in the instance and what the form offers; f carries what was
// posted and the errors. A refusal the instance's state gives now
// replaces the form (and, on a GET, sets the status); an instance the user
// may not see is not found.
func (s *Server) renderConfirmForm(w http.ResponseWriter, r *http.Request, k instanceops.Kind, status int, f *confirmForm) {
	ctx := r.Context()
	p := principalFrom(r)
	slug, name := actionTarget(r)
	v, err := s.instances.View(ctx, p, slug, name)
	if rf := refusalOf(err); rf != nil && rf.Code == instanceops.NotFound {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	f.Kind, f.Name, f.Cluster = k, v.Instance.Name, v.Instance.ClusterSlug
	f.URL = s.instancePath(f.Cluster, f.Name)
	f.Action = f.URL + string(k)
	f.Password = !s.instances.ConfirmByMail()
	if rf := v.Refusals[k]; rf != nil && f.Refusal == nil {
		m := refusalMessage(rf)
		f.Refusal = &m
		if status == http.StatusOK {
			status = rf.HTTPStatus()
		}
	}
	if k == instanceops.Reinstall && f.Refusal == nil {
		if f.Current, f.Images, err = s.instances.OSChoices(ctx, p, slug, name); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.render(w, r, status, "instance_confirm_action", f)
}

// confirmedSubmit handles the POST of action k's form.
func (s *Server) confirmedSubmit(w http.ResponseWriter, r *http.Request, k instanceops.Kind) {
	if !s.actionForm(w, r) {
		return
	}
	ctx := r.Context()
	slug, name := actionTarget(r)
	f := &confirmForm{}
	value, ok := confirmedValue(r, k)
	f.Image, f.NewName = r.PostForm.Get(instanceops.FieldOS), r.PostForm.Get(instanceops.FieldNewName)
	if !ok {
		f.Errors = f.Errors.add(confirmedField(k), i18n.M("instanceactions.confirm.toolong"))
		s.renderConfirmForm(w, r, k, http.StatusUnprocessableEntity, f)
		return
	}
	req := actionRequest(r)
	if s.instances.ConfirmByMail() {
		err := s.instances.RequestConfirmation(ctx, req, slug, name, k, value)
		if s.confirmedFailed(w, r, k, f, err) {
			return
		}
		s.addFlash(ctx, "success", i18n.M("instanceactions.confirm.mailed"))
		http.Redirect(w, r, s.instancePath(slug, name), http.StatusSeeOther)
		return
	}
	// The password is checked before the instance is even looked at, so
	// the answer to a wrong one says nothing about the instance.
	u, err := s.currentUser(r)
	if s.loadFailed(w, r, err) {
		return
	}
	if status, errs := s.checkCurrentPassword(r, u, r.PostForm.Get("current")); errs != nil {
		f.Errors = errs
		s.renderConfirmForm(w, r, k, status, f)
		return
	}
	var job *store.InstanceJob
	switch k {
	case instanceops.Reinstall:
		job, err = s.instances.Reinstall(ctx, req, slug, name, value)
	case instanceops.Rename:
		job, err = s.instances.Rename(ctx, req, slug, name, value)
	default:
		job, err = s.instances.Destroy(ctx, req, slug, name)
	}
	if s.confirmedFailed(w, r, k, f, err) {
		return
	}
	s.addFlash(ctx, "success", confirmedDone(k))
	http.Redirect(w, r, s.instancePath(job.ClusterSlug, job.Instance), http.StatusSeeOther)
}

// confirmedFailed answers a confirmed action the service refused (or that
// failed) and reports whether it answered: the form page with the reason
// at its field (invalid input) or in place of the form, with the
// refusal's status; 404 for an instance the user may not see.
func (s *Server) confirmedFailed(w http.ResponseWriter, r *http.Request, k instanceops.Kind, f *confirmForm, err error) bool {
	if err == nil {
		return false
	}
	rf := refusalOf(err)
	switch {
	case rf == nil:
		s.serverError(w, r, err)
	case rf.Code == instanceops.NotFound:
		s.notFound(w, r)
	case rf.Code == instanceops.Invalid && rf.Field != "":
		f.Errors = f.Errors.add(rf.Field, refusalMessage(rf).Msg)
		f.Detail = rf.Detail
		s.renderConfirmForm(w, r, k, rf.HTTPStatus(), f)
	default:
		m := refusalMessage(rf)
		f.Refusal, f.Detail = &m, rf.Detail
		s.renderConfirmForm(w, r, k, rf.HTTPStatus(), f)
	}
	return true
}

// confirmedField is the input field of action k's form.
func confirmedField(k instanceops.Kind) string {
	if k == instanceops.Rename {
		return instanceops.FieldNewName
	}
	return instanceops.FieldOS
}

// confirmedDone is the flash of a confirmed action that was started.
func confirmedDone(k instanceops.Kind) i18n.Msg {
	switch k {
	case instanceops.Reinstall:
		return i18n.M("instanceactions.done.reinstall")
	case instanceops.Rename:
		return i18n.M("instanceactions.done.rename")
	}
	return i18n.M("instanceactions.done.destroy")
}
