package instanceops

import (
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
)

// tokenOf returns the token of the confirmation link in a delivered mail.
func (e *confirmEnv) tokenOf(text string) string {
	e.t.Helper()
	links := smtptest.Links(text)
	prefix := confirmBaseURL + ConfirmPath("")
	if len(links) == 0 || !strings.HasPrefix(links[0], prefix) {
		e.t.Fatalf("no confirmation link in:\n%s", text)
	}
	token := strings.TrimPrefix(links[0], prefix)
	if links[0] != confirmBaseURL+ConfirmPath(token) || !validToken(token) {
		e.t.Fatalf("link %q", links[0])
	}
	return token
}

// setTags replaces the instance's ganetimgr tags on the cluster and
// re-reads it into the cache.
func (e *confirmEnv) setTags(name string, add, remove []string) {
	e.t.Helper()
	if len(remove) > 0 {
		id, err := e.client.DeleteInstanceTags(e.ctx, name, remove)
		if err != nil {
			e.t.Fatal(err)
		}
		e.waitGaneti(id)
	}
	if len(add) > 0 {
		id, err := e.client.AddInstanceTags(e.ctx, name, add)
		if err != nil {
			e.t.Fatal(err)
		}
		e.waitGaneti(id)
	}
	e.refresh(name)
}

