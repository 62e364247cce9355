package clustersync

import (
	"context"
	"errors"
	"fmt"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// RefreshInstance re-reads one instance of a cluster (one GET
// /2/instances/<name>) and updates its cached row, or deletes the row when
// the cluster no longer has the instance; the cluster's data version is
// bumped when the row changed. Any replica may call it (typically when a
// job on the instance ended), whether or not it owns the cluster's sync.
func (s *Syncer) RefreshInstance(ctx context.Context, clusterID int64, name string) error {
	clusters, err := s.st.Clusters(ctx)
	if err != nil {
		return fmt.Errorf("clustersync: refresh instance: %w", err)
	}
	var c *store.Cluster
	for _, x := range clusters {
		if x.ID == clusterID {
			c = x
			break
		}
	}
	if c == nil {
		return fmt.Errorf("clustersync: refresh instance: cluster %d: %w", clusterID, store.ErrNotFound)
	}
	if c.Disabled {
		return fmt.Errorf("clustersync: refresh instance: cluster %s is disabled", c.Slug)
	}
	cc, err := s.clientFor(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.SyncTimeout)
	defer cancel()
	in, err := cc.client.Instance(ctx, name)
	if rapi.IsNotFound(err) {
		if _, err := s.st.DeleteCachedInstance(ctx, clusterID, name); err != nil {
			return fmt.Errorf("clustersync: refresh instance %s: %w", name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("clustersync: refresh instance %s on %s: %s", name, c.Slug, scrub(err.Error(), cc.password))
	}
	if in.Name != name {
		return fmt.Errorf("clustersync: refresh instance %s on %s: cluster answered for %q", name, c.Slug, in.Name)
	}
	// The store fills in the node group and hypervisor from the cache.
	row := convertInstance(clusterID, in, s.codec, nil, "")
	if _, err := s.st.PutCachedInstance(ctx, &row); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("clustersync: refresh instance: cluster %d: %w", clusterID, store.ErrNotFound)
		}
		return fmt.Errorf("clustersync: refresh instance %s: %w", name, err)
	}
	return nil
}
