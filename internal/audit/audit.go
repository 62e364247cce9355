// Package audit records who did what to which instance, cluster or
// application, from where and with what outcome (table audit_log): every
// instance action, configuration and owner change, lock and isolation
// change, application decision and refused attempt.
//
// Entries are written in the same transaction as the change they describe
// (Log.Then, a store.TxFunc) or, for refusals and RAPI calls that change
// nothing in the database, on their own (Log.Record).
package audit

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Outcome is how an audited attempt ended.
type Outcome string

// The outcomes.
const (
	OK      Outcome = "ok"      // done (for a RAPI change: the job was accepted)
	Refused Outcome = "refused" // not allowed, nothing was done
	Failed  Outcome = "failed"  // allowed, but the cluster or the database failed
)

// Action is the stable code of an audited action; pages translate it
// (locale keys "audit.action.<code>").
type Action string

// The audited actions.
const (
	InstanceStart      Action = "instance.start"
	InstanceShutdown   Action = "instance.shutdown"
	InstanceReboot     Action = "instance.reboot"
	InstanceReinstall  Action = "instance.reinstall"
	InstanceRename     Action = "instance.rename"
	InstanceDestroy    Action = "instance.destroy"
	InstanceConfigure  Action = "instance.configure"
	InstanceOwnerAdd   Action = "instance.owner_add"
	InstanceOwnerDel   Action = "instance.owner_remove"
	InstanceLock       Action = "instance.lock"
	InstanceUnlock     Action = "instance.unlock"
	InstanceIsolate    Action = "instance.isolate"
	InstanceDeisolate  Action = "instance.deisolate"
	InstanceAllowFrom  Action = "instance.allow_from"
	InstanceConfirmReq Action = "instance.confirm_request" // a confirmation link was mailed
	InstanceJobEnd     Action = "instance.job_end"         // a followed job ended (outcome: ok or failed)

	ApplicationApprove Action = "application.approve"
	ApplicationRefuse  Action = "application.refuse"
	ApplicationDiscard Action = "application.discard"
	ApplicationSubmit  Action = "application.submit"
	ApplicationFast    Action = "application.fast_create"
	ApplicationFile    Action = "application.file"   // a user applied for a VM
	ApplicationCreate  Action = "application.create" // the system created the VM (outcome: ok or failed)
)

// Actions lists every action code, for the log's filter.
func Actions() []Action {
	return []Action{InstanceStart, InstanceShutdown, InstanceReboot, InstanceReinstall, InstanceRename,
		InstanceDestroy, InstanceConfigure, InstanceOwnerAdd, InstanceOwnerDel, InstanceLock, InstanceUnlock,
		InstanceIsolate, InstanceDeisolate, InstanceAllowFrom, InstanceConfirmReq, InstanceJobEnd,
		ApplicationApprove, ApplicationRefuse, ApplicationDiscard, ApplicationSubmit, ApplicationFast,
		ApplicationFile, ApplicationCreate}
}

// Actor is who acts and from where; the zero value is the system.
type Actor struct {
	UserID   int64
	Username string
	Addr     netip.Addr
}

// ActorOf is the actor of principal p (nil: the system) at addr.
func ActorOf(p *auth.Principal, addr netip.Addr) Actor {
	if p == nil || p.User == nil {
		return Actor{Addr: addr}
	}
	return Actor{UserID: p.User.ID, Username: p.User.Username, Addr: addr}
}

// Entry is one audited event.
type Entry struct {
	Actor         Actor
	Action        Action
	Outcome       Outcome
	ClusterID     int64
	ClusterSlug   string
	Instance      string
	ApplicationID int64
	JobID         int64
	// Detail says what changed or why it was refused, in plain words
	// (English; never a secret). Longer than MaxDetail runes is cut.
	Detail string
}

// MaxDetail bounds Entry.Detail (the column allows 4000 characters).
const MaxDetail = 2000

func (e Entry) row() (*store.AuditEntry, error) {
	if e.Action == "" || e.Outcome == "" {
		return nil, errors.New("audit: an entry needs an action and an outcome")
	}
	d := strings.ToValidUTF8(e.Detail, "?")
	if utf8.RuneCountInString(d) > MaxDetail {
		d = string([]rune(d)[:MaxDetail-1]) + "…"
	}
	return &store.AuditEntry{UserID: e.Actor.UserID, Username: e.Actor.Username, ClientAddr: e.Actor.Addr,
		Action: string(e.Action), Outcome: string(e.Outcome), ClusterID: e.ClusterID, ClusterSlug: e.ClusterSlug,
		Instance: e.Instance, ApplicationID: e.ApplicationID, JobID: e.JobID, Detail: d}, nil
}

// Log writes audit entries. It is safe for concurrent use.
type Log struct {
	st *store.Store
}

// New returns a Log writing to st.
func New(st *store.Store) *Log { return &Log{st: st} }

// Record writes e in a transaction of its own.
func (l *Log) Record(ctx context.Context, e Entry) error {
	row, err := e.row()
	if err != nil {
		return err
	}
	_, err = l.st.InsertAudit(ctx, row)
	return err
}

// Then is e written inside the caller's transaction, as a trailing
// store.TxFunc of the store function making the change.
func (l *Log) Then(e Entry) store.TxFunc {
	return func(ctx context.Context, tx pgx.Tx) error {
		row, err := e.row()
		if err != nil {
			return err
		}
		_, err = store.InsertAuditTx(ctx, tx, row)
		return err
	}
}
