package applications

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// SecretsPurpose is the secretbox purpose that seals the secret OS
// parameters of catalogue images.
const SecretsPurpose = "os-image-secret-params"

// Defaults of zero Deps durations.
const (
	// DefaultKeyURLLifetime is how long after a submission the SSH-key URL
	// serves the applicant's keys.
	DefaultKeyURLLifetime = 24 * time.Hour
	// DefaultFollowTimeout is how long one run of the submission job
	// follows the Ganeti job before it lets the job rest and resumes later.
	DefaultFollowTimeout = 4 * time.Minute
	// DefaultOSListTTL is how long a cluster's OS list is kept.
	DefaultOSListTTL = 10 * time.Minute
)

// Errors of the Service (besides *ValidationError and the store's
// ErrNotFound and ErrStatusChanged).
var (
	// ErrForbidden: the user may not do this.
	ErrForbidden = errors.New("applications: not allowed")
	// ErrNotAllowed: the change is not allowed in the application's
	// current status.
	ErrNotAllowed = errors.New("applications: not allowed in the application's status")
	// ErrFastCreateDisabled: the cluster does not allow fast creation.
	ErrFastCreateDisabled = errors.New("applications: fast instance creation is not enabled on the cluster")
)

// ErrorMessage returns the message to show for an error of the Service
// (not for *ValidationError, whose messages belong to fields); false for
// an unexpected error (a server error).
func ErrorMessage(err error) (i18n.Msg, bool) {
	switch {
	case errors.Is(err, store.ErrStatusChanged):
		return i18n.M("applications.error.status_changed"), true
	case errors.Is(err, ErrNotAllowed):
		return i18n.M("applications.error.not_allowed"), true
	case errors.Is(err, ErrFastCreateDisabled):
		return i18n.M("applications.error.fast_create"), true
	case errors.Is(err, ErrForbidden), errors.Is(err, store.ErrNotFound):
		return i18n.M("applications.error.not_found"), true
	}
	return i18n.Msg{}, false
}

// ApplicationPath is the page of an application (its review page for
// reviewers), linked from the mails.
func ApplicationPath(id int64) string { return "/applications/" + strconv.FormatInt(id, 10) + "/" }

// KeysPath is the URL path serving an application's SSH keys by token.
func KeysPath(token string) string { return "/applications/keys/" + token }

// InstancePath is an instance's page.
func InstancePath(clusterSlug, name string) string {
	return "/instances/" + url.PathEscape(clusterSlug) + "/" + url.PathEscape(name) + "/"
}

// Mailer queues mails in the caller's transaction (*mail.Outbox).
type Mailer = mail.TxMailer

// Deps are the Service's dependencies and settings.
type Deps struct {
	Store *store.Store
	// Mail queues the mails; Queue inserts the submission jobs (a river
	// client that knows SubmitWorker, or an insert-only one).
	Mail  Mailer
	Queue *river.Client[pgx.Tx]
	// Clients reach the clusters' RAPI.
	Clients ClientSource
	// Secrets seals and opens the secret OS parameters of images
	// (secretbox.New(key, SecretsPurpose)); nil refuses secret parameters.
	Secrets *secretbox.Box
	// Refresh, when set, re-reads one instance into the cluster cache
	// (clustersync.Syncer.RefreshInstance); called once a VM is created.
	Refresh func(ctx context.Context, clusterID int64, name string) error
	// Audit, when set, records every decision in the audit log, in the
	// transaction of the change (see audit.go); nil records nothing.
	Audit *audit.Log
	// Config holds the limits (GANETIMGR_APP_*).
	Config config.Applications
	// BaseURL is the site's public address, for the SSH-key URL.
	BaseURL *url.URL
	// TagPrefix is the Ganeti tag prefix.
	TagPrefix string
	Logger    *slog.Logger
	// KeyURLLifetime, FollowTimeout and OSListTTL default to
	// DefaultKeyURLLifetime, DefaultFollowTimeout and DefaultOSListTTL.
	KeyURLLifetime time.Duration
	FollowTimeout  time.Duration
	OSListTTL      time.Duration
}

