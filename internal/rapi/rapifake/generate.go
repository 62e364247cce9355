package rapifake

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// NewCluster generates a fake cluster from opts. Generation is
// deterministic for a given Seed and set of options (apart from the TLS
// key). The cluster is not listening yet: call Start, or mount Handler.
func NewCluster(opts Options) (*Cluster, error) {
	o, err := normalize(opts)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		opts:       o,
		name:       o.Name,
		nodeByN:    map[string]*node{},
		groupByN:   map[string]*group{},
		netByN:     map[string]*network{},
		insts:      map[string]*instance{},
		jobByID:    map[int]*job{},
		nextJob:    1,
		osNames:    slices.Clone(o.OSNames),
		users:      map[string]User{},
		jobDelay:   o.JobDelay,
		rng:        rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
		macs:       map[string]bool{},
		cache:      map[string]cacheEntry{},
		pathCounts: map[string]int64{},
		tags:       []string{},
	}
	if c.jobDelay < 0 {
		c.jobDelay = 0
	}
	c.short, c.domain, _ = strings.Cut(o.Name, ".")
	if c.domain == "" {
		c.domain = "example.org"
	}
	for _, u := range o.Users {
		c.users[u.Name] = u
	}
	if err := json.Unmarshal([]byte(clusterDefaultsJSON), &c.defaults); err != nil {
		return nil, fmt.Errorf("decode cluster defaults: %w", err)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.generate()
	cert, err := newCertificate()
	if err != nil {
		return nil, err
	}
	c.cert.Store(cert)
	return c, nil
}

func normalize(o Options) (Options, error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Groups == 0 {
		o.Groups = 1
	}
	if o.Networks == 0 {
		o.Networks = 2
	}
	if o.Networks < 0 {
		o.Networks = 0
	}
	if o.Nodes < 0 || o.Groups < 0 || o.Instances < 0 {
		return o, fmt.Errorf("negative count in options")
	}
	if o.Groups > o.Nodes {
		return o, fmt.Errorf("more groups (%d) than nodes (%d)", o.Groups, o.Nodes)
	}
	if o.TagPrefix == "" {
		o.TagPrefix = DefaultTagPrefix
	}
	if o.Hypervisor == "" {
		o.Hypervisor = "fake"
	}
	if o.Hypervisor != "fake" && o.Hypervisor != "kvm" {
		return o, fmt.Errorf("unsupported hypervisor %q", o.Hypervisor)
	}
	if len(o.DiskTemplates) == 0 {
		o.DiskTemplates = []string{"diskless", "file", "plain", "drbd"}
	}
	for _, t := range o.DiskTemplates {
		if !slices.Contains(diskTemplates(), t) {
			return o, fmt.Errorf("unknown disk template %q", t)
		}
	}
	if len(o.OSNames) == 0 {
		o.OSNames = []string{"noop", "debootstrap+default", "debootstrap+bookworm", "image+debian-12"}
	}
	if len(o.Users) == 0 {
		o.Users = []User{{Name: "admin", Password: "admin", Write: true}, {Name: "viewer", Password: "viewer"}}
	}
	if o.JobDelay == 0 {
		o.JobDelay = DefaultJobDelay
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.BaseTime.IsZero() {
		o.BaseTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return o, nil
}

// diskTemplates returns the templates Ganeti knows.
func diskTemplates() []string {
	return []string{"diskless", "file", "sharedfile", "plain", "blockdev", "drbd", "rbd", "ext", "gluster"}
}

func (c *Cluster) newUUID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], c.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], c.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (c *Cluster) newMAC() string {
	for {
		v := c.rng.Uint32()
		m := fmt.Sprintf("aa:00:00:%02x:%02x:%02x", byte(v>>16), byte(v>>8), byte(v))
		if !c.macs[m] {
			c.macs[m] = true
			return m
		}
	}
}

func (c *Cluster) timeAgo(maxBack time.Duration) float64 {
	base := c.opts.BaseTime
	back := time.Duration(c.rng.Int64N(int64(maxBack)))
	t := base.Add(-back)
	return float64(t.UnixMicro()) / 1e6
}

