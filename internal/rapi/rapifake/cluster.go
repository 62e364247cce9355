package rapifake

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults used by NewCluster when an Options field is left at its zero
// value.
const (
	// DefaultTagPrefix is the prefix of ownership tags
	// ("<prefix>:user:<name>", "<prefix>:group:<name>").
	DefaultTagPrefix = "ganetimgr"
	// DefaultJobDelay is how long a job takes from submission to its end.
	DefaultJobDelay = 200 * time.Millisecond
	// NoJobDelay, given as Options.JobDelay, makes jobs finish before the
	// submitting request returns.
	NoJobDelay time.Duration = -1
	// DefaultWaitTimeout is how long GET /2/jobs/<id>/wait blocks when the
	// job does not change (the real daemon uses about 10 s).
	DefaultWaitTimeout = 10 * time.Second
	// DefaultName is the cluster name used when Options.Name is empty.
	DefaultName = "cluster1.example.org"
	// ServerHeader is the Server header value sent on every answer.
	ServerHeader = "Ganeti 3.0.2"
)

// User is a RAPI user: Basic-auth credentials and access level. Password is
// cleartext, "{cleartext}..." or "{HA1}<md5 hex of user:Ganeti Remote
// API:password>", like the real users file.
type User struct {
	Name     string
	Password string
	// Write grants write access (PUT, POST, DELETE, job wait); without it
	// the user can only read.
	Write bool
}

// Options describe the cluster NewCluster generates. Zero values select
// sensible defaults.
type Options struct {
	// Name is the cluster name (default DefaultName). Node and instance
	// names are derived from its first label and its domain.
	Name string
	// Nodes is the number of nodes (default 3).
	Nodes int
	// Groups is the number of node groups (default 1, named "default",
	// then "group2", "group3", ...). Nodes are spread round-robin.
	Groups int
	// GroupTags sets tags on groups by name, e.g. {"group2": {"locked"}}.
	GroupTags map[string][]string
	// Networks is the number of /20 networks connected to every group
	// (default 2; use -1 for none).
	Networks int
	// Instances is the number of generated instances.
	Instances int
	// TagPrefix is the ownership tag prefix (default DefaultTagPrefix).
	TagPrefix string
	// Owners are user names distributed over instances as
	// "<prefix>:user:<name>" tags.
	Owners []string
	// OwnerGroups are group names distributed over instances as
	// "<prefix>:group:<name>" tags.
	OwnerGroups []string
	// Seed makes generation deterministic; the same seed and options give
	// the same model.
	Seed uint64
	// Hypervisor is "fake" (default, like the recorded cluster) or "kvm"
	// (instances get a VNC network_port and a vnc console).
	Hypervisor string
	// DiskTemplates are the enabled templates instances are spread over
	// (default diskless, file, plain, drbd).
	DiskTemplates []string
	// OSNames is the OS list (default noop, debootstrap+default,
	// debootstrap+bookworm, image+debian-12).
	OSNames []string
	// Users are the RAPI users (default: "admin"/"admin" with write,
	// "viewer"/"viewer" read-only).
	Users []User
	// JobDelay is the time a job needs to finish (default DefaultJobDelay;
	// NoJobDelay for instant jobs).
	JobDelay time.Duration
	// WaitTimeout bounds GET /2/jobs/<id>/wait (default DefaultWaitTimeout).
	WaitTimeout time.Duration
	// KeepAlive drops the "Connection: close" header the real daemon sends
	// on every answer, so clients can reuse connections.
	KeepAlive bool
	// Addr is the listen address used by Start (default "127.0.0.1:0").
	Addr string
	// BaseTime anchors generated ctime/mtime values (default
	// 2026-01-01T00:00:00Z, for determinism).
	BaseTime time.Time
}

// Cluster is one fake Ganeti cluster: its model, its HTTP handler, its
// faults, counters and TLS certificate. All methods are safe for
// concurrent use.
type Cluster struct {
	opts      Options
	name      string
	short     string
	domain    string
	defaults  map[string]any
	mu        sync.RWMutex
	gen       uint64
	uuid      string
	ctime     float64
	mtime     float64
	serial    int
	tags      []string
	nodes     []*node
	nodeByN   map[string]*node
	groups    []*group
	groupByN  map[string]*group
	networks  []*network
	netByN    map[string]*network
	insts     map[string]*instance
	instNames []string
	jobs      []*job
	jobByID   map[int]*job
	nextJob   int
	osNames   []string
	users     map[string]User
	jobDelay  time.Duration
	rng       *rand.Rand
	macs      map[string]bool

	cacheMu sync.Mutex
	cache   map[string]cacheEntry

	faultMu sync.Mutex
	faults  Faults

	total      atomic.Int64
	countMu    sync.Mutex
	pathCounts map[string]int64

	cert atomic.Pointer[tls.Certificate]

	ctx    context.Context
	cancel context.CancelFunc

	srvMu sync.Mutex
	srv   *http.Server
	ln    net.Listener
	url   string
}

