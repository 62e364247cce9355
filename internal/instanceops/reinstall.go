package instanceops

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// OSChoices returns what a reinstall of the instance offers: a description
// of its current operating system (the catalogue image it was installed
// from, see currentImage, else Ganeti's OS name; "" when unknown) and the
// enabled images of the catalogue, in form order. The instance must be
// visible to p (else a NotFound *Refusal); whether p may reinstall it now
// is View's concern.
func (s *Service) OSChoices(ctx context.Context, p *auth.Principal, slug, name string) (current string, choices []applications.Image, err error) {
	t, err := s.load(ctx, p, slug, name)
	if err != nil {
		return "", nil, err
	}
	if r := s.decide(p, t, Reinstall); r != nil && r.Code == NotFound {
		return "", nil, r
	}
	in := t.state.Instance
	cur, err := s.currentImage(ctx, in)
	if err != nil {
		return "", nil, err
	}
	current = in.OS
	if cur != nil {
		current = cur.Description
	}
	ims, err := s.st.OSImages(ctx, true)
	if err != nil {
		return "", nil, fmt.Errorf("instanceops: %w", err)
	}
	for _, im := range ims {
		choices = append(choices, publicImage(im))
	}
	return current, choices, nil
}

// publicImage is a catalogue image as pages show it (without its secret
// parameters, names included).
func publicImage(im *store.OSImage) applications.Image {
	return applications.Image{ID: im.ID, Description: im.Description, Provider: im.Provider,
		OSParams: maps.Clone(im.OSParams), SSHKeyParam: im.SSHKeyParam, SSHKeyUsers: slices.Clone(im.SSHKeyUsers),
		Enabled: im.Enabled, Position: im.Position}
}