func (c *Cluster) generate() {
	o := c.opts
	c.uuid = c.newUUID()
	c.ctime = c.timeAgo(4 * 365 * 24 * time.Hour)
	c.mtime = c.ctime + 3600
	c.serial = 1
	for i := range o.Groups {
		name := "default"
		if i > 0 {
			name = fmt.Sprintf("group%d", i+1)
		}
		g := &group{name: name, uuid: c.newUUID(), allocPolicy: "preferred", ctime: c.ctime + float64(i), mtime: c.mtime, serial: 1,
			tags: sortedUnique(o.GroupTags[name])}
		if i == 0 {
			// gnt-cluster init creates the default group with ctime 0.
			g.ctime = 0
		}
		c.groups = append(c.groups, g)
		c.groupByN[name] = g
	}
	for i := range o.Nodes {
		n := &node{
			name:   fmt.Sprintf("%s-node%02d.%s", c.short, i+1, c.domain),
			uuid:   c.newUUID(),
			group:  c.groups[i%len(c.groups)].name,
			pip:    fmt.Sprintf("198.51.%d.%d", 100+i/200, 10+i%200),
			master: i == 0,
			mc:     i < 10,
			mtotal: []int{131072, 262144, 524288}[c.rng.IntN(3)],
			mnode:  1024 + c.rng.IntN(2048),
			dtotal: []int{1048576, 2097152, 4194304}[c.rng.IntN(3)],
			cpus:   []int{16, 32, 64}[c.rng.IntN(3)],
			ctime:  c.ctime, mtime: c.mtime, serial: 1, tags: []string{},
		}
		n.sip = n.pip
		c.nodes = append(c.nodes, n)
		c.nodeByN[n.name] = n
	}
	slices.SortFunc(c.nodes, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	for k := range o.Networks {
		base := netip.AddrFrom4([4]byte{10, byte(100 + c.rng.IntN(100)), byte(k * 16), 0})
		nw := newNetwork(fmt.Sprintf("%s-net%d", c.short, k+1), c.newUUID(), base, 20)
		nw.ctime, nw.mtime = c.ctime, c.mtime
		for _, g := range c.groups {
			nw.conns = append(nw.conns, netConn{group: g.name, mode: "bridged", link: fmt.Sprintf("br-net%d", k+1)})
		}
		c.networks = append(c.networks, nw)
		c.netByN[nw.name] = nw
	}
	c.defaults["nicparams"] = map[string]any{"default": map[string]any{"mode": "bridged", "link": "br0", "vlan": ""}}
	for i := range o.Instances {
		c.addInstance(c.genInstance(i))
	}
}

func newNetwork(name, uuid string, base netip.Addr, bits int) *network {
	b4 := base.As4()
	nw := &network{
		name: name, uuid: uuid,
		cidr:     fmt.Sprintf("%s/%d", base, bits),
		base:     binary.BigEndian.Uint32(b4[:]),
		size:     1 << (32 - bits),
		reserved: map[int]bool{},
		used:     map[int]string{},
		serial:   1,
		tags:     []string{},
	}
	nw.gateway = nw.addr(1)
	nw.reserved[0], nw.reserved[1], nw.reserved[nw.size-1] = true, true, true
	return nw
}

func (nw *network) addr(i int) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], nw.base+uint32(i))
	return netip.AddrFrom4(b).String()
}

func (nw *network) index(ip string) (int, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	v := binary.BigEndian.Uint32(b[:])
	if v < nw.base || v >= nw.base+uint32(nw.size) {
		return 0, false
	}
	return int(v - nw.base), true
}

// nextFree returns the first free address of the network.
func (nw *network) nextFree() (string, bool) {
	for i := range nw.size {
		if !nw.reserved[i] && nw.used[i] == "" {
			return nw.addr(i), true
		}
	}
	return "", false
}

func (nw *network) free() int { return nw.size - len(nw.reserved) - len(nw.used) }