type cacheEntry struct {
	gen  uint64
	body []byte
}

type node struct {
	name, uuid, group, pip, sip string
	offline, drained, mc        bool
	master                      bool
	mtotal, mnode, dtotal       int
	cpus                        int
	ctime, mtime                float64
	serial                      int
	tags                        []string
}

type group struct {
	name, uuid, allocPolicy string
	ctime, mtime            float64
	serial                  int
	tags                    []string
}

type netConn struct {
	group, mode, link, vlan string
}

type network struct {
	name, uuid, cidr, gateway string
	network6, gateway6        *string
	base                      uint32
	size                      int
	reserved                  map[int]bool
	used                      map[int]string
	conns                     []netConn
	ctime, mtime              float64
	serial                    int
	tags                      []string
}

type nic struct {
	name        *string
	uuid, mac   string
	mode, link  string
	vlan        string
	ip          *string
	networkUUID *string
	networkName *string
}

type disk struct {
	size int
	name *string
	uuid string
	mode string
}

type instance struct {
	name, uuid, os, pnode string
	snodes                []string
	adminState            string
	running               bool
	template              string
	hypervisor            string
	nics                  []*nic
	disks                 []*disk
	minmem, maxmem, vcpus int
	hvparams              map[string]any
	osparams              map[string]any
	networkPort           *int
	ctime, mtime          float64
	serial                int
	tags                  []string
	enc                   []byte
}

// status derives the Ganeti instance status from the desired and actual
// state.
func (in *instance) status() string {
	switch {
	case in.adminState == "offline":
		return "ADMIN_offline"
	case in.adminState == "up" && in.running:
		return "running"
	case in.adminState == "up":
		return "ERROR_down"
	case in.running:
		return "ERROR_up"
	default:
		return "ADMIN_down"
	}
}

func (in *instance) diskUsage() int {
	total := 0
	for _, d := range in.disks {
		total += d.size
		if in.template == "drbd" {
			total += 128
		}
	}
	if in.template == "diskless" {
		return 0
	}
	return total
}

type beJSON struct {
	MinMem         int  `json:"minmem"`
	MaxMem         int  `json:"maxmem"`
	VCPUs          int  `json:"vcpus"`
	AutoBalance    bool `json:"auto_balance"`
	AlwaysFailover bool `json:"always_failover"`
	SpindleUse     int  `json:"spindle_use"`
	Memory         int  `json:"memory"`
}

type customBeJSON struct {
	MinMem int `json:"minmem"`
	MaxMem int `json:"maxmem"`
	VCPUs  int `json:"vcpus"`
}

type instanceJSON struct {
	Name            string           `json:"name"`
	AdminState      string           `json:"admin_state"`
	OS              string           `json:"os"`
	PNode           string           `json:"pnode"`
	SNodes          []string         `json:"snodes"`
	DiskTemplate    string           `json:"disk_template"`
	NICIPs          []*string        `json:"nic.ips"`
	NICMACs         []string         `json:"nic.macs"`
	NICModes        []string         `json:"nic.modes"`
	NICUUIDs        []string         `json:"nic.uuids"`
	NICNames        []*string        `json:"nic.names"`
	NICLinks        []string         `json:"nic.links"`
	NICNetworks     []*string        `json:"nic.networks"`
	NICNetworkNames []*string        `json:"nic.networks.names"`
	NICBridges      []*string        `json:"nic.bridges"`
	NetworkPort     *int             `json:"network_port"`
	DiskSizes       []int            `json:"disk.sizes"`
	DiskSpindles    []*int           `json:"disk.spindles"`
	DiskUsage       int              `json:"disk_usage"`
	DiskUUIDs       []string         `json:"disk.uuids"`
	DiskNames       []*string        `json:"disk.names"`
	BeParams        beJSON           `json:"beparams"`
	HVParams        map[string]any   `json:"hvparams"`
	OperState       bool             `json:"oper_state"`
	OperRAM         *int             `json:"oper_ram"`
	OperVCPUs       *int             `json:"oper_vcpus"`
	Status          string           `json:"status"`
	CustomHVParams  map[string]any   `json:"custom_hvparams"`
	CustomBeParams  customBeJSON     `json:"custom_beparams"`
	CustomNICParams []map[string]any `json:"custom_nicparams"`
	CTime           float64          `json:"ctime"`
	MTime           float64          `json:"mtime"`
	UUID            string           `json:"uuid"`
	SerialNo        int              `json:"serial_no"`
	Tags            []string         `json:"tags"`
}

