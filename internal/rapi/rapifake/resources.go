package rapifake

import (
	"bytes"
	"maps"
	"slices"
	"strings"
)

func (c *Cluster) getInfo(*request) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cached("info", func() []byte {
		m := maps.Clone(c.defaults)
		master := ""
		for _, n := range c.nodes {
			if n.master {
				master = n.name
			}
		}
		m["name"] = c.name
		m["master"] = master
		m["uuid"] = c.uuid
		m["ctime"] = c.ctime
		m["mtime"] = c.mtime
		m["tags"] = nonNil(c.tags)
		m["default_hypervisor"] = c.opts.Hypervisor
		m["enabled_hypervisors"] = []string{c.opts.Hypervisor}
		m["enabled_disk_templates"] = c.opts.DiskTemplates
		if ip, ok := m["ipolicy"].(map[string]any); ok {
			ip = maps.Clone(ip)
			ip["disk-templates"] = c.opts.DiskTemplates
			m["ipolicy"] = ip
		}
		if slices.Contains(c.opts.DiskTemplates, "plain") || slices.Contains(c.opts.DiskTemplates, "drbd") {
			m["volume_group_name"] = "xenvg"
			m["vg_name"] = "xenvg"
		}
		if slices.Contains(c.opts.DiskTemplates, "drbd") {
			m["drbd_usermode_helper"] = "/bin/true"
			m["drbd_helper"] = "/bin/true"
		}
		return marshal(m)
	}), nil
}

func (c *Cluster) getOS(*request) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return marshal(c.osNames), nil
}

func (c *Cluster) ipolicy() any  { return c.defaults["ipolicy"] }
func (c *Cluster) ndparams() any { return c.defaults["ndparams"] }

// nodeStats aggregates instance data per node. Callers hold c.mu.
type nodeStat struct {
	pinst, sinst []string
	memUsed      int
	diskUsed     int
}

func (c *Cluster) nodeStats() map[string]*nodeStat {
	st := make(map[string]*nodeStat, len(c.nodes))
	for _, n := range c.nodes {
		st[n.name] = &nodeStat{pinst: []string{}, sinst: []string{}}
	}
	for _, name := range c.instNames {
		in := c.insts[name]
		if s := st[in.pnode]; s != nil {
			s.pinst = append(s.pinst, name)
			if in.running {
				s.memUsed += in.maxmem
			}
			s.diskUsed += in.diskUsage()
		}
		for _, sn := range in.snodes {
			if s := st[sn]; s != nil {
				s.sinst = append(s.sinst, name)
				s.diskUsed += in.diskUsage()
			}
		}
	}
	return st
}

func (n *node) role() (letter, word string) {
	switch {
	case n.master:
		return "M", "master"
	case n.offline:
		return "O", "offline"
	case n.drained:
		return "D", "drained"
	case n.mc:
		return "C", "master-candidate"
	}
	return "R", "regular"
}

func (c *Cluster) nodeMap(n *node, s *nodeStat, single bool) map[string]any {
	letter, _ := n.role()
	g := c.groupByN[n.group]
	m := map[string]any{
		"name": n.name, "offline": n.offline, "master_candidate": n.mc || n.master, "drained": n.drained,
		"dtotal": n.dtotal, "dfree": n.dtotal - s.diskUsed, "sptotal": nil, "spfree": nil,
		"mtotal": n.mtotal, "mnode": n.mnode, "mfree": n.mtotal - n.mnode - s.memUsed,
		"pinst_cnt": len(s.pinst), "sinst_cnt": len(s.sinst),
		"ctotal": n.cpus, "cnos": n.cpus, "cnodes": 2, "csockets": 2,
		"pip": n.pip, "sip": n.sip, "role": letter,
		"pinst_list": s.pinst, "sinst_list": s.sinst,
		"master_capable": true, "vm_capable": true, "ndparams": c.ndparams(),
		"group.uuid": g.uuid,
		"ctime":      n.ctime, "mtime": n.mtime, "uuid": n.uuid, "serial_no": n.serial, "tags": nonNil(n.tags),
	}
	if n.offline {
		for _, k := range []string{"dtotal", "dfree", "mtotal", "mnode", "mfree", "ctotal", "cnos", "cnodes", "csockets"} {
			m[k] = nil
		}
	}
	if single {
		m["secondary_ip"] = n.sip
	}
	return m
}

