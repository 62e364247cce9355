package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountProfileUpdate saves the profile: names, phone, organization and
// language.
func (s *Server) accountProfileUpdate(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	u, err := s.currentUser(r)
	if s.loadFailed(w, r, err) {
		return
	}
	f, err := s.profileFormOf(ctx, u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	pf := r.PostForm
	var e1, e2, e3 *accounts.FieldError
	f.FirstName, e1 = accounts.CheckName("first_name", pf.Get("first_name"))
	f.LastName, e2 = accounts.CheckName("last_name", pf.Get("last_name"))
	if f.Phone, e3 = accounts.NormalizePhone(pf.Get("phone")); e3 != nil {
		f.Phone = pf.Get("phone")
	}
	f.Errors = addAccountErrors(f.Errors, e1, e2, e3)
	org, ok := formOrganization(r, f.Organizations)
	if !ok {
		f.Errors = f.Errors.add("organization", i18n.M("account.organization.invalid"))
	}
	f.Organization = org
	f.Language = pf.Get("language")
	if f.Language != "" && !i18n.Supported(f.Language) {
		f.Errors = f.Errors.add("language", i18n.M("language.unsupported"))
		f.Language = u.Language
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "account_profile", f)
		return
	}
	_, err = s.store.UpdateProfile(ctx, u.ID, store.Profile{FirstName: f.FirstName, LastName: f.LastName,
		Phone: f.Phone, Organization: org, Language: &f.Language})
	if errors.Is(err, store.ErrNotFound) { // the organization was deleted meanwhile
		f.Errors = f.Errors.add("organization", i18n.M("account.organization.invalid"))
		s.render(w, r, http.StatusUnprocessableEntity, "account_profile", f)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.principals.forget(u.ID)
	s.addFlash(ctx, "success", i18n.M("account.profile.saved"))
	http.Redirect(w, r, s.path(profilePath), http.StatusSeeOther)
}
