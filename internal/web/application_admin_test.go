package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// setFastCreate allows or forbids fast creation on the fixture's cluster.
func (f *appFixture) setFastCreate(t *testing.T, on bool) {
	t.Helper()
	if _, err := f.store.Pool().Exec(context.Background(), `UPDATE clusters SET fast_create = $2 WHERE id = $1`,
		f.cluster.ID, on); err != nil {
		t.Fatal(err)
	}
}

// fastForm is a valid fast-create form: the request fields and the first
// allocatable group of the cluster with its default network.
func (f *appFixture) fastForm(t *testing.T, hostname string) url.Values {
	t.Helper()
	v := f.placement(t, hostname)
	v.Del("accept_terms")
	v.Set("comment", "Created for the lab.")
	return v
}

// count returns the number of rows of a table.
func (f *appFixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAdminFastCreateCreatesInstance(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, newHarness(t))
	f.startApplications()
	f.setFastCreate(t, true)
	root := f.clients["root"]

	// Linked from the admin home and the applications list.
	for _, page := range []string{"/admin/", "/applications/"} {
		if r := root.get(page); !strings.Contains(r.body, `href="/admin/applications/fast"`) {
			t.Errorf("%s does not link to the fast-create form", page)
		}
	}
	if r := f.clients["rev"].get("/applications/"); strings.Contains(r.body, `/admin/applications/fast`) {
		t.Error("a reviewer who is no superuser is offered fast creation")
	}

	// The form: the request fields and the placement, the cluster chosen.
	r := root.get("/admin/applications/fast")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="fast-form"`) || !strings.Contains(r.body, `id="placement"`) {
		t.Fatalf("form: got %d\n%s", r.StatusCode, r.body)
	}
	if !strings.Contains(r.body, `<option value="`+strconv.FormatInt(f.cluster.ID, 10)+`" selected>c1`) {
		t.Error("the cluster is not preselected")
	}
	if strings.Contains(r.body, `id="fast-none"`) {
		t.Error("the form says no cluster allows fast creation")
	}

	// Invalid: 422, translated errors at the fields, nothing written.
	bad := f.fastForm(t, "not a host")
	bad.Set("node_group", "no-such-group")
	r = root.post("/admin/applications/fast", bad)
	errs := fieldErrorsOf(r.body)
	if r.StatusCode != http.StatusUnprocessableEntity || errs["hostname"] == "" || strings.Contains(errs["hostname"], "applications.") {
		t.Fatalf("invalid form: got %d, errors %v", r.StatusCode, errs)
	}
	if !strings.Contains(r.body, `value="not a host"`) {
		t.Error("the invalid form does not keep what was typed")
	}
	bad = f.fastForm(t, "fast1.example.org")
	bad.Set("node_group", "no-such-group")
	if r = root.post("/admin/applications/fast", bad); r.StatusCode != http.StatusUnprocessableEntity || fieldErrorsOf(r.body)["node_group"] == "" {
		t.Errorf("bad placement: got %d, errors %v", r.StatusCode, fieldErrorsOf(r.body))
	}
	if n := f.count(t, "applications"); n != 0 {
		t.Fatalf("invalid forms stored %d applications", n)
	}

	// Created, recorded as the administrator's application.
	r = root.post("/admin/applications/fast", f.fastForm(t, "fast1.example.org"))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("fast create: got %d\n%v", r.StatusCode, fieldErrorsOf(r.body))
	}
	m := applicationIDRE.FindStringSubmatch(r.Header.Get("Location"))
	if m == nil {
		t.Fatalf("redirected to %q", r.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	deadline := time.Now().Add(30 * time.Second)
	var a *store.Application
	for {
		a = f.application(t, id)
		if a.Status == store.AppCreated || a.Status == store.AppFailed || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a.Status != store.AppCreated {
		t.Fatalf("status %s (%s), want created\n%s", a.Status, a.BackendMessage, f.logs.String())
	}
	rootUser := f.principal(t, "root").User
	if a.ApplicantID != rootUser.ID || a.ClusterSlug != "c1" || a.MemoryMB != 1024 {
		t.Errorf("stored: applicant %d (want %d), cluster %q, memory %d", a.ApplicantID, rootUser.ID, a.ClusterSlug, a.MemoryMB)
	}
	r = root.get(fmt.Sprintf("/applications/%d/", id))
	for _, want := range []string{`data-status="created"`, `id="application-applicant">root<`, `data-to="approved"`, `data-to="created"`, "Created for the lab."} {
		if !strings.Contains(r.body, want) {
			t.Errorf("application page lacks %s", want)
		}
	}
	if r = root.get("/instances/"); !strings.Contains(r.body, "fast1.example.org") {
		t.Errorf("the new instance is not in the list:\n%s", r.body)
	}
	if r = root.get("/applications/"); !strings.Contains(r.body, fmt.Sprintf(`data-application="%d"`, id)) {
		t.Error("the application is not among the administrator's own")
	}
	if n := f.count(t, "applications"); n != 1 {
		t.Errorf("%d applications stored, want 1", n)
	}
}

func TestAdminFastCreateRefusedWithoutFastCreation(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, newHarness(t))
	root := f.clients["root"]
	// The cluster does not allow fast creation: it is not offered, and a
	// form naming it anyway is refused with a translated error.
	r := root.get("/admin/applications/fast")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="fast-none"`) {
		t.Fatalf("form: got %d, want the notice that no cluster allows it\n%s", r.StatusCode, r.body)
	}
	if regexp.MustCompile(`<option value="` + strconv.FormatInt(f.cluster.ID, 10) + `"[^>]*>c1`).MatchString(r.body) {
		t.Error("a cluster without fast creation is offered")
	}
	r = root.post("/admin/applications/fast", f.fastForm(t, "fast2.example.org"))
	msg := fieldErrorsOf(r.body)["cluster"]
	if r.StatusCode != http.StatusUnprocessableEntity || msg == "" || strings.Contains(msg, "applications.") {
		t.Fatalf("fast create on a cluster without it: got %d, cluster error %q", r.StatusCode, msg)
	}
	root.headers.Set("Accept-Language", "el")
	r = root.post("/admin/applications/fast", f.fastForm(t, "fast2.example.org"))
	root.headers.Del("Accept-Language")
	if !strings.Contains(r.body, "Διορθώστε") {
		t.Errorf("Greek form error missing: %v", fieldErrorsOf(r.body))
	}
	if n := f.count(t, "applications"); n != 0 {
		t.Errorf("%d applications stored, want none", n)
	}
	if names := f.fake.InstanceNames(); len(names) != 3 || slices.Contains(names, "fast2.example.org") {
		t.Errorf("the cluster's instances changed: %v", names)
	}
}