// Service is the application workflow: filing, review, the catalogue,
// and (through SubmitWorker) the creation of approved VMs. It is safe for
// concurrent use.
type Service struct {
	st      *store.Store
	mail    Mailer
	queue   *river.Client[pgx.Tx]
	clients ClientSource
	secrets *secretbox.Box
	refresh func(ctx context.Context, clusterID int64, name string) error
	audit   *audit.Log
	limits  Limits
	start   bool
	base    string
	codec   tags.Codec
	log     *slog.Logger
	keyTTL  time.Duration
	follow  time.Duration
	osTTL   time.Duration

	osMu    sync.Mutex
	osCache map[int64]osEntry

	// afterCreate, when set (tests only), runs right after the creation
	// request returned a job id and before it is recorded; an error stands
	// for the process dying there.
	afterCreate func(ctx context.Context, applicationID int64, job rapi.JobID) error
}

type osEntry struct {
	names []string
	at    time.Time
}

// New checks d and returns a Service.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Mail == nil || d.Queue == nil || d.Clients == nil {
		return nil, errors.New("applications: New needs a store, a mailer, a queue client and a client source")
	}
	if d.BaseURL == nil || d.BaseURL.Scheme == "" || d.BaseURL.Host == "" {
		return nil, errors.New("applications: the base URL must be absolute")
	}
	codec, err := tags.New(d.TagPrefix)
	if err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	lim := LimitsFrom(d.Config)
	if len(lim.MemoryChoicesMB) == 0 || lim.VCPUsMax < 1 || lim.DiskMinGB < 1 || lim.DiskMaxGB < lim.DiskMinGB {
		lim = DefaultLimits()
	}
	s := &Service{st: d.Store, mail: d.Mail, queue: d.Queue, clients: d.Clients, secrets: d.Secrets,
		refresh: d.Refresh, audit: d.Audit, limits: lim, start: d.Config.StartInstances,
		base: strings.TrimSuffix(d.BaseURL.String(), "/"), codec: codec, log: d.Logger,
		keyTTL: d.KeyURLLifetime, follow: d.FollowTimeout, osTTL: d.OSListTTL, osCache: map[int64]osEntry{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "applications")
	if s.keyTTL <= 0 {
		s.keyTTL = DefaultKeyURLLifetime
	}
	if s.follow <= 0 {
		s.follow = DefaultFollowTimeout
	}
	if s.osTTL <= 0 {
		s.osTTL = DefaultOSListTTL
	}
	return s, nil
}

// Limits returns what users may ask for.
func (s *Service) Limits() Limits { return s.limits }

// ---------------------------------------------------------------------
// Applying

// NewForm returns an empty application form prefilled from the user's
// profile: organization, and the user as administrative contact.
func (s *Service) NewForm(p *auth.Principal) Form {
	f := Form{VCPUs: 1, DiskGB: max(s.limits.DiskMinGB, min(5, s.limits.DiskMaxGB))}
	if len(s.limits.MemoryChoicesMB) > 0 {
		f.MemoryMB = s.limits.MemoryChoicesMB[0]
	}
	if p == nil || p.User == nil {
		return f
	}
	u := p.User
	if u.OrganizationID != nil {
		f.OrganizationID = *u.OrganizationID
	}
	f.AdminContactName = i18n.FormatName(u.FirstName, u.LastName)
	f.AdminContactEmail, f.AdminContactPhone = u.Email, u.Phone
	return f
}