// TestConfirmByMail follows mailed confirmation links: the mail goes to
// the user over SMTP with a link to ConfirmPath(token), only the token's
// SHA-256 is stored, the link works once for its user, not after it
// expired, not for another user nor a former owner (both audited as
// refused and mailed to the administrators), and an action refused when
// the link is used leaves it usable.
func TestConfirmByMail(t *testing.T) {
	t.Parallel()
	e := newConfirmEnv(t, confirmOptions{})
	name := e.uniqueName("web")
	e.createInstance(name, true, []string{"ganetimgr:user:ann"}, nil)

	// The request is checked, stored hashed, mailed and audited.
	if err := e.svc.RequestConfirmation(e.ctx, req(e.ann), "c1", name, Reinstall, ""); err != nil {
		t.Fatal(err)
	}
	msgs := e.smtp.WaitMessages(t, 1, 15*time.Second)
	m := msgs[0]
	if !slices.Equal(m.To, []string{"ann@example.org"}) || !strings.Contains(m.Subject, name) ||
		!strings.Contains(m.Text, "reinstall") || !strings.Contains(m.Text, "7 days") {
		t.Fatalf("mail to %v %q:\n%s", m.To, m.Subject, m.Text)
	}
	token := e.tokenOf(m.Text)
	sum := sha256.Sum256([]byte(token))
	var n int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM instance_confirmations WHERE token_hash = $1
		AND kind = 'reinstall' AND value = '' AND instance = $2`, sum[:], name).Scan(&n); err != nil || n != 1 {
		t.Fatalf("stored confirmations with the token's hash: %d %v", n, err)
	}
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM instance_confirmations c
		WHERE strpos(c::text, $1) > 0 OR strpos(encode(token_hash, 'escape'), $1) > 0`, token).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the token itself is stored: %d %v", n, err)
	}
	if a := e.audits(audit.InstanceConfirmReq); len(a) != 1 || a[0].Outcome != "ok" || a[0].Username != "ann" ||
		a[0].Instance != name {
		t.Errorf("request audit %+v", a)
	}

	// Another user's attempt is refused as if the link did not exist,
	// audited and mailed to the administrators; the link stays ann's.
	if _, err := e.svc.Confirmation(e.ctx, req(e.bob), token); refusalCode(err) != NotFound {
		t.Fatalf("bob's look: %v", err)
	}
	if _, err := e.svc.Confirm(e.ctx, req(e.bob), token); refusalCode(err) != NotFound {
		t.Fatalf("bob's use: %v", err)
	}
	refused := e.audits(audit.InstanceReinstall)
	if len(refused) != 2 || refused[0].Outcome != "refused" || refused[0].Username != "bob" ||
		!strings.Contains(refused[0].Detail, "used by another user") {
		t.Fatalf("refused audits %+v", refused)
	}
	admins := e.smtp.WaitMessages(t, 2, 15*time.Second)
	if !slices.Equal(admins[1].To, []string{confirmAdmins}) || !strings.Contains(admins[1].Text, "bob") ||
		!strings.Contains(admins[1].Text, name) {
		t.Errorf("administrators' mail to %v:\n%s", admins[1].To, admins[1].Text)
	}

	// Ann sees and uses it, once.
	c, err := e.svc.Confirmation(e.ctx, req(e.ann), token)
	if err != nil || c.Kind != "reinstall" || c.Instance != name || c.ClusterSlug != "c1" || c.Username != "ann" {
		t.Fatalf("confirmation %+v %v", c, err)
	}
	job, err := e.svc.Confirm(e.ctx, req(e.ann), token)
	if err != nil {
		t.Fatal(err)
	}
	job = e.waitTracked(job)
	if op := e.jobOp(job.JobID, "OP_INSTANCE_REINSTALL"); op["os_type"] != "noop" {
		t.Errorf("reinstall opcode %v", op)
	}
	if _, err := e.svc.Confirm(e.ctx, req(e.ann), token); refusalCode(err) != NotFound {
		t.Errorf("second use: %v", err)
	}
	if _, err := e.svc.Confirmation(e.ctx, req(e.ann), token); refusalCode(err) != NotFound {
		t.Errorf("look after use: %v", err)
	}
	if ok := e.audits(audit.InstanceReinstall); len(ok) != 3 || ok[2].Outcome != "ok" || ok[2].JobID != job.JobID {
		t.Errorf("reinstall audits %+v", ok)
	}

	// An expired link does not work, and is not spent by trying.
	if err := e.svc.RequestConfirmation(e.ctx, req(e.ann), "c1", name, Destroy, "ignored"); err != nil {
		t.Fatal(err)
	}
	destroy := e.tokenOf(e.smtp.WaitMessages(t, 3, 15*time.Second)[2].Text)
	e.skew.Store(int64(7*24*time.Hour + time.Minute))
	if _, err := e.svc.Confirmation(e.ctx, req(e.ann), destroy); refusalCode(err) != NotFound {
		t.Errorf("expired look: %v", err)
	}
	if _, err := e.svc.Confirm(e.ctx, req(e.ann), destroy); refusalCode(err) != NotFound {
		t.Errorf("expired use: %v", err)
	}
	e.skew.Store(0)

	// A former owner's use is refused, audited and mailed.
	e.setTags(name, []string{"ganetimgr:user:bob"}, []string{"ganetimgr:user:ann"})
	if _, err := e.svc.Confirm(e.ctx, req(e.ann), destroy); refusalCode(err) != NotFound {
		t.Fatalf("former owner's use: %v", err)
	}
	d := e.audits(audit.InstanceDestroy)
	if len(d) != 1 || d[0].Outcome != "refused" || d[0].Username != "ann" || !strings.Contains(d[0].Detail, "no longer owns") {
		t.Errorf("destroy audits %+v", d)
	}
	formers := e.smtp.WaitMessages(t, 4, 15*time.Second)
	if !slices.Equal(formers[3].To, []string{confirmAdmins}) || !strings.Contains(formers[3].Text, "ann") {
		t.Errorf("administrators' mail to %v:\n%s", formers[3].To, formers[3].Text)
	}
	if _, err := e.client.Instance(e.ctx, name); err != nil {
		t.Fatalf("the instance went: %v", err)
	}

	// Owner again, but the instance is admin-locked: the action is
	// refused and the link stays usable; unlocked, it destroys.
	e.setTags(name, []string{"ganetimgr:user:ann", "ganetimgr:adminlock"}, []string{"ganetimgr:user:bob"})
	if _, err := e.svc.Confirm(e.ctx, req(e.ann), destroy); refusalCode(err) != AdminLocked {
		t.Fatalf("locked: %v", err)
	}
	e.setTags(name, nil, []string{"ganetimgr:adminlock"})
	job, err = e.svc.Confirm(e.ctx, req(e.ann), destroy)
	if err != nil {
		t.Fatal(err)
	}
	e.waitTracked(job)
	if _, err := e.client.Instance(e.ctx, name); !rapi.IsNotFound(err) {
		t.Errorf("destroyed instance: %v", err)
	}
	e.waitCached(name, false)
	if _, err := e.svc.Confirm(e.ctx, req(e.ann), destroy); refusalCode(err) != NotFound {
		t.Errorf("destroy link used twice: %v", err)
	}

	// Nobody outside gets a link mailed: a request on an instance that is
	// not theirs is refused and audited.
	if err := e.svc.RequestConfirmation(e.ctx, req(e.bob), "c1", name, Destroy, ""); refusalCode(err) != NotFound {
		t.Errorf("request on a gone instance: %v", err)
	}
	if _, err := e.svc.Confirm(e.ctx, req(e.ann), "not-a-token"); refusalCode(err) != NotFound {
		t.Errorf("malformed token: %v", err)
	}
}

