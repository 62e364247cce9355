package instanceops

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/sshkeys"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// The confirmed actions' tests share this world: a database of their own,
// a cluster (a fake one, or the real Ganeti sandbox) synced into the
// cache, users, the Service with a working queue (follow jobs and mail
// delivered to a test SMTP server) and a RAPI client of their own to set
// up and observe the cluster.

const (
	confirmKey      = "0123456789abcdef0123456789abcdef"
	confirmRAPIUser = "ganetimgr"
	confirmRAPIPass = "rapi-s3cret"
	confirmBaseURL  = "https://portal.example.org"
	confirmAdmins   = "admins@example.org"
	annKey          = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIA2vAamI/CkyLcfdnhAIY791yoFzo5pMU5+3dRZFkOT ann@laptop"
	bobKey          = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFmkbqdB6bCKCKYmEFZLgDT8ldVSmAT0PEv8L+w5MyA3 bob@desk"
	// confirmTimeout bounds the wait for a job (the sandbox serialises
	// jobs of every test running on it).
	confirmTimeout = 150 * time.Second
)

// syncBuffer keeps a test's logs (both harnesses of this package print
// them when the test fails).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// confirmOptions shape a test's world.
type confirmOptions struct {
	// sandbox are the settings of the real Ganeti sandbox
	// (sandboxenv.Load); nil for a fake cluster.
	sandbox map[string]string
	// hypervisor is the fake cluster's ("fake" by default).
	hypervisor string
	// confirm is the confirmation mode (default mail).
	confirm string
}

// confirmEnv is one test's world.
type confirmEnv struct {
	t       *testing.T
	ctx     context.Context
	pool    *pgxpool.Pool
	st      *store.Store
	fake    *rapifake.Cluster
	sandbox map[string]string
	cluster *store.Cluster
	syncer  *clustersync.Syncer
	client  *rapi.Client
	queue   *river.Client[pgx.Tx]
	outbox  *mail.Outbox
	smtp    *smtptest.Server
	svc     *Service
	// skew moves the Service's clock forward (nanoseconds).
	skew atomic.Int64
	logs *syncBuffer
	// ann owns the test instances; bob is another user with a key, boss
	// a superuser and helen a helpdesk user (view_instances).
	ann, bob, boss, helen *auth.Principal
}

