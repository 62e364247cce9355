package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// appFixture is a migrated store with an applicant, a reviewer, a cluster
// and an image.
type appFixture struct {
	s         *Store
	applicant testUser
	reviewer  testUser
	clusterID int64
}

func newAppFixture(t *testing.T) *appFixture {
	t.Helper()
	s := migratedStore(t)
	f := &appFixture{s: s, applicant: addUser(t, s, "ann"), reviewer: addUser(t, s, "rev"), clusterID: addCluster(t, s, "c1")}
	if _, err := s.CreateOSImage(context.Background(), OSImageInput{ID: "debian-12", Description: "Debian 12",
		Provider: "noop", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *appFixture) request(host string) ApplicationRequest {
	return ApplicationRequest{Hostname: host, MemoryMB: 1024, VCPUs: 2, DiskGB: 10, OSImage: "debian-12",
		Comments: "a web server"}
}

func (f *appFixture) placement() *Placement {
	return &Placement{ClusterID: f.clusterID, NodeGroup: "default", NetworkName: "net1", NetworkPool: true,
		DiskTemplate: "plain"}
}

func (f *appFixture) file(t *testing.T, host string) *Application {
	t.Helper()
	a, err := f.s.CreateApplication(context.Background(), NewApplication{ApplicantID: f.applicant.id, Request: f.request(host)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *appFixture) move(t *testing.T, a *Application, from, to ApplicationStatus, mod func(*ApplicationTransition)) *Application {
	t.Helper()
	tr := ApplicationTransition{ID: a.ID, From: from, To: to, ActorID: f.reviewer.id}
	if mod != nil {
		mod(&tr)
	}
	out, err := f.s.TransitionApplication(context.Background(), tr)
	if err != nil {
		t.Fatalf("%s -> %s: %v", from, to, err)
	}
	return out
}

func TestApplicationLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAppFixture(t)
	a := f.file(t, "web.example.org")
	if a.Status != AppPending || a.ApplicantUsername != "ann" || a.OSImage != "debian-12" || a.TermsAcceptedAt.IsZero() {
		t.Fatalf("filed: %+v", a)
	}

	// Approving needs a placement (the database says so).
	if _, err := f.s.TransitionApplication(ctx, ApplicationTransition{ID: a.ID, From: AppPending, To: AppApproved,
		ActorID: f.reviewer.id}); err == nil || !strings.Contains(err.Error(), "check constraint") {
		t.Fatalf("approve without placement: got %v", err)
	}
	edited := f.request("web2.example.org")
	a = f.move(t, a, AppPending, AppApproved, func(tr *ApplicationTransition) {
		tr.Placement, tr.Request = f.placement(), &edited
	})
	if a.Status != AppApproved || a.ReviewerUsername != "rev" || a.ClusterSlug != "c1" || a.Hostname != "web2.example.org" {
		t.Fatalf("approved: %+v", a)
	}
	a = f.move(t, a, AppApproved, AppSubmitted, nil)
	if a.SubmitAttempt != 1 || a.SubmittedAt.IsZero() || a.JobID != 0 {
		t.Fatalf("submitted: %+v", a)
	}
	hash := sha256.Sum256([]byte("token"))
	until := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	if err := f.s.SetApplicationKeyToken(ctx, a.ID, 1, hash[:], until); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetApplicationJob(ctx, a.ID, 2, 42); !errors.Is(err, ErrStatusChanged) {
		t.Fatalf("job of another attempt: got %v", err)
	}
	if err := f.s.SetApplicationJob(ctx, a.ID, 1, 42); err != nil {
		t.Fatal(err)
	}
	if got, err := f.s.ApplicationByKeyToken(ctx, hash[:]); err != nil || got.ID != a.ID || !got.SSHKeysUntil.Equal(until) {
		t.Fatalf("by key token: %+v %v", got, err)
	}

	// A failure needs Ganeti's message, and a late worker of another
	// attempt cannot settle it.
	if _, err := f.s.TransitionApplication(ctx, ApplicationTransition{ID: a.ID, From: AppSubmitted, To: AppFailed}); err == nil ||
		!strings.Contains(err.Error(), "applications_failure_reason") {
		t.Fatalf("failed without message: got %v", err)
	}
	if _, err := f.s.TransitionApplication(ctx, ApplicationTransition{ID: a.ID, From: AppSubmitted, To: AppFailed,
		Attempt: 7, BackendMessage: "x"}); !errors.Is(err, ErrStatusChanged) {
		t.Fatalf("failed by another attempt: got %v", err)
	}
	a = f.move(t, a, AppSubmitted, AppFailed, func(tr *ApplicationTransition) {
		tr.ActorID, tr.Attempt, tr.BackendMessage = 0, 1, "violates policy"
	})
	if a.BackendMessage != "violates policy" || a.JobID != 42 {
		t.Fatalf("failed: %+v", a)
	}
	// Re-submission clears the previous attempt's job, message and key URL.
	a = f.move(t, a, AppFailed, AppApproved, nil)
	if a.JobID != 0 || a.BackendMessage != "" || !a.SSHKeysUntil.IsZero() {
		t.Fatalf("re-approved: %+v", a)
	}
	if _, err := f.s.ApplicationByKeyToken(ctx, hash[:]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old key token: got %v", err)
	}
	a = f.move(t, a, AppApproved, AppSubmitted, nil)
	a = f.move(t, a, AppSubmitted, AppCreated, func(tr *ApplicationTransition) { tr.ActorID, tr.Attempt = 0, 2 })
	if a.SubmitAttempt != 2 || a.FinishedAt.IsZero() {
		t.Fatalf("created: %+v", a)
	}

	// The optimistic check.
	if _, err := f.s.TransitionApplication(ctx, ApplicationTransition{ID: a.ID, From: AppPending, To: AppRefused,
		Comment: "no"}); !errors.Is(err, ErrStatusChanged) || !errors.Is(err, ErrConflict) {
		t.Fatalf("stale transition: got %v", err)
	}
	if _, err := f.s.TransitionApplication(ctx, ApplicationTransition{ID: 999999, From: AppPending, To: AppRefused,
		Comment: "no"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing application: got %v", err)
	}

	events, err := f.s.ApplicationEvents(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range events {
		steps = append(steps, string(e.From)+">"+string(e.To)+"@"+e.ActorUsername)
	}
	want := ">pending@ann pending>approved@rev approved>submitted@rev submitted>failed@ failed>approved@rev " +
		"approved>submitted@rev submitted>created@"
	if got := strings.Join(steps, " "); got != want {
		t.Errorf("history:\n got %s\nwant %s", got, want)
	}
}

func TestApplicationRefusalNeedsReason(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAppFixture(t)
	a := f.file(t, "x.example.org")
	if _, err := f.s.TransitionApplication(ctx, ApplicationTransition{ID: a.ID, From: AppPending, To: AppRefused,
		ActorID: f.reviewer.id}); err == nil || !strings.Contains(err.Error(), "applications_refusal_reason") {
		t.Fatalf("refusal without reason: got %v", err)
	}
	a = f.move(t, a, AppPending, AppRefused, func(tr *ApplicationTransition) { tr.Comment = "not for us" })
	if a.AdminComments != "not for us" || a.ReviewerID != f.reviewer.id || a.FinishedAt.IsZero() {
		t.Fatalf("refused: %+v", a)
	}
}

func TestApplicationThenRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAppFixture(t)
	boom := errors.New("mail broke")
	fail := func(context.Context, pgx.Tx) error { return boom }
	if _, err := f.s.CreateApplication(ctx, NewApplication{ApplicantID: f.applicant.id, Request: f.request("a.example.org")}, fail); !errors.Is(err, boom) {
		t.Fatalf("create: got %v", err)
	}
	if use, err := f.s.HostnameInUse(ctx, "a.example.org", 0); err != nil || use.InUse() {
		t.Fatalf("rolled-back application still holds its name: %+v %v", use, err)
	}
	a := f.file(t, "a.example.org")
	if _, err := f.s.TransitionApplication(ctx, ApplicationTransition{ID: a.ID, From: AppPending, To: AppDiscarded,
		ActorID: f.reviewer.id}, fail); !errors.Is(err, boom) {
		t.Fatalf("transition: got %v", err)
	}
	if got, _ := f.s.Application(ctx, a.ID); got.Status != AppPending {
		t.Fatalf("rolled-back transition left %s", got.Status)
	}
	if ev, _ := f.s.ApplicationEvents(ctx, a.ID); len(ev) != 1 {
		t.Fatalf("rolled-back transition left %d events", len(ev))
	}
}

func TestApplicationHostnames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAppFixture(t)
	saveInstances(t, f.s, f.clusterID, []CachedInstance{{ClusterID: f.clusterID, Name: "vm1.example.org"}})
	if use, err := f.s.HostnameInUse(ctx, "vm1.example.org", 0); err != nil || use.ClusterSlug != "c1" || use.ApplicationID != 0 {
		t.Fatalf("instance: %+v %v", use, err)
	}
	a := f.file(t, "new.example.org")
	if use, _ := f.s.HostnameInUse(ctx, "new.example.org", 0); use.ApplicationID != a.ID || use.ClusterSlug != "" {
		t.Fatalf("open application: %+v", use)
	}
	if use, _ := f.s.HostnameInUse(ctx, "new.example.org", a.ID); use.InUse() {
		t.Fatalf("the application itself counted: %+v", use)
	}
	// The index refuses a second open application for the name ...
	_, err := f.s.CreateApplication(ctx, NewApplication{ApplicantID: f.reviewer.id, Request: f.request("new.example.org")})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), ApplicationHostnameConstraint) {
		t.Fatalf("second application: got %v", err)
	}
	// ... and a reviewer's edit to a taken name.
	b := f.file(t, "other.example.org")
	req := f.request("new.example.org")
	if _, err := f.s.TransitionApplication(ctx, ApplicationTransition{ID: b.ID, From: AppPending, To: AppApproved,
		Request: &req, Placement: f.placement()}); !errors.Is(err, ErrConflict) {
		t.Fatalf("edit to a taken name: got %v", err)
	}
	// A refused application frees its name.
	f.move(t, a, AppPending, AppRefused, func(tr *ApplicationTransition) { tr.Comment = "no" })
	if use, _ := f.s.HostnameInUse(ctx, "new.example.org", 0); use.InUse() {
		t.Fatalf("refused application still holds the name: %+v", use)
	}
	f.file(t, "new.example.org")
}

// TestApplicationHostnameRace files many applications for one name at once:
// exactly one is stored.
func TestApplicationHostnameRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAppFixture(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.s.CreateApplication(ctx, NewApplication{ApplicantID: f.applicant.id, Request: f.request("race.example.org")})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d applications stored, want 1", ok)
	}
}