// TestConfirmRequestChecks checks that a request is decided and its value
// checked when it is made, and that the password mode mails nothing.
func TestConfirmRequestChecks(t *testing.T) {
	t.Parallel()
	e := newConfirmEnv(t, confirmOptions{})
	name := e.uniqueName("app")
	other := e.uniqueName("other")
	e.createInstance(name, true, []string{"ganetimgr:user:ann"}, nil)
	e.createInstance(other, false, []string{"ganetimgr:user:bob"}, nil)
	cases := []struct {
		who   string
		k     Kind
		value string
		code  RefusalCode
		field string
	}{
		{"ann", Rename, "new.example.org", WrongState, ""}, // running
		{"ann", Reinstall, "no-such-image", Invalid, FieldOS},
		{"helen", Destroy, "", ReadOnly, ""},
		{"bob", Destroy, "", NotFound, ""},
	}
	who := map[string]Request{"ann": req(e.ann), "helen": req(e.helen), "bob": req(e.bob)}
	for _, tc := range cases {
		err := e.svc.RequestConfirmation(e.ctx, who[tc.who], "c1", name, tc.k, tc.value)
		var r *Refusal
		if refusalCode(err) != tc.code {
			t.Errorf("%s %s %q: %v, want %s", tc.who, tc.k, tc.value, err, tc.code)
		} else if tc.field != "" && (!errors.As(err, &r) || r.Field != tc.field) {
			t.Errorf("%s %s: field %v", tc.who, tc.k, err)
		}
	}
	// Stopped, a rename is checked against the names in use.
	id, err := e.client.ShutdownInstance(e.ctx, name, rapi.ShutdownOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.waitGaneti(id)
	e.refresh(name)
	if err := e.svc.RequestConfirmation(e.ctx, req(e.ann), "c1", name, Rename, other); refusalCode(err) != Invalid {
		t.Errorf("rename to a used name: %v", err)
	}
	if err := e.svc.RequestConfirmation(e.ctx, req(e.ann), "c1", name, Rename, "Renamed.Example.ORG"); err != nil {
		t.Fatal(err)
	}
	var value string
	if err := e.pool.QueryRow(e.ctx, `SELECT value FROM instance_confirmations WHERE kind = 'rename'`).Scan(&value); err != nil ||
		value != "renamed.example.org" {
		t.Errorf("stored new name %q %v", value, err)
	}
	if n := len(e.audits(audit.InstanceConfirmReq)); n != len(cases)+2 {
		t.Errorf("%d request audits, want %d", n, len(cases)+2)
	}
	// Bob's attempt was mailed to the administrators, the link to ann.
	msgs := e.smtp.WaitMessages(t, 2, 15*time.Second)
	i := slices.IndexFunc(msgs, func(m smtptest.Message) bool { return slices.Equal(m.To, []string{"ann@example.org"}) })
	if i < 0 || !strings.Contains(msgs[i].Text, "renamed.example.org") || len(msgs) != 2 {
		t.Errorf("mails %+v", msgs)
	}

	// In password mode nothing is mailed.
	e.svc.cfg.Confirm = config.ConfirmPassword
	if e.svc.ConfirmByMail() {
		t.Error("password mode confirms by mail")
	}
	if err := e.svc.RequestConfirmation(e.ctx, req(e.ann), "c1", name, Destroy, ""); err == nil {
		t.Error("a link was requested in password mode")
	}
}