// currentImage returns the catalogue image an instance was last
// installed with as far as ganetimgr knows, for the pages (no cluster is
// asked): the image of its latest successful reinstall through
// ganetimgr with a chosen image, else the image of the application that
// created it (its <prefix>:application:<id> tag), else the only image of
// the catalogue installing its OS; nil when none of these installs the
// OS the instance has. Several images share one Ganeti OS (snf-image
// tells them apart by OS parameters the cache does not hold), so the
// image is often unknown; a reinstall keeping the current image asks the
// cluster instead (matchImage).
func (s *Service) currentImage(ctx context.Context, in *store.CachedInstance) (*store.OSImage, error) {
	if in.OS == "" {
		return nil, nil
	}
	image := func(id string) (*store.OSImage, error) {
		im, err := s.st.OSImage(ctx, id)
		switch {
		case err == nil && im.Provider == in.OS:
			return im, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("instanceops: %w", err)
		}
		return nil, nil
	}
	jobs, err := s.st.InstanceJobsOf(ctx, in.ClusterID, in.Name, 50)
	if err != nil {
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	for _, j := range jobs {
		id, ok := strings.CutPrefix(j.Detail, reinstallDetailPrefix)
		if Kind(j.Kind) != Reinstall || j.Status != "success" || !ok || id == reinstallCurrent {
			continue
		}
		if im, err := image(id); im != nil || err != nil {
			return im, err
		}
		break
	}
	if id := s.codec.Parse(in.Tags).Application; id > 0 {
		a, err := s.st.Application(ctx, id)
		switch {
		case err == nil && a.OSImage != "":
			if im, err := image(a.OSImage); im != nil || err != nil {
				return im, err
			}
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("instanceops: %w", err)
		}
	}
	ims, err := s.st.OSImages(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	var found *store.OSImage
	for _, im := range ims {
		if im.Provider != in.OS {
			continue
		}
		if found != nil {
			return nil, nil
		}
		found = im
	}
	return found, nil
}

// The tracked job's Detail of a reinstall: "os: <image id>", or
// "os: current" when keeping the current image.
const (
	reinstallDetailPrefix = "os: "
	reinstallCurrent      = "current"
)

// Reinstall reinstalls an instance's operating system (all data on its
// disks is lost) and starts it, with the enabled catalogue image imageID,
// or with "" the current one. The caller has confirmed the action
// (Confirm, or the user's password).
//
// With an image, the request is built as for a new VM (Ganeti's
// reinstall request, version 1): os is the image's provider, osparams
// its OS parameters plus the SSH keys of the instance's owner users
// (reinstallParams), and on Ganeti 2.16 or later clear_osparams (which
// Ganeti versions that know it use to drop the previous image's
// parameters). Ganeti uses a reinstall's OS parameters for that
// installation only, so a modification queued right behind the reinstall
// records them on the instance, removing the parameters the image does
// not set: the cluster then knows what the instance runs. The image's
// secret parameters are not sent again: Ganeti keeps the instance's
// private OS parameters from its creation.
//
// The current image is the catalogue image of the instance's OS whose
// OS parameters the instance has (asked from the cluster; the one
// setting the most parameters when several match). When none matches,
// Ganeti reinstalls the instance's OS with the OS parameters it has.
func (s *Service) Reinstall(ctx context.Context, req Request, slug, name, imageID string) (*store.InstanceJob, error) {
	imageID = strings.TrimSpace(imageID)
	detail := reinstallDetailPrefix + reinstallCurrent
	if imageID != "" {
		detail = reinstallDetailPrefix + imageID
	}
	var plan *reinstallPlan
	a := action{kind: Reinstall, audit: audit.InstanceReinstall, detail: detail}
	a.check = func(st State) *Refusal {
		var r *Refusal
		plan, r = s.planReinstall(ctx, st.Instance, imageID)
		return r
	}
	a.call = func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error) {
		return s.callReinstall(ctx, c, in, plan)
	}
	return s.runAction(ctx, req, slug, name, a)
}

// reinstallPlan is what a reinstall needs from the database, gathered
// before the instance is claimed.
type reinstallPlan struct {
	// image is the chosen image; nil to keep the current one, which is
	// one of candidates (the images installing the instance's OS).
	image      *store.OSImage
	candidates []*store.OSImage
	// keys are the owner users' SSH keys, each once.
	keys []string
	// keyURL serves the application's applicant's keys ("" for none).
	keyURL string
	// version is the cluster's Ganeti version as last synced ("" when
	// unknown).
	version string
}

// planReinstall gathers what a reinstall of in with imageID ("": the
// current image) needs. An unknown or disabled image is Invalid; a
// database failure Unavailable (logged).
func (s *Service) planReinstall(ctx context.Context, in *store.CachedInstance, imageID string) (*reinstallPlan, *Refusal) {
	fail := func(err error) (*reinstallPlan, *Refusal) {
		s.log.ErrorContext(ctx, "preparing a reinstall failed", "instance", in.Name, "error", err)
		return nil, unavailable()
	}
	p := &reinstallPlan{}
	if imageID != "" {
		im, err := s.st.OSImage(ctx, imageID)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !im.Enabled):
			return nil, invalid(FieldOS, i18n.M("instance_ops.reinstall.unknown_os"))
		case err != nil:
			return fail(err)
		}
		p.image = im
	} else if in.OS != "" {
		ims, err := s.st.OSImages(ctx, false)
		if err != nil {
			return fail(err)
		}
		for _, im := range ims {
			if im.Provider == in.OS {
				p.candidates = append(p.candidates, im)
			}
		}
	}
	if p.image == nil && len(p.candidates) == 0 {
		// Ganeti keeps the OS and its parameters.
		return p, nil
	}
	var err error
	if p.keys, err = s.ownerKeys(ctx, in); err != nil {
		return fail(err)
	}
	wantsURL := p.image != nil && p.image.SSHKeyParam != ""
	for _, im := range p.candidates {
		wantsURL = wantsURL || im.SSHKeyParam != ""
	}
	if wantsURL {
		if p.keyURL, err = s.applicationKeyURL(ctx, in); err != nil {
			return fail(err)
		}
	}
	if st, err := s.st.ClusterSyncStatus(ctx, in.ClusterID); err == nil {
		p.version = st.Info.SoftwareVersion
	} else if !errors.Is(err, store.ErrNotFound) {
		return fail(err)
	}
	return p, nil
}

