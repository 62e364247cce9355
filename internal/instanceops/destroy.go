package instanceops

import (
	"context"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Destroy removes an instance and its disks from its cluster (Ganeti shuts
// it down first). When the job ends, the follower's refresh finds the
// instance gone and deletes it from the cache. The caller has confirmed
// the action (Confirm, or the user's password).
func (s *Service) Destroy(ctx context.Context, req Request, slug, name string) (*store.InstanceJob, error) {
	return s.run(ctx, req, slug, name, Destroy, "", func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error) {
		return c.DeleteInstance(ctx, in.Name, rapi.DeleteOptions{})
	})
}