func (c *Cluster) genInstance(i int) *instance {
	o := c.opts
	r := c.rng
	namePrefixes := []string{"web", "db", "app", "build", "mail", "ci", "cache", "dev", "test", "proxy", "vpn", "files"}
	name := fmt.Sprintf("%s%05d.%s.%s", namePrefixes[r.IntN(len(namePrefixes))], i+1, c.short, c.domain)
	in := &instance{
		name: name, uuid: c.newUUID(), os: c.osNames[r.IntN(len(c.osNames))],
		template: o.DiskTemplates[r.IntN(len(o.DiskTemplates))], hypervisor: o.Hypervisor,
		snodes: []string{}, tags: []string{},
	}
	if len(c.nodes) > 0 {
		pn := c.nodes[(i+r.IntN(2))%len(c.nodes)]
		in.pnode = pn.name
		if in.template == "drbd" {
			var peers []*node
			for _, n := range c.nodes {
				if n.group == pn.group && n != pn {
					peers = append(peers, n)
				}
			}
			if len(peers) == 0 {
				in.template = "plain"
			} else {
				in.snodes = []string{peers[r.IntN(len(peers))].name}
			}
		}
	}
	if in.template != "diskless" {
		sizes := []int{5120, 10240, 20480, 40960, 102400}
		in.disks = append(in.disks, &disk{size: sizes[r.IntN(len(sizes))], uuid: c.newUUID(), mode: "rw"})
		if r.IntN(10) < 3 {
			dn := "data"
			in.disks = append(in.disks, &disk{size: sizes[r.IntN(len(sizes))] * 2, name: &dn, uuid: c.newUUID(), mode: "rw"})
		}
	}
	mems := []int{512, 1024, 2048, 4096, 8192, 16384}
	in.maxmem = mems[r.IntN(len(mems))]
	in.minmem = in.maxmem
	if r.IntN(4) == 0 {
		in.minmem = in.maxmem / 2
	}
	in.vcpus = []int{1, 1, 2, 2, 4, 8}[r.IntN(6)]
	switch p := r.IntN(100); {
	case p < 80:
		in.adminState, in.running = "up", true
	case p < 95:
		in.adminState = "down"
	case p < 98:
		in.adminState = "up"
	case p < 99:
		in.adminState, in.running = "down", true
	default:
		in.adminState = "offline"
	}
	nnics := 1
	if r.IntN(4) == 0 {
		nnics = 2
	}
	for k := range nnics {
		n := &nic{uuid: c.newUUID(), mac: c.newMAC(), mode: "bridged", link: "br0", vlan: ""}
		if k == 0 && r.IntN(3) == 0 {
			nn := "eth0"
			n.name = &nn
		}
		if len(c.networks) > 0 && r.IntN(10) < 7 {
			nw := c.networks[r.IntN(len(c.networks))]
			if ip, ok := nw.nextFree(); ok {
				uuid, nname := nw.uuid, nw.name
				n.ip, n.networkUUID, n.networkName = &ip, &uuid, &nname
				n.link = nw.conns[0].link
				if idx, ok := nw.index(ip); ok {
					nw.used[idx] = name
				}
			}
		}
		in.nics = append(in.nics, n)
	}
	if o.Hypervisor == "kvm" {
		port := 11000 + i
		in.networkPort = &port
		in.hvparams = map[string]any{"vnc_bind_address": "0.0.0.0", "serial_console": false}
	}
	var tags []string
	if len(o.Owners) > 0 {
		if r.IntN(10) < 9 {
			tags = append(tags, o.TagPrefix+":user:"+o.Owners[r.IntN(len(o.Owners))])
		}
		if r.IntN(100) < 15 {
			tags = append(tags, o.TagPrefix+":user:"+o.Owners[r.IntN(len(o.Owners))])
		}
	}
	if len(o.OwnerGroups) > 0 && r.IntN(10) < 3 {
		tags = append(tags, o.TagPrefix+":group:"+o.OwnerGroups[r.IntN(len(o.OwnerGroups))])
	}
	if r.IntN(2) == 0 {
		tags = append(tags, []string{"env:prod", "env:dev", "env:test"}[r.IntN(3)])
	}
	in.tags = sortedUnique(tags)
	in.ctime = c.timeAgo(3 * 365 * 24 * time.Hour)
	base := float64(o.BaseTime.UnixMicro()) / 1e6
	in.mtime = in.ctime + float64(r.Int64N(int64(base-in.ctime)+1)) + float64(r.IntN(1000000))/1e6
	if in.mtime > base {
		in.mtime = base
	}
	in.serial = 1 + r.IntN(20)
	return in
}
