package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// What the instance action handlers (instance_*.go) share. Every action is
// decided by the service (internal/instanceops), which audits refusals
// too; a handler only reads the form, calls the service and answers:
// an accepted action redirects (303) to the instance page with a flash,
// where the job's progress shows; a refusal shows the instance page with
// the translated reason and the refusal's status (404 for an instance the
// user may not see, exactly like one that does not exist).

// instanceOpsEnabled answers the instance action routes as not found when
// the site has no instance action service (Deps.Instances is nil).
func (s *Server) instanceOpsEnabled(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.instances == nil {
			s.notFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// actionRequest is who asks and from where, for the service's audit log.
func actionRequest(r *http.Request) instanceops.Request {
	return instanceops.Request{Principal: principalFrom(r), Addr: clientAddrFrom(r)}
}

// actionTarget returns the cluster slug and instance name of the URL.
func actionTarget(r *http.Request) (slug, name string) {
	return chi.URLParam(r, "cluster"), chi.URLParam(r, "name")
}

// instancePath is the site path of an instance's page (with the base
// path), ending in "/"; action paths are this plus the action.
func (s *Server) instancePath(slug, name string) string {
	return s.path("/instances/" + pathEscape(slug) + "/" + pathEscape(name) + "/")
}

// actionProblem is why an action was not done, shown on the page that
// answers it: the refused action, the reason, the form field at fault and
// what was posted (shown again).
type actionProblem struct {
	Kind  instanceops.Kind
	Msg   i18n.Message
	Field string
	// Detail is the cluster's own words when it refused the call
	// (untranslated), "" otherwise.
	Detail string
	Form   url.Values
}

// Name is the refused action's name.
func (p *actionProblem) Name() i18n.Msg { return p.Kind.Label() }

// Is reports whether the problem is about action k (for templates).
func (p *actionProblem) Is(k string) bool { return p != nil && string(p.Kind) == k }

// FieldIs reports whether the problem is about form field f of action k.
func (p *actionProblem) FieldIs(k, f string) bool { return p.Is(k) && p.Field == f }

// Value returns the posted value of field f of action k ("" for another
// action's form).
func (p *actionProblem) Value(k, f string) string {
	if !p.Is(k) {
		return ""
	}
	return p.Form.Get(f)
}

// refusalOf returns the refusal err carries, nil for any other error.
func refusalOf(err error) *instanceops.Refusal {
	var rf *instanceops.Refusal
	if errors.As(err, &rf) {
		return rf
	}
	return nil
}

// refusalMessage is a refusal's reason for the page.
func refusalMessage(rf *instanceops.Refusal) i18n.Message {
	if rf.Msg.IsZero() {
		return i18n.Message{Msg: i18n.M("instanceactions.refused")}
	}
	return i18n.Message{Msg: rf.Msg}
}

// actionFailed answers an action the service did not carry out and
// reports whether it answered (err != nil). A refusal shows the instance
// page with the reason and the refusal's status (the 404 page when the
// instance is not visible); any other error is a 500.
func (s *Server) actionFailed(w http.ResponseWriter, r *http.Request, k instanceops.Kind, err error) bool {
	if err == nil {
		return false
	}
	rf := refusalOf(err)
	if rf == nil {
		s.serverError(w, r, err)
		return true
	}
	if rf.Code == instanceops.NotFound {
		s.notFound(w, r)
		return true
	}
	slug, name := actionTarget(r)
	s.showInstance(w, r, rf.HTTPStatus(), slug, name,
		&actionProblem{Kind: k, Msg: refusalMessage(rf), Field: rf.Field, Detail: rf.Detail, Form: r.PostForm})
	return true
}

// actionInvalid answers a form the handler itself could not read (a value
// outside the offered choices): the instance page with the message at the
// field, 422.
func (s *Server) actionInvalid(w http.ResponseWriter, r *http.Request, k instanceops.Kind, field string, m i18n.Msg) {
	slug, name := actionTarget(r)
	s.showInstance(w, r, http.StatusUnprocessableEntity, slug, name,
		&actionProblem{Kind: k, Msg: i18n.Message{Msg: m}, Field: field, Form: r.PostForm})
}

// actionDone answers an accepted action: a flash saying what was asked
// and a redirect to the instance page, which follows the job.
func (s *Server) actionDone(w http.ResponseWriter, r *http.Request, m i18n.Msg) {
	slug, name := actionTarget(r)
	s.addFlash(r.Context(), "success", m)
	http.Redirect(w, r, s.instancePath(slug, name), http.StatusSeeOther)
}

// actionForm reads the posted form of an action, answering a body that
// cannot be read; it reports whether the handler may go on.
func (s *Server) actionForm(w http.ResponseWriter, r *http.Request) bool {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return false
	}
	return true
}

// instanceSwitch carries out a POST that switches a state of the instance
// on or off (the "state" field says which, so a repeated submit does not
// undo the first): set does it, and the page says onMsg or offMsg.
func (s *Server) instanceSwitch(w http.ResponseWriter, r *http.Request, k instanceops.Kind,
	set func(ctx context.Context, req instanceops.Request, slug, name string, on bool) (*store.InstanceJob, error),
	onMsg, offMsg i18n.Msg) {
	if !s.actionForm(w, r) {
		return
	}
	on, ok := onOff(r, "state")
	if !ok {
		s.actionInvalid(w, r, k, "state", i18n.M("instanceactions.state.invalid"))
		return
	}
	slug, name := actionTarget(r)
	if _, err := set(r.Context(), actionRequest(r), slug, name, on); s.actionFailed(w, r, k, err) {
		return
	}
	if on {
		s.actionDone(w, r, onMsg)
	} else {
		s.actionDone(w, r, offMsg)
	}
}

// onOff reads a field that switches something on ("on") or off ("off").
func onOff(r *http.Request, name string) (on, ok bool) {
	switch r.PostForm.Get(name) {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	return false, false
}