func (c *Cluster) getNodes(q *request) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if q.flag("bulk") {
		return c.cached("nodes?bulk", func() []byte {
			st := c.nodeStats()
			out := make([]map[string]any, 0, len(c.nodes))
			for _, n := range c.nodes {
				out = append(out, c.nodeMap(n, st[n.name], false))
			}
			return marshal(out)
		}), nil
	}
	out := make([]idURI, 0, len(c.nodes))
	for _, n := range c.nodes {
		out = append(out, idURI{ID: n.name, URI: "/2/nodes/" + n.name})
	}
	return marshal(out), nil
}

type idURI struct {
	ID  any    `json:"id"`
	URI string `json:"uri"`
}

type nameURI struct {
	Name string `json:"name"`
	URI  string `json:"uri"`
}

func (c *Cluster) getNode(name string) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.nodeByN[name]
	if n == nil {
		return nil, notFound()
	}
	return marshal(c.nodeMap(n, c.nodeStats()[name], true)), nil
}

func (c *Cluster) getNodeRole(name string) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.nodeByN[name]
	if n == nil {
		return nil, notFound()
	}
	_, word := n.role()
	return marshal(word), nil
}

func (c *Cluster) groupMap(g *group) map[string]any {
	nodes := []string{}
	for _, n := range c.nodes {
		if n.group == g.name {
			nodes = append(nodes, n.name)
		}
	}
	ip, _ := c.ipolicy().(map[string]any)
	ip = maps.Clone(ip)
	ip["disk-templates"] = c.opts.DiskTemplates
	return map[string]any{
		"alloc_policy": g.allocPolicy, "name": g.name, "node_cnt": len(nodes), "node_list": nodes,
		"ipolicy": ip, "custom_ipolicy": map[string]any{},
		"diskparams": c.defaults["diskparams"], "custom_diskparams": map[string]any{},
		"ndparams": c.ndparams(), "custom_ndparams": map[string]any{},
		"ctime": jsonTime(g.ctime), "mtime": g.mtime, "uuid": g.uuid, "serial_no": g.serial, "tags": nonNil(g.tags),
	}
}

func (c *Cluster) getGroups(q *request) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if q.flag("bulk") {
		out := make([]map[string]any, 0, len(c.groups))
		for _, g := range c.groups {
			out = append(out, c.groupMap(g))
		}
		return marshal(out), nil
	}
	out := make([]nameURI, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, nameURI{g.name, "/2/groups/" + g.name})
	}
	return marshal(out), nil
}

func (c *Cluster) getGroup(name string) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	g := c.groupByN[name]
	if g == nil {
		return nil, notFound()
	}
	return marshal(c.groupMap(g)), nil
}

func (c *Cluster) networkMap(nw *network) map[string]any {
	var mp strings.Builder
	mp.Grow(nw.size)
	for i := range nw.size {
		if nw.reserved[i] || nw.used[i] != "" {
			mp.WriteByte('X')
		} else {
			mp.WriteByte('.')
		}
	}
	var ext []string
	for i := range nw.size {
		if nw.reserved[i] {
			ext = append(ext, nw.addr(i))
		}
	}
	insts := []string{}
	seen := map[string]bool{}
	for i := range nw.size {
		if o := nw.used[i]; o != "" && !seen[o] {
			seen[o] = true
			insts = append(insts, o)
		}
	}
	slices.Sort(insts)
	groups := [][]string{}
	for _, cn := range nw.conns {
		groups = append(groups, []string{cn.group, cn.mode, cn.link, cn.vlan})
	}
	return map[string]any{
		"name": nw.name, "network": nw.cidr, "gateway": nw.gateway, "network6": nw.network6, "gateway6": nw.gateway6,
		"mac_prefix": nil, "free_count": nw.free(), "reserved_count": len(nw.reserved), "map": mp.String(),
		"group_list": groups, "inst_list": insts, "external_reservations": strings.Join(ext, ", "),
		"ctime": nw.ctime, "mtime": nw.mtime, "uuid": nw.uuid, "serial_no": nw.serial, "tags": nonNil(nw.tags),
	}
}

