package applications

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/sshkeys"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const (
	testKey      = "0123456789abcdef0123456789abcdef"
	testRAPIUser = "ganetimgr"
	testRAPIPass = "rapi-s3cret"
	testBaseURL  = "https://portal.example.org"
	testAdmins   = "admins@example.org"
	testSSHKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIA2vAamI/CkyLcfdnhAIY791yoFzo5pMU5+3dRZFkOT ann@laptop"
)

// logBuffer keeps a test's logs and prints them when it fails (river logs
// from goroutines that may outlive the test).
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// harnessOptions shape a test's world.
type harnessOptions struct {
	// jobDelay is the fake cluster's job duration (0: instant).
	jobDelay time.Duration
	// smtp, when set, delivers the mails to this server.
	smtp *smtptest.Server
	// noQueue leaves the queue stopped (the test runs jobs itself).
	noQueue bool
	// config changes the applications configuration.
	config func(*config.Applications)
	// sandbox, when set, are the settings of the real Ganeti sandbox
	// (sandboxenv.Load): the harness uses it instead of a fake cluster.
	sandbox map[string]string
}

// harness is one test's database, fake cluster (synced into the cache),
// users, service and working queue.
type harness struct {
	t         *testing.T
	ctx       context.Context
	pool      *pgxpool.Pool
	st        *store.Store
	fake      *rapifake.Cluster
	cluster   *store.Cluster
	syncer    *clustersync.Syncer
	svc       *Service
	worker    *SubmitWorker
	queue     *river.Client[pgx.Tx]
	secrets   *secretbox.Box
	applicant *auth.Principal
	reviewer  *auth.Principal
	viewer    *auth.Principal
	stranger  *auth.Principal
	orgID     int64
	logs      *logBuffer
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), logs: &logBuffer{}}
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
	cfg.MaxConns = 10
	if h.pool, err = pgxpool.NewWithConfig(h.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.pool.Close)
	h.st = store.New(h.pool)

	// The cluster (a fake one, or the sandbox), registered and synced
	// into the cache.
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
		h.fake, err = rapifake.NewCluster(rapifake.Options{Name: "c1.example.org", Seed: 11, Nodes: 2, Networks: 1,
			JobDelay: delay, DiskTemplates: []string{"diskless", "file", "plain"}, OSNames: []string{"noop", "snf-image+default"},
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
	if h.secrets, err = secretbox.New([]byte(testKey), SecretsPurpose); err != nil {
		t.Fatal(err)
	}
	sealed, err := passwords.Seal(pass)
	if err != nil {
		t.Fatal(err)
	}
	var clusterID int64
	if err := h.pool.QueryRow(h.ctx, `INSERT INTO clusters (slug, hostname, port, rapi_username, rapi_password,
		tls_fingerprint, fast_create) VALUES ('c1', $1, $2, $3, $4, $5, true) RETURNING id`,
		host, port, user, sealed, fingerprint).Scan(&clusterID); err != nil {
		t.Fatal(err)
	}
	if h.cluster, err = h.st.ClusterByID(h.ctx, clusterID); err != nil {
		t.Fatal(err)
	}
	if h.syncer, err = clustersync.New(h.st, clustersync.Options{Passwords: passwords, Logger: log,
		ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	h.sync()

	// Users: an applicant with an SSH key and an organization, a
	// reviewer, a viewer and someone else.
	org, err := h.st.CreateOrganization(h.ctx, store.OrganizationInput{Title: "GRNET", Tag: "grnet"})
	if err != nil {
		t.Fatal(err)
	}
	h.orgID = org.ID
	h.applicant = h.user("ann", false)
	if _, err := h.pool.Exec(h.ctx, `UPDATE users SET organization_id = $2, first_name = 'Ann', last_name = 'Smith',
		phone = '+30 210 0000000' WHERE id = $1`, h.applicant.User.ID, org.ID); err != nil {
		t.Fatal(err)
	}
	if h.applicant.User, err = h.st.UserByID(h.ctx, h.applicant.User.ID); err != nil {
		t.Fatal(err)
	}
	key, problem := sshkeys.ParseLine(testSSHKey)
	if key == nil {
		t.Fatalf("test key: %s", problem.Msg.ID())
	}
	if _, _, err := h.st.AddSSHKeys(h.ctx, h.applicant.User.ID, []store.NewSSHKey{store.NewSSHKey(*key)}); err != nil {
		t.Fatal(err)
	}
	h.reviewer = h.user("rev", false, "change_application")
	h.viewer = h.user("vic", false, "view_applications")
	h.stranger = h.user("sam", false)

	// The catalogue: an image for the fake's OS with a key URL and a
	// secret parameter; on the sandbox, its no-op OS with the parameters
	// it declares (Ganeti refuses others).
	image := store.OSImageInput{ID: "debian-12", Description: "Debian 12",
		Provider: "snf-image+default", OSParams: map[string]string{"img_id": "debian-12"}, Enabled: true,
		SSHKeyParam: "img_ssh_key_url", SSHKeyUsers: []string{"root"}, SecretParams: h.seal(`{"img_passwd":"pw"}`)}
	if o.sandbox != nil {
		image = store.OSImageInput{ID: "debian-12", Description: "Sandbox no-op OS", Provider: o.sandbox["GANETI_OS"],
			OSParams: map[string]string{"image": "debian-12"}, Enabled: true, SecretParams: h.seal(`{"root_password":"pw"}`)}
	}
	if _, err := h.st.CreateOSImage(h.ctx, image); err != nil {
		t.Fatal(err)
	}

	// The queue: the submission worker (and the mail worker with smtp).
	bundle, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	h.worker = NewSubmitWorker(WorkerOptions{Timeout: 20 * time.Second, RetryBase: 50 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, Snooze: 20 * time.Millisecond})
	workers := river.NewWorkers()
	river.AddWorker(workers, h.worker)
	queues := map[string]river.QueueConfig{Queue: {MaxWorkers: 4}}
	if o.smtp != nil {
		sender, err := mail.NewSMTPSender(mail.SMTPOptions{Host: o.smtp.Host(), Port: o.smtp.Port(), TLS: "none",
			From: "Ganeti Manager <ganetimgr@example.org>", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		river.AddWorker(workers, mail.NewWorker(h.st, sender, mail.WorkerOptions{Logger: log}))
		queues[mail.Queue] = river.QueueConfig{MaxWorkers: 2}
	}
	h.queue, err = river.NewClient(riverpgxv5.New(h.pool), &river.Config{Queues: queues, Workers: workers,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 25 * time.Millisecond, Logger: log,
		SkipUnknownJobCheck: o.smtp == nil, TestOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(testBaseURL)
	outbox, err := mail.NewOutbox(h.st, h.queue, bundle, mail.Options{BaseURL: base,
		From: "Ganeti Manager <ganetimgr@example.org>", Admins: []string{testAdmins}})
	if err != nil {
		t.Fatal(err)
	}
	appCfg := config.Applications{MemoryChoicesMB: []int{512, 1024, 2048}, VCPUsMax: 4, DiskMinGB: 2, DiskMaxGB: 50,
		Contact: config.ContactEither, StartInstances: true}
	if o.config != nil {
		o.config(&appCfg)
	}
	h.svc, err = New(Deps{Store: h.st, Mail: outbox, Queue: h.queue, Clients: NewClients(passwords, 20*time.Second, 45*time.Second),
		Secrets: h.secrets, Refresh: h.syncer.RefreshInstance, Audit: audit.New(h.st), Config: appCfg, BaseURL: base, Logger: log,
		FollowTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h.worker.Bind(h.svc)
	if !o.noQueue {
		h.startQueue()
	}
	return h
}

func (h *harness) startQueue() {
	h.t.Helper()
	if err := h.queue.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.queue.Stop(ctx)
	})
}

func (h *harness) seal(s string) []byte {
	h.t.Helper()
	b, err := h.secrets.Seal(s)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// sync reads the fake cluster into the cache.
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

func (h *harness) user(name string, superuser bool, perms ...string) *auth.Principal {
	h.t.Helper()
	u, err := h.st.CreateUser(h.ctx, store.NewUser{Username: name, Email: name + "@example.org", IsActive: true,
		IsSuperuser: superuser, Language: "en"})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, p := range perms {
		if err := h.st.GrantUserPermission(h.ctx, u.ID, p); err != nil {
			h.t.Fatal(err)
		}
	}
	p, err := auth.LoadPrincipal(h.ctx, h.st, u)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// form is a valid application of the applicant.
func (h *harness) form(host string) Form {
	return Form{Hostname: host, MemoryMB: 1024, VCPUs: 2, DiskGB: 5, OSImage: "debian-12", OrganizationID: h.orgID,
		HostsMailServer: true, Comments: "A web server.", AcceptTerms: true}
}

// apply files an application of the applicant.
func (h *harness) apply(host string) *store.Application {
	h.t.Helper()
	a, err := h.svc.Apply(h.ctx, h.applicant, h.form(host))
	if err != nil {
		h.t.Fatalf("apply %s: %v", host, err)
	}
	return a
}

// placement is the fake cluster's default group, its first network
// (bridged) and the file template.
func (h *harness) placement() PlacementChoice {
	return PlacementChoice{ClusterID: h.cluster.ID, NodeGroup: "default", Network: "gnt:c1-net1", DiskTemplate: "file"}
}

// waitStatus polls until the application reaches want, failing the test
// when it reaches another final status or the time is up.
func (h *harness) waitStatus(id int64, want Status, timeout time.Duration) *store.Application {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		a, err := h.st.Application(h.ctx, id)
		if err != nil {
			h.t.Fatal(err)
		}
		if a.Status == want {
			return a
		}
		if a.Status.Final() || a.Status == store.AppFailed || time.Now().After(deadline) {
			h.t.Fatalf("application %d is %s (%s), want %s", id, a.Status, a.BackendMessage, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// outboxMail is a queued mail.
type outboxMail struct {
	To, Template, Subject, Text string
}

// mails returns the queued mails of a template, oldest first.
func (h *harness) mails(template string) []outboxMail {
	h.t.Helper()
	rows, err := h.pool.Query(h.ctx, `SELECT recipient, template, subject, text_body FROM mail_outbox
		WHERE template = $1 ORDER BY id`, template)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (outboxMail, error) {
		var m outboxMail
		err := r.Scan(&m.To, &m.Template, &m.Subject, &m.Text)
		return m, err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func recipients(ms []outboxMail) string {
	var to []string
	for _, m := range ms {
		to = append(to, m.To)
	}
	return strings.Join(to, ",")
}

// submitJobs returns the attempts and errors of the submission jobs.
func (h *harness) submitJobs() (attempts []int, errs int) {
	h.t.Helper()
	rows, err := h.pool.Query(h.ctx, `SELECT attempt, coalesce(array_length(errors, 1), 0) FROM river_job
		WHERE kind = 'applications.submit' ORDER BY id`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, e int
		if err := rows.Scan(&a, &e); err != nil {
			h.t.Fatal(err)
		}
		attempts = append(attempts, a)
		errs += e
	}
	return attempts, errs
}
