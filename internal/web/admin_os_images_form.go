package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// What the OS catalogue pages (admin_os_images_*.go) share: the image
// form, reading it, and the image named by the URL.

// osImagesPath is the catalogue's list.
const osImagesPath = "/admin/os-images"

// osImageForm is the image add/edit form with its errors. The secret OS
// parameters are write-only: the form carries their names, never their
// values, and the field for new values is always shown empty.
type osImageForm struct {
	// Editing: ID is the stored image's and cannot change.
	Editing     bool
	ID          string
	Description string
	Provider    string
	// OSParams are the plain OS parameters, one name=value a line.
	OSParams string
	// SecretNames are the stored secret parameters' names (editing).
	SecretNames []string
	// RemoveSecrets asks to remove the stored secret parameters.
	RemoveSecrets bool
	SSHKeyParam   string
	// SSHKeyUsers are the accounts receiving the keys, one a line.
	SSHKeyUsers string
	Enabled     bool
	Position    int
	Errors      fieldErrors
}

// osImageFormOf is the edit form of a stored image.
func osImageFormOf(im *applications.Image) *osImageForm {
	return &osImageForm{Editing: true, ID: im.ID, Description: im.Description, Provider: im.Provider,
		OSParams: paramLines(im.OSParams), SecretNames: im.SecretNames, SSHKeyParam: im.SSHKeyParam,
		SSHKeyUsers: strings.Join(im.SSHKeyUsers, "\n"), Enabled: im.Enabled, Position: im.Position}
}

// paramLines writes OS parameters as sorted name=value lines.
func paramLines(m map[string]string) string {
	lines := make([]string, 0, len(m))
	for k, v := range m {
		lines = append(lines, k+"="+v)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// parseParamLines reads name=value lines into a map; a line without a
// name or a name given twice is field's error.
func parseParamLines(text, name string, errs fieldErrors) (map[string]string, fieldErrors) {
	out := map[string]string{}
	for line := range strings.SplitSeq(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			errs = errs.add(name, i18n.M("appadmin.images.param_line"))
			continue
		}
		if _, dup := out[k]; dup {
			errs = errs.add(name, i18n.M("appadmin.images.param_twice"), "Name", k)
			continue
		}
		out[k] = strings.TrimRight(v, "\r")
	}
	return out, errs
}

// parseOSImageForm reads the submitted form into f (all but the secret
// values) and returns the service's input; f.Errors holds what could not
// be read. The service checks the rest (names, the provider, the SSH-key
// delivery).
func parseOSImageForm(r *http.Request, f *osImageForm) applications.ImageInput {
	pf := r.PostForm
	if !f.Editing {
		f.ID = strings.TrimSpace(pf.Get("id"))
	}
	f.Description = strings.TrimSpace(pf.Get("description"))
	f.Provider = strings.TrimSpace(pf.Get("provider"))
	f.OSParams = strings.ReplaceAll(pf.Get("osparams"), "\r\n", "\n")
	f.SSHKeyParam = strings.TrimSpace(pf.Get("ssh_key_param"))
	f.SSHKeyUsers = strings.ReplaceAll(pf.Get("ssh_key_users"), "\r\n", "\n")
	f.Enabled = pf.Get("enabled") != ""
	f.RemoveSecrets = f.Editing && pf.Get("remove_secrets") != ""
	in := applications.ImageInput{ID: f.ID, Description: f.Description, Provider: f.Provider,
		SSHKeyParam: f.SSHKeyParam, Enabled: f.Enabled}
	if pos := strings.TrimSpace(pf.Get("position")); pos != "" {
		n, err := strconv.Atoi(pos)
		if err != nil || n < -1000000 || n > 1000000 {
			f.Errors = f.Errors.add("position", i18n.M("appadmin.images.position.invalid"))
		}
		f.Position = n
	}
	in.Position = f.Position
	in.OSParams, f.Errors = parseParamLines(f.OSParams, "osparams", f.Errors)
	in.Secrets, f.Errors = parseParamLines(pf.Get("secrets"), "secrets", f.Errors)
	// Blank keeps the stored secret parameters unless asked to remove them;
	// any value given replaces them all.
	in.KeepSecrets = f.Editing && len(in.Secrets) == 0 && !f.RemoveSecrets
	for u := range strings.SplitSeq(f.SSHKeyUsers, "\n") {
		if u = strings.TrimSpace(u); u != "" {
			in.SSHKeyUsers = append(in.SSHKeyUsers, u)
		}
	}
	return in
}

// osImageFromURL returns the catalogue image named by {id}; otherwise it
// has answered (404) and returns nil.
func (s *Server) osImageFromURL(w http.ResponseWriter, r *http.Request) *applications.Image {
	if s.applicationsOff(w, r) {
		return nil
	}
	images, err := s.apps.Images(r.Context(), true)
	if err != nil {
		s.serverError(w, r, err)
		return nil
	}
	id := chi.URLParam(r, "id")
	i := slices.IndexFunc(images, func(im applications.Image) bool { return im.ID == id })
	if i < 0 {
		s.errorPage(w, r, http.StatusNotFound, i18n.M("appadmin.images.not_found"))
		return nil
	}
	return &images[i]
}

// osImageSaveFailed answers an error of saving an image and reports
// whether there was one: a form error shows the form again (422, the
// secret values not shown back), an image gone meanwhile is not found,
// anything else a 500.
func (s *Server) osImageSaveFailed(w http.ResponseWriter, r *http.Request, f *osImageForm, err error) bool {
	if err == nil {
		return false
	}
	if errs, ok := validationErrors(err); ok {
		for k, m := range errs {
			f.Errors = f.Errors.add(k, m.Msg, m.Args...)
		}
		s.render(w, r, http.StatusUnprocessableEntity, "admin_os_image_form", f)
		return true
	}
	s.applicationFailed(w, r, err)
	return true
}
