package web

import (
	"context"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// profileForm is the profile page: the account's facts and the form of
// the fields its user edits.
type profileForm struct {
	Username     string
	Email        string
	FirstName    string
	LastName     string
	Phone        string
	Organization int64  // 0 for none
	Language     string // "" for none (the browser decides)

	Organizations []store.Organization
	Languages     []i18n.Language
	Errors        fieldErrors
}

// profileFormOf fills the profile form with the account's values.
func (s *Server) profileFormOf(ctx context.Context, u *store.User) (*profileForm, error) {
	orgs, err := s.store.ListOrganizations(ctx)
	if err != nil {
		return nil, err
	}
	f := &profileForm{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Phone: u.Phone, Language: u.Language, Organizations: orgs, Languages: i18n.Languages()}
	if u.OrganizationID != nil {
		f.Organization = *u.OrganizationID
	}
	return f, nil
}

// currentUser reads the logged-in user's account from the database (the
// principal may be up to the principal cache's bound old).
func (s *Server) currentUser(r *http.Request) (*store.User, error) {
	return s.store.UserByID(r.Context(), principalFrom(r).User.ID)
}

// accountProfileShow shows the profile form.
func (s *Server) accountProfileShow(w http.ResponseWriter, r *http.Request) {
	u, err := s.currentUser(r)
	if s.loadFailed(w, r, err) {
		return
	}
	f, err := s.profileFormOf(r.Context(), u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account_profile", f)
}
