package applications

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

func fieldID(err error, field string) string {
	var verr *ValidationError
	if !errors.As(err, &verr) {
		return ""
	}
	if fe := verr.Field(field); fe != nil {
		return fe.Message.Msg.ID()
	}
	return ""
}

// TestApplyValidationAndCollisions: a bad form names its fields; a name an
// instance of any cluster has, or another open application asks for, is
// refused; so is a reviewer's edit to such a name.
func TestApplyValidationAndCollisions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noQueue: true})
	f := h.form("x")
	f.MemoryMB, f.AcceptTerms, f.OSImage = 3000, false, "nope"
	_, err := h.svc.Apply(h.ctx, h.applicant, f)
	for field, id := range map[string]string{"hostname": "applications.hostname.not_fqdn", "memory": "applications.memory.choice",
		"accept_terms": "applications.terms.required", "os": "applications.os.unknown"} {
		if got := fieldID(err, field); got != id {
			t.Errorf("%s: got %q, want %q (%v)", field, got, id, err)
		}
	}

	// An instance on the cluster (in the cache after a sync).
	c := h.fakeClient()
	id, err := c.CreateInstance(h.ctx, h.createRequest("vm-existing.example.org"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitJob(h.ctx, id); err != nil {
		t.Fatal(err)
	}
	h.sync()
	_, err = h.svc.Apply(h.ctx, h.applicant, h.form("VM-Existing.example.org"))
	if got := fieldID(err, "hostname"); got != "applications.hostname.in_use_instance" {
		t.Fatalf("name of an instance: %v", err)
	}
	var verr *ValidationError
	errors.As(err, &verr)
	if m := verr.Field("hostname").Message; len(m.Args) != 2 || m.Args[1] != "c1" {
		t.Errorf("the message does not name the cluster: %+v", m)
	}

	// An open application.
	a := h.apply("wanted.example.org")
	other := h.user("olga", false)
	g := h.form("wanted.example.org")
	g.OrganizationID = 0
	g.AdminContactName, g.AdminContactEmail, g.AdminContactPhone = "Olga", "olga@example.org", "2101234567"
	if _, err := h.svc.Apply(h.ctx, other, g); fieldID(err, "hostname") != "applications.hostname.in_use_application" {
		t.Fatalf("name of an open application: %v", err)
	}
	b := h.apply("another.example.org")
	edit := FormFromApplication(b)
	edit.Hostname = "wanted.example.org"
	if _, err := h.svc.Approve(h.ctx, h.reviewer, b.ID, Review{Request: &edit, Placement: h.placement()}); fieldID(err, "hostname") != "applications.hostname.in_use_application" {
		t.Fatalf("reviewer's edit to a taken name: %v", err)
	}
	edit.Hostname = "vm-existing.example.org"
	if _, err := h.svc.Approve(h.ctx, h.reviewer, b.ID, Review{Request: &edit, Placement: h.placement()}); fieldID(err, "hostname") != "applications.hostname.in_use_instance" {
		t.Fatalf("reviewer's edit to an instance's name: %v", err)
	}
	// A bad placement.
	bad := h.placement()
	bad.Network = "gnt:elsewhere"
	if _, err := h.svc.Approve(h.ctx, h.reviewer, a.ID, Review{Placement: bad}); fieldID(err, "network") != "applications.placement.network" {
		t.Fatalf("bad network: %v", err)
	}
	bad = h.placement()
	bad.ClusterID = 0
	if _, err := h.svc.Approve(h.ctx, h.reviewer, a.ID, Review{Placement: bad}); fieldID(err, "cluster") != "applications.placement.cluster" {
		t.Fatalf("no cluster: %v", err)
	}
	// Nothing of this was stored.
	if got, _ := h.st.Application(h.ctx, b.ID); got.Status != store.AppPending || got.Hostname != "another.example.org" {
		t.Errorf("refused edits changed the application: %+v", got)
	}
}

// createRequest is a small instance request outside any application.
func (h *harness) createRequest(name string) rapi.InstanceCreate {
	return rapi.InstanceCreate{Name: name, DiskTemplate: "diskless", OS: "noop", NICs: []rapi.NICSpec{{}}}
}

// TestRefusalMail: the reason is required, only a reviewer refuses, and
// the applicant receives the reason by mail (over SMTP).
func TestRefusalMail(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	h := newHarness(t, harnessOptions{smtp: srv})
	a := h.apply("nope.example.org")
	received := srv.WaitMessages(t, 1, 10*time.Second)
	if received[0].To[0] != "rev@example.org" || !strings.Contains(received[0].Subject, "nope.example.org") ||
		!strings.Contains(received[0].Text, "A web server.") || !strings.Contains(received[0].Text, testBaseURL+"/applications/") {
		t.Errorf("application received: %+v", received[0])
	}

	if _, err := h.svc.Refuse(h.ctx, h.reviewer, a.ID, "  "); fieldID(err, "comment") != "applications.comment.required" {
		t.Fatalf("refusal without reason: %v", err)
	}
	if _, err := h.svc.Refuse(h.ctx, h.applicant, a.ID, "no"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("refusal by the applicant: %v", err)
	}
	if _, err := h.svc.Refuse(h.ctx, h.viewer, a.ID, "no"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("refusal by a viewer: %v", err)
	}
	a, err := h.svc.Refuse(h.ctx, h.reviewer, a.ID, "We do not host\nmail relays.")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != store.AppRefused || a.AdminComments != "We do not host\nmail relays." || a.ReviewerUsername != "rev" {
		t.Fatalf("refused: %+v", a)
	}
	msgs := srv.WaitMessages(t, 2, 10*time.Second)
	m := msgs[1]
	if m.To[0] != "ann@example.org" || !strings.Contains(m.Subject, "nope.example.org") || !strings.Contains(m.Subject, "refused") ||
		!strings.Contains(m.Text, "> We do not host\n> mail relays.") || !strings.Contains(m.Text, "Hello Ann Smith,") {
		t.Errorf("refusal mail: %s\n%s", m.Subject, m.Text)
	}
	if _, err := h.svc.Refuse(h.ctx, h.reviewer, a.ID, "again"); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("second refusal: %v", err)
	}
	if msg, ok := ErrorMessage(ErrNotAllowed); !ok || msg != i18n.M("applications.error.not_allowed") {
		t.Errorf("message of ErrNotAllowed: %v", msg)
	}
	// The name is free again.
	h.apply("nope.example.org")
}

