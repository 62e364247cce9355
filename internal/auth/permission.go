package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Permission is a named right granted to users or groups.
type Permission string

// The permissions ganetimgr knows (the same set as GRNET's ganetimgr).
const (
	ViewInstances     Permission = "view_instances"     // see every instance, node, job (helpdesk)
	CanLock           Permission = "can_lock"           // admin-lock instances
	CanIsolate        Permission = "can_isolate"        // network-isolate instances
	ViewAllGraphs     Permission = "view_all_graphs"    // graphs of any instance
	ViewApplications  Permission = "view_applications"  // list applications (read only)
	ChangeApplication Permission = "change_application" // review applications
	CanViewNotif      Permission = "can_view_notif"     // read the notification archive
)

// Permissions returns every known permission, in a stable order.
func Permissions() []Permission {
	return []Permission{ViewInstances, CanLock, CanIsolate, ViewAllGraphs, ViewApplications, ChangeApplication, CanViewNotif}
}

// Valid reports whether p is a known permission.
func (p Permission) Valid() bool { return slices.Contains(Permissions(), p) }

// Principal is an authenticated, active user together with the permissions
// they hold (directly and through groups), loaded once per request.
type Principal struct {
	User  *store.User
	perms []Permission
}

// PermissionSource is the part of the store a Principal is loaded from.
type PermissionSource interface {
	EffectivePermissions(ctx context.Context, userID int64) ([]string, error)
}

// LoadPrincipal loads the effective permissions of u.
func LoadPrincipal(ctx context.Context, src PermissionSource, u *store.User) (*Principal, error) {
	names, err := src.EffectivePermissions(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: load permissions: %w", err)
	}
	p := &Principal{User: u}
	for _, n := range names {
		p.perms = append(p.perms, Permission(n))
	}
	return p, nil
}

// Can answers "may this user do perm": an inactive account may do nothing,
// a superuser may do everything, anyone else needs the permission granted
// directly or through a group. It is the only place this rule is written.
func (p *Principal) Can(perm Permission) bool {
	if p == nil || p.User == nil || !p.User.IsActive {
		return false
	}
	if p.User.IsSuperuser {
		return true
	}
	return slices.Contains(p.perms, perm)
}

// IsSuperuser reports whether the principal is an active superuser.
func (p *Principal) IsSuperuser() bool {
	return p != nil && p.User != nil && p.User.IsActive && p.User.IsSuperuser
}

// Role is the navigation level a user gets.
type Role int

// Roles, from least to most privileged.
const (
	RoleUser     Role = iota // an ordinary user
	RoleHelpdesk             // holds view_instances
	RoleAdmin                // superuser
)

// Role returns the principal's navigation level.
func (p *Principal) Role() Role {
	switch {
	case p.IsSuperuser():
		return RoleAdmin
	case p.Can(ViewInstances):
		return RoleHelpdesk
	default:
		return RoleUser
	}
}

// Held returns the permissions the principal holds (all of them for a
// superuser), in the order of Permissions.
func (p *Principal) Held() []Permission {
	var out []Permission
	for _, perm := range Permissions() {
		if p.Can(perm) {
			out = append(out, perm)
		}
	}
	return out
}
