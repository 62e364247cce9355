package web_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
)

// opsEndpoint is one endpoint of the instance actions, relative to an
// instance's page.
type opsEndpoint struct {
	method string
	// path follows the instance page's path; a job endpoint's has a %d
	// for the job id.
	path string
	// kind is the action (empty for the job endpoints).
	kind instanceops.Kind
	// form is what is posted on an instance in state st.
	form func(st string) url.Values
	// audit is the audited action of a posted attempt in state st.
	audit func(st string) string
}

// opsEndpoints lists every endpoint of an instance's actions.
func opsEndpoints() []opsEndpoint {
	fixed := func(v url.Values) func(string) url.Values { return func(string) url.Values { return v } }
	code := func(c string) func(string) string { return func(string) string { return c } }
	onOff := func(off string) func(string) url.Values {
		return func(st string) url.Values {
			if st == off {
				return url.Values{"state": {"off"}}
			}
			return url.Values{"state": {"on"}}
		}
	}
	onOffCode := func(off, on, offCode string) func(string) string {
		return func(st string) string {
			if st == off {
				return offCode
			}
			return on
		}
	}
	return []opsEndpoint{
		{http.MethodPost, "start", instanceops.Start, fixed(url.Values{}), code("instance.start")},
		{http.MethodPost, "shutdown", instanceops.Shutdown, fixed(url.Values{"timeout": {"60"}}), code("instance.shutdown")},
		{http.MethodPost, "reboot", instanceops.Reboot, fixed(url.Values{"type": {"hard"}}), code("instance.reboot")},
		{http.MethodPost, "config", instanceops.Configure, fixed(url.Values{"boot_order": {"disk"}, "cdrom_url": {""},
			"nic_type": {"e1000"}, "disk_type": {"paravirtual"}}), code("instance.configure")},
		{http.MethodPost, "owners/add", instanceops.Owners, fixed(url.Values{"kind": {"user"}, "who": {"bob"}}), code("instance.owner_add")},
		{http.MethodPost, "owners/remove", instanceops.Owners, fixed(url.Values{"kind": {"user"}, "who": {"alice"}}), code("instance.owner_remove")},
		{http.MethodPost, "lock", instanceops.Lock, onOff(stLocked), onOffCode(stLocked, "instance.lock", "instance.unlock")},
		{http.MethodPost, "isolate", instanceops.Isolate, onOff(stIsolated), onOffCode(stIsolated, "instance.isolate", "instance.deisolate")},
		{http.MethodPost, "allow-from", instanceops.AllowFrom, fixed(url.Values{"allow_from": {"192.0.2.64/26"}}), code("instance.allow_from")},
		{http.MethodGet, "reinstall", instanceops.Reinstall, nil, nil},
		{http.MethodGet, "rename", instanceops.Rename, nil, nil},
		{http.MethodGet, "destroy", instanceops.Destroy, nil, nil},
		{http.MethodPost, "reinstall", instanceops.Reinstall, fixed(url.Values{"os": {""}, "current": {opsPassword}}), code("instance.reinstall")},
		{http.MethodPost, "rename", instanceops.Rename, fixed(url.Values{"new_name": {"renamed.example.org"}, "current": {opsPassword}}), code("instance.rename")},
		{http.MethodPost, "destroy", instanceops.Destroy, fixed(url.Values{"current": {opsPassword}}), code("instance.destroy")},
		{http.MethodGet, "jobs/%d", "", nil, nil},
		{http.MethodGet, "jobs/%d/events", "", nil, nil},
	}
}

// ownerKind reports whether k is an action of the owners.
func ownerKind(k instanceops.Kind) bool {
	switch k {
	case instanceops.Start, instanceops.Shutdown, instanceops.Reboot, instanceops.Reinstall, instanceops.Rename,
		instanceops.Destroy, instanceops.Configure, instanceops.Owners:
		return true
	}
	return false
}

// expectOps is the status the site must answer role's request of ep on a
// running instance in state st, written out from the rules of the issue
// (not from the code that applies them): anonymous visitors go to the
// login page; who neither owns nor may see every instance finds nothing;
// helpdesk sees but does not act; lock and isolate need their permission
// (with view_instances); the allowed address is for owners and isolators;
// maintenance stops everyone but superusers, the admin lock the owners'
// actions; a pending job stops everyone; a running instance cannot start
// or be renamed, and one not isolated has no allowed address.
func expectOps(role, st string, ep opsEndpoint) int {
	if role == "anonymous" {
		return http.StatusSeeOther
	}
	owner := role == "alice" || role == "carol"
	super := role == "root"
	sees := owner || super || role == "helpdesk" || role == "locker"
	isolator := super || role == "locker"
	if !sees {
		return http.StatusNotFound
	}
	ok := http.StatusSeeOther
	if ep.method == http.MethodGet {
		ok = http.StatusOK
	}
	k := ep.kind
	if k == "" { // the job endpoints: whoever sees the instance
		return http.StatusOK
	}
	switch {
	case ownerKind(k) && !owner && !super:
		return http.StatusForbidden
	case k == instanceops.Lock && !(super || role == "locker"):
		return http.StatusForbidden
	case k == instanceops.Isolate && !isolator:
		return http.StatusForbidden
	case k == instanceops.AllowFrom && !owner && !isolator:
		return http.StatusForbidden
	}
	switch {
	case st == stMaintenance && !super:
		return http.StatusConflict
	case st == stLocked && !super && (ownerKind(k) || (k == instanceops.AllowFrom && !isolator)):
		return http.StatusConflict
	case st == stPending:
		return http.StatusConflict
	}
	switch k {
	case instanceops.Start, instanceops.Rename:
		return http.StatusConflict
	case instanceops.AllowFrom:
		if st != stIsolated {
			return http.StatusConflict
		}
	}
	return ok
}

