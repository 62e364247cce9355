package store

import (
	"context"
	"time"
)

// CachedNode is one node of a cluster as the syncer last saw it (table
// cluster_nodes). Sizes are MiB.
type CachedNode struct {
	ClusterID       int64
	Name            string
	UUID            string
	Role            string // master, candidate, regular, drained, offline
	NodeGroup       string
	Offline         bool
	Drained         bool
	MasterCandidate bool
	VMCapable       bool
	PrimaryIP       string
	SecondaryIP     string
	MemoryTotalMB   int64
	MemoryFreeMB    int64
	DiskTotalMB     int64
	DiskFreeMB      int64
	CPUs            int
	PrimaryCount    int
	SecondaryCount  int
	Tags            []string
	CTime           time.Time
	MTime           time.Time
}

// Node roles stored in cluster_nodes.role.
const (
	NodeRoleMaster    = "master"
	NodeRoleCandidate = "candidate"
	NodeRoleRegular   = "regular"
	NodeRoleDrained   = "drained"
	NodeRoleOffline   = "offline"
)

var nodesTable = cacheTable{
	name: "cluster_nodes", key: "name",
	columns: []string{"cluster_id", "name", "uuid", "role", "node_group", "offline", "drained", "master_candidate",
		"vm_capable", "primary_ip", "secondary_ip", "memory_total_mb", "memory_free_mb", "disk_total_mb",
		"disk_free_mb", "cpus", "primary_count", "secondary_count", "tags", "ctime", "mtime", "content_hash"},
}

func (n *CachedNode) row(clusterID int64) cacheRow {
	role := n.Role
	switch role {
	case NodeRoleMaster, NodeRoleCandidate, NodeRoleRegular, NodeRoleDrained, NodeRoleOffline:
	default:
		role = NodeRoleRegular
	}
	h := newHasher()
	for _, s := range []string{n.Name, n.UUID, role, n.NodeGroup, n.PrimaryIP, n.SecondaryIP} {
		h.str(s)
	}
	for _, b := range []bool{n.Offline, n.Drained, n.MasterCandidate, n.VMCapable} {
		h.bool(b)
	}
	h.i64s([]int64{n.MemoryTotalMB, n.MemoryFreeMB, n.DiskTotalMB, n.DiskFreeMB, int64(n.CPUs),
		int64(n.PrimaryCount), int64(n.SecondaryCount)})
	h.strs(n.Tags)
	h.time(n.CTime)
	h.time(n.MTime)
	sum := h.sum()
	return cacheRow{key: n.Name, hash: sum, values: []any{clusterID, n.Name, n.UUID, role, n.NodeGroup, n.Offline,
		n.Drained, n.MasterCandidate, n.VMCapable, n.PrimaryIP, n.SecondaryIP, n.MemoryTotalMB, n.MemoryFreeMB,
		n.DiskTotalMB, n.DiskFreeMB, n.CPUs, n.PrimaryCount, n.SecondaryCount, nonNil(n.Tags), nullTime(n.CTime),
		nullTime(n.MTime), sum}}
}

// CachedNodes returns the cached nodes of a cluster (all clusters when
// clusterID is 0), ordered by cluster and name.
func (s *Store) CachedNodes(ctx context.Context, clusterID int64) ([]*CachedNode, error) {
	rows, err := s.pool.Query(ctx, `SELECT cluster_id, name, uuid, role, node_group, offline, drained,
		master_candidate, vm_capable, primary_ip, secondary_ip, memory_total_mb, memory_free_mb, disk_total_mb,
		disk_free_mb, cpus, primary_count, secondary_count, tags, ctime, mtime
		FROM cluster_nodes WHERE $1 = 0 OR cluster_id = $1 ORDER BY cluster_id, name`, clusterID)
	if err != nil {
		return nil, mapErr("cached nodes", err)
	}
	defer rows.Close()
	var out []*CachedNode
	for rows.Next() {
		n := &CachedNode{}
		var ctime, mtime *time.Time
		if err := rows.Scan(&n.ClusterID, &n.Name, &n.UUID, &n.Role, &n.NodeGroup, &n.Offline, &n.Drained,
			&n.MasterCandidate, &n.VMCapable, &n.PrimaryIP, &n.SecondaryIP, &n.MemoryTotalMB, &n.MemoryFreeMB,
			&n.DiskTotalMB, &n.DiskFreeMB, &n.CPUs, &n.PrimaryCount, &n.SecondaryCount, &n.Tags, &ctime, &mtime); err != nil {
			return nil, mapErr("cached nodes", err)
		}
		n.CTime, n.MTime = scanTime(ctime), scanTime(mtime)
		out = append(out, n)
	}
	return out, mapErr("cached nodes", rows.Err())
}

// CachedNodeGroup is one node group of a cluster (table
// cluster_node_groups). Locked is the "locked" tag (maintenance).
type CachedNodeGroup struct {
	ClusterID   int64
	Name        string
	UUID        string
	AllocPolicy string
	Tags        []string
	Locked      bool
	Nodes       []string
	IPolicy     []byte // JSON
	Networks    []string
	CTime       time.Time
	MTime       time.Time
}

var groupsTable = cacheTable{
	name: "cluster_node_groups", key: "name",
	columns: []string{"cluster_id", "name", "uuid", "alloc_policy", "tags", "locked", "nodes", "ipolicy",
		"networks", "ctime", "mtime", "content_hash"},
}

func (g *CachedNodeGroup) row(clusterID int64) cacheRow {
	h := newHasher()
	h.str(g.Name)
	h.str(g.UUID)
	h.str(g.AllocPolicy)
	h.strs(g.Tags)
	h.bool(g.Locked)
	h.strs(g.Nodes)
	h.bytes(g.IPolicy)
	h.strs(g.Networks)
	h.time(g.CTime)
	h.time(g.MTime)
	sum := h.sum()
	return cacheRow{key: g.Name, hash: sum, values: []any{clusterID, g.Name, g.UUID, g.AllocPolicy, nonNil(g.Tags),
		g.Locked, nonNil(g.Nodes), nullJSON(g.IPolicy), nonNil(g.Networks), nullTime(g.CTime), nullTime(g.MTime), sum}}
}

// CachedNodeGroups returns the cached node groups of a cluster (all
// clusters when clusterID is 0), ordered by cluster and name.
func (s *Store) CachedNodeGroups(ctx context.Context, clusterID int64) ([]*CachedNodeGroup, error) {
	rows, err := s.pool.Query(ctx, `SELECT cluster_id, name, uuid, alloc_policy, tags, locked, nodes,
		coalesce(ipolicy::text, ''), networks, ctime, mtime
		FROM cluster_node_groups WHERE $1 = 0 OR cluster_id = $1 ORDER BY cluster_id, name`, clusterID)
	if err != nil {
		return nil, mapErr("cached node groups", err)
	}
	defer rows.Close()
	var out []*CachedNodeGroup
	for rows.Next() {
		g := &CachedNodeGroup{}
		var ctime, mtime *time.Time
		var ipolicy string
		if err := rows.Scan(&g.ClusterID, &g.Name, &g.UUID, &g.AllocPolicy, &g.Tags, &g.Locked, &g.Nodes,
			&ipolicy, &g.Networks, &ctime, &mtime); err != nil {
			return nil, mapErr("cached node groups", err)
		}
		if ipolicy != "" {
			g.IPolicy = []byte(ipolicy)
		}
		g.CTime, g.MTime = scanTime(ctime), scanTime(mtime)
		out = append(out, g)
	}
	return out, mapErr("cached node groups", rows.Err())
}
