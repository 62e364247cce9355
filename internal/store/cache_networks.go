package store

import (
	"context"
	"encoding/json"
	"time"
)

// CachedNetwork is one gnt-network of a cluster (table cluster_networks).
type CachedNetwork struct {
	ClusterID     int64
	Name          string
	UUID          string
	Network       string // IPv4 CIDR
	Gateway       string
	Network6      string
	Gateway6      string
	MACPrefix     string
	FreeCount     int
	ReservedCount int
	InstanceCount int
	Groups        []NetworkConnection
	Tags          []string
	CTime         time.Time
	MTime         time.Time
}

// NetworkConnection is a node group a network is connected to.
type NetworkConnection struct {
	Group string `json:"group"`
	Mode  string `json:"mode"`
	Link  string `json:"link"`
	VLAN  string `json:"vlan,omitempty"`
}

var networksTable = cacheTable{
	name: "cluster_networks", key: "name",
	columns: []string{"cluster_id", "name", "uuid", "network", "gateway", "network6", "gateway6", "mac_prefix",
		"free_count", "reserved_count", "instance_count", "groups", "tags", "ctime", "mtime", "content_hash"},
}

func (n *CachedNetwork) row(clusterID int64) cacheRow {
	groups, _ := json.Marshal(nonNil(n.Groups)) // plain strings always marshal
	h := newHasher()
	for _, s := range []string{n.Name, n.UUID, n.Network, n.Gateway, n.Network6, n.Gateway6, n.MACPrefix} {
		h.str(s)
	}
	h.i64s([]int64{int64(n.FreeCount), int64(n.ReservedCount), int64(n.InstanceCount)})
	h.bytes(groups)
	h.strs(n.Tags)
	h.time(n.CTime)
	h.time(n.MTime)
	sum := h.sum()
	return cacheRow{key: n.Name, hash: sum, values: []any{clusterID, n.Name, n.UUID, n.Network, n.Gateway,
		n.Network6, n.Gateway6, n.MACPrefix, n.FreeCount, n.ReservedCount, n.InstanceCount, string(groups),
		nonNil(n.Tags), nullTime(n.CTime), nullTime(n.MTime), sum}}
}

// CachedNetworks returns the cached gnt-networks of a cluster (all
// clusters when clusterID is 0), ordered by cluster and name.
func (s *Store) CachedNetworks(ctx context.Context, clusterID int64) ([]*CachedNetwork, error) {
	rows, err := s.pool.Query(ctx, `SELECT cluster_id, name, uuid, network, gateway, network6, gateway6,
		mac_prefix, free_count, reserved_count, instance_count, groups::text, tags, ctime, mtime
		FROM cluster_networks WHERE $1 = 0 OR cluster_id = $1 ORDER BY cluster_id, name`, clusterID)
	if err != nil {
		return nil, mapErr("cached networks", err)
	}
	defer rows.Close()
	var out []*CachedNetwork
	for rows.Next() {
		n := &CachedNetwork{}
		var ctime, mtime *time.Time
		var groups string
		if err := rows.Scan(&n.ClusterID, &n.Name, &n.UUID, &n.Network, &n.Gateway, &n.Network6, &n.Gateway6,
			&n.MACPrefix, &n.FreeCount, &n.ReservedCount, &n.InstanceCount, &groups, &n.Tags, &ctime, &mtime); err != nil {
			return nil, mapErr("cached networks", err)
		}
		_ = json.Unmarshal([]byte(groups), &n.Groups) // written by row above
		n.CTime, n.MTime = scanTime(ctime), scanTime(mtime)
		out = append(out, n)
	}
	return out, mapErr("cached networks", rows.Err())
}
