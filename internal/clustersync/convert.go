package clustersync

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// maxOpsJSON bounds the opcodes stored per job; larger ones keep only
// their OP_IDs.
const maxOpsJSON = 64 << 10

// convertInfo maps /2/info to the cached cluster info.
func convertInfo(in *rapi.Info) store.ClusterInfo {
	ipolicy, _ := json.Marshal(in.IPolicy) // plain numbers and strings always marshal
	hvs := in.EnabledHypervisors
	if len(hvs) == 0 && in.DefaultHypervisor != "" {
		hvs = []string{in.DefaultHypervisor}
	}
	return store.ClusterInfo{
		Name: in.Name, UUID: in.UUID, SoftwareVersion: in.SoftwareVersion,
		DefaultHypervisor: in.DefaultHypervisor, EnabledHypervisors: hvs,
		EnabledDiskTemplates: in.EnabledDiskTemplates, IPolicy: ipolicy,
		DefaultIAllocator: in.DefaultIAllocator, MasterNode: in.Master,
		CTime: in.CTime.Time, MTime: in.MTime.Time, Tags: in.Tags,
	}
}

// convertInstance maps one RAPI instance to its cached row. nodeGroup
// gives the group of a node ("" when unknown); defaultHV is the cluster's
// hypervisor for Ganeti versions that do not report it per instance.
func convertInstance(clusterID int64, in *rapi.Instance, codec tags.Codec, nodeGroup map[string]string, defaultHV string) store.CachedInstance {
	p := codec.Parse(in.Tags)
	mem := in.BeParams.MaxMem
	if mem == 0 {
		mem = in.BeParams.Memory
	}
	hv := in.Hypervisor
	if hv == "" {
		hv = defaultHV
	}
	return store.CachedInstance{
		ClusterID: clusterID, Name: in.Name, UUID: in.UUID, Status: string(in.Status),
		AdminState: in.AdminState, OperState: in.OperState, PNode: in.PNode, SNodes: in.SNodes,
		NodeGroup: nodeGroup[in.PNode], OS: in.OS, Hypervisor: hv, MemoryMB: mem, VCPUs: in.BeParams.VCPUs,
		OperRAMMB: in.OperRAM, OperVCPUs: in.OperVCPUs, DiskTemplate: in.DiskTemplate,
		DiskSizesMB: in.DiskSizes, DiskUsageMB: in.DiskUsage,
		NICIPs: in.NICIPs, NICMACs: in.NICMACs, NICModes: in.NICModes, NICLinks: in.NICLinks,
		NICNetworks: in.NICNetworkNames, NetworkPort: in.NetworkPort, Tags: in.Tags,
		OwnerUsers: p.Users, OwnerGroups: p.Groups,
		AdminLock: p.AdminLock, Isolate: p.Isolate, NeedsReboot: p.NeedsReboot,
		CTime: in.CTime.Time, MTime: in.MTime.Time, SerialNo: in.SerialNo,
		HVParams: hvParams(in.HvParams.Raw),
	}
}

// maxHVParamsJSON bounds the hypervisor parameters kept per instance
// (kvm's are about 2 KiB); larger ones are not kept.
const maxHVParamsJSON = 16 << 10

// hvParams returns the JSON object of an instance's hypervisor parameters
// to cache, nil when there is none or it is too large.
func hvParams(raw rapi.Params) json.RawMessage {
	if len(raw) == 0 || len(raw) > maxHVParamsJSON {
		return nil
	}
	return json.RawMessage(raw)
}

// nodeRole maps a node's one-letter role to the stored role word.
func nodeRole(n *rapi.Node) string {
	switch n.RoleName() {
	case rapi.RoleMaster:
		return store.NodeRoleMaster
	case rapi.RoleMasterCandidate:
		return store.NodeRoleCandidate
	case rapi.RoleDrained:
		return store.NodeRoleDrained
	case rapi.RoleOffline:
		return store.NodeRoleOffline
	}
	switch {
	case n.Offline:
		return store.NodeRoleOffline
	case n.Drained:
		return store.NodeRoleDrained
	case n.MasterCandidate:
		return store.NodeRoleCandidate
	}
	return store.NodeRoleRegular
}

