package applications

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// ClusterData is what the cluster cache (and the declared networks) hold
// about one cluster: the input of BuildOptions.
type ClusterData struct {
	Cluster *store.Cluster
	// Status holds the cached /2/info (instance policy, disk templates);
	// nil or never synced gives no options.
	Status   *store.SyncStatus
	Groups   []*store.CachedNodeGroup
	Networks []*store.CachedNetwork
	Nodes    []*store.CachedNode
	// Declared are the networks administrators declared for the cluster.
	Declared []*store.Network
}

// ClusterOptions are the placements a reviewer may choose on one cluster.
type ClusterOptions struct {
	ClusterID   int64
	Slug        string
	Description string
	// FastCreate: administrators may create VMs directly on it.
	FastCreate bool
	// Synced is false while the cluster was never read: nothing is offered.
	Synced bool
	// DataAt is when the data was read.
	DataAt time.Time
	// InstanceCount is the number of instances on the cluster.
	InstanceCount int
	// DiskTemplates are the templates the cluster's instance policy allows
	// (extstorage left out), the default first.
	DiskTemplates []string
	// Limits are the instance policy's bounds, for display; nil when the
	// cluster reported none.
	Limits *PolicyLimits
	// Groups are the node groups; unallocatable ones are included and
	// marked, as are groups under maintenance.
	Groups []GroupOption
}

// PolicyLimits are the bounds of an instance policy (the union of its
// min/max ranges).
type PolicyLimits struct {
	MinMemoryMB, MaxMemoryMB int64
	MinVCPUs, MaxVCPUs       int
	MinDiskMB, MaxDiskMB     int64
}

// GroupOption is one node group of a cluster.
type GroupOption struct {
	Name        string
	AllocPolicy string
	// Allocatable: its policy allows new instances and it has a usable node.
	Allocatable bool
	// Locked: under maintenance (the "locked" tag). It may still be chosen.
	Locked bool
	// Nodes counts its usable nodes (online, not drained, VM-capable).
	Nodes int
	// DiskTemplates are the cluster's templates the group's policy allows.
	DiskTemplates []string
	// VGs are the volume groups offered (its "vg:" tags), for templates
	// that use one; the cluster default is always possible too.
	VGs []string
	// Networks are the NICs possible in the group; the preselected one is
	// marked Default.
	Networks []NetworkOption
}

// NetworkOption is one way to connect a new VM in a node group.
type NetworkOption struct {
	// Key identifies the option in a form: "gnt:<name>" for a gnt-network,
	// "link:<link>" for a declared bridged network, "" for the cluster's
	// default NIC parameters (offered when there is nothing else).
	Key string
	// Name is the gnt-network's name, or the declared network's link.
	Name string
	// Description is the declared network's description, if any.
	Description string
	Mode        string
	Link        string
	// Pool: the VM gets an address from the gnt-network's pool (routed
	// gnt-networks on clusters that use gnt-network).
	Pool bool
	// FreeCount and ReservedCount are the gnt-network's address counts.
	FreeCount     int
	ReservedCount int
	// Full: no free address left, so the option cannot be chosen.
	Full bool
	// Declared: an administrator declared this network (Description).
	Declared bool
	// Default: the preselected option (the cluster's default network).
	Default bool
}

// PlacementChoice is what a reviewer picked.
type PlacementChoice struct {
	ClusterID    int64
	NodeGroup    string
	Network      string // a NetworkOption.Key
	DiskTemplate string
	VG           string // "" for the default
}

// templatesWithVG are the disk templates that take a volume group.
var templatesWithVG = []string{"plain", "drbd"}

// NeedsVG reports whether a disk template takes a volume group.
func NeedsVG(template string) bool { return slices.Contains(templatesWithVG, template) }

// Eligible reports whether new VMs may go to the cluster: enabled, with
// instance creation not disabled.
func Eligible(c *store.Cluster) bool { return c != nil && !c.Disabled && !c.CreationDisabled }