// TestInstanceActionAuthorizationMatrix requests every instance action
// endpoint as anonymous, an owner, a member of the owner group, another
// user, helpdesk, a holder of can_lock and can_isolate, and a superuser,
// on instances that are normal, admin-locked, isolated, under
// maintenance and with a job pending. Each answer has the expected
// status; a refused request calls nothing on the cluster, starts no job
// and is audited as refused (reads are not audited); an allowed one
// starts one job, is audited as done and redirects to the instance page.
func TestInstanceActionAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	f := newOpsFixture(t, config.ConfirmPassword, rapifake.NoJobDelay)
	tally := map[int]int{}
	for _, st := range opsStates {
		for _, ep := range opsEndpoints() {
			for _, who := range opsRoles {
				want := expectOps(who, st, ep)
				name := f.base[st]
				if ep.method == http.MethodPost && want == http.StatusSeeOther && who != "anonymous" {
					name = f.fresh(t, st)
				}
				path := f.page(name) + ep.path
				if ep.kind == "" {
					path = fmt.Sprintf(path, f.finished[st])
				}
				what := describe(ep.method, path, who) + " (" + st + ")"
				calls, jobs := f.fake.RequestCount(), f.jobs(t, name)
				refused, done := f.auditCount(t, who, name, "refused"), f.auditCount(t, who, name, "ok")
				var r *response
				if ep.method == http.MethodGet {
					r = f.clients[who].get(path)
				} else {
					r = f.clients[who].post(path, ep.form(st))
				}
				if r.StatusCode != want {
					t.Errorf("%s: got %d, want %d", what, r.StatusCode, want)
					continue
				}
				tally[want]++
				nowCalls, nowJobs := f.fake.RequestCount(), f.jobs(t, name)
				nowRefused, nowDone := f.auditCount(t, who, name, "refused"), f.auditCount(t, who, name, "ok")
				switch {
				case who == "anonymous":
					if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
						t.Errorf("%s: redirected to %q, want the login page", what, loc)
					}
					if nowCalls != calls || nowJobs != jobs || nowRefused != refused || nowDone != done {
						t.Errorf("%s: an anonymous request reached the service", what)
					}
				case want >= 400:
					if nowCalls != calls {
						t.Errorf("%s: refused, but %d requests reached the cluster", what, nowCalls-calls)
					}
					if nowJobs != jobs || nowDone != done {
						t.Errorf("%s: refused, but a job was recorded", what)
					}
					wantAudit := 0
					if ep.method == http.MethodPost {
						wantAudit = 1
					}
					if nowRefused-refused != wantAudit {
						t.Errorf("%s: %d refused audit entries, want %d", what, nowRefused-refused, wantAudit)
					} else if wantAudit == 1 {
						if action, _ := f.lastAudit(t, who, name, "refused"); action != ep.audit(st) {
							t.Errorf("%s: refusal audited as %s, want %s", what, action, ep.audit(st))
						}
					}
					// The page says why, except where the instance is not
					// to be revealed.
					if want != http.StatusNotFound && ep.kind != "" {
						marker := `id="action-error"`
						if ep.path == "reinstall" || ep.path == "rename" || ep.path == "destroy" {
							marker = `id="confirm-refused"`
						}
						if !strings.Contains(r.body, marker) {
							t.Errorf("%s: the page does not say why (%s)", what, marker)
						}
					}
				case ep.method == http.MethodPost:
					if loc := r.Header.Get("Location"); loc != f.page(name) {
						t.Errorf("%s: redirected to %q, want the instance page", what, loc)
					}
					if nowJobs != jobs+1 || nowDone != done+1 || nowRefused != refused {
						t.Errorf("%s: %d jobs, %d ok and %d refused audit entries recorded, want 1, 1, 0",
							what, nowJobs-jobs, nowDone-done, nowRefused-refused)
					} else if action, _ := f.lastAudit(t, who, name, "ok"); action != ep.audit(st) {
						t.Errorf("%s: audited as %s, want %s", what, action, ep.audit(st))
					}
					if nowCalls <= calls {
						t.Errorf("%s: allowed, but nothing reached the cluster", what)
					}
				default: // an allowed read
					if nowCalls != calls || nowJobs != jobs || nowRefused != refused || nowDone != done {
						t.Errorf("%s: a read changed something", what)
					}
				}
			}
		}
	}
	// Every kind of answer was seen often enough for the matrix to mean
	// something.
	t.Logf("answers: %v", tally)
	for status, least := range map[int]int{http.StatusOK: 30, http.StatusSeeOther: 100, http.StatusForbidden: 60,
		http.StatusNotFound: 50, http.StatusConflict: 100} {
		if tally[status] < least {
			t.Errorf("only %d answers %d, want at least %d", tally[status], status, least)
		}
	}
	// Confirmation links: an unknown one is not found for everyone.
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	for _, who := range opsRoles {
		want := http.StatusNotFound
		if who == "anonymous" {
			want = http.StatusSeeOther
		}
		calls := f.fake.RequestCount()
		if r := f.clients[who].get("/instances/confirm/" + token); r.StatusCode != want {
			t.Errorf("GET an unknown confirmation link as %s: got %d, want %d", who, r.StatusCode, want)
		}
		if r := f.clients[who].post("/instances/confirm/"+token, nil); r.StatusCode != want {
			t.Errorf("POST an unknown confirmation link as %s: got %d, want %d", who, r.StatusCode, want)
		}
		if f.fake.RequestCount() != calls {
			t.Errorf("an unknown confirmation link as %s reached the cluster", who)
		}
	}
	if strings.Contains(f.logs.String(), token) {
		t.Error("a confirmation token appears in the server log")
	}
}
