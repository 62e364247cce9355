package web

import (
	"net/http"
	"slices"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// nodeRoles lists the node roles in the order of the role filter.
var nodeRoles = []string{store.NodeRoleMaster, store.NodeRoleCandidate, store.NodeRoleRegular,
	store.NodeRoleDrained, store.NodeRoleOffline}

// nodeView is one node prepared for the template.
type nodeView struct {
	*store.CachedNode
	ClusterSlug string
	RoleMsg     i18n.Msg
	MemoryUsed  int // percent
	DiskUsed    int // percent
	MemoryFree  string
	MemoryTotal string
	DiskFree    string
	DiskTotal   string
}

// roleCount is a role with its number of nodes (after the cluster filter).
type roleCount struct {
	Role  string
	Msg   i18n.Msg
	Count int
}

// roleMsg names a node role.
func roleMsg(role string) i18n.Msg {
	switch role {
	case store.NodeRoleMaster:
		return i18n.M("nodes.role.master")
	case store.NodeRoleCandidate:
		return i18n.M("nodes.role.candidate")
	case store.NodeRoleDrained:
		return i18n.M("nodes.role.drained")
	case store.NodeRoleOffline:
		return i18n.M("nodes.role.offline")
	default:
		return i18n.M("nodes.role.regular")
	}
}

// nodeListData is the nodes page's content.
type nodeListData struct {
	Nodes    []nodeView
	Roles    []roleCount
	Clusters []clusterChoice
	Role     string
	Cluster  string
}

// nodeList shows every cached node of the enabled clusters: role, group,
// memory and disk use, CPUs and instance counts; filters by role and
// cluster. Helpdesk and administrators only.
func (s *Server) nodeList(w http.ResponseWriter, r *http.Request) {
	d := nodeListData{Role: r.URL.Query().Get("role"), Cluster: r.URL.Query().Get("cluster")}
	if d.Role != "" && !slices.Contains(nodeRoles, d.Role) {
		s.badRequest(w, r, i18n.M("nodes.bad.role"))
		return
	}
	r, statuses, err := s.withSyncStatuses(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	slugs := map[int64]string{}
	var clusterID int64
	for _, st := range statuses {
		if st.Disabled {
			continue
		}
		slugs[st.ClusterID] = st.Slug
		d.Clusters = append(d.Clusters, clusterChoice{Slug: st.Slug, Demo: st.Demo})
		if st.Slug == d.Cluster {
			clusterID = st.ClusterID
		}
	}
	if d.Cluster != "" && clusterID == 0 {
		s.badRequest(w, r, i18n.M("instances.bad.cluster"))
		return
	}
	nodes, err := s.store.CachedNodes(r.Context(), clusterID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	counts := map[string]int{}
	for _, n := range nodes {
		slug, ok := slugs[n.ClusterID]
		if !ok {
			continue // a disabled cluster
		}
		counts[n.Role]++
		if d.Role != "" && n.Role != d.Role {
			continue
		}
		d.Nodes = append(d.Nodes, nodeView{CachedNode: n, ClusterSlug: slug, RoleMsg: roleMsg(n.Role),
			MemoryUsed: percent(n.MemoryTotalMB-n.MemoryFreeMB, n.MemoryTotalMB),
			DiskUsed:   percent(n.DiskTotalMB-n.DiskFreeMB, n.DiskTotalMB),
			MemoryFree: formatMiB(n.MemoryFreeMB), MemoryTotal: formatMiB(n.MemoryTotalMB),
			DiskFree: formatMiB(n.DiskFreeMB), DiskTotal: formatMiB(n.DiskTotalMB)})
	}
	for _, role := range nodeRoles {
		d.Roles = append(d.Roles, roleCount{Role: role, Msg: roleMsg(role), Count: counts[role]})
	}
	s.render(w, r, http.StatusOK, "nodes", d)
}
