package instanceops

import (
	"context"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Rename renames a stopped instance (not running and marked down; else
// WrongState) to newName: a fully qualified domain name, as for a new VM
// (applications.NormalizeHostname), lowercased, that no instance of any
// cluster and no open application uses (else Invalid, field "new_name").
// Ganeti is asked not to check the name against DNS or ping its address
// ({"new_name", "ip_check": false, "name_check": false}), as ganetimgr
// did. The tracked job's Detail is the new name; when the job ends, the
// follower refreshes both names in the cache. The caller has confirmed
// the action (Confirm, or the user's password).
func (s *Service) Rename(ctx context.Context, req Request, slug, name, newName string) (*store.InstanceJob, error) {
	nn, bad := normalizeNewName(newName)
	a := action{kind: Rename, audit: audit.InstanceRename, detail: nn}
	a.check = func(st State) *Refusal {
		if bad != nil {
			return bad
		}
		return s.checkNewName(ctx, st.Instance, nn)
	}
	a.call = func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error) {
		return c.RenameInstance(ctx, in.Name, nn, rapi.RenameOptions{})
	}
	return s.runAction(ctx, req, slug, name, a)
}

// checkNewName refuses a new name that is the instance's own, or that an
// instance of any cluster (as the cache last saw them) or an open
// application uses. Ganeti refuses a name in use on its own cluster
// anyway; the cache covers the others.
func (s *Service) checkNewName(ctx context.Context, in *store.CachedInstance, nn string) *Refusal {
	if nn == in.Name {
		return invalid(FieldNewName, i18n.M("instance_ops.rename.same"))
	}
	use, err := s.st.HostnameInUse(ctx, nn, 0)
	switch {
	case err != nil:
		s.log.ErrorContext(ctx, "checking a new name failed", "instance", in.Name, "error", err)
		return unavailable()
	case use.ClusterSlug != "":
		return invalid(FieldNewName, i18n.M("instance_ops.rename.in_use"))
	case use.ApplicationID != 0:
		return invalid(FieldNewName, i18n.M("instance_ops.rename.in_use_application"))
	}
	return nil
}
