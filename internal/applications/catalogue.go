package applications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Image is a catalogue image as pages show it: the secret OS parameters'
// values never leave the Service (administrators see their names).
type Image struct {
	ID          string
	Description string
	Provider    string
	OSParams    map[string]string
	// SecretNames are the names of the secret parameters, sorted.
	SecretNames []string
	SSHKeyParam string
	SSHKeyUsers []string
	Enabled     bool
	Position    int
}

// ImageInput is an administrator's catalogue entry.
type ImageInput struct {
	// ID is set when creating; it cannot change.
	ID          string
	Description string
	Provider    string
	OSParams    map[string]string
	// Secrets are the secret OS parameters (e.g. img_passwd); with
	// KeepSecrets an update keeps the stored ones instead.
	Secrets     map[string]string
	KeepSecrets bool
	SSHKeyParam string
	SSHKeyUsers []string
	Enabled     bool
	Position    int
}

// Images returns the catalogue (enabled images only unless all).
func (s *Service) Images(ctx context.Context, all bool) ([]Image, error) {
	ims, err := s.st.OSImages(ctx, !all)
	if err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(ims))
	for _, im := range ims {
		out = append(out, s.publicImage(im))
	}
	return out, nil
}

func (s *Service) publicImage(im *store.OSImage) Image {
	out := Image{ID: im.ID, Description: im.Description, Provider: im.Provider, OSParams: im.OSParams,
		SSHKeyParam: im.SSHKeyParam, SSHKeyUsers: im.SSHKeyUsers, Enabled: im.Enabled, Position: im.Position}
	if secrets, err := s.openSecrets(im.SecretParams); err == nil {
		for k := range secrets {
			out.SecretNames = append(out.SecretNames, k)
		}
		slices.Sort(out.SecretNames)
	}
	return out
}

// openSecrets opens sealed secret parameters (nil for none).
func (s *Service) openSecrets(sealed []byte) (map[string]string, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	if s.secrets == nil {
		return nil, errors.New("applications: no key to open secret OS parameters")
	}
	text, err := s.secrets.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("applications: open secret OS parameters: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, fmt.Errorf("applications: secret OS parameters: %w", err)
	}
	return m, nil
}

// validateImage checks an administrator's entry and returns what to store
// (the secrets sealed; nil Secrets with KeepSecrets to keep the stored).
func (s *Service) validateImage(in ImageInput, creating bool) (store.OSImageInput, error) {
	errs := &ValidationError{}
	out := store.OSImageInput{ID: strings.TrimSpace(in.ID), Provider: strings.TrimSpace(in.Provider),
		SSHKeyParam: strings.TrimSpace(in.SSHKeyParam), Enabled: in.Enabled, Position: in.Position,
		OSParams: map[string]string{}}
	if creating && !validImageID(out.ID) {
		errs.add(fieldErr("id", i18n.M("applications.image.id")))
	}
	var fe *FieldError
	if out.Description, fe = checkText("description", in.Description, 255, false); fe != nil {
		errs.add(fe)
	} else if out.Description == "" {
		errs.add(fieldErr("description", i18n.M("applications.required")))
	}
	if !validOSName(out.Provider) {
		errs.add(fieldErr("provider", i18n.M("applications.image.provider")))
	}
	for k, v := range in.OSParams {
		if !validParamName(k) || !utf8Printable(v) {
			errs.add(fieldErr("osparams", i18n.M("applications.image.param")))
		}
		out.OSParams[k] = v
	}
	for k, v := range in.Secrets {
		if !validParamName(k) || !utf8Printable(v) {
			errs.add(fieldErr("secrets", i18n.M("applications.image.param")))
		}
	}
	if out.SSHKeyParam != "" && !validParamName(out.SSHKeyParam) {
		errs.add(fieldErr("ssh_key_param", i18n.M("applications.image.param")))
	}
	for _, u := range in.SSHKeyUsers {
		if u = strings.TrimSpace(u); u != "" {
			out.SSHKeyUsers = append(out.SSHKeyUsers, u)
		}
	}
	if len(out.SSHKeyUsers) > 16 {
		errs.add(fieldErr("ssh_key_users", i18n.M("applications.image.ssh_key_users")))
	} else if _, err := Personality(out.SSHKeyUsers, nil); err != nil {
		errs.add(fieldErr("ssh_key_users", i18n.M("applications.image.ssh_key_users")))
	}
	if e := errs.orNil(); e != nil {
		return store.OSImageInput{}, e
	}
	switch {
	case in.KeepSecrets && !creating:
		out.SecretParams = nil // keep
	case len(in.Secrets) == 0:
		out.SecretParams = []byte{} // none
		if creating {
			out.SecretParams = nil
		}
	default:
		if s.secrets == nil {
			return store.OSImageInput{}, errors.New("applications: no key to seal secret OS parameters")
		}
		b, _ := json.Marshal(in.Secrets) // strings always marshal
		sealed, err := s.secrets.Seal(string(b))
		if err != nil {
			return store.OSImageInput{}, err
		}
		out.SecretParams = sealed
	}
	return out, nil
}

func validImageID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (i > 0 && (r == '.' || r == '_' || r == '-'))) {
			return false
		}
	}
	return true
}

func validParamName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func utf8Printable(s string) bool {
	_, fe := checkText("x", s, 4096, false)
	return fe == nil
}

// CreateImage adds an image to the catalogue (superusers only). A
// *ValidationError lists what is wrong; an existing id gives ErrConflict.
func (s *Service) CreateImage(ctx context.Context, p *auth.Principal, in ImageInput) (*Image, error) {
	if !p.IsSuperuser() {
		return nil, ErrForbidden
	}
	v, err := s.validateImage(in, true)
	if err != nil {
		return nil, err
	}
	im, err := s.st.CreateOSImage(ctx, v)
	if errors.Is(err, store.ErrConflict) {
		return nil, invalidForm(fieldErr("id", i18n.M("applications.image.id_taken")))
	}
	if err != nil {
		return nil, err
	}
	out := s.publicImage(im)
	return &out, nil
}

// UpdateImage changes an image (superusers only).
func (s *Service) UpdateImage(ctx context.Context, p *auth.Principal, id string, in ImageInput) (*Image, error) {
	if !p.IsSuperuser() {
		return nil, ErrForbidden
	}
	v, err := s.validateImage(in, false)
	if err != nil {
		return nil, err
	}
	im, err := s.st.UpdateOSImage(ctx, id, v)
	if err != nil {
		return nil, err
	}
	out := s.publicImage(im)
	return &out, nil
}

// DeleteImage removes an image no application uses (superusers only);
// store.ErrImageInUse otherwise: disable it instead.
func (s *Service) DeleteImage(ctx context.Context, p *auth.Principal, id string) error {
	if !p.IsSuperuser() {
		return ErrForbidden
	}
	return s.st.DeleteOSImage(ctx, id)
}