// TestPermissions: who sees and lists what.
func TestPermissions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noQueue: true})
	a := h.apply("mine.example.org")
	if _, err := h.svc.Get(h.ctx, h.stranger, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a stranger sees the application: %v", err)
	}
	for name, p := range map[string]*auth.Principal{"applicant": h.applicant, "viewer": h.viewer, "reviewer": h.reviewer} {
		if _, err := h.svc.Get(h.ctx, p, a.ID); err != nil {
			t.Errorf("%s cannot see the application: %v", name, err)
		}
	}
	if _, err := h.svc.List(h.ctx, h.applicant, true, store.ApplicationQuery{}); !errors.Is(err, ErrForbidden) {
		t.Errorf("an applicant lists all: %v", err)
	}
	if page, err := h.svc.List(h.ctx, h.stranger, false, store.ApplicationQuery{}); err != nil || len(page.Items) != 0 {
		t.Errorf("the stranger's own list: %v %v", page, err)
	}
	if page, err := h.svc.List(h.ctx, h.viewer, true, store.ApplicationQuery{Statuses: []store.ApplicationStatus{store.AppPending}}); err != nil || len(page.Items) != 1 {
		t.Errorf("viewer's list: %v %v", page, err)
	}
	if n, _ := h.svc.PendingCount(h.ctx, h.viewer); n != 1 {
		t.Errorf("pending count %d", n)
	}
	if n, _ := h.svc.PendingCount(h.ctx, h.applicant); n != 0 {
		t.Errorf("pending count for an applicant %d", n)
	}
	if _, err := h.svc.Approve(h.ctx, h.viewer, a.ID, Review{Placement: h.placement()}); !errors.Is(err, ErrForbidden) {
		t.Errorf("a viewer approves: %v", err)
	}
	if _, err := h.svc.PlacementOptions(h.ctx, h.viewer, false); !errors.Is(err, ErrForbidden) {
		t.Errorf("a viewer reads placements: %v", err)
	}
	if ev, err := h.svc.Events(h.ctx, h.applicant, a.ID); err != nil || len(ev) != 1 || ev[0].To != store.AppPending {
		t.Errorf("events: %v %v", ev, err)
	}
	// Discard, then nothing more.
	if _, err := h.svc.Discard(h.ctx, h.reviewer, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Approve(h.ctx, h.reviewer, a.ID, Review{Placement: h.placement()}); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("approving a discarded application: %v", err)
	}
}