func convertNode(clusterID int64, n *rapi.Node, groupName map[string]string) store.CachedNode {
	return store.CachedNode{
		ClusterID: clusterID, Name: n.Name, UUID: n.UUID, Role: nodeRole(n), NodeGroup: groupName[n.GroupUUID],
		Offline: n.Offline, Drained: n.Drained, MasterCandidate: n.MasterCandidate, VMCapable: n.VMCapable,
		PrimaryIP: n.PrimaryIP, SecondaryIP: n.SecondaryIP,
		MemoryTotalMB: n.MemTotal, MemoryFreeMB: n.MemFree, DiskTotalMB: n.DiskTotal, DiskFreeMB: n.DiskFree,
		CPUs: n.CPUTotal, PrimaryCount: n.PInstCount, SecondaryCount: n.SInstCount, Tags: n.Tags,
		CTime: n.CTime.Time, MTime: n.MTime.Time,
	}
}

func convertGroup(clusterID int64, g *rapi.Group, networks []string) store.CachedNodeGroup {
	ipolicy, _ := json.Marshal(g.IPolicy)
	return store.CachedNodeGroup{
		ClusterID: clusterID, Name: g.Name, UUID: g.UUID, AllocPolicy: g.AllocPolicy, Tags: g.Tags,
		Locked: tags.ParseGroup(g.Tags).Locked, Nodes: g.NodeList, IPolicy: ipolicy, Networks: networks,
		CTime: g.CTime.Time, MTime: g.MTime.Time,
	}
}

func convertNetwork(clusterID int64, n *rapi.Network) store.CachedNetwork {
	conns := make([]store.NetworkConnection, 0, len(n.GroupList))
	for _, g := range n.GroupList {
		conns = append(conns, store.NetworkConnection{Group: g.Group, Mode: g.Mode, Link: g.Link, VLAN: g.VLAN})
	}
	return store.CachedNetwork{
		ClusterID: clusterID, Name: n.Name, UUID: n.UUID, Network: n.Network, Gateway: n.Gateway,
		Network6: n.Network6, Gateway6: n.Gateway6, MACPrefix: n.MACPrefix,
		FreeCount: n.FreeCount, ReservedCount: n.ReservedCount, InstanceCount: len(n.InstList),
		Groups: conns, Tags: n.Tags, CTime: n.CTime.Time, MTime: n.MTime.Time,
	}
}

func convertJob(clusterID int64, j *rapi.Job) store.CachedJob {
	cj := store.CachedJob{
		ClusterID: clusterID, ID: int64(j.ID), Status: string(j.Status), Summary: j.Summary,
		ReceivedAt: j.ReceivedAt.Time, StartedAt: j.StartedAt.Time, EndedAt: j.EndedAt.Time,
	}
	raw := make([]json.RawMessage, 0, len(j.Ops))
	size := 0
	for _, op := range j.Ops {
		cj.OpIDs = append(cj.OpIDs, op.ID)
		if op.InstanceName != "" && !slices.Contains(cj.Instances, op.InstanceName) {
			cj.Instances = append(cj.Instances, op.InstanceName)
		}
		raw = append(raw, op.Raw)
		size += len(op.Raw)
	}
	if size <= maxOpsJSON {
		cj.Ops, _ = json.Marshal(raw)
	} else {
		brief := make([]map[string]string, 0, len(j.Ops))
		for _, op := range j.Ops {
			brief = append(brief, map[string]string{"OP_ID": op.ID})
		}
		cj.Ops, _ = json.Marshal(brief)
	}
	for _, s := range j.OpStatus {
		cj.OpStatus = append(cj.OpStatus, string(s))
	}
	if len(j.OpResult) > 0 {
		if b, err := json.Marshal(j.OpResult); err == nil && len(b) <= maxOpsJSON {
			cj.OpResult = b
		}
	}
	if err := j.Err(); err != nil {
		cj.Error = err.Error()
	}
	cj.Log = convertJobLog(j.Log())
	return cj
}