// FormChoices returns what the application form offers p: the enabled
// images, the declared networks of eligible clusters offered to p's groups
// and the organizations.
func (s *Service) FormChoices(ctx context.Context, p *auth.Principal) (*Choices, error) {
	if p == nil || p.User == nil {
		return nil, ErrForbidden
	}
	images, err := s.Images(ctx, false)
	if err != nil {
		return nil, err
	}
	groups, err := s.st.UserGroups(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	ch := &Choices{Images: images}
	if len(groups) > 0 {
		clusters, err := s.st.Clusters(ctx)
		if err != nil {
			return nil, err
		}
		nets, err := s.st.Networks(ctx, 0)
		if err != nil {
			return nil, err
		}
		for _, n := range nets {
			i := slices.IndexFunc(clusters, func(c *store.Cluster) bool { return c.ID == n.ClusterID })
			if i < 0 || !Eligible(clusters[i]) {
				continue
			}
			if slices.ContainsFunc(n.Groups, func(g store.Group) bool {
				return slices.ContainsFunc(groups, func(ug store.Group) bool { return ug.ID == g.ID })
			}) {
				ch.Networks = append(ch.Networks, n)
			}
		}
	}
	if ch.Organizations, err = s.st.ListOrganizations(ctx); err != nil {
		return nil, err
	}
	return ch, nil
}

// Apply files p's application: it is validated against the limits and
// p's choices, its hostname must not be used by an instance of any
// cluster or another open application, and the reviewers are mailed in
// the same transaction. A *ValidationError lists what is wrong.
func (s *Service) Apply(ctx context.Context, p *auth.Principal, f Form) (*store.Application, error) {
	if _, ok := Allowed(Filed, store.AppPending, RolesOf(p, nil)); !ok {
		return nil, ErrForbidden
	}
	ch, err := s.FormChoices(ctx, p)
	if err != nil {
		return nil, err
	}
	req, verr := ValidateApplication(f, s.limits, *ch)
	if verr != nil {
		return nil, verr
	}
	if err := s.checkHostname(ctx, req.Hostname, 0); err != nil {
		return nil, err
	}
	a, err := s.st.CreateApplication(ctx, store.NewApplication{ApplicantID: p.User.ID, Request: req},
		func(ctx context.Context, tx pgx.Tx) error {
			id, err := s.st.NewApplicationIDTx(ctx, tx)
			if err != nil {
				return err
			}
			return s.mailReceived(ctx, tx, id, p.User)
		}, s.auditApp(ctx, p, 0, audit.ApplicationFile, audit.OK, nil, 0))
	return a, hostnameConflict(err)
}

// hostnameConflict turns the open-hostname index's conflict into the
// hostname field's error.
func hostnameConflict(err error) error {
	if errors.Is(err, store.ErrConflict) && strings.Contains(err.Error(), store.ApplicationHostnameConstraint) {
		return invalidForm(fieldErr("hostname", i18n.M("applications.hostname.in_use_application")))
	}
	return err
}

// checkHostname reports a hostname used by an instance or another open
// application as the hostname field's error (a *ValidationError).
func (s *Service) checkHostname(ctx context.Context, hostname string, except int64) error {
	use, err := s.st.HostnameInUse(ctx, hostname, except)
	switch {
	case err != nil:
		return err
	case use.ClusterSlug != "":
		return invalidForm(fieldErr("hostname", i18n.M("applications.hostname.in_use_instance"), "Cluster", use.ClusterSlug))
	case use.ApplicationID != 0:
		return invalidForm(fieldErr("hostname", i18n.M("applications.hostname.in_use_application")))
	}
	return nil
}

// ---------------------------------------------------------------------
// Reading

// Get returns an application p may see; ErrNotFound otherwise (whether
// it exists or not).
func (s *Service) Get(ctx context.Context, p *auth.Principal, id int64) (*store.Application, error) {
	a, err := s.st.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if !CanView(p, a) {
		return nil, store.ErrNotFound
	}
	return a, nil
}

// Events returns the history of an application p may see.
func (s *Service) Events(ctx context.Context, p *auth.Principal, id int64) ([]store.ApplicationEvent, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	return s.st.ApplicationEvents(ctx, id)
}

// List returns a page of applications: p's own, or with all every
// applicant's (view_applications or change_application; ErrForbidden
// otherwise). q's filters and pagination apply.
func (s *Service) List(ctx context.Context, p *auth.Principal, all bool, q store.ApplicationQuery) (*store.ApplicationPage, error) {
	if p == nil || p.User == nil || !p.User.IsActive {
		return nil, ErrForbidden
	}
	if all {
		if !CanList(p) {
			return nil, ErrForbidden
		}
	} else {
		q.ApplicantID = p.User.ID
	}
	return s.st.ListApplications(ctx, q)
}

// PendingCount returns the number of applications awaiting review for
// those who list applications (the navigation badge), 0 for others.
func (s *Service) PendingCount(ctx context.Context, p *auth.Principal) (int, error) {
	if !CanList(p) {
		return 0, nil
	}
	return s.st.PendingApplicationCount(ctx)
}

// ---------------------------------------------------------------------
// Review

// PlacementOptions returns the placements possible on every eligible
// cluster (only those allowing fast creation with fastOnly), from the
// cluster cache: nothing here calls a cluster.
func (s *Service) PlacementOptions(ctx context.Context, p *auth.Principal, fastOnly bool) ([]ClusterOptions, error) {
	if !CanReview(p) {
		return nil, ErrForbidden
	}
	return s.placementOptions(ctx, 0, fastOnly)
}

func (s *Service) placementOptions(ctx context.Context, clusterID int64, fastOnly bool) ([]ClusterOptions, error) {
	clusters, err := s.st.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	statuses, err := s.st.ClusterSyncStatuses(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := s.st.CachedNodeGroups(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	nets, err := s.st.CachedNetworks(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	nodes, err := s.st.CachedNodes(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	declared, err := s.st.Networks(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	var out []ClusterOptions
	for _, c := range clusters {
		if !Eligible(c) || (fastOnly && !c.FastCreate) || (clusterID != 0 && c.ID != clusterID) {
			continue
		}
		d := ClusterData{Cluster: c}
		for _, st := range statuses {
			if st.ClusterID == c.ID {
				d.Status = st
			}
		}
		for _, g := range groups {
			if g.ClusterID == c.ID {
				d.Groups = append(d.Groups, g)
			}
		}
		for _, n := range nets {
			if n.ClusterID == c.ID {
				d.Networks = append(d.Networks, n)
			}
		}
		for _, n := range nodes {
			if n.ClusterID == c.ID {
				d.Nodes = append(d.Nodes, n)
			}
		}
		for _, n := range declared {
			if n.ClusterID == c.ID {
				d.Declared = append(d.Declared, n)
			}
		}
		out = append(out, BuildOptions(d))
	}
	return out, nil
}

// resolvePlacement checks a choice against the cluster's current options.
func (s *Service) resolvePlacement(ctx context.Context, c PlacementChoice, fastOnly bool) (store.Placement, error) {
	if c.ClusterID <= 0 {
		return store.Placement{}, invalidForm(fieldErr("cluster", i18n.M("applications.placement.cluster")))
	}
	opts, err := s.placementOptions(ctx, c.ClusterID, fastOnly)
	if err != nil {
		return store.Placement{}, err
	}
	if len(opts) == 0 {
		if fastOnly {
			return store.Placement{}, ErrFastCreateDisabled
		}
		return store.Placement{}, invalidForm(fieldErr("cluster", i18n.M("applications.placement.cluster")))
	}
	p, verr := opts[0].Resolve(c)
	if verr != nil {
		return store.Placement{}, verr
	}
	return p, nil
}

// Review is a reviewer's approval of an application.
type Review struct {
	// Request, when set, replaces the application's request (the
	// reviewer's edits); nil keeps it.
	Request *Form
	// Placement is where the VM goes.
	Placement PlacementChoice
	// Comment, when not empty, becomes the words to the applicant (shown
	// on the application and in the mail announcing the VM).
	Comment string
}

// Approve approves a pending application, or submits a failed one again,
// and queues its creation: in one transaction the application becomes
// approved (with the placement and the edits) and then submitted, and the
// submission job is inserted. The request is validated as a reviewer's,
// the hostname checked again, the placement against the cluster cache.
func (s *Service) Approve(ctx context.Context, p *auth.Principal, id int64, r Review) (*store.Application, error) {
	a, err := s.reviewable(ctx, p, id, store.AppApproved)
	if err != nil {
		return nil, err
	}
	var req *store.ApplicationRequest
	hostname := a.Hostname
	if r.Request != nil {
		images, err := s.Images(ctx, true)
		if err != nil {
			return nil, err
		}
		orgs, err := s.st.ListOrganizations(ctx)
		if err != nil {
			return nil, err
		}
		rq, verr := ValidateReview(*r.Request, images, orgs)
		if verr != nil {
			return nil, verr
		}
		// An image no longer offered stays possible for the application
		// that has it.
		req, hostname = &rq, rq.Hostname
	}
	comment, fe := CheckComment(r.Comment, false)
	if fe != nil {
		return nil, invalidForm(fe)
	}
	if err := s.checkHostname(ctx, hostname, a.ID); err != nil {
		return nil, err
	}
	pl, err := s.resolvePlacement(ctx, r.Placement, false)
	if err != nil {
		return nil, err
	}
	tr := store.ApplicationTransition{ID: a.ID, From: a.Status, To: store.AppApproved, ActorID: p.User.ID,
		Comment: comment, Request: req, Placement: &pl}
	if comment != "" {
		tr.AdminComments = &comment
	}
	// Approving a failed application submits it again.
	action, describe := audit.ApplicationApprove, placed("", comment)
	if a.Status == store.AppFailed {
		action, describe = audit.ApplicationSubmit, placed("Submitted again after a failure.", comment)
	}
	out, err := s.st.TransitionApplication(ctx, tr, s.submitTx(a.ID, p.User.ID),
		s.auditApp(ctx, p, a.ID, action, audit.OK, describe, 0))
	return out, hostnameConflict(err)
}

// submitTx moves an approved application to submitted and queues its
// submission job, in the caller's transaction.
func (s *Service) submitTx(id, actor int64) store.TxFunc {
	return func(ctx context.Context, tx pgx.Tx) error {
		if id == 0 {
			var err error
			if id, err = s.st.NewApplicationIDTx(ctx, tx); err != nil {
				return err
			}
		}
		a, err := s.st.TransitionApplicationTx(ctx, tx, store.ApplicationTransition{ID: id, From: store.AppApproved,
			To: store.AppSubmitted, ActorID: actor})
		if err != nil {
			return err
		}
		if _, err := s.queue.InsertTx(ctx, tx, SubmitArgs{ApplicationID: id, Attempt: a.SubmitAttempt}, nil); err != nil {
			return fmt.Errorf("applications: queue the submission: %w", err)
		}
		return nil
	}
}

// Submit queues the creation of an application left approved (Approve
// submits at once, so only applications approved elsewhere, such as ones
// taken over from an older ganetimgr, are left in that status).
func (s *Service) Submit(ctx context.Context, p *auth.Principal, id int64) (*store.Application, error) {
	a, err := s.reviewable(ctx, p, id, store.AppSubmitted)
	if err != nil {
		return nil, err
	}
	if a.ClusterID == 0 {
		return nil, invalidForm(fieldErr("cluster", i18n.M("applications.placement.cluster")))
	}
	var out *store.Application
	err = pgx.BeginFunc(ctx, s.st.Pool(), func(tx pgx.Tx) error {
		if err := s.submitTx(a.ID, p.User.ID)(ctx, tx); err != nil {
			return err
		}
		if then := s.auditApp(ctx, p, a.ID, audit.ApplicationSubmit, audit.OK, placed("", ""), 0); then != nil {
			if err := then(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		out, err = s.st.ApplicationTx(ctx, tx, a.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// reviewable loads an application and checks that p may move it to to.
func (s *Service) reviewable(ctx context.Context, p *auth.Principal, id int64, to Status) (*store.Application, error) {
	if !CanReview(p) {
		s.recordRefused(ctx, p, reviewAction(to), id, refusedReviewDetail)
		return nil, ErrForbidden
	}
	a, err := s.st.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, ok := Allowed(a.Status, to, RolesOf(p, a)); !ok {
		return nil, ErrNotAllowed
	}
	return a, nil
}

// Refuse refuses an application with a reason (required), which is mailed
// to the applicant in the same transaction.
func (s *Service) Refuse(ctx context.Context, p *auth.Principal, id int64, reason string) (*store.Application, error) {
	reason, fe := CheckComment(reason, true)
	if fe != nil {
		return nil, invalidForm(fe)
	}
	a, err := s.reviewable(ctx, p, id, store.AppRefused)
	if err != nil {
		return nil, err
	}
	return s.st.TransitionApplication(ctx, store.ApplicationTransition{ID: a.ID, From: a.Status, To: store.AppRefused,
		ActorID: p.User.ID, Comment: reason}, func(ctx context.Context, tx pgx.Tx) error {
		u, err := s.st.UserByID(ctx, a.ApplicantID)
		if err != nil {
			return err
		}
		_, err = s.mail.EnqueueTx(ctx, tx, recipientOf(u), mail.ApplicationRefused{ID: a.ID, Hostname: a.Hostname,
			Reason: reason, Path: ApplicationPath(a.ID)})
		return err
	}, s.auditApp(ctx, p, a.ID, audit.ApplicationRefuse, audit.OK, says(reason), 0))
}

// Discard closes an application silently (no mail); comment is optional.
func (s *Service) Discard(ctx context.Context, p *auth.Principal, id int64, comment string) (*store.Application, error) {
	comment, fe := CheckComment(comment, false)
	if fe != nil {
		return nil, invalidForm(fe)
	}
	a, err := s.reviewable(ctx, p, id, store.AppDiscarded)
	if err != nil {
		return nil, err
	}
	return s.st.TransitionApplication(ctx, store.ApplicationTransition{ID: a.ID, From: a.Status, To: store.AppDiscarded,
		ActorID: p.User.ID, Comment: comment}, s.auditApp(ctx, p, a.ID, audit.ApplicationDiscard, audit.OK, says(comment), 0))
}

// FastCreate creates a VM directly on a cluster that allows it: the
// request (validated as a reviewer's) is recorded as an application of
// p, approved by p with the placement, and submitted, in one transaction.
func (s *Service) FastCreate(ctx context.Context, p *auth.Principal, f Form, c PlacementChoice, comment string) (*store.Application, error) {
	if _, ok := Allowed(Filed, store.AppApproved, RolesOf(p, nil)); !ok {
		s.recordRefused(ctx, p, audit.ApplicationFast, 0, refusedReviewDetail)
		return nil, ErrForbidden
	}
	images, err := s.Images(ctx, false)
	if err != nil {
		return nil, err
	}
	orgs, err := s.st.ListOrganizations(ctx)
	if err != nil {
		return nil, err
	}
	req, verr := ValidateReview(f, images, orgs)
	if verr != nil {
		return nil, verr
	}
	comment, fe := CheckComment(comment, false)
	if fe != nil {
		return nil, invalidForm(fe)
	}
	if err := s.checkHostname(ctx, req.Hostname, 0); err != nil {
		return nil, err
	}
	pl, err := s.resolvePlacement(ctx, c, true)
	if err != nil {
		return nil, err
	}
	a, err := s.st.CreateApplication(ctx, store.NewApplication{ApplicantID: p.User.ID, Request: req, FastCreate: true,
		Placement: pl, Comment: comment}, s.submitTx(0, p.User.ID),
		s.auditApp(ctx, p, 0, audit.ApplicationFast, audit.OK, placed("", comment), 0))
	return a, hostnameConflict(err)
}

// ---------------------------------------------------------------------
// SSH keys for new VMs

// newKeyToken returns a random token for an SSH-key URL and its SHA-256.
func newKeyToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("applications: key token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

// AuthorizedKeys returns the applicant's SSH keys as an authorized_keys
// text for the token of an SSH-key URL, while the application is submitted
// or created and the URL has not expired (the new VM fetches it while it
// installs). Anything else, an unknown token included, gives ErrNotFound.
// The web handler serves it as text/plain without a login.
func (s *Service) AuthorizedKeys(ctx context.Context, token string) (string, error) {
	if len(token) != 43 || strings.ContainsFunc(token, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) {
		return "", store.ErrNotFound
	}
	sum := sha256.Sum256([]byte(token))
	a, err := s.st.ApplicationByKeyToken(ctx, sum[:])
	if err != nil {
		return "", err
	}
	if (a.Status != store.AppSubmitted && a.Status != store.AppCreated) || !time.Now().Before(a.SSHKeysUntil) {
		return "", store.ErrNotFound
	}
	keys, err := s.st.SSHKeysOfUsers(ctx, []int64{a.ApplicantID})
	if err != nil {
		return "", err
	}
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k.Line)
	}
	return AuthorizedKeys(lines), nil
}

// ---------------------------------------------------------------------
// The cluster's OS list

// ClusterOSes returns the OS names a cluster reports (/2/os), for a
// reviewer choosing an OS outside the catalogue. The list is kept for a
// while; reading it calls the cluster (Ganeti runs an OS diagnose job), so
// pages should load it separately rather than wait for it.
func (s *Service) ClusterOSes(ctx context.Context, p *auth.Principal, clusterID int64) ([]string, error) {
	if !CanReview(p) {
		return nil, ErrForbidden
	}
	s.osMu.Lock()
	e, ok := s.osCache[clusterID]
	s.osMu.Unlock()
	if ok && time.Since(e.at) < s.osTTL {
		return slices.Clone(e.names), nil
	}
	c, err := s.st.ClusterByID(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	cl, err := s.clients.Client(c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	names, err := cl.OSes(ctx)
	if err != nil {
		return nil, fmt.Errorf("applications: OS list of %s: %w", c.Slug, err)
	}
	slices.Sort(names)
	s.osMu.Lock()
	s.osCache[clusterID] = osEntry{names: names, at: time.Now()}
	s.osMu.Unlock()
	return slices.Clone(names), nil
}

// ---------------------------------------------------------------------
// Mail

// recipientOf addresses a user in their language.
func recipientOf(u *store.User) mail.Recipient {
	name := i18n.FormatName(u.FirstName, u.LastName)
	if name == "" {
		name = u.Username
	}
	return mail.Recipient{Address: u.Email, Name: name, Lang: u.Language}
}

// mailReceived tells the reviewers (or, when there are none, the
// administrators) about a new application, in tx.
func (s *Service) mailReceived(ctx context.Context, tx pgx.Tx, id int64, applicant *store.User) error {
	a, err := s.st.ApplicationTx(ctx, tx, id)
	if err != nil {
		return err
	}
	m := mail.ApplicationReceived{ID: a.ID, Hostname: a.Hostname, Username: applicant.Username,
		Name: i18n.FormatName(applicant.FirstName, applicant.LastName), Email: applicant.Email,
		MemoryMB: a.MemoryMB, VCPUs: a.VCPUs, DiskGB: a.DiskGB, OS: a.OSName, HostsMailServer: a.HostsMailServer,
		Comments: a.Comments, Path: ApplicationPath(a.ID)}
	if a.OSImage != "" {
		m.OS = a.OSImage
		if im, err := s.st.OSImage(ctx, a.OSImage); err == nil {
			m.OS = im.Description
		}
	}
	if a.RequestedNetworkID != 0 {
		if n, err := s.st.NetworkByID(ctx, a.RequestedNetworkID); err == nil {
			m.Network = n.Description + " (" + n.ClusterSlug + ")"
		}
	}
	if a.OrganizationID != 0 {
		if o, err := s.st.OrganizationByID(ctx, a.OrganizationID); err == nil {
			m.Organization = o.Title
		}
	}
	var contact []string
	for _, c := range []string{a.AdminContactName, a.AdminContactEmail, a.AdminContactPhone} {
		if c != "" {
			contact = append(contact, c)
		}
	}
	m.AdminContact = strings.Join(contact, ", ")
	reviewers, err := s.st.ApplicationReviewers(ctx)
	if err != nil {
		return err
	}
	if len(reviewers) == 0 {
		_, err := s.mail.EnqueueAdminsTx(ctx, tx, m)
		return err
	}
	for _, r := range reviewers {
		if _, err := s.mail.EnqueueTx(ctx, tx, recipientOf(r), m); err != nil {
			return err
		}
	}
	return nil
}