// callReinstall sends a planned reinstall: it reads the instance's OS
// parameters, picks the current image when keeping it, submits the
// reinstall, then the modification recording the image's parameters.
// Reading the cluster before the reinstall is sent fails as Unavailable.
func (s *Service) callReinstall(ctx context.Context, c RAPI, in *store.CachedInstance, p *reinstallPlan) (rapi.JobID, error) {
	// Ganeti's reinstall resource refuses query parameters next to a
	// body ("Can't combine query and body parameters") and puts no reason
	// into the jobs it builds either way, so these calls go without the
	// reason marker: the reinstall's job is known by the id it returns.
	ctx = rapi.WithReason(ctx, "")
	log := s.log.With("instance", in.Name)
	im := p.image
	var current map[string]any
	if im != nil || len(p.candidates) > 0 {
		var err error
		if current, err = instanceOSParams(ctx, c, in.Name); err != nil {
			log.WarnContext(ctx, "reading the instance's OS parameters before a reinstall failed", "error", err)
			return 0, unavailable()
		}
		if im == nil {
			im = matchImage(p.candidates, current)
		}
	}
	var opts rapi.ReinstallOptions
	if im != nil {
		opts.OS = im.Provider
		opts.OSParams = reinstallParams(im, p)
		version := p.version
		if version == "" {
			info, err := c.Info(ctx)
			if err != nil {
				log.WarnContext(ctx, "reading the cluster's version failed", "error", err)
				return 0, unavailable()
			}
			version = info.SoftwareVersion
		}
		opts.ClearOSParams = versionAtLeast(version, 2, 16)
	}
	id, err := c.ReinstallInstance(ctx, in.Name, opts)
	if err != nil || im == nil {
		return id, err
	}
	record := make(map[string]any, len(opts.OSParams)+len(current))
	for k, v := range opts.OSParams {
		record[k] = v
	}
	for k := range current {
		if _, ok := record[k]; !ok {
			record[k] = "default" // Ganeti's value for "remove"
		}
	}
	if _, err := c.ModifyInstance(ctx, in.Name, rapi.InstanceModify{OSParams: record}); err != nil {
		// The reinstall is under way with the right parameters; only
		// their record on the instance is missing.
		log.WarnContext(ctx, "recording the reinstalled image's OS parameters failed", "job", id, "error", err)
	}
	return id, nil
}

// queryRAPI is the query resource of a cluster's RAPI (*rapi.Client): the
// instance resource does not report OS parameters, the query does.
type queryRAPI interface {
	Query(ctx context.Context, resource rapi.QueryResource, fields []string, filter rapi.Filter) (*rapi.QueryResult, error)
}