// TestPlacementOptionsFromCache: what the review page offers for the fake
// cluster, read from the cache only.
func TestPlacementOptionsFromCache(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noQueue: true})
	h.fake.ResetCounts()
	opts, err := h.svc.PlacementOptions(h.ctx, h.reviewer, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := h.fake.RequestCount(); n != 0 {
		t.Errorf("placement options called the cluster %d times", n)
	}
	if len(opts) != 1 || !opts[0].Synced || strings.Join(opts[0].DiskTemplates, ",") != "diskless,file,plain" {
		t.Fatalf("options: %+v", opts)
	}
	g, ok := opts[0].Group("default")
	if !ok || !g.Allocatable || g.Nodes != 2 || len(g.Networks) != 1 || g.Networks[0].Key != "gnt:c1-net1" ||
		g.Networks[0].Mode != "bridged" || !g.Networks[0].Default {
		t.Fatalf("group: %+v", g)
	}
	// A cluster with creation disabled is not offered.
	if _, err := h.pool.Exec(h.ctx, `UPDATE clusters SET creation_disabled = true`); err != nil {
		t.Fatal(err)
	}
	if opts, _ := h.svc.PlacementOptions(h.ctx, h.reviewer, false); len(opts) != 0 {
		t.Errorf("a cluster with creation disabled is offered")
	}
}

// TestFastCreate: a reviewer creates a VM directly, recorded as an
// application of theirs; only on clusters that allow it.
func TestFastCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	f := h.form("fast.example.org")
	f.AcceptTerms, f.Comments = false, ""
	if _, err := h.svc.FastCreate(h.ctx, h.applicant, f, h.placement(), ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("fast creation by a user: %v", err)
	}
	a, err := h.svc.FastCreate(h.ctx, h.reviewer, f, h.placement(), "for the lab")
	if err != nil {
		t.Fatal(err)
	}
	if !a.FastCreate || a.ApplicantUsername != "rev" || a.ReviewerUsername != "rev" || a.Status != store.AppSubmitted {
		t.Fatalf("fast creation: %+v", a)
	}
	h.waitStatus(a.ID, store.AppCreated, 20*time.Second)
	if in, ok := h.fake.Instance("fast.example.org"); !ok || !strings.Contains(strings.Join(in.Tags, " "), "ganetimgr:user:rev") {
		t.Errorf("instance: %+v", in)
	}
	if n := len(h.mails("application_received")); n != 0 {
		t.Errorf("%d review requests for a fast creation", n)
	}
	if _, err := h.pool.Exec(h.ctx, `UPDATE clusters SET fast_create = false`); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.FastCreate(h.ctx, h.reviewer, h.form("fast2.example.org"), h.placement(), ""); !errors.Is(err, ErrFastCreateDisabled) {
		t.Errorf("fast creation where it is disabled: %v", err)
	}
}

// TestCatalogue: only superusers change it; secret values never come out.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noQueue: true})
	root := h.user("root", true)
	in := ImageInput{ID: "alma-9", Description: "AlmaLinux 9", Provider: "snf-image+default",
		OSParams: map[string]string{"img_id": "alma-9"}, Secrets: map[string]string{"img_passwd": "hunter2"},
		SSHKeyParam: "img_ssh_key_url", SSHKeyUsers: []string{"root", "cloud-user:cloud-user"}, Enabled: true}
	if _, err := h.svc.CreateImage(h.ctx, h.reviewer, in); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a reviewer edits the catalogue: %v", err)
	}
	im, err := h.svc.CreateImage(h.ctx, root, in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(im.SecretNames, ",") != "img_passwd" {
		t.Errorf("secret names %v", im.SecretNames)
	}
	stored, _ := h.st.OSImage(h.ctx, "alma-9")
	if strings.Contains(string(stored.SecretParams), "hunter2") {
		t.Error("the secret is stored in clear")
	}
	if _, err := h.svc.CreateImage(h.ctx, root, in); fieldID(err, "id") != "applications.image.id_taken" {
		t.Errorf("duplicate id: %v", err)
	}
	bad := in
	bad.ID, bad.Provider, bad.SSHKeyUsers, bad.OSParams = "Bad", "no such os!", []string{"root:../x"}, map[string]string{"a-b": "x"}
	_, err = h.svc.CreateImage(h.ctx, root, bad)
	for _, f := range []string{"id", "provider", "ssh_key_users", "osparams"} {
		if fieldID(err, f) == "" {
			t.Errorf("no error for %s: %v", f, err)
		}
	}
	// Updating with KeepSecrets keeps them; without, replaces them.
	in.Secrets, in.KeepSecrets, in.Description = nil, true, "AlmaLinux 9.4"
	if im, err = h.svc.UpdateImage(h.ctx, root, "alma-9", in); err != nil || im.Description != "AlmaLinux 9.4" ||
		len(im.SecretNames) != 1 {
		t.Fatalf("update keeping secrets: %+v %v", im, err)
	}
	in.KeepSecrets = false
	if im, err = h.svc.UpdateImage(h.ctx, root, "alma-9", in); err != nil || len(im.SecretNames) != 0 {
		t.Fatalf("update dropping secrets: %+v %v", im, err)
	}
	images, _ := h.svc.Images(h.ctx, false)
	if len(images) != 2 {
		t.Errorf("%d images", len(images))
	}
	h.apply("uses-debian.example.org")
	if err := h.svc.DeleteImage(h.ctx, root, "debian-12"); !errors.Is(err, store.ErrImageInUse) {
		t.Errorf("deleting a used image: %v", err)
	}
	if err := h.svc.DeleteImage(h.ctx, root, "alma-9"); err != nil {
		t.Error(err)
	}
	// Users see the form's choices with the images' public side only.
	ch, err := h.svc.FormChoices(h.ctx, h.applicant)
	if err != nil || len(ch.Images) != 1 || ch.Images[0].SecretNames[0] != "img_passwd" || len(ch.Organizations) != 1 {
		t.Errorf("choices: %+v %v", ch, err)
	}
	form := h.svc.NewForm(h.applicant)
	if form.OrganizationID != h.orgID || form.AdminContactName != "Ann Smith" || form.AdminContactEmail != "ann@example.org" ||
		form.MemoryMB != 512 || form.DiskGB != 5 {
		t.Errorf("prefilled form: %+v", form)
	}
}

