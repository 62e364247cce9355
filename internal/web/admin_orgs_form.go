package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// maxOrgField bounds every organization field as read from a form, before
// the checks of accounts.CheckOrganization.
const maxOrgField = 1000

// orgForm is the organization add/edit form with its errors.
type orgForm struct {
	ID int64 // 0 when adding
	store.OrganizationInput
	// OldTag is the stored tag (editing), to warn that instances keep it.
	OldTag string
	// Prefix is the Ganeti tag prefix, to show the full tag.
	Prefix string
	Errors fieldErrors
}

func (s *Server) newOrgForm() *orgForm { return &orgForm{Prefix: s.cfg.TagPrefix} }

func (s *Server) orgFormFrom(o *store.Organization) *orgForm {
	return &orgForm{ID: o.ID, OldTag: o.Tag, Prefix: s.cfg.TagPrefix, OrganizationInput: store.OrganizationInput{Title: o.Title,
		Website: o.Website, Email: o.Email, Phone: o.Phone, Tag: o.Tag}}
}

// parseOrgForm reads and checks the fields: the rules of
// accounts.CheckOrganization, and a tag no other organization has.
func (s *Server) parseOrgForm(ctx context.Context, r *http.Request, f *orgForm) error {
	get := func(name string) string {
		v := r.PostForm.Get(name)
		if len(v) > maxOrgField {
			f.Errors = f.Errors.add(name, i18n.M("adminacct.toolong"), "Max", maxOrgField)
			return ""
		}
		return v
	}
	in := store.OrganizationInput{Title: get("title"), Website: get("website"), Email: get("email"),
		Phone: get("phone"), Tag: get("tag")}
	var errs []*accounts.FieldError
	f.OrganizationInput, errs = accounts.CheckOrganization(in)
	for _, e := range errs {
		f.Errors = f.Errors.add(e.Field, e.Message.Msg, e.Message.Args...)
	}
	if f.Tag == "" || f.Errors.Has("tag") {
		return nil
	}
	o, err := s.store.OrganizationByTag(ctx, f.Tag)
	switch {
	case err == nil && o.ID != f.ID:
		f.Errors = f.Errors.add("tag", i18n.M("adminacct.orgs.tag.taken"), "Title", o.Title)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	return nil
}

// orgSaveError maps a tag taken meanwhile to its field (422); anything
// else is a server error.
func (s *Server) orgSaveError(w http.ResponseWriter, r *http.Request, f *orgForm, err error) {
	if errors.Is(err, store.ErrConflict) && strings.Contains(err.Error(), "organizations_tag_key") {
		f.Errors = f.Errors.add("tag", i18n.M("adminacct.orgs.tag.conflict"))
		s.render(w, r, http.StatusUnprocessableEntity, "admin_org_form", f)
		return
	}
	s.serverError(w, r, err)
}
