package app_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestServeCreatesApprovedVM: a serving ganetimgr runs the application
// submission worker. An application approved by another process (whose
// job waits in the queue) is created on the cluster by the serving one.
func TestServeCreatesApprovedVM(t *testing.T) {
	dbURL, web := pgtest.NewDB(t), freeAddr(t)
	env := map[string]string{
		"DATABASE_URL":         dbURL,
		"GANETIMGR_SECRET_KEY": strings.Repeat("k", 40),
		"GANETIMGR_LISTEN":     web,
		"GANETIMGR_BASE_URL":   "https://ganeti.example.org",
		"GANETIMGR_MAIL_MODE":  "log",
		"GANETIMGR_LOG_FORMAT": "json",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := store.MigrateURL(ctx, dbURL, ganetimgr.Migrations()); err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)

	// A fake cluster, registered with its password sealed under the key.
	fake, err := rapifake.NewCluster(rapifake.Options{Seed: 5, Nodes: 1, Networks: 1, JobDelay: rapifake.NoJobDelay,
		DiskTemplates: []string{"diskless", "file"}, Users: []rapifake.User{{Name: "gm", Password: "pw", Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	passwords, err := secretbox.New(cfg.SecretKey, "rapi-password")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := passwords.Seal("pw")
	if err != nil {
		t.Fatal(err)
	}
	var clusterID int64
	if err := pool.QueryRow(ctx, `INSERT INTO clusters (slug, hostname, port, rapi_username, rapi_password, tls_fingerprint)
		VALUES ('c1', $1, $2, 'gm', $3, $4) RETURNING id`, fake.Host(), fake.Port(), sealed, fake.Fingerprint()).Scan(&clusterID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateOSImage(ctx, store.OSImageInput{ID: "noop", Description: "No OS", Provider: "noop", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	mkUser := func(name string, perms ...string) *auth.Principal {
		u, err := st.CreateUser(ctx, store.NewUser{Username: name, Email: name + "@example.org", IsActive: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range perms {
			if err := st.GrantUserPermission(ctx, u.ID, p); err != nil {
				t.Fatal(err)
			}
		}
		p, err := auth.LoadPrincipal(ctx, st, u)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ann, rev := mkUser("ann"), mkUser("rev", string(auth.ChangeApplication))

	logs, stop := serveUntilReady(t, ctx, cfg, web)
	// The serving process syncs the cluster into the cache.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := st.ClusterSyncStatus(ctx, clusterID)
		if err == nil && !s.LastSuccessAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not synced: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Another process (a web page) files and approves the application.
	bundle, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	outbox, err := mail.NewOutbox(st, inserter, bundle, mail.Options{BaseURL: cfg.BaseURL, From: cfg.Mail.From})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := applications.New(applications.Deps{Store: st, Mail: outbox, Queue: inserter,
		Clients: applications.NewClients(passwords, 0, 0), Config: cfg.Applications, BaseURL: cfg.BaseURL})
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.Apply(ctx, ann, applications.Form{Hostname: "vm1.example.org", MemoryMB: 512, VCPUs: 1, DiskGB: 2,
		OSImage: "noop", AdminContactName: "Ann", AdminContactEmail: "ann@example.org", AdminContactPhone: "2100000000",
		Comments: "test", AcceptTerms: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(ctx, rev, a.ID, applications.Review{Placement: applications.PlacementChoice{ClusterID: clusterID,
		NodeGroup: "default", Network: "gnt:cluster1-net1", DiskTemplate: "file"}}); err != nil {
		t.Fatal(err)
	}
	for {
		a, err = st.Application(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == store.AppCreated {
			break
		}
		if a.Status == store.AppFailed || time.Now().After(deadline) {
			t.Fatalf("application %s %q\n%s", a.Status, a.BackendMessage, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if in, ok := fake.Instance("vm1.example.org"); !ok || !in.Running || in.MaxMem != 512 {
		t.Errorf("instance: %+v", in)
	}
	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, `"msg":"VM created"`) || strings.Contains(l, `"level":"ERROR"`) {
		t.Errorf("logs:\n%s", l)
	}
}