func (in *instance) toJSON() instanceJSON {
	j := instanceJSON{
		Name: in.name, AdminState: in.adminState, OS: in.os, PNode: in.pnode,
		SNodes: nonNil(in.snodes), DiskTemplate: in.template,
		NICIPs: []*string{}, NICMACs: []string{}, NICModes: []string{}, NICUUIDs: []string{},
		NICNames: []*string{}, NICLinks: []string{}, NICNetworks: []*string{},
		NICNetworkNames: []*string{}, NICBridges: []*string{},
		NetworkPort: in.networkPort,
		DiskSizes:   []int{}, DiskSpindles: []*int{}, DiskUsage: in.diskUsage(),
		DiskUUIDs: []string{}, DiskNames: []*string{},
		BeParams: beJSON{MinMem: in.minmem, MaxMem: in.maxmem, VCPUs: in.vcpus,
			AutoBalance: true, SpindleUse: 1, Memory: in.maxmem},
		HVParams:        nonNilMap(in.hvparams),
		OperState:       in.running,
		Status:          in.status(),
		CustomHVParams:  nonNilMap(in.hvparams),
		CustomBeParams:  customBeJSON{MinMem: in.minmem, MaxMem: in.maxmem, VCPUs: in.vcpus},
		CustomNICParams: []map[string]any{},
		CTime:           in.ctime, MTime: in.mtime, UUID: in.uuid, SerialNo: in.serial,
		Tags: nonNil(in.tags),
	}
	if in.running {
		ram, cpus := in.maxmem, in.vcpus
		j.OperRAM, j.OperVCPUs = &ram, &cpus
	}
	for _, n := range in.nics {
		j.NICIPs = append(j.NICIPs, n.ip)
		j.NICMACs = append(j.NICMACs, n.mac)
		j.NICModes = append(j.NICModes, n.mode)
		j.NICUUIDs = append(j.NICUUIDs, n.uuid)
		j.NICNames = append(j.NICNames, n.name)
		j.NICLinks = append(j.NICLinks, n.link)
		j.NICNetworks = append(j.NICNetworks, n.networkUUID)
		j.NICNetworkNames = append(j.NICNetworkNames, n.networkName)
		if n.mode == "bridged" || n.mode == "openvswitch" {
			l := n.link
			j.NICBridges = append(j.NICBridges, &l)
		} else {
			j.NICBridges = append(j.NICBridges, nil)
		}
		if n.networkUUID != nil {
			j.CustomNICParams = append(j.CustomNICParams, map[string]any{"mode": n.mode, "link": n.link, "vlan": n.vlan})
		} else {
			j.CustomNICParams = append(j.CustomNICParams, map[string]any{})
		}
	}
	for _, d := range in.disks {
		j.DiskSizes = append(j.DiskSizes, d.size)
		j.DiskSpindles = append(j.DiskSpindles, nil)
		j.DiskUUIDs = append(j.DiskUUIDs, d.uuid)
		j.DiskNames = append(j.DiskNames, d.name)
	}
	return j
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// marshal encodes v as JSON without HTML escaping and without a trailing
// newline.
func marshal(v any) []byte {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only reachable with unsupported types, which the package never
		// encodes; answer null rather than panic.
		return []byte("null")
	}
	return []byte(strings.TrimSuffix(b.String(), "\n"))
}

// touch re-encodes an instance after a change, bumps its serial and mtime,
// and invalidates list caches. Callers hold c.mu for writing.
func (c *Cluster) touch(in *instance) {
	in.serial++
	in.mtime = nowFloat()
	in.enc = marshal(in.toJSON())
	c.gen++
}

// changed marks the model as modified (caches invalidated). Callers hold
// c.mu for writing.
func (c *Cluster) changed() {
	c.gen++
}

func (c *Cluster) addInstance(in *instance) {
	in.enc = marshal(in.toJSON())
	c.insts[in.name] = in
	i, _ := slices.BinarySearch(c.instNames, in.name)
	c.instNames = slices.Insert(c.instNames, i, in.name)
	for _, n := range in.nics {
		c.claimIP(n, in.name)
	}
	c.gen++
}

func (c *Cluster) removeInstance(name string) {
	in := c.insts[name]
	if in == nil {
		return
	}
	for _, n := range in.nics {
		c.releaseIP(n)
	}
	delete(c.insts, name)
	if i, ok := slices.BinarySearch(c.instNames, name); ok {
		c.instNames = slices.Delete(c.instNames, i, i+1)
	}
	c.gen++
}