// maxLogMessage bounds one log message kept in the cache.
const maxLogMessage = 4 << 10

// convertJobLog keeps the last store.MaxJobLogEntries entries of a job's
// log whose messages fit in store.MaxJobLogBytes together, each message
// cut to maxLogMessage bytes (at a character boundary).
func convertJobLog(entries []rapi.LogEntry) []store.JobLogEntry {
	if len(entries) > store.MaxJobLogEntries {
		entries = entries[len(entries)-store.MaxJobLogEntries:]
	}
	first, size := len(entries), 0
	for first > 0 {
		n := min(len(entries[first-1].Message), maxLogMessage)
		if size+n > store.MaxJobLogBytes {
			break
		}
		size += n
		first--
	}
	if first == len(entries) {
		return nil
	}
	out := make([]store.JobLogEntry, 0, len(entries)-first)
	for _, e := range entries[first:] {
		msg := e.Message
		if len(msg) > maxLogMessage {
			msg = strings.ToValidUTF8(msg[:maxLogMessage], "")
		}
		out = append(out, store.JobLogEntry{Serial: e.Serial, Time: e.Time.Time, Type: e.Type, Message: msg})
	}
	return out
}

// buildSnapshot converts everything read from a cluster. Resources whose
// read failed are nil and listed in skipped by the caller.
func buildSnapshot(clusterID int64, codec tags.Codec, info *rapi.Info, insts []rapi.Instance, nodes []rapi.Node,
	groups []rapi.Group, nets []rapi.Network, jobs []rapi.Job) *store.ClusterSnapshot {
	snap := &store.ClusterSnapshot{ClusterID: clusterID, Info: convertInfo(info)}

	groupName := make(map[string]string, len(groups))
	for i := range groups {
		groupName[groups[i].UUID] = groups[i].Name
	}
	nodeGroup := make(map[string]string, len(nodes))
	snap.Nodes = make([]store.CachedNode, 0, len(nodes))
	for i := range nodes {
		n := convertNode(clusterID, &nodes[i], groupName)
		nodeGroup[n.Name] = n.NodeGroup
		snap.Nodes = append(snap.Nodes, n)
	}
	groupNets := map[string][]string{}
	snap.Networks = make([]store.CachedNetwork, 0, len(nets))
	for i := range nets {
		for _, g := range nets[i].GroupList {
			groupNets[g.Group] = append(groupNets[g.Group], nets[i].Name)
		}
		snap.Networks = append(snap.Networks, convertNetwork(clusterID, &nets[i]))
	}
	snap.Groups = make([]store.CachedNodeGroup, 0, len(groups))
	for i := range groups {
		snap.Groups = append(snap.Groups, convertGroup(clusterID, &groups[i], groupNets[groups[i].Name]))
	}
	snap.Instances = make([]store.CachedInstance, 0, len(insts))
	for i := range insts {
		snap.Instances = append(snap.Instances, convertInstance(clusterID, &insts[i], codec, nodeGroup, info.DefaultHypervisor))
	}
	// Keep the newest jobs only.
	if len(jobs) > store.MaxCachedJobs {
		slices.SortFunc(jobs, func(a, b rapi.Job) int { return cmp.Compare(b.ID, a.ID) })
		jobs = jobs[:store.MaxCachedJobs]
	}
	snap.Jobs = make([]store.CachedJob, 0, len(jobs))
	for i := range jobs {
		snap.Jobs = append(snap.Jobs, convertJob(clusterID, &jobs[i]))
	}
	return snap
}
