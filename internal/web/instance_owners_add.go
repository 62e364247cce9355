package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceOwnersAdd makes a user (by exact username or e-mail address) or
// a group (by exact name) an owner of the instance. Nothing lists
// accounts: a name that matches no one is refused like any other.
func (s *Server) instanceOwnersAdd(w http.ResponseWriter, r *http.Request) {
	s.instanceOwnersChange(w, r, true)
}

// instanceOwnersChange reads the owner form (kind "user" or "group", and
// who) and adds or removes that owner.
func (s *Server) instanceOwnersChange(w http.ResponseWriter, r *http.Request, add bool) {
	if !s.actionForm(w, r) {
		return
	}
	group := false
	switch r.PostForm.Get("kind") {
	case "user":
	case "group":
		group = true
	default:
		s.actionInvalid(w, r, instanceops.Owners, "kind", i18n.M("instanceactions.owners.kind.invalid"))
		return
	}
	who, ok := field(r, "who", 254)
	if !ok || who == "" {
		s.actionInvalid(w, r, instanceops.Owners, "who", i18n.M("instanceactions.owners.who.invalid"))
		return
	}
	slug, name := actionTarget(r)
	var err error
	if add {
		_, err = s.instances.AddOwner(r.Context(), actionRequest(r), slug, name, group, who)
	} else {
		_, err = s.instances.RemoveOwner(r.Context(), actionRequest(r), slug, name, group, who)
	}
	if s.actionFailed(w, r, instanceops.Owners, err) {
		return
	}
	if add {
		s.actionDone(w, r, i18n.M("instanceactions.done.owneradd"))
	} else {
		s.actionDone(w, r, i18n.M("instanceactions.done.ownerremove"))
	}
}