func (c *Cluster) claimIP(n *nic, owner string) {
	if n.networkName == nil || n.ip == nil {
		return
	}
	if nw := c.netByN[*n.networkName]; nw != nil {
		if idx, ok := nw.index(*n.ip); ok {
			nw.used[idx] = owner
		}
	}
}

func (c *Cluster) releaseIP(n *nic) {
	if n.networkName == nil || n.ip == nil {
		return
	}
	if nw := c.netByN[*n.networkName]; nw != nil {
		if idx, ok := nw.index(*n.ip); ok {
			delete(nw.used, idx)
		}
	}
}

// cached returns the cached body for key if it is still valid for the
// current model generation, or builds and stores it. Callers hold c.mu
// (read or write).
func (c *Cluster) cached(key string, build func() []byte) []byte {
	c.cacheMu.Lock()
	e, ok := c.cache[key]
	c.cacheMu.Unlock()
	if ok && e.gen == c.gen {
		return e.body
	}
	body := build()
	c.cacheMu.Lock()
	c.cache[key] = cacheEntry{gen: c.gen, body: body}
	c.cacheMu.Unlock()
	return body
}

func nowFloat() float64 {
	t := time.Now()
	return float64(t.UnixMicro()) / 1e6
}

// Name returns the cluster name.
func (c *Cluster) Name() string { return c.name }

// TagPrefix returns the ownership tag prefix in use.
func (c *Cluster) TagPrefix() string { return c.opts.TagPrefix }

// InstanceCount returns the number of instances in the model.
func (c *Cluster) InstanceCount() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.insts)
}

// InstanceNames returns the instance names, sorted.
func (c *Cluster) InstanceNames() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.instNames)
}

// NodeNames returns the node names, sorted.
func (c *Cluster) NodeNames() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.nodes))
	for _, n := range c.nodes {
		out = append(out, n.name)
	}
	return out
}

// InstanceInfo is a read-only snapshot of one instance of the model.
type InstanceInfo struct {
	Name, PNode, OS, DiskTemplate, Status, AdminState string
	Running                                           bool
	MaxMem, VCPUs                                     int
	Tags                                              []string
	SerialNo                                          int
}

// Instance returns a snapshot of the named instance.
func (c *Cluster) Instance(name string) (InstanceInfo, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	in := c.insts[name]
	if in == nil {
		return InstanceInfo{}, false
	}
	return InstanceInfo{Name: in.name, PNode: in.pnode, OS: in.os, DiskTemplate: in.template,
		Status: in.status(), AdminState: in.adminState, Running: in.running,
		MaxMem: in.maxmem, VCPUs: in.vcpus, Tags: slices.Clone(in.tags), SerialNo: in.serial}, true
}

// SetInstanceState changes an instance's desired state ("up", "down" or
// "offline") and whether it actually runs, without a job, as a watcher or
// a crash would (e.g. "up" and not running gives ERROR_down).
func (c *Cluster) SetInstanceState(name, adminState string, running bool) error {
	switch adminState {
	case "up", "down", "offline":
	default:
		return fmt.Errorf("invalid admin state %q", adminState)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.insts[name]
	if in == nil {
		return fmt.Errorf("instance %q not found", name)
	}
	in.adminState, in.running = adminState, running
	c.touch(in)
	return nil
}

// SetInstanceTags replaces an instance's tags without a job.
func (c *Cluster) SetInstanceTags(name string, tags []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.insts[name]
	if in == nil {
		return fmt.Errorf("instance %q not found", name)
	}
	in.tags = sortedUnique(tags)
	c.touch(in)
	return nil
}

// SetGroupTags replaces a node group's tags (e.g. to mark it locked for
// maintenance) without a job.
func (c *Cluster) SetGroupTags(name string, tags []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groupByN[name]
	if g == nil {
		return fmt.Errorf("group %q not found", name)
	}
	g.tags = sortedUnique(tags)
	g.serial++
	g.mtime = nowFloat()
	c.changed()
	return nil
}

// SetNodeState sets a node's offline and drained flags without a job.
func (c *Cluster) SetNodeState(name string, offline, drained bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodeByN[name]
	if n == nil {
		return fmt.Errorf("node %q not found", name)
	}
	n.offline, n.drained = offline, drained
	n.serial++
	n.mtime = nowFloat()
	c.changed()
	return nil
}

// SetJobDelay changes the duration of jobs submitted from now on; zero or
// a negative value makes them instant.
func (c *Cluster) SetJobDelay(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobDelay = d
}

// JobCount returns the number of jobs in the queue (all states).
func (c *Cluster) JobCount() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.jobs)
}

// Serial returns a counter that changes on every model change.
func (c *Cluster) Serial() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}
