package instanceops

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// RefusalCode says why an action is not allowed.
type RefusalCode string

// The refusal codes.
const (
	NotFound     RefusalCode = "not_found"     // unknown, or not visible to the user -> 404
	ReadOnly     RefusalCode = "read_only"     // may see, may not act (helpdesk) -> 403
	NotPermitted RefusalCode = "not_permitted" // lacks can_lock / can_isolate -> 403
	AdminLocked  RefusalCode = "admin_locked"  // -> 409
	Maintenance  RefusalCode = "maintenance"   // node group tagged "locked" -> 409
	JobPending   RefusalCode = "job_pending"   // a tracked job runs on it; Msg says what it is doing -> 409
	WrongState   RefusalCode = "wrong_state"   // e.g. rename while running, reboot while stopped -> 409
	Invalid      RefusalCode = "invalid"       // bad input -> 422 (Field set)
	Unavailable  RefusalCode = "unavailable"   // cluster disabled, unreachable or refused the call -> 503
)

// Refusal says an action is not allowed now; nothing was done. It is an
// error (use errors.As).
type Refusal struct {
	Code RefusalCode
	// Msg is the reason, for the page.
	Msg i18n.Msg
	// Field is, for Invalid, the form field at fault ("" for none).
	Field string
	// Detail is the cluster's own words when it refused the call
	// (Ganeti's message, untranslated); "" otherwise.
	Detail string
}

// Error describes the refusal (for logs; pages show Msg).
func (r *Refusal) Error() string {
	s := "instanceops: refused (" + string(r.Code) + "): " + r.Msg.ID()
	if r.Field != "" {
		s += " [" + r.Field + "]"
	}
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return s
}

// HTTPStatus is the status code of a page answering with the refusal.
func (r *Refusal) HTTPStatus() int {
	switch r.Code {
	case NotFound:
		return http.StatusNotFound
	case ReadOnly, NotPermitted:
		return http.StatusForbidden
	case AdminLocked, Maintenance, JobPending, WrongState:
		return http.StatusConflict
	case Invalid:
		return http.StatusUnprocessableEntity
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// refuse builds a refusal.
func refuse(code RefusalCode, msg i18n.Msg) *Refusal { return &Refusal{Code: code, Msg: msg} }

// invalid builds an Invalid refusal of a form field.
func invalid(field string, msg i18n.Msg) *Refusal {
	return &Refusal{Code: Invalid, Msg: msg, Field: field}
}

// The refusals that carry no detail.
func notFound() *Refusal { return refuse(NotFound, i18n.M("instance_ops.refusal.not_found")) }
func readOnly() *Refusal { return refuse(ReadOnly, i18n.M("instance_ops.refusal.read_only")) }
func notPermitted() *Refusal {
	return refuse(NotPermitted, i18n.M("instance_ops.refusal.not_permitted"))
}
func adminLocked() *Refusal { return refuse(AdminLocked, i18n.M("instance_ops.refusal.admin_locked")) }
func maintenance() *Refusal { return refuse(Maintenance, i18n.M("instance_ops.refusal.maintenance")) }
func unavailable() *Refusal { return refuse(Unavailable, i18n.M("instance_ops.refusal.unavailable")) }