// BuildOptions computes the placements possible on one cluster from its
// cached data. It is a pure function of d.
func BuildOptions(d ClusterData) ClusterOptions {
	c := d.Cluster
	o := ClusterOptions{ClusterID: c.ID, Slug: c.Slug, Description: c.Description, FastCreate: c.FastCreate}
	if d.Status == nil || d.Status.LastSuccessAt.IsZero() {
		return o
	}
	o.Synced, o.DataAt, o.InstanceCount = true, d.Status.LastSuccessAt, d.Status.InstanceCount

	var pol rapi.IPolicy
	if len(d.Status.Info.IPolicy) > 0 {
		_ = json.Unmarshal(d.Status.Info.IPolicy, &pol) // written by the syncer from a decoded policy
		o.Limits = policyLimits(pol)
	}
	o.DiskTemplates = offeredTemplates(pol.DiskTemplates, d.Status.Info.EnabledDiskTemplates)

	usable := map[string]int{}
	for _, n := range d.Nodes {
		if n.VMCapable && !n.Offline && !n.Drained {
			usable[n.NodeGroup]++
		}
	}
	defaultLink := ""
	for _, n := range d.Declared {
		if n.ClusterDefault {
			defaultLink = n.Link
		}
	}
	for _, g := range d.Groups {
		gt := tags.ParseGroup(g.Tags)
		opt := GroupOption{Name: g.Name, AllocPolicy: g.AllocPolicy, Locked: g.Locked || gt.Locked,
			Nodes: usable[g.Name], DiskTemplates: o.DiskTemplates, VGs: gt.VGs}
		if len(d.Nodes) == 0 {
			// Nodes not read yet: trust the group's node list.
			opt.Nodes = len(g.Nodes)
		}
		opt.Allocatable = g.AllocPolicy != "unallocable" && opt.Nodes > 0
		if len(g.IPolicy) > 0 {
			var gp rapi.IPolicy
			if json.Unmarshal(g.IPolicy, &gp) == nil && len(gp.DiskTemplates) > 0 {
				opt.DiskTemplates = slices.DeleteFunc(slices.Clone(o.DiskTemplates), func(t string) bool {
					return !slices.Contains(gp.DiskTemplates, t)
				})
			}
		}
		opt.Networks = groupNetworks(c, g.Name, d.Networks, d.Declared, defaultLink)
		o.Groups = append(o.Groups, opt)
	}
	// Allocatable groups first, then by name.
	slices.SortStableFunc(o.Groups, func(a, b GroupOption) int {
		if a.Allocatable != b.Allocatable {
			if a.Allocatable {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return o
}

// offeredTemplates returns the policy's templates that are enabled (when
// the cluster lists its enabled ones), in the policy's order, without
// extstorage (which needs a provider ganetimgr does not offer).
func offeredTemplates(policy, enabled []string) []string {
	var out []string
	for _, t := range policy {
		if t == "ext" || (len(enabled) > 0 && !slices.Contains(enabled, t)) || slices.Contains(out, t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

func policyLimits(p rapi.IPolicy) *PolicyLimits {
	if len(p.MinMax) == 0 {
		return nil
	}
	l := &PolicyLimits{MinMemoryMB: p.MinMax[0].Min.MemorySize, MaxMemoryMB: p.MinMax[0].Max.MemorySize,
		MinVCPUs: p.MinMax[0].Min.CPUCount, MaxVCPUs: p.MinMax[0].Max.CPUCount,
		MinDiskMB: p.MinMax[0].Min.DiskSize, MaxDiskMB: p.MinMax[0].Max.DiskSize}
	for _, mm := range p.MinMax[1:] {
		l.MinMemoryMB, l.MaxMemoryMB = min(l.MinMemoryMB, mm.Min.MemorySize), max(l.MaxMemoryMB, mm.Max.MemorySize)
		l.MinVCPUs, l.MaxVCPUs = min(l.MinVCPUs, mm.Min.CPUCount), max(l.MaxVCPUs, mm.Max.CPUCount)
		l.MinDiskMB, l.MaxDiskMB = min(l.MinDiskMB, mm.Min.DiskSize), max(l.MaxDiskMB, mm.Max.DiskSize)
	}
	return l
}

// groupNetworks lists the NICs possible in one group: the gnt-networks
// connected to it, then the cluster's declared bridged networks not already
// among them; or, with neither, the cluster's default NIC parameters.
func groupNetworks(c *store.Cluster, group string, gnt []*store.CachedNetwork, declared []*store.Network, defaultLink string) []NetworkOption {
	var out []NetworkOption
	byLink := map[string]*store.Network{}
	for _, n := range declared {
		byLink[n.Link] = n
	}
	seenLinks := map[string]bool{}
	for _, n := range gnt {
		for _, conn := range n.Groups {
			if conn.Group != group {
				continue
			}
			opt := NetworkOption{Key: "gnt:" + n.Name, Name: n.Name, Mode: conn.Mode, Link: conn.Link,
				FreeCount: n.FreeCount, ReservedCount: n.ReservedCount}
			if conn.Mode == "routed" && c.UseGntNetwork {
				opt.Pool = true
				opt.Full = n.FreeCount < 1
			}
			if dn := byLink[conn.Link]; dn != nil && dn.Mode == conn.Mode {
				opt.Declared, opt.Description = true, dn.Description
				seenLinks[conn.Link] = true
			}
			opt.Default = defaultLink != "" && conn.Link == defaultLink
			out = append(out, opt)
			break
		}
	}
	for _, n := range declared {
		if n.Mode != "bridged" || seenLinks[n.Link] {
			continue
		}
		out = append(out, NetworkOption{Key: "link:" + n.Link, Name: n.Link, Description: n.Description,
			Mode: n.Mode, Link: n.Link, Declared: true, Default: n.ClusterDefault})
	}
	if len(out) == 0 {
		return []NetworkOption{{Key: "", Default: true}}
	}
	// One default at most; without a declared default, the first option
	// that can be chosen.
	def := slices.IndexFunc(out, func(o NetworkOption) bool { return o.Default && !o.Full })
	for i := range out {
		out[i].Default = false
	}
	if def < 0 {
		def = slices.IndexFunc(out, func(o NetworkOption) bool { return !o.Full })
	}
	if def >= 0 {
		out[def].Default = true
	}
	return out
}

// Group returns the named group option.
func (o *ClusterOptions) Group(name string) (*GroupOption, bool) {
	for i := range o.Groups {
		if o.Groups[i].Name == name {
			return &o.Groups[i], true
		}
	}
	return nil, false
}

// DefaultNetwork returns the key of the group's preselected network;
// requestedLink (the link of the declared network the applicant asked
// for, "" for none) wins when the group offers it.
func (g *GroupOption) DefaultNetwork(requestedLink string) string {
	if requestedLink != "" {
		for _, n := range g.Networks {
			if n.Link == requestedLink && !n.Full {
				return n.Key
			}
		}
	}
	for _, n := range g.Networks {
		if n.Default {
			return n.Key
		}
	}
	return ""
}

// Resolve checks a reviewer's choice against the options and returns the
// placement to store.
func (o *ClusterOptions) Resolve(c PlacementChoice) (store.Placement, *ValidationError) {
	if c.ClusterID != o.ClusterID || !o.Synced {
		return store.Placement{}, invalidForm(fieldErr("cluster", i18n.M("applications.placement.cluster")))
	}
	g, ok := o.Group(c.NodeGroup)
	if !ok || !g.Allocatable {
		return store.Placement{}, invalidForm(fieldErr("node_group", i18n.M("applications.placement.node_group")))
	}
	errs := &ValidationError{}
	p := store.Placement{ClusterID: o.ClusterID, NodeGroup: g.Name, DiskTemplate: c.DiskTemplate}
	if !slices.Contains(g.DiskTemplates, c.DiskTemplate) {
		errs.add(fieldErr("disk_template", i18n.M("applications.placement.disk_template")))
	}
	switch vg := strings.TrimSpace(c.VG); {
	case vg == "":
	case !NeedsVG(c.DiskTemplate) || !slices.Contains(g.VGs, vg):
		errs.add(fieldErr("vg", i18n.M("applications.placement.vg")))
	default:
		p.VG = vg
	}
	i := slices.IndexFunc(g.Networks, func(n NetworkOption) bool { return n.Key == c.Network })
	if i < 0 || g.Networks[i].Full {
		errs.add(fieldErr("network", i18n.M("applications.placement.network")))
	} else if n := g.Networks[i]; n.Key != "" {
		p.NetworkName = n.Name
		if n.Pool {
			p.NetworkPool = true
		} else {
			p.NetworkLink, p.NetworkMode = n.Link, n.Mode
		}
	}
	if e := errs.orNil(); e != nil {
		return store.Placement{}, e
	}
	return p, nil
}

// ChoiceOf returns the choice a stored placement most likely came from
// (to preselect a failed application's placement again; Resolve checks
// it like any other choice).
func ChoiceOf(p store.Placement) PlacementChoice {
	key := ""
	switch {
	case p.NetworkName == "":
	case p.NetworkPool || p.NetworkLink != p.NetworkName:
		key = "gnt:" + p.NetworkName
	default:
		key = "link:" + p.NetworkLink
	}
	return PlacementChoice{ClusterID: p.ClusterID, NodeGroup: p.NodeGroup, Network: key,
		DiskTemplate: p.DiskTemplate, VG: p.VG}
}

// pickNodes chooses the primary node (and for drbd the secondary) in a
// node group: the usable nodes with the most free memory. Nothing is
// chosen when the cache has no usable node (Ganeti's default allocator
// decides then).
func pickNodes(nodes []*store.CachedNode, group, template string) (pnode, snode string) {
	var cand []*store.CachedNode
	for _, n := range nodes {
		if n.NodeGroup == group && n.VMCapable && !n.Offline && !n.Drained {
			cand = append(cand, n)
		}
	}
	slices.SortStableFunc(cand, func(a, b *store.CachedNode) int {
		if c := cmp.Compare(b.MemoryFreeMB, a.MemoryFreeMB); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if len(cand) == 0 || (template == "drbd" && len(cand) < 2) {
		return "", ""
	}
	if template == "drbd" {
		return cand[0].Name, cand[1].Name
	}
	return cand[0].Name, ""
}