// TestFormNetworks: the form offers declared networks only to members of
// their groups.
func TestFormNetworks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noQueue: true})
	g, err := h.st.CreateGroup(h.ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	n, err := h.st.CreateNetwork(h.ctx, store.NetworkInput{ClusterID: h.cluster.ID, Description: "Lab", Link: "br-lab",
		Mode: "bridged", GroupIDs: []int64{g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if ch, _ := h.svc.FormChoices(h.ctx, h.applicant); len(ch.Networks) != 0 {
		t.Fatalf("networks offered to a non-member: %v", ch.Networks)
	}
	f := h.form("net.example.org")
	f.NetworkID = n.ID
	if _, err := h.svc.Apply(h.ctx, h.applicant, f); fieldID(err, "network") != "applications.network.unknown" {
		t.Fatalf("network of another group: %v", err)
	}
	if err := h.st.AddGroupMember(h.ctx, g.ID, h.applicant.User.ID); err != nil {
		t.Fatal(err)
	}
	if ch, _ := h.svc.FormChoices(h.ctx, h.applicant); len(ch.Networks) != 1 || ch.Networks[0].ID != n.ID {
		t.Fatalf("networks offered to a member: %v", ch.Networks)
	}
	a, err := h.svc.Apply(h.ctx, h.applicant, f)
	if err != nil || a.RequestedNetworkID != n.ID {
		t.Fatalf("apply with a network: %+v %v", a, err)
	}
	if m := h.mails("application_received"); len(m) != 1 || !strings.Contains(m[0].Text, "Network: Lab (c1)") {
		t.Errorf("review request: %+v", m)
	}
}

// TestSubmitLeftApproved: an application left approved (taken over from an
// older ganetimgr) is submitted by a reviewer.
func TestSubmitLeftApproved(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	a := h.apply("legacy.example.org")
	opts, err := h.svc.PlacementOptions(h.ctx, h.reviewer, false)
	if err != nil {
		t.Fatal(err)
	}
	pl, verr := opts[0].Resolve(h.placement())
	if verr != nil {
		t.Fatal(verr)
	}
	if _, err := h.st.TransitionApplication(h.ctx, store.ApplicationTransition{ID: a.ID, From: store.AppPending,
		To: store.AppApproved, ActorID: h.reviewer.User.ID, Placement: &pl}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Submit(h.ctx, h.viewer, a.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("submission by a viewer: %v", err)
	}
	if a, err = h.svc.Submit(h.ctx, h.reviewer, a.ID); err != nil || a.Status != store.AppSubmitted {
		t.Fatalf("submit: %+v %v", a, err)
	}
	h.waitStatus(a.ID, store.AppCreated, 20*time.Second)
	if _, err := h.svc.Submit(h.ctx, h.reviewer, a.ID); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("submitting a created application: %v", err)
	}
}
