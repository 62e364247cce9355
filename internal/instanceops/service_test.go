package instanceops

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

const (
	testKey      = "0123456789abcdef0123456789abcdef"
	testRAPIUser = "ganetimgr"
	testRAPIPass = "rapi-s3cret"
	testBaseURL  = "https://portal.example.org"
	testAdmins   = "admins@example.org"
)

// The tests of the core actions share this harness (TestMain is in
// main_test.go).

// harnessOptions shape a test's world.
type harnessOptions struct {
	// sandbox, when set, are the settings of the real Ganeti sandbox
	// (sandboxenv.Load): the harness uses it instead of a fake cluster.
	sandbox map[string]string
	// grace is the Service's grace period of "submitting" rows.
	grace time.Duration
	// responseTimeout is the RAPI clients' response timeout.
	responseTimeout time.Duration
	// jobDelay is the fake cluster's job duration (0: instant).
	jobDelay time.Duration
}

// harness is one test's database, cluster (a fake one or the sandbox,
// synced into the cache), users, service and working queue.
type harness struct {
	t       *testing.T
	ctx     context.Context
	pool    *pgxpool.Pool
	st      *store.Store
	fake    *rapifake.Cluster
	cluster *store.Cluster
	syncer  *clustersync.Syncer
	clients *applications.Clients
	svc     *Service
	queue   *river.Client[pgx.Tx]
	logs    *syncBuffer
	// Users: ann owns the test instances (directly), gus through the
	// group ops, bob is another active user, help holds view_instances,
	// locker can_lock and isolator can_isolate (each with
	// view_instances), root is a superuser, sam a stranger.
	ann, gus, bob, help, locker, isolator, root, sam *auth.Principal
	ops                                              *store.Group
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), logs: &syncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := pgxpool.ParseConfig(pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 12
	if h.pool, err = pgxpool.NewWithConfig(h.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.pool.Close)
	h.st = store.New(h.pool)

	host, port, user, pass, fingerprint := "", 0, testRAPIUser, testRAPIPass, ""
	if o.sandbox != nil {
		host, user, pass, fingerprint = o.sandbox["GANETI_RAPI_HOST"], o.sandbox["GANETI_RAPI_USER"],
			o.sandbox["GANETI_RAPI_PASS"], o.sandbox["GANETI_RAPI_FINGERPRINT"]
		if port, err = strconv.Atoi(o.sandbox["GANETI_RAPI_PORT"]); err != nil {
			t.Fatalf("GANETI_RAPI_PORT: %v", err)
		}
	} else {
		delay := o.jobDelay
		if delay == 0 {
			delay = rapifake.NoJobDelay
		}
		h.fake, err = rapifake.NewCluster(rapifake.Options{Name: "c1.example.org", Seed: 5, Nodes: 2, Groups: 2,
			Networks: 1, Instances: 4, JobDelay: delay, WaitTimeout: 2 * time.Second,
			Users: []rapifake.User{{Name: testRAPIUser, Password: testRAPIPass, Write: true}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.fake.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.fake.Close() })
		host, port, fingerprint = h.fake.Host(), h.fake.Port(), h.fake.Fingerprint()
	}
	passwords, err := secretbox.New([]byte(testKey), "rapi-password")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := passwords.Seal(pass)
	if err != nil {
		t.Fatal(err)
	}
	var clusterID int64
	if err := h.pool.QueryRow(h.ctx, `INSERT INTO clusters (slug, hostname, port, rapi_username, rapi_password,
		tls_fingerprint) VALUES ('c1', $1, $2, $3, $4, $5) RETURNING id`,
		host, port, user, sealed, fingerprint).Scan(&clusterID); err != nil {
		t.Fatal(err)
	}
	if h.cluster, err = h.st.ClusterByID(h.ctx, clusterID); err != nil {
		t.Fatal(err)
	}
	if h.syncer, err = clustersync.New(h.st, clustersync.Options{Passwords: passwords, Logger: log,
		ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second, SyncTimeout: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	h.sync()

	h.ann = h.user("ann", false)
	h.gus = h.user("gus", false)
	h.bob = h.user("bob", false)
	h.help = h.user("help", false, auth.ViewInstances)
	h.locker = h.user("locker", false, auth.ViewInstances, auth.CanLock)
	h.isolator = h.user("isolator", false, auth.ViewInstances, auth.CanIsolate)
	h.root = h.user("root", true)
	h.sam = h.user("sam", false)
	if h.ops, err = h.st.CreateGroup(h.ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if err := h.st.AddGroupMember(h.ctx, h.ops.ID, h.gus.User.ID); err != nil {
		t.Fatal(err)
	}

	bundle, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	follow := NewFollowWorker(nil)
	workers := river.NewWorkers()
	river.AddWorker(workers, follow)
	h.queue, err = river.NewClient(riverpgxv5.New(h.pool), &river.Config{
		Queues: map[string]river.QueueConfig{Queue: {MaxWorkers: 4}}, Workers: workers,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond, Logger: log,
		SkipUnknownJobCheck: true, TestOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(testBaseURL)
	outbox, err := mail.NewOutbox(h.st, h.queue, bundle, mail.Options{BaseURL: base,
		From: "Ganeti Manager <ganetimgr@example.org>", Admins: []string{testAdmins}})
	if err != nil {
		t.Fatal(err)
	}
	rt := o.responseTimeout
	if rt == 0 {
		rt = 45 * time.Second
	}
	h.clients = applications.NewClients(passwords, 20*time.Second, rt)
	t.Cleanup(h.clients.Close)
	h.svc, err = New(Deps{Store: h.st, Clients: h.clients, Queue: h.queue, Audit: audit.New(h.st), Mail: outbox,
		Refresh: h.syncer.RefreshInstance, Config: config.Instances{Confirm: config.ConfirmMail, ConfirmTTL: 24 * time.Hour},
		BaseURL: base, Logger: log, Grace: o.grace})
	if err != nil {
		t.Fatal(err)
	}
	follow.Bind(h.svc)
	if err := h.queue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.queue.Stop(ctx)
	})
	return h
}

// sync reads the cluster into the cache.
func (h *harness) sync() {
	h.t.Helper()
	c, err := h.st.ClusterByID(h.ctx, h.cluster.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.syncer.SyncNow(h.ctx, c); err != nil {
		h.t.Fatal(err)
	}
}

// refresh re-reads one instance into the cache.
func (h *harness) refresh(name string) {
	h.t.Helper()
	if err := h.syncer.RefreshInstance(h.ctx, h.cluster.ID, name); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) user(name string, superuser bool, perms ...auth.Permission) *auth.Principal {
	h.t.Helper()
	u, err := h.st.CreateUser(h.ctx, store.NewUser{Username: name, Email: name + "@example.org", IsActive: true,
		IsSuperuser: superuser, Language: "en"})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, p := range perms {
		if err := h.st.GrantUserPermission(h.ctx, u.ID, string(p)); err != nil {
			h.t.Fatal(err)
		}
	}
	p, err := auth.LoadPrincipal(h.ctx, h.st, u)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// addrOf is the test address of a user's requests.
func addrOf(p *auth.Principal) netip.Addr {
	return netip.AddrFrom4([4]byte{192, 0, 2, byte(p.User.ID)})
}

// reqOf is a request of p.
func reqOf(p *auth.Principal) Request { return Request{Principal: p, Addr: addrOf(p)} }

// cached returns the cached instance.
func (h *harness) cached(name string) *store.CachedInstance {
	h.t.Helper()
	in, err := h.st.CachedInstance(h.ctx, h.cluster.ID, name)
	if err != nil {
		h.t.Fatalf("cached instance %s: %v", name, err)
	}
	return in
}

// wait waits until a tracked job has finished and returns it.
func (h *harness) wait(j *store.InstanceJob, timeout time.Duration) *store.InstanceJob {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := h.st.InstanceJobByID(h.ctx, j.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		if got.Finished() {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("tracked job %d (%s on %s) still %s after %s", j.ID, j.Kind, j.Instance, got.Status, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// succeed waits for a tracked job and fails the test unless it succeeded.
func (h *harness) succeed(j *store.InstanceJob, err error) *store.InstanceJob {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("action: %v", err)
	}
	got := h.wait(j, 2*time.Minute)
	if got.Status != "success" || got.Error != "" {
		h.t.Fatalf("tracked job %d (%s %s): %s %q", got.ID, got.Kind, got.Detail, got.Status, got.Error)
	}
	return got
}

// refusal asserts that err is a refusal with code and returns it.
func refusal(t *testing.T, err error, code RefusalCode) *Refusal {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("got %v, want a refusal %s", err, code)
	}
	if r.Code != code {
		t.Fatalf("got refusal %s (%s), want %s", r.Code, r.Msg.ID(), code)
	}
	return r
}

// auditEntry is one audit entry as a test checks it.
type auditEntry struct {
	UserID   int64
	Username string
	Addr     string
	Action   string
	Outcome  string
	JobID    int64
	Detail   string
}

// audits returns the audit entries of an instance, oldest first.
func (h *harness) audits(instance string) []auditEntry {
	h.t.Helper()
	rows, err := h.pool.Query(h.ctx, `SELECT coalesce(user_id, 0), username, coalesce(host(client_addr), ''), action,
		outcome, coalesce(job_id, 0), detail FROM audit_log WHERE instance = $1 ORDER BY id`, instance)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auditEntry, error) {
		var a auditEntry
		return a, r.Scan(&a.UserID, &a.Username, &a.Addr, &a.Action, &a.Outcome, &a.JobID, &a.Detail)
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// lastAudit returns the newest audit entry of an instance with action.
func (h *harness) lastAudit(instance string, action audit.Action) auditEntry {
	h.t.Helper()
	all := h.audits(instance)
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Action == string(action) {
			return all[i]
		}
	}
	h.t.Fatalf("no audit entry %s for %s; have %+v", action, instance, all)
	return auditEntry{}
}

// checkAudit asserts an audit entry's actor, address, outcome and job id
// (job -1: any non-zero job id).
func checkAudit(t *testing.T, a auditEntry, p *auth.Principal, outcome audit.Outcome, job int64) {
	t.Helper()
	wantAddr := ""
	if p != nil {
		wantAddr = addrOf(p).String()
	}
	switch {
	case p != nil && (a.UserID != p.User.ID || a.Username != p.User.Username):
		t.Errorf("audit %s: actor %d %s, want %s", a.Action, a.UserID, a.Username, p.User.Username)
	case a.Addr != wantAddr:
		t.Errorf("audit %s: address %q, want %q", a.Action, a.Addr, wantAddr)
	case a.Outcome != string(outcome):
		t.Errorf("audit %s: outcome %s (%s), want %s", a.Action, a.Outcome, a.Detail, outcome)
	case job == -1 && a.JobID == 0, job >= 0 && a.JobID != job:
		t.Errorf("audit %s: job %d, want %d", a.Action, a.JobID, job)
	}
}

// checkEnd asserts the audit entry of a job's end: on behalf of the user
// who asked (the system writes it, so without an address), its outcome
// and job id.
func checkEnd(t *testing.T, a auditEntry, p *auth.Principal, outcome audit.Outcome, job int64) {
	t.Helper()
	if a.Action != string(audit.InstanceJobEnd) || a.UserID != p.User.ID || a.Username != p.User.Username ||
		a.Addr != "" || a.Outcome != string(outcome) || a.JobID != job {
		t.Errorf("job end audit: %+v, want %s by %s for job %d", a, outcome, p.User.Username, job)
	}
}

// refusalMails returns the recipients of the queued refusal mails.
func (h *harness) refusalMails() []string {
	h.t.Helper()
	rows, err := h.pool.Query(h.ctx, `SELECT recipient || ': ' || subject FROM mail_outbox WHERE template = 'instance_refused' ORDER BY id`)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}