func TestListApplications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAppFixture(t)
	var ids []int64
	for _, h := range []string{"a1.example.org", "a2.example.org", "a3.example.org", "a4.example.org", "a5.example.org"} {
		ids = append(ids, f.file(t, h).ID)
	}
	other, err := f.s.CreateApplication(ctx, NewApplication{ApplicantID: f.reviewer.id, Request: f.request("b1.example.org")})
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := f.s.Application(ctx, ids[1])
	f.move(t, a2, AppPending, AppRefused, func(tr *ApplicationTransition) { tr.Comment = "no" })

	if n, err := f.s.PendingApplicationCount(ctx); err != nil || n != 5 {
		t.Errorf("pending count: %d %v", n, err)
	}
	// Mine, two at a time, newest first.
	var got []int64
	before := int64(0)
	for range 10 {
		page, err := f.s.ListApplications(ctx, ApplicationQuery{ApplicantID: f.applicant.id, Before: before, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Items {
			got = append(got, a.ID)
		}
		if page.Next == 0 {
			break
		}
		before = page.Next
	}
	want := []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if len(got) != len(want) {
		t.Fatalf("mine: got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("mine: got %v, want %v", got, want)
		}
	}
	page, err := f.s.ListApplications(ctx, ApplicationQuery{Statuses: []ApplicationStatus{AppPending}})
	if err != nil || len(page.Items) != 5 || page.Items[0].ID != other.ID || page.Next != 0 {
		t.Fatalf("pending: %d items, next %d, %v", len(page.Items), page.Next, err)
	}
	page, _ = f.s.ListApplications(ctx, ApplicationQuery{Statuses: []ApplicationStatus{AppRefused, AppCreated}})
	if len(page.Items) != 1 || page.Items[0].ID != ids[1] {
		t.Fatalf("refused: %+v", page.Items)
	}
	if page, _ := f.s.ListApplications(ctx, ApplicationQuery{Limit: 100000}); len(page.Items) != 6 {
		t.Fatalf("all: %d", len(page.Items))
	}
}

func TestFastCreateApplication(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAppFixture(t)
	a, err := f.s.CreateApplication(ctx, NewApplication{ApplicantID: f.reviewer.id, Request: f.request("fast.example.org"),
		FastCreate: true, Placement: *f.placement()},
		func(ctx context.Context, tx pgx.Tx) error {
			id, err := f.s.NewApplicationIDTx(ctx, tx)
			if err != nil {
				return err
			}
			_, err = f.s.TransitionApplicationTx(ctx, tx, ApplicationTransition{ID: id, From: AppApproved, To: AppSubmitted, ActorID: f.reviewer.id})
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != AppSubmitted || !a.FastCreate || a.ReviewerID != f.reviewer.id || a.SubmitAttempt != 1 || a.NodeGroup != "default" {
		t.Fatalf("fast create: %+v", a)
	}
}

func TestApplicationReviewers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAppFixture(t)
	if err := f.s.GrantUserPermission(ctx, f.reviewer.id, "change_application"); err != nil {
		t.Fatal(err)
	}
	grp := addUser(t, f.s, "gina", "reviewers")
	var gid int64
	if err := f.s.pool.QueryRow(ctx, `SELECT id FROM groups WHERE name = 'reviewers'`).Scan(&gid); err != nil {
		t.Fatal(err)
	}
	if err := f.s.GrantGroupPermission(ctx, gid, "change_application"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.CreateUser(ctx, NewUser{Username: "root", Email: "root@example.org", IsActive: true, IsSuperuser: true}); err != nil {
		t.Fatal(err)
	}
	viewer := addUser(t, f.s, "vic")
	if err := f.s.GrantUserPermission(ctx, viewer.id, "view_applications"); err != nil {
		t.Fatal(err)
	}
	revs, err := f.s.ApplicationReviewers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range revs {
		names = append(names, u.Username)
	}
	if got := strings.Join(names, ","); got != "gina,rev,root" {
		t.Fatalf("reviewers: %s (group member %s)", got, grp.name)
	}
}

func TestOSImages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newAppFixture(t)
	im, err := f.s.CreateOSImage(ctx, OSImageInput{ID: "alma-9", Description: "AlmaLinux 9", Provider: "snf-image+default",
		OSParams: map[string]string{"img_id": "alma-9", "img_format": "diskdump"}, SecretParams: []byte{1, 2, 3},
		SSHKeyParam: "img_ssh_key_url", SSHKeyUsers: []string{"root"}, Enabled: true, Position: -1})
	if err != nil {
		t.Fatal(err)
	}
	if im.OSParams["img_format"] != "diskdump" || len(im.SecretParams) != 3 || im.SSHKeyUsers[0] != "root" {
		t.Fatalf("created: %+v", im)
	}
	if _, err := f.s.CreateOSImage(ctx, OSImageInput{ID: "alma-9", Description: "x", Provider: "noop"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate id: got %v", err)
	}
	if _, err := f.s.CreateOSImage(ctx, OSImageInput{ID: "Bad Id", Description: "x", Provider: "noop"}); err == nil {
		t.Fatal("a bad id was stored")
	}
	// Nil secret parameters keep them; empty ones remove them.
	in := OSImageInput{Description: "AlmaLinux 9.4", Provider: "snf-image+default", Enabled: false}
	if im, err = f.s.UpdateOSImage(ctx, "alma-9", in); err != nil || len(im.SecretParams) != 3 || im.Enabled {
		t.Fatalf("update keeping secrets: %+v %v", im, err)
	}
	in.SecretParams = []byte{}
	if im, err = f.s.UpdateOSImage(ctx, "alma-9", in); err != nil || im.SecretParams != nil {
		t.Fatalf("update removing secrets: %+v %v", im, err)
	}
	if _, err := f.s.UpdateOSImage(ctx, "nope", in); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: got %v", err)
	}
	all, _ := f.s.OSImages(ctx, false)
	enabled, _ := f.s.OSImages(ctx, true)
	if len(all) != 2 || all[0].ID != "alma-9" || len(enabled) != 1 || enabled[0].ID != "debian-12" {
		t.Fatalf("lists: %d all (first %s), %d enabled", len(all), all[0].ID, len(enabled))
	}
	// An image in use stays.
	f.file(t, "img.example.org")
	if err := f.s.DeleteOSImage(ctx, "debian-12"); !errors.Is(err, ErrImageInUse) || !errors.Is(err, ErrConflict) {
		t.Fatalf("delete used image: got %v", err)
	}
	if err := f.s.DeleteOSImage(ctx, "alma-9"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteOSImage(ctx, "alma-9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: got %v", err)
	}
}
