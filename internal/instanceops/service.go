package instanceops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// Defaults of zero Deps durations.
const (
	// DefaultGrace is how long a job left "submitting" (its process died
	// during the RAPI call, or the call's answer was lost) is searched for
	// on the cluster by its reason marker before it is finished as lost.
	DefaultGrace = 2 * time.Minute
	// DefaultRefusalMailEvery is the shortest time between two mails to
	// the administrators about refused attempts of one user on one
	// instance.
	DefaultRefusalMailEvery = time.Hour
	// DefaultCallTimeout bounds an action's RAPI calls, which go on when
	// the request that asked for them ends.
	DefaultCallTimeout = time.Minute
)

// Request is who asks for an action and from where (for the audit log).
type Request struct {
	Principal *auth.Principal
	Addr      netip.Addr
}

// RAPI is what instance actions need of a cluster's RAPI (*rapi.Client).
type RAPI interface {
	Instance(ctx context.Context, name string) (*rapi.Instance, error)
	InstanceTags(ctx context.Context, name string) ([]string, error)
	StartupInstance(ctx context.Context, name string, opts rapi.StartupOptions) (rapi.JobID, error)
	ShutdownInstance(ctx context.Context, name string, opts rapi.ShutdownOptions) (rapi.JobID, error)
	RebootInstance(ctx context.Context, name string, opts rapi.RebootOptions) (rapi.JobID, error)
	ReinstallInstance(ctx context.Context, name string, opts rapi.ReinstallOptions) (rapi.JobID, error)
	RenameInstance(ctx context.Context, name, newName string, opts rapi.RenameOptions) (rapi.JobID, error)
	DeleteInstance(ctx context.Context, name string, opts rapi.DeleteOptions) (rapi.JobID, error)
	ModifyInstance(ctx context.Context, name string, m rapi.InstanceModify) (rapi.JobID, error)
	MigrateInstance(ctx context.Context, name string, opts rapi.MigrateOptions) (rapi.JobID, error)
	AddInstanceTags(ctx context.Context, name string, tags []string) (rapi.JobID, error)
	DeleteInstanceTags(ctx context.Context, name string, tags []string) (rapi.JobID, error)
	Info(ctx context.Context) (*rapi.Info, error)
	Features(ctx context.Context) ([]string, error)
	HasFeature(ctx context.Context, feature string) (bool, error)
	Instances(ctx context.Context) ([]string, error)
	JobsBulk(ctx context.Context) ([]rapi.Job, error)
	Job(ctx context.Context, id rapi.JobID) (*rapi.Job, error)
	WaitForJobChange(ctx context.Context, id rapi.JobID, fields []string, prevInfo []json.RawMessage, prevLogSerial int64) (*rapi.JobChange, error)
	WaitJob(ctx context.Context, id rapi.JobID) (*rapi.Job, error)
	WaitJobProgress(ctx context.Context, id rapi.JobID, onLog func(rapi.LogEntry)) (*rapi.Job, error)
}

var _ RAPI = (*rapi.Client)(nil)

// ClientSource gives the RAPI client of a registered cluster
// (*applications.Clients).
type ClientSource interface {
	RAPI(c *store.Cluster) (*rapi.Client, error)
}

// Mailer queues mails in the caller's transaction (*mail.Outbox).
type Mailer = mail.TxMailer

// Deps are the Service's dependencies and settings.
type Deps struct {
	Store *store.Store
	// Clients reach the clusters' RAPI.
	Clients ClientSource
	// Queue inserts the FollowWorker jobs (a river client that knows
	// FollowWorker, or an insert-only one).
	Queue *river.Client[pgx.Tx]
	Audit *audit.Log
	// Mail queues the administrators' mails (*mail.Outbox).
	Mail Mailer
	// Refresh re-reads one instance into the cluster cache
	// (clustersync.Syncer.RefreshInstance); called as soon as a job ends.
	Refresh func(ctx context.Context, clusterID int64, name string) error
	// Config holds the confirmation settings (GANETIMGR_ACTION_CONFIRM*).
	Config config.Instances
	// BaseURL is the site's public address, for links in mails.
	BaseURL *url.URL
	// TagPrefix is the Ganeti tag prefix.
	TagPrefix string
	Logger    *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Grace, RefusalMailEvery and CallTimeout default to DefaultGrace,
	// DefaultRefusalMailEvery and DefaultCallTimeout.
	Grace            time.Duration
	RefusalMailEvery time.Duration
	CallTimeout      time.Duration
}

// Service carries out instance actions. It is safe for concurrent use.
type Service struct {
	st        *store.Store
	clients   ClientSource
	queue     *river.Client[pgx.Tx]
	audit     *audit.Log
	mail      Mailer
	refresh   func(ctx context.Context, clusterID int64, name string) error
	cfg       config.Instances
	baseURL   *url.URL
	base      string // BaseURL without a trailing slash
	codec     tags.Codec
	log       *slog.Logger
	now       func() time.Time
	grace     time.Duration
	mailEvery time.Duration
	callTO    time.Duration

	// afterCall, when set (tests only), runs right after an action's RAPI
	// call returned a job id and before it is recorded; an error stands
	// for the process dying there (the row is left "submitting").
	afterCall func(ctx context.Context, tracked int64, job rapi.JobID) error
}

// New checks d and returns a Service.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Clients == nil || d.Queue == nil || d.Audit == nil || d.Mail == nil {
		return nil, errors.New("instanceops: New needs a store, a client source, a queue client, an audit log and a mailer")
	}
	if d.BaseURL == nil || d.BaseURL.Scheme == "" || d.BaseURL.Host == "" {
		return nil, errors.New("instanceops: the base URL must be absolute")
	}
	codec, err := tags.New(d.TagPrefix)
	if err != nil {
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	s := &Service{st: d.Store, clients: d.Clients, queue: d.Queue, audit: d.Audit, mail: d.Mail, refresh: d.Refresh,
		cfg: d.Config, baseURL: d.BaseURL, base: strings.TrimSuffix(d.BaseURL.String(), "/"),
		codec: codec, log: d.Logger, now: d.Now, grace: d.Grace, mailEvery: d.RefusalMailEvery, callTO: d.CallTimeout}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "instanceops")
	if s.now == nil {
		s.now = time.Now
	}
	if s.grace <= 0 {
		s.grace = DefaultGrace
	}
	if s.mailEvery <= 0 {
		s.mailEvery = DefaultRefusalMailEvery
	}
	if s.callTO <= 0 {
		s.callTO = DefaultCallTimeout
	}
	return s, nil
}

// InstancePath is an instance's page.
func InstancePath(clusterSlug, name string) string {
	return "/instances/" + url.PathEscape(clusterSlug) + "/" + url.PathEscape(name) + "/"
}