// instanceOSParams returns the OS parameters set on an instance itself
// (Ganeti's custom_osparams); nil when the cluster does not report them.
func instanceOSParams(ctx context.Context, c RAPI, name string) (map[string]any, error) {
	q, ok := c.(queryRAPI)
	if !ok {
		return nil, nil
	}
	res, err := q.Query(ctx, rapi.QueryInstance, []string{"name", "custom_osparams"}, rapi.Eq("name", name))
	if err != nil {
		return nil, err
	}
	for row := range res.Data {
		if res.Cell(row, "name").String() != name {
			continue
		}
		cell := res.Cell(row, "custom_osparams")
		if !cell.OK() {
			return nil, nil
		}
		var m map[string]any
		if err := cell.Decode(&m); err != nil {
			return nil, fmt.Errorf("instanceops: %s's OS parameters: %w", name, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("instanceops: the cluster does not report %s", name)
}

// matchImage returns the image whose OS parameters the instance has
// (every one of them, with the same value), the one setting the most
// when several do (the first in catalogue order on a tie); nil for none.
func matchImage(candidates []*store.OSImage, osparams map[string]any) *store.OSImage {
	var best *store.OSImage
	for _, im := range candidates {
		ok := true
		for k, v := range im.OSParams {
			if got, _ := osparams[k].(string); got != v || osparams[k] == nil {
				ok = false
				break
			}
		}
		if ok && (best == nil || len(im.OSParams) > len(best.OSParams)) {
			best = im
		}
	}
	return best
}

// reinstallParams returns the OS parameters of a reinstall with im: its
// parameters and the SSH-key delivery of creation (see ownerKeys and
// applicationKeyURL): img_personality for the image's SSH-key accounts
// with the owner users' keys, and the image's SSH-key parameter set to
// the application's key URL when there is one.
func reinstallParams(im *store.OSImage, p *reinstallPlan) map[string]any {
	params := make(map[string]any, len(im.OSParams)+2)
	for k, v := range im.OSParams {
		params[k] = v
	}
	if len(im.SSHKeyUsers) > 0 && len(p.keys) > 0 {
		// The accounts were checked when the image was saved.
		if v, err := applications.Personality(im.SSHKeyUsers, p.keys); err == nil {
			params[applications.PersonalityParam] = v
		}
	}
	if im.SSHKeyParam != "" && p.keyURL != "" {
		params[im.SSHKeyParam] = p.keyURL
	}
	return params
}

// ownerKeys returns the SSH keys of the instance's owner users (the
// active accounts its <prefix>:user: tags name), each distinct key once.
// Members of owner groups get none, as at creation, where only the
// applicant's keys go.
func (s *Service) ownerKeys(ctx context.Context, in *store.CachedInstance) ([]string, error) {
	var ids []int64
	for _, u := range in.OwnerUsers {
		user, err := s.st.UserByUsername(ctx, u)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if user.IsActive && user.Username == u && !slices.Contains(ids, user.ID) {
			ids = append(ids, user.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys, err := s.st.SSHKeysOfUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, k := range keys {
		if !slices.Contains(lines, k.Line) {
			lines = append(lines, k.Line)
		}
	}
	return lines, nil
}

// applicationKeyURL returns a URL serving SSH keys for the image's SSH-key
// parameter, as at creation: the key URL of the application that created
// the instance (its <prefix>:application: tag; applications.KeysPath)
// with a new token, valid for applications.DefaultKeyURLLifetime, when
// that application was created and its applicant is still one of the
// instance's active owner users. The URL serves the applicant's keys, as
// it did for the creation. Otherwise it is "" and the parameter is left
// out: no URL may serve keys of someone who no longer owns the VM, and
// img_personality carries the owners' keys.
func (s *Service) applicationKeyURL(ctx context.Context, in *store.CachedInstance) (string, error) {
	appID := s.codec.Parse(in.Tags).Application
	if appID <= 0 {
		return "", nil
	}
	a, err := s.st.Application(ctx, appID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if a.Status != store.AppCreated {
		return "", nil
	}
	u, err := s.st.UserByID(ctx, a.ApplicantID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !u.IsActive || !slices.Contains(in.OwnerUsers, u.Username) {
		return "", nil
	}
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	err = s.st.RenewApplicationKeyToken(ctx, a.ID, hash, s.now().Add(applications.DefaultKeyURLLifetime))
	if errors.Is(err, store.ErrStatusChanged) || errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return s.base + applications.KeysPath(token), nil
}

// newToken returns a random URL token (32 bytes, base64url: 43
// characters) and its SHA-256, the form in which it is stored.
func newToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("instanceops: token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

// versionAtLeast reports whether a Ganeti version ("2.16.0", "3.0.2")
// is at least major.minor; an unparsable one is not.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
	if len(parts) < 2 {
		return false
	}
	digits := func(s string) string {
		if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			return s[:i]
		}
		return s
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(digits(parts[1]))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