func TestAdminOSImagesCRUD(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, newHarness(t))
	root := f.clients["root"]
	const secret = "S3cret-img-passwd-9f2c"
	var bodies []string
	keep := func(r *response) *response { bodies = append(bodies, r.body); return r }

	// Linked from the admin home; the list shows the fixture's image.
	if r := keep(root.get("/admin/")); !strings.Contains(r.body, `href="/admin/os-images"`) {
		t.Error("the admin home does not link to the catalogue")
	}
	if r := keep(root.get("/admin/os-images")); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `data-image="debian-12"`) {
		t.Fatalf("list: got %d\n%s", r.StatusCode, r.body)
	}
	if r := keep(root.get("/admin/os-images/new")); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="image-form"`) {
		t.Fatalf("new: got %d", r.StatusCode)
	}

	// Invalid: every field's error, translated, the secret not shown back.
	bad := url.Values{"id": {"Bad ID"}, "description": {""}, "provider": {"not an os!"}, "osparams": {"no equals sign"},
		"secrets": {"img passwd=" + secret}, "ssh_key_param": {"bad-name"}, "ssh_key_users": {"a:b:c:d"}, "position": {"x"}}
	r := keep(root.post("/admin/os-images/new", bad))
	errs := fieldErrorsOf(r.body)
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid: got %d, want 422", r.StatusCode)
	}
	for _, field := range []string{"osparams", "position"} {
		if errs[field] == "" || strings.Contains(errs[field], "appadmin.") {
			t.Errorf("field %s: error %q (all: %v)", field, errs[field], errs)
		}
	}
	bad.Set("osparams", "img_id=x")
	bad.Set("position", "3")
	r = keep(root.post("/admin/os-images/new", bad))
	errs = fieldErrorsOf(r.body)
	for _, field := range []string{"id", "description", "provider", "secrets", "ssh_key_param", "ssh_key_users"} {
		if errs[field] == "" || strings.Contains(errs[field], "applications.") {
			t.Errorf("field %s: error %q (all: %v)", field, errs[field], errs)
		}
	}
	if n := f.count(t, "os_images"); n != 1 {
		t.Fatalf("invalid forms stored images: %d", n)
	}

	// Created with a secret parameter: stored sealed, only its name shown.
	good := url.Values{"id": {"alma-9"}, "description": {"AlmaLinux 9"}, "provider": {"snf-image+default"},
		"osparams": {"img_id=alma-9\r\nimg_format=diskdump"}, "secrets": {"img_passwd=" + secret},
		"ssh_key_param": {"img_personality_url"}, "ssh_key_users": {"root\r\nalma:alma:/home/alma/.ssh/authorized_keys"},
		"enabled": {"1"}, "position": {"2"}}
	if r = keep(root.post("/admin/os-images/new", good)); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/os-images" {
		t.Fatalf("create: got %d %q\n%v", r.StatusCode, r.Header.Get("Location"), fieldErrorsOf(r.body))
	}
	im, err := f.store.OSImage(context.Background(), "alma-9")
	if err != nil {
		t.Fatal(err)
	}
	if im.Description != "AlmaLinux 9" || im.OSParams["img_format"] != "diskdump" || im.SSHKeyParam != "img_personality_url" ||
		len(im.SSHKeyUsers) != 2 || !im.Enabled || im.Position != 2 || len(im.SecretParams) == 0 {
		t.Errorf("stored: %+v", im)
	}
	if strings.Contains(string(im.SecretParams), secret) {
		t.Error("the secret is stored in clear")
	}
	sealed := im.SecretParams
	r = keep(root.get("/admin/os-images"))
	if !strings.Contains(r.body, `data-image="alma-9"`) || !strings.Contains(r.body, "<code>img_passwd</code>") {
		t.Errorf("the list lacks the image or its secret's name:\n%s", r.body)
	}
	r = keep(root.get("/admin/os-images/alma-9/edit"))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="secret-names"`) || !strings.Contains(r.body, "img_format=diskdump") {
		t.Errorf("edit: got %d\n%s", r.StatusCode, r.body)
	}
	// Users never see the secret either (the application form offers the image).
	keep(f.clients["ann"].get("/applications/new"))

	// Edited with the secret field blank: the stored secret is kept.
	upd := url.Values{"id": {"ignored"}, "description": {"AlmaLinux 9.4"}, "provider": {"snf-image+default"},
		"osparams": {"img_id=alma-9"}, "secrets": {""}, "ssh_key_param": {""}, "ssh_key_users": {""}, "position": {"1"}}
	if r = keep(root.post("/admin/os-images/alma-9/edit", upd)); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: got %d\n%v", r.StatusCode, fieldErrorsOf(r.body))
	}
	im, err = f.store.OSImage(context.Background(), "alma-9")
	if err != nil {
		t.Fatal(err)
	}
	if im.Description != "AlmaLinux 9.4" || im.Enabled || len(im.OSParams) != 1 || im.SSHKeyParam != "" ||
		string(im.SecretParams) != string(sealed) {
		t.Errorf("after update: %+v (secret kept: %v)", im, string(im.SecretParams) == string(sealed))
	}
	if _, err := f.store.OSImage(context.Background(), "ignored"); err == nil {
		t.Error("the id changed")
	}
	// An invalid edit shows the form again without the secret value.
	upd.Set("provider", "")
	upd.Set("secrets", "img_passwd="+secret+"-new")
	if r = keep(root.post("/admin/os-images/alma-9/edit", upd)); r.StatusCode != http.StatusUnprocessableEntity || fieldErrorsOf(r.body)["provider"] == "" {
		t.Errorf("invalid update: got %d, errors %v", r.StatusCode, fieldErrorsOf(r.body))
	}
	// Removing the secrets.
	upd.Set("provider", "snf-image+default")
	upd.Set("secrets", "")
	upd.Set("remove_secrets", "1")
	if r = keep(root.post("/admin/os-images/alma-9/edit", upd)); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove secrets: got %d", r.StatusCode)
	}
	if im, _ = f.store.OSImage(context.Background(), "alma-9"); len(im.SecretParams) != 0 {
		t.Error("the secret parameters were not removed")
	}
	if r = keep(root.get("/admin/os-images/nope/edit")); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown image: got %d, want 404", r.StatusCode)
	}

	// Delete: confirm, then delete an unused image; one in use is refused.
	if r = keep(root.get("/admin/os-images/alma-9/delete")); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="delete-form"`) {
		t.Errorf("delete confirm: got %d", r.StatusCode)
	}
	if r = keep(root.post("/admin/os-images/alma-9/delete", nil)); r.StatusCode != http.StatusSeeOther {
		t.Errorf("delete: got %d", r.StatusCode)
	}
	if _, err := f.store.OSImage(context.Background(), "alma-9"); err == nil {
		t.Error("the image was not deleted")
	}
	f.create(t, "uses-debian.example.org")
	r = keep(root.post("/admin/os-images/debian-12/delete", nil))
	if r.StatusCode != http.StatusConflict || !strings.Contains(r.body, "Disable it instead") {
		t.Errorf("delete an image in use: got %d\n%s", r.StatusCode, r.body)
	}
	if _, err := f.store.OSImage(context.Background(), "debian-12"); err != nil {
		t.Errorf("the image in use is gone: %v", err)
	}

	for i, b := range bodies {
		if strings.Contains(b, secret) {
			t.Errorf("response %d shows the secret", i)
		}
	}
	if strings.Contains(f.logs.String(), secret) {
		t.Error("the secret was logged")
	}
}