func newConfirmEnv(t *testing.T, o confirmOptions) *confirmEnv {
	t.Helper()
	e := &confirmEnv{t: t, ctx: context.Background(), logs: &syncBuffer{}, sandbox: o.sandbox}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", e.logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := pgxpool.ParseConfig(pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 12
	if e.pool, err = pgxpool.NewWithConfig(e.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.pool.Close)
	e.st = store.New(e.pool)

	host, port, user, pass, fingerprint := "", 0, confirmRAPIUser, confirmRAPIPass, ""
	if o.sandbox != nil {
		host, user, pass, fingerprint = o.sandbox["GANETI_RAPI_HOST"], o.sandbox["GANETI_RAPI_USER"],
			o.sandbox["GANETI_RAPI_PASS"], o.sandbox["GANETI_RAPI_FINGERPRINT"]
		if port, err = strconv.Atoi(o.sandbox["GANETI_RAPI_PORT"]); err != nil {
			t.Fatalf("GANETI_RAPI_PORT: %v", err)
		}
	} else {
		hv := o.hypervisor
		if hv == "" {
			hv = "fake"
		}
		e.fake, err = rapifake.NewCluster(rapifake.Options{Name: "c1.example.org", Seed: 7, Nodes: 2, Networks: 1,
			Hypervisor: hv, JobDelay: rapifake.NoJobDelay, DiskTemplates: []string{"file", "diskless"},
			OSNames: []string{"noop", "snf-image+default"},
			Users:   []rapifake.User{{Name: confirmRAPIUser, Password: confirmRAPIPass, Write: true}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.fake.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.fake.Close() })
		host, port, fingerprint = e.fake.Host(), e.fake.Port(), e.fake.Fingerprint()
	}
	if e.client, err = rapi.New(rapi.Config{Host: host, Port: port, Username: user, Password: pass,
		TLS: rapi.TLSConfig{PinnedSHA256: fingerprint}, ResponseTimeout: 45 * time.Second,
		ConnectTimeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.client.Close)
	passwords, err := secretbox.New([]byte(confirmKey), "rapi-password")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := passwords.Seal(pass)
	if err != nil {
		t.Fatal(err)
	}
	var clusterID int64
	if err := e.pool.QueryRow(e.ctx, `INSERT INTO clusters (slug, hostname, port, rapi_username, rapi_password,
		tls_fingerprint) VALUES ('c1', $1, $2, $3, $4, $5) RETURNING id`,
		host, port, user, sealed, fingerprint).Scan(&clusterID); err != nil {
		t.Fatal(err)
	}
	if e.cluster, err = e.st.ClusterByID(e.ctx, clusterID); err != nil {
		t.Fatal(err)
	}
	if e.syncer, err = clustersync.New(e.st, clustersync.Options{Passwords: passwords, Logger: log,
		ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	e.sync()

	e.ann = e.user("ann", false, annKey)
	e.bob = e.user("bob", false, bobKey)
	e.boss = e.user("boss", true, "")
	e.helen = e.user("helen", false, "", "view_instances")

	// The queue: follow jobs and mail, delivered to a test SMTP server.
	e.smtp = smtptest.Start(t, smtptest.Options{})
	sender, err := mail.NewSMTPSender(mail.SMTPOptions{Host: e.smtp.Host(), Port: e.smtp.Port(), TLS: "none",
		From: "Ganeti Manager <ganetimgr@example.org>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	follow := NewFollowWorker(nil)
	workers := river.NewWorkers()
	river.AddWorker(workers, follow)
	river.AddWorker(workers, mail.NewWorker(e.st, sender, mail.WorkerOptions{Logger: log}))
	e.queue, err = river.NewClient(riverpgxv5.New(e.pool), &river.Config{
		Queues:  map[string]river.QueueConfig{Queue: {MaxWorkers: 4}, mail.Queue: {MaxWorkers: 2}},
		Workers: workers, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 25 * time.Millisecond,
		Logger: log, TestOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(confirmBaseURL)
	if e.outbox, err = mail.NewOutbox(e.st, e.queue, bundle, mail.Options{BaseURL: base,
		From: "Ganeti Manager <ganetimgr@example.org>", Admins: []string{confirmAdmins}}); err != nil {
		t.Fatal(err)
	}
	mode := o.confirm
	if mode == "" {
		mode = config.ConfirmMail
	}
	if e.svc, err = New(Deps{Store: e.st, Clients: applications.NewClients(passwords, 20*time.Second, 45*time.Second),
		Queue: e.queue, Audit: audit.New(e.st), Mail: e.outbox, Refresh: e.syncer.RefreshInstance,
		Config: config.Instances{Confirm: mode, ConfirmTTL: 7 * 24 * time.Hour}, BaseURL: base, Logger: log,
		Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }}); err != nil {
		t.Fatal(err)
	}
	follow.Bind(e.svc)
	if err := e.queue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.queue.Stop(ctx)
	})
	return e
}

// sync reads the whole cluster into the cache.
func (e *confirmEnv) sync() {
	e.t.Helper()
	c, err := e.st.ClusterByID(e.ctx, e.cluster.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.syncer.SyncNow(e.ctx, c); err != nil {
		e.t.Fatal(err)
	}
}

// refresh re-reads one instance into the cache.
func (e *confirmEnv) refresh(name string) {
	e.t.Helper()
	if err := e.syncer.RefreshInstance(e.ctx, e.cluster.ID, name); err != nil {
		e.t.Fatal(err)
	}
}

// user creates an active account (with an SSH key when key is set) and
// returns its principal.
func (e *confirmEnv) user(name string, superuser bool, key string, perms ...string) *auth.Principal {
	e.t.Helper()
	u, err := e.st.CreateUser(e.ctx, store.NewUser{Username: name, Email: name + "@example.org", IsActive: true,
		IsSuperuser: superuser, Language: "en", FirstName: strings.ToUpper(name[:1]) + name[1:]})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range perms {
		if err := e.st.GrantUserPermission(e.ctx, u.ID, p); err != nil {
			e.t.Fatal(err)
		}
	}
	if key != "" {
		k, problem := sshkeys.ParseLine(key)
		if k == nil {
			e.t.Fatalf("test key: %s", problem.Msg.ID())
		}
		if _, _, err := e.st.AddSSHKeys(e.ctx, u.ID, []store.NewSSHKey{store.NewSSHKey(*k)}); err != nil {
			e.t.Fatal(err)
		}
	}
	p, err := auth.LoadPrincipal(e.ctx, e.st, u)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// req is a request of p from a documentation address.
func req(p *auth.Principal) Request {
	return Request{Principal: p, Addr: netip.MustParseAddr("192.0.2.10")}
}

// uniqueName is a fresh instance name for this test: the sandbox is
// shared with other tests.
func (e *confirmEnv) uniqueName(label string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	domain := "example.org"
	if e.sandbox != nil {
		domain = "ganeti.test"
	}
	return label + "-" + hex.EncodeToString(b) + "." + domain
}

// instanceRequest is the creation request of a small instance tagged
// with tags (started when running): the sandbox's OS, node and bridge, or
// the fake's no-op OS.
func (e *confirmEnv) instanceRequest(name string, running bool, tags []string) rapi.InstanceCreate {
	r := rapi.InstanceCreate{Name: name, Mode: "create", DiskTemplate: "file", Disks: []rapi.DiskSpec{{Size: 1024}},
		BeParams: map[string]any{"maxmem": 128, "minmem": 128, "vcpus": 1}, Tags: tags, Start: running}
	if e.sandbox != nil {
		r.OS, r.PNode = e.sandbox["GANETI_OS"], e.sandbox["GANETI_NODE"]
		r.NICs = []rapi.NICSpec{{Link: e.sandbox["GANETI_NIC_LINK"], Mode: "bridged"}}
	} else {
		r.OS = "noop"
		r.NICs = []rapi.NICSpec{{Link: "br0", Mode: "bridged"}}
	}
	return r
}

// createInstance creates an instance tagged with tags (and started when
// running), with hvparams when set, waits for it and reads it into the
// cache.
func (e *confirmEnv) createInstance(name string, running bool, tags []string, hvparams map[string]any, also ...string) {
	e.t.Helper()
	r := e.instanceRequest(name, running, tags)
	r.HvParams = hvparams
	e.create(r, also...)
}

// create creates an instance, waits for it and reads it into the cache.
// On the sandbox it is deleted when the test ends, under its name or any
// name in also (the names it may get).
func (e *confirmEnv) create(r rapi.InstanceCreate, also ...string) {
	e.t.Helper()
	if e.sandbox != nil {
		names := append([]string{r.Name}, also...)
		e.t.Cleanup(func() {
			for _, n := range names {
				e.removeInstance(n)
			}
		})
	}
	id, err := e.client.CreateInstance(e.ctx, r)
	if err != nil {
		e.t.Fatalf("create %s: %v", r.Name, err)
	}
	e.waitGaneti(id)
	e.refresh(r.Name)
}

// removeInstance deletes an instance this test created, if it exists.
func (e *confirmEnv) removeInstance(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), confirmTimeout)
	defer cancel()
	if _, err := e.client.Instance(ctx, name); rapi.IsNotFound(err) {
		return
	}
	id, err := e.client.DeleteInstance(ctx, name, rapi.DeleteOptions{ShutdownTimeout: 10 * time.Second})
	if err == nil {
		_, err = e.client.WaitJob(ctx, id)
	}
	if err != nil && !rapi.IsNotFound(err) {
		e.t.Errorf("cleanup: delete instance %s: %v", name, err)
	}
}

// waitGaneti waits for a Ganeti job and fails the test unless it
// succeeded.
func (e *confirmEnv) waitGaneti(id rapi.JobID) *rapi.Job {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, confirmTimeout)
	defer cancel()
	j, err := e.client.WaitJob(ctx, id)
	if err != nil {
		e.t.Fatalf("job %d: %v", id, err)
	}
	if j.Status != rapi.JobStatusSuccess {
		e.t.Fatalf("job %d: %s %v", id, j.Status, j.Err())
	}
	return j
}

// waitTracked waits until the follower finished a tracked job and
// returns it; it fails the test unless the job succeeded.
func (e *confirmEnv) waitTracked(j *store.InstanceJob) *store.InstanceJob {
	e.t.Helper()
	deadline := time.Now().Add(confirmTimeout)
	for {
		got, err := e.st.InstanceJobByID(e.ctx, j.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		if got.Finished() {
			if got.Status != "success" {
				e.t.Fatalf("tracked job %d (%s of %s): %s %s", got.ID, got.Kind, got.Instance, got.Status, got.Error)
			}
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("tracked job %d (%s of %s) still %s", got.ID, got.Kind, got.Instance, got.Status)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// cached returns the cached instance, nil when the cache lacks it.
func (e *confirmEnv) cached(name string) *store.CachedInstance {
	e.t.Helper()
	in, err := e.st.CachedInstance(e.ctx, e.cluster.ID, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		e.t.Fatal(err)
	}
	return in
}

// waitCached waits until the cache has the instance (present) or not, as
// the follower's refresh leaves it once a job ended.
func (e *confirmEnv) waitCached(name string, present bool) *store.CachedInstance {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		in := e.cached(name)
		if (in != nil) == present {
			return in
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("instance %s cached: %v, want %v", name, in != nil, present)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// auditRow is one audit log entry.
type auditRow struct {
	Username, Action, Outcome, Instance, Detail string
	JobID                                       int64
}

// audits returns the audit entries of an action code, oldest first.
func (e *confirmEnv) audits(action audit.Action) []auditRow {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT username, action, outcome, instance, detail, coalesce(job_id, 0)
		FROM audit_log WHERE action = $1 ORDER BY id`, string(action))
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auditRow, error) {
		var a auditRow
		err := r.Scan(&a.Username, &a.Action, &a.Outcome, &a.Instance, &a.Detail, &a.JobID)
		return a, err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// queuedMails returns the recipients and bodies of the queued mails of a
// template, oldest first.
func (e *confirmEnv) queuedMails(template string) (to []string, bodies []string) {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT recipient, text_body FROM mail_outbox WHERE template = $1 ORDER BY id`, template)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r, b string
		if err := rows.Scan(&r, &b); err != nil {
			e.t.Fatal(err)
		}
		to, bodies = append(to, r), append(bodies, b)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return to, bodies
}

// jobOp returns the parameters of the opcode opID of a Ganeti job.
func (e *confirmEnv) jobOp(id int64, opID string) map[string]any {
	e.t.Helper()
	j, err := e.client.Job(e.ctx, rapi.JobID(id))
	if err != nil {
		e.t.Fatal(err)
	}
	for _, op := range j.Ops {
		if op.ID == opID {
			var m map[string]any
			if err := json.Unmarshal(op.Raw, &m); err != nil {
				e.t.Fatal(err)
			}
			return m
		}
	}
	e.t.Fatalf("job %d has no %s: %v", id, opID, j.Summary)
	return nil
}

// refusalCode returns the code of err's *Refusal ("" for none).
func refusalCode(err error) RefusalCode {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}
