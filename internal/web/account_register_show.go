package web

import (
	"context"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// registerForm is the registration form as typed, with its errors. The
// passwords are never sent back to the browser.
type registerForm struct {
	Username     string
	Email        string
	FirstName    string
	LastName     string
	Phone        string
	Organization int64 // 0 for none

	Organizations []store.Organization
	// MinLength is the policy's minimum password length (for the hint).
	MinLength int
	Errors    fieldErrors
}

// newRegisterForm returns an empty registration form with the
// organizations to choose from.
func (s *Server) newRegisterForm(ctx context.Context) (*registerForm, error) {
	orgs, err := s.store.ListOrganizations(ctx)
	if err != nil {
		return nil, err
	}
	return &registerForm{Organizations: orgs, MinLength: s.accountPolicy().PasswordMinLength}, nil
}

// setValues shows the (normalised) values back in the form.
func (f *registerForm) setValues(v accounts.RegistrationForm) {
	f.Username, f.Email, f.FirstName, f.LastName, f.Phone = v.Username, v.Email, v.FirstName, v.LastName, v.Phone
}

// registrationClosed answers the registration pages when registration is
// closed by configuration (GANETIMGR_REGISTRATION=closed): 404, saying so.
func (s *Server) registrationClosed(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, i18n.M("account.register.closed"))
}

// accountRegisterShow shows the registration form; a logged-in user goes
// to the dashboard.
func (s *Server) accountRegisterShow(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Accounts.RegistrationOpen {
		s.registrationClosed(w, r)
		return
	}
	if principalFrom(r) != nil {
		http.Redirect(w, r, s.path("/"), http.StatusSeeOther)
		return
	}
	f, err := s.newRegisterForm(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account_register", f)
}
