package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// ipolicySpec is one row of an instance policy: a parameter with its
// minimum, standard and maximum.
type ipolicySpec struct {
	Name          string
	Min, Std, Max string
}

// parseIPolicy reads the min/std/max specs of a Ganeti instance policy
// (the first minmax pair). It returns nil when the document has none.
func parseIPolicy(raw []byte) []ipolicySpec {
	var pol struct {
		MinMax []struct {
			Min map[string]json.Number `json:"min"`
			Max map[string]json.Number `json:"max"`
		} `json:"minmax"`
		Std map[string]json.Number `json:"std"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &pol) != nil || len(pol.MinMax) == 0 {
		return nil
	}
	names := map[string]bool{}
	for k := range pol.MinMax[0].Min {
		names[k] = true
	}
	for k := range pol.MinMax[0].Max {
		names[k] = true
	}
	var out []ipolicySpec
	for k := range names {
		out = append(out, ipolicySpec{Name: k, Min: pol.MinMax[0].Min[k].String(), Std: pol.Std[k].String(),
			Max: pol.MinMax[0].Max[k].String()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// groupView is a node group with its nodes.
type groupView struct {
	*store.CachedNodeGroup
	NodeList []nodeView
}

// clusterInfoData is the cluster information page's content.
type clusterInfoData struct {
	Cluster   *store.Cluster
	Status    *store.SyncStatus
	Age       i18n.Message
	Stale     bool
	IPolicy   []ipolicySpec
	RawPolicy string
	Groups    []groupView
	Networks  []*store.CachedNetwork
}

// clusterInfo shows what the cache holds about one cluster: version,
// hypervisors, disk templates, instance policy, instance count, node
// groups with their nodes, gnt-networks, and the sync status with the data
// age. Helpdesk and administrators only.
func (s *Server) clusterInfo(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.ClusterBySlug(r.Context(), chi.URLParam(r, "slug"))
	if s.loadFailed(w, r, err) {
		return
	}
	ctx := r.Context()
	st, err := s.store.ClusterSyncStatus(ctx, c.ID)
	if err != nil {
		s.serverError(w, r, fmt.Errorf("web: cluster info: %w", err))
		return
	}
	groups, err := s.store.CachedNodeGroups(ctx, c.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	nodes, err := s.store.CachedNodes(ctx, c.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	nets, err := s.store.CachedNetworks(ctx, c.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	f, now := s.freshness(), s.now()
	d := clusterInfoData{Cluster: c, Status: st, Age: dataAge(f.DataAge(st, now)), Stale: f.Stale(st, now),
		IPolicy: parseIPolicy(st.Info.IPolicy), Networks: nets}
	if d.IPolicy == nil {
		d.RawPolicy = jsonDump(st.Info.IPolicy)
	}
	byGroup := map[string][]nodeView{}
	for _, n := range nodes {
		byGroup[n.NodeGroup] = append(byGroup[n.NodeGroup], nodeView{CachedNode: n, ClusterSlug: c.Slug, RoleMsg: roleMsg(n.Role),
			MemoryUsed: percent(n.MemoryTotalMB-n.MemoryFreeMB, n.MemoryTotalMB),
			DiskUsed:   percent(n.DiskTotalMB-n.DiskFreeMB, n.DiskTotalMB)})
	}
	for _, g := range groups {
		d.Groups = append(d.Groups, groupView{CachedNodeGroup: g, NodeList: byGroup[g.Name]})
	}
	s.render(w, r, http.StatusOK, "clusterinfo", d)
}