func (c *Cluster) getNetworks(q *request) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if q.flag("bulk") {
		return c.cached("networks?bulk", func() []byte {
			out := make([]map[string]any, 0, len(c.networks))
			for _, nw := range c.networks {
				out = append(out, c.networkMap(nw))
			}
			return marshal(out)
		}), nil
	}
	out := make([]nameURI, 0, len(c.networks))
	for _, nw := range c.networks {
		out = append(out, nameURI{nw.name, "/2/networks/" + nw.name})
	}
	return marshal(out), nil
}

func (c *Cluster) getNetwork(name string) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	nw := c.netByN[name]
	if nw == nil {
		return nil, notFound()
	}
	return marshal(c.networkMap(nw)), nil
}

func (c *Cluster) getInstances(q *request) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if q.flag("bulk") {
		return c.cached("instances?bulk", func() []byte {
			size := 2
			for _, name := range c.instNames {
				size += len(c.insts[name].enc) + 2
			}
			var b bytes.Buffer
			b.Grow(size)
			b.WriteByte('[')
			for i, name := range c.instNames {
				if i > 0 {
					b.WriteString(", ")
				}
				b.Write(c.insts[name].enc)
			}
			b.WriteByte(']')
			return b.Bytes()
		}), nil
	}
	return c.cached("instances", func() []byte {
		out := make([]idURI, 0, len(c.instNames))
		for _, name := range c.instNames {
			out = append(out, idURI{ID: name, URI: "/2/instances/" + name})
		}
		return marshal(out)
	}), nil
}

func (c *Cluster) getInstance(name string) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	in := c.insts[name]
	if in == nil {
		return nil, notFound()
	}
	return in.enc, nil
}

func (c *Cluster) getConsole(name string) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	in := c.insts[name]
	if in == nil {
		return nil, notFound()
	}
	if !in.running {
		return nil, errorf(503, "Instance console unavailable")
	}
	if in.hypervisor == "kvm" && in.networkPort != nil {
		return marshal(map[string]any{"instance": in.name, "kind": "vnc", "host": in.pnode,
			"port": *in.networkPort, "display": *in.networkPort - 5900}), nil
	}
	return marshal(map[string]any{"instance": in.name, "kind": "msg",
		"message": "Console not available for fake hypervisor"}), nil
}

// tagsOf returns a pointer to the tag list of an object. Callers hold c.mu.
func (c *Cluster) tagsOf(kind, name string) (*[]string, error) {
	switch kind {
	case "cluster":
		return &c.tags, nil
	case "node":
		if n := c.nodeByN[name]; n != nil {
			return &n.tags, nil
		}
	case "nodegroup":
		if g := c.groupByN[name]; g != nil {
			return &g.tags, nil
		}
	case "network":
		if nw := c.netByN[name]; nw != nil {
			return &nw.tags, nil
		}
	case "instance":
		if in := c.insts[name]; in != nil {
			return &in.tags, nil
		}
	}
	return nil, notFound()
}

func (c *Cluster) tagRoutes(kind, name string) methods {
	return methods{
		"GET": get(func(*request) ([]byte, error) {
			c.mu.RLock()
			defer c.mu.RUnlock()
			t, err := c.tagsOf(kind, name)
			if err != nil {
				return nil, err
			}
			return marshal(nonNil(*t)), nil
		}),
		"PUT":    wrte(func(q *request) ([]byte, error) { return c.changeTags(q, kind, name, true) }),
		"DELETE": wrte(func(q *request) ([]byte, error) { return c.changeTags(q, kind, name, false) }),
	}
}

// jsonTime encodes a whole timestamp as an integer, like Python does for
// the default group's ctime of 0.
func jsonTime(t float64) any {
	if t == float64(int64(t)) {
		return int64(t)
	}
	return t
}
