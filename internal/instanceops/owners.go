package instanceops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// AddOwner makes a user or a group an owner of the instance (tag
// <prefix>:user:<username> or <prefix>:group:<name>). who is a user's
// exact username or e-mail address (an active account), or a group's
// exact name (for non-superusers only a group they belong to); no list of
// accounts is offered anywhere, and an unknown one gets the same answer as
// one that may not be added. Owners and superusers may add owners; it is
// audited (InstanceOwnerAdd).
func (s *Service) AddOwner(ctx context.Context, req Request, slug, name string, group bool, who string) (*store.InstanceJob, error) {
	return s.changeOwner(ctx, req, slug, name, group, who, true)
}

// RemoveOwner takes a user or a group off the instance's owners; who is
// as for AddOwner, or the exact name an owner tag carries. A non-superuser
// cannot remove the last owner. Audited (InstanceOwnerDel).
func (s *Service) RemoveOwner(ctx context.Context, req Request, slug, name string, group bool, who string) (*store.InstanceJob, error) {
	return s.changeOwner(ctx, req, slug, name, group, who, false)
}

// changeOwner adds or removes one owner.
func (s *Service) changeOwner(ctx context.Context, req Request, slug, name string, group bool, who string, add bool) (*store.InstanceJob, error) {
	who = strings.TrimSpace(who)
	what := "user"
	if group {
		what = "group"
	}
	verb, act := "remove", audit.InstanceOwnerDel
	if add {
		verb, act = "add", audit.InstanceOwnerAdd
	}
	a := action{kind: Owners, audit: act, detail: verb + " " + what + " " + who}
	super := req.Principal.IsSuperuser()

	// Resolve who now; what is found is revealed only once Decide has
	// allowed the action (in check).
	var resolved string // the user's username or the group's name, as stored
	var why *Refusal
	switch {
	case who == "" || len(who) > 254:
		why = invalid("who", i18n.M("instance_ops.invalid.owner_empty"))
	case group:
		g, err := s.st.GroupByName(ctx, who)
		switch {
		case err == nil:
			resolved = g.Name
		case errors.Is(err, store.ErrNotFound):
			why = invalid("who", i18n.M("instance_ops.invalid.unknown_group"))
		default:
			return nil, fmt.Errorf("instanceops: %w", err)
		}
	default:
		u, err := s.lookupUser(ctx, who)
		switch {
		case err == nil && u.IsActive:
			resolved = u.Username
		case err == nil, errors.Is(err, store.ErrNotFound):
			why = invalid("who", i18n.M("instance_ops.invalid.unknown_user"))
		default:
			return nil, fmt.Errorf("instanceops: %w", err)
		}
	}

	var tag string
	a.check = func(st State) *Refusal {
		in := st.Instance
		owners := in.OwnerUsers
		if group {
			owners = in.OwnerGroups
		}
		if !add {
			// An owner tag may name an account or group that no longer
			// exists: the exact name on the tag is enough to remove it.
			if i := slices.IndexFunc(owners, func(o string) bool { return strings.EqualFold(o, who) }); i >= 0 {
				resolved, why = owners[i], nil
			}
		}
		if why != nil {
			return why
		}
		if group && !super && !slices.Contains(st.Groups, resolved) {
			return invalid("who", i18n.M("instance_ops.invalid.unknown_group"))
		}
		present := slices.Contains(owners, resolved)
		switch {
		case add && present:
			return invalid("who", i18n.M("instance_ops.invalid.already_owner"))
		case !add && !present:
			return invalid("who", i18n.M("instance_ops.invalid.not_owner"))
		case !add && !super && len(in.OwnerUsers)+len(in.OwnerGroups) <= 1:
			return invalid("who", i18n.M("instance_ops.invalid.last_owner"))
		}
		var err error
		if group {
			tag, err = s.codec.Group(resolved)
		} else {
			tag, err = s.codec.User(resolved)
		}
		if err != nil {
			return invalid("who", i18n.M("instance_ops.invalid.owner_tag"))
		}
		return nil
	}
	a.describe = func(State) string { return verb + " " + what + " " + resolved }
	a.call = func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error) {
		if add {
			return c.AddInstanceTags(ctx, in.Name, []string{tag})
		}
		return c.DeleteInstanceTags(ctx, in.Name, []string{tag})
	}
	return s.runAction(ctx, req, slug, name, a)
}

// lookupUser finds an account by exact username or, for text with an
// "@", by e-mail address (both compared case-insensitively).
func (s *Service) lookupUser(ctx context.Context, who string) (*store.User, error) {
	if strings.Contains(who, "@") {
		u, err := s.st.UserByEmail(ctx, who)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return u, err
		}
	}
	return s.st.UserByUsername(ctx, who)
}
