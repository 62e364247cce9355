package rapifake

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

type diskSpec struct {
	size int
	name *string
	mode string
}

type nicSpec struct {
	mac, ip, mode, link, network, name string
}

type createSpec struct {
	name, mode, template, os, pnode, snode, iallocator, group string
	disks                                                     []diskSpec
	nics                                                      []nicSpec
	maxmem, minmem, vcpus                                     int
	hvparams, osparams                                        map[string]any
	start, noInstall                                          bool
	tags                                                      []string
	def                                                       map[string]any
}

// parseSize accepts MiB as a number or a string with an optional unit
// (M, G, T).
func parseSize(v any) (int, bool) {
	switch t := v.(type) {
	case json.Number:
		i, err := t.Int64()
		return int(i), err == nil && i >= 0
	case string:
		s := strings.TrimSpace(strings.ToUpper(t))
		mult := 1
		switch {
		case strings.HasSuffix(s, "T"):
			mult, s = 1024*1024, strings.TrimSuffix(s, "T")
		case strings.HasSuffix(s, "G"):
			mult, s = 1024, strings.TrimSuffix(s, "G")
		case strings.HasSuffix(s, "M"):
			s = strings.TrimSuffix(s, "M")
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 {
			return 0, false
		}
		return int(f * float64(mult)), true
	}
	return 0, false
}

// parseCreate validates an instance creation body like OpInstanceCreate's
// parameter checks (400 on failure) and builds the opcode definition.
func (c *Cluster) parseCreate(body map[string]any) (*createSpec, error) {
	const op = "OP_INSTANCE_CREATE"
	if _, ok := body["name"]; ok {
		if _, both := body["instance_name"]; both {
			return nil, errorf(400, "Parameter 'instance_name' has been renamed from 'name', but both are given")
		}
		body["instance_name"] = body["name"]
		delete(body, "name")
	}
	if _, ok := body["os"]; ok {
		if _, both := body["os_type"]; both {
			return nil, errorf(400, "Parameter 'os_type' has been renamed from 'os', but both are given")
		}
		body["os_type"] = body["os"]
		delete(body, "os")
	}
	s := &createSpec{start: boolParam(body, "start", true), noInstall: boolParam(body, "no_install", false)}
	var ok bool
	if s.name, ok = strParam(body, "instance_name"); !ok || s.name == "" || !validName(s.name) {
		return nil, invalidParam(op, "instance_name")
	}
	if s.mode, ok = strParam(body, "mode"); !ok || !slices.Contains([]string{"create", "import", "remote-import"}, s.mode) {
		return nil, invalidParam(op, "mode")
	}
	if v, present := body["disk_template"]; present && v != nil {
		if s.template, ok = v.(string); !ok || !slices.Contains(diskTemplates(), s.template) {
			return nil, invalidParam(op, "disk_template")
		}
	} else {
		s.template = c.opts.DiskTemplates[0]
	}
	dl, ok := body["disks"].([]any)
	if !ok {
		return nil, invalidParam(op, "disks")
	}
	for _, d := range dl {
		dm, ok := d.(map[string]any)
		if !ok {
			return nil, invalidParam(op, "disks")
		}
		size, ok := parseSize(dm["size"])
		if !ok {
			return nil, errorf(400, "Invalid body parameters: (\"Invalid disk size '%v'\", 'wrong_input')", dm["size"])
		}
		ds := diskSpec{size: size, mode: "rw"}
		if n, ok := dm["name"].(string); ok {
			ds.name = &n
		}
		if m, ok := dm["mode"].(string); ok {
			ds.mode = m
		}
		s.disks = append(s.disks, ds)
	}
	nl, ok := body["nics"].([]any)
	if !ok {
		return nil, invalidParam(op, "nics")
	}
	for _, n := range nl {
		nm, ok := n.(map[string]any)
		if !ok {
			return nil, invalidParam(op, "nics")
		}
		ns := nicSpec{}
		ns.mac, _ = strParam(nm, "mac")
		ns.ip, _ = strParam(nm, "ip")
		ns.mode, _ = strParam(nm, "mode")
		ns.link, _ = strParam(nm, "link")
		if ns.link == "" {
			ns.link, _ = strParam(nm, "bridge")
		}
		ns.network, _ = strParam(nm, "network")
		ns.name, _ = strParam(nm, "name")
		s.nics = append(s.nics, ns)
	}
	if v, present := body["os_type"]; present && v != nil {
		if s.os, ok = v.(string); !ok {
			return nil, invalidParam(op, "os_type")
		}
	}
	be := map[string]any{}
	if v, present := body["beparams"]; present && v != nil {
		if be, ok = v.(map[string]any); !ok {
			return nil, invalidParam(op, "beparams")
		}
	}
	defBe, _ := c.defaults["beparams"].(map[string]any)
	defDefault, _ := defBe["default"].(map[string]any)
	num := func(m map[string]any, k string) int {
		if v, ok := m[k].(float64); ok {
			return int(v)
		}
		return 0
	}
	s.maxmem, s.minmem, s.vcpus = num(defDefault, "maxmem"), num(defDefault, "minmem"), num(defDefault, "vcpus")
	for _, k := range []string{"memory", "maxmem", "minmem", "vcpus"} {
		v, present, valid := intParam(be, k)
		if !valid {
			return nil, errorf(400, "Invalid body parameters: (\"Invalid value for beparams/%s\", 'wrong_input')", k)
		}
		if !present {
			continue
		}
		switch k {
		case "memory":
			s.maxmem, s.minmem = v, v
		case "maxmem":
			s.maxmem = v
		case "minmem":
			s.minmem = v
		case "vcpus":
			s.vcpus = v
		}
	}
	if _, present := be["minmem"]; !present {
		if _, mem := be["memory"]; !mem && s.minmem > s.maxmem {
			s.minmem = s.maxmem
		}
	}
	if v, present := body["tags"]; present && v != nil {
		if s.tags, ok = stringList(v); !ok {
			return nil, invalidParam(op, "tags")
		}
	}
	s.pnode, _ = strParam(body, "pnode")
	s.snode, _ = strParam(body, "snode")
	s.iallocator, _ = strParam(body, "iallocator")
	s.group, _ = strParam(body, "group_name")
	s.hvparams, _ = jsonValue(body["hvparams"]).(map[string]any)
	s.osparams, _ = jsonValue(body["osparams"]).(map[string]any)

	def := map[string]any{
		"instance_name": s.name, "force_variant": boolParam(body, "force_variant", false),
		"wait_for_sync": boolParam(body, "wait_for_sync", true), "name_check": boolParam(body, "name_check", false),
		"ignore_ipolicy": boolParam(body, "ignore_ipolicy", false), "opportunistic_locking": false,
		"beparams": jsonValue(be), "disks": jsonValue(body["disks"]), "disk_template": s.template,
		"hvparams": nonNilMap(s.hvparams), "hypervisor": c.opts.Hypervisor, "identify_defaults": false,
		"ip_check": boolParam(body, "ip_check", false), "conflicts_check": boolParam(body, "conflicts_check", true),
		"mode": s.mode, "nics": jsonValue(body["nics"]), "osparams": nonNilMap(s.osparams),
		"osparams_private": map[string]any{}, "osparams_secret": map[string]any{}, "os_type": s.os,
		"source_shutdown_timeout": 120, "compress": "none", "start": s.start, "forthcoming": false,
		"commit": false, "tags": nonNil(s.tags), "instance_communication": false,
		"helper_startup_timeout": 300, "helper_shutdown_timeout": 7200,
	}
	if s.template == "file" || s.template == "sharedfile" {
		def["file_driver"] = "loop"
	}
	if s.iallocator != "" {
		def["iallocator"] = s.iallocator
	}
	if s.snode != "" {
		def["snode"] = s.snode
	}
	if s.noInstall {
		def["no_install"] = true
	}
	s.def = def
	return s, nil
}

// place fills pnode/snode (and the definition's uuids) when not given.
// Callers hold c.mu.
func (c *Cluster) place(s *createSpec) {
	if s.pnode == "" {
		st := c.nodeStats()
		var best *node
		bestFree := -1 << 62
		for _, n := range c.nodes {
			if n.offline || n.drained || (s.group != "" && n.group != s.group) {
				continue
			}
			free := n.mtotal - n.mnode - st[n.name].memUsed
			if free > bestFree {
				best, bestFree = n, free
			}
		}
		if best != nil {
			s.pnode = best.name
		}
	}
	if s.template == "drbd" && s.snode == "" {
		if p := c.nodeByN[s.pnode]; p != nil {
			for _, n := range c.nodes {
				if n != p && n.group == p.group && !n.offline && !n.drained {
					s.snode = n.name
					break
				}
			}
		}
	}
	s.def["pnode"] = s.pnode
	if n := c.nodeByN[s.pnode]; n != nil {
		s.def["pnode_uuid"] = n.uuid
	} else {
		s.def["pnode_uuid"] = nil
	}
	if s.snode != "" {
		s.def["snode"] = s.snode
		if n := c.nodeByN[s.snode]; n != nil {
			s.def["snode_uuid"] = n.uuid
		}
	}
}

func (c *Cluster) osKnown(name string) bool {
	base, _, _ := strings.Cut(name, "+")
	for _, o := range c.osNames {
		ob, _, _ := strings.Cut(o, "+")
		if o == name || ob == base {
			return true
		}
	}
	return false
}

// policyViolations checks an instance spec against the cluster's instance
// policy.
func (c *Cluster) policyViolations(maxmem, vcpus int, disks []int, nics int) []string {
	var v []string
	check := func(what string, val, lo, hi int) {
		if val < lo || val > hi {
			v = append(v, fmt.Sprintf("%s value %d is not in range [%d, %d]", what, val, lo, hi))
		}
	}
	check("memory-size", maxmem, 128, 32768)
	check("cpu-count", vcpus, 1, 8)
	check("disk-count", len(disks), 0, 16)
	check("nic-count", nics, 0, 8)
	for i, d := range disks {
		check(fmt.Sprintf("disk-size/%d", i), d, 1024, 1048576)
	}
	return v
}

// createExec returns the opcode implementation creating s.
func (c *Cluster) createExec(s *createSpec) func(*execCtx) (any, *opErr) {
	return func(x *execCtx) (any, *opErr) {
		c := x.c
		if c.insts[s.name] != nil {
			return nil, prereq("already_exists", "Instance '%s' is already in the cluster", s.name)
		}
		if !slices.Contains(c.opts.DiskTemplates, s.template) {
			return nil, prereq("wrong_input", "Disk template '%s' is not enabled in cluster. Enabled disk templates are: %s",
				s.template, strings.Join(c.opts.DiskTemplates, ","))
		}
		pn := c.nodeByN[s.pnode]
		if pn == nil {
			if s.pnode == "" {
				return nil, prereq("insufficient_resources", "Can't compute nodes using iallocator 'hail': Request failed: Can't find any good node: ")
			}
			return nil, prereq("unknown_entity", "Node '%s' not known", s.pnode)
		}
		if s.template == "drbd" && c.nodeByN[s.snode] == nil {
			return nil, prereq("wrong_input", "The networked disk templates need a mirror node")
		}
		if s.template == "diskless" && len(s.disks) > 0 {
			return nil, prereq("wrong_input", "Diskless instances can't have disks")
		}
		if !boolParam(s.def, "ignore_ipolicy", false) {
			sizes := make([]int, 0, len(s.disks))
			for _, d := range s.disks {
				sizes = append(sizes, d.size)
			}
			if v := c.policyViolations(s.maxmem, s.vcpus, sizes, len(s.nics)); len(v) > 0 {
				g := c.groupByN[pn.group]
				return nil, prereq("wrong_input", "Instance allocation to group %s (%s) violates policy: %s", g.uuid, g.name, strings.Join(v, ", "))
			}
		}
		if s.os == "" && !s.noInstall {
			return nil, prereq("wrong_input", "No guest OS or OS image specified")
		}
		in := &instance{
			name: s.name, uuid: c.newUUID(), os: s.os, pnode: s.pnode, template: s.template,
			hypervisor: c.opts.Hypervisor, maxmem: s.maxmem, minmem: s.minmem, vcpus: s.vcpus,
			hvparams: s.hvparams, osparams: s.osparams, tags: sortedUnique(s.tags), snodes: []string{},
			adminState: "down",
		}
		if s.snode != "" && s.template == "drbd" {
			in.snodes = []string{s.snode}
		}
		for _, ns := range s.nics {
			n := &nic{uuid: c.newUUID(), mode: ns.mode, link: ns.link}
			if ns.name != "" {
				nn := ns.name
				n.name = &nn
			}
			if ns.network != "" {
				nw := c.netByN[ns.network]
				if nw == nil {
					return nil, prereq("unknown_entity", "Network '%s' not found", ns.network)
				}
				var conn *netConn
				for k := range nw.conns {
					if nw.conns[k].group == pn.group {
						conn = &nw.conns[k]
					}
				}
				if conn == nil {
					return nil, prereq("wrong_input", "Network '%s' is not connected to group '%s'", nw.name, pn.group)
				}
				uuid, nname := nw.uuid, nw.name
				n.networkUUID, n.networkName = &uuid, &nname
				n.mode, n.link, n.vlan = conn.mode, conn.link, conn.vlan
				ip := ns.ip
				if strings.EqualFold(ip, "pool") {
					free, ok := nw.nextFree()
					if !ok {
						return nil, prereq("insufficient_resources", "Network '%s' has no free IP address", nw.name)
					}
					ip = free
				}
				if ip != "" {
					idx, ok := nw.index(ip)
					if !ok {
						return nil, prereq("wrong_input", "IP address %s is not in network %s", ip, nw.name)
					}
					if nw.used[idx] != "" || nw.reserved[idx] {
						return nil, prereq("wrong_input", "IP address %s already in use or reserved", ip)
					}
					n.ip = &ip
					if !x.dry {
						nw.used[idx] = s.name
					}
				}
			} else {
				if ns.ip != "" && !strings.EqualFold(ns.ip, "none") {
					if strings.EqualFold(ns.ip, "pool") {
						return nil, prereq("wrong_input", "If ip=pool, parameter network must be passed too")
					}
					ip := ns.ip
					n.ip = &ip
				}
			}
			if n.mode == "" {
				n.mode = "bridged"
			}
			if n.link == "" {
				n.link = "br0"
			}
			switch strings.ToLower(ns.mac) {
			case "", "auto", "generate":
				n.mac = c.newMAC()
			default:
				if c.macs[strings.ToLower(ns.mac)] {
					return nil, prereq("already_exists", "MAC address %s already in use in cluster", ns.mac)
				}
				n.mac = strings.ToLower(ns.mac)
				c.macs[n.mac] = true
			}
			in.nics = append(in.nics, n)
		}
		for _, d := range s.disks {
			in.disks = append(in.disks, &disk{size: d.size, name: d.name, uuid: c.newUUID(), mode: d.mode})
		}
		if !s.noInstall && !c.osKnown(s.os) {
			return nil, execErr("OS Parameters validation failed on node %s: Directory for OS %s not found in search path", s.pnode, s.os)
		}
		nodes := []any{s.pnode}
		if len(in.snodes) > 0 {
			nodes = append(nodes, in.snodes[0])
		}
		if x.dry {
			return nodes, nil
		}
		x.log("* creating instance disks...")
		x.log("adding instance %s to cluster config", s.name)
		if len(in.disks) > 0 {
			x.log("adding disks to cluster config")
		}
		if s.start {
			x.log("* starting instance...")
			in.adminState, in.running = "up", true
		}
		if c.opts.Hypervisor == "kvm" {
			port := 11000 + c.nextJob + len(c.insts)
			in.networkPort = &port
		}
		now := nowFloat()
		in.ctime, in.mtime, in.serial = now, now, 1
		c.addInstance(in)
		return nodes, nil
	}
}

func (c *Cluster) postInstances(q *request) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	v, present, valid := intParam(body, "__version__")
	switch {
	case !present:
		return nil, errorf(400, "Required parameter '__version__' is missing")
	case !valid:
		return nil, errorf(400, "Unsupported request data version %v", body["__version__"])
	case v == 0:
		return nil, errorf(400, "Instance creation request version 0 is not supported")
	case v != 1:
		return nil, errorf(400, "Unsupported request data version %d", v)
	}
	delete(body, "__version__")
	s, err := c.parseCreate(body)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.place(s)
	op := newOp("OP_INSTANCE_CREATE", "instances", s.name, s.def, c.createExec(s))
	return jobID(c.submitLocked(q, op)), nil
}

func (c *Cluster) postMultiAlloc(q *request) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	list, ok := body["instances"].([]any)
	if !ok {
		return nil, invalidParam("OP_INSTANCE_MULTI_ALLOC", "instances")
	}
	var specs []*createSpec
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, invalidParam("OP_INSTANCE_MULTI_ALLOC", "instances")
		}
		if _, ok := m["__version__"]; ok {
			return nil, errorf(400, "Invalid body parameters: (\"Parameter 'OP_INSTANCE_CREATE.__version__' is not a valid opcode parameter\", 'wrong_input')")
		}
		s, err := c.parseCreate(m)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var inner []any
	for _, s := range specs {
		c.place(s)
		d := maps.Clone(s.def)
		for _, k := range []string{"group_name", "file_driver", "file_storage_dir", "hypervisor", "iallocator", "no_install",
			"snode", "snode_uuid", "source_handshake", "source_instance_name", "source_x509_ca", "src_node",
			"src_node_uuid", "src_path", "dry_run", "helper_startup_timeout", "helper_shutdown_timeout"} {
			if _, ok := d[k]; !ok || k == "hypervisor" || k == "dry_run" || strings.HasPrefix(k, "helper_") {
				d[k] = nil
			}
		}
		d["debug_level"], d["priority"], d["depends"] = 0, 0, nil
		d["comment"] = "Submitted by OP_INSTANCE_MULTI_ALLOC"
		d["OP_ID"] = "OP_INSTANCE_CREATE"
		inner = append(inner, d)
	}
	op := newOp("OP_INSTANCE_MULTI_ALLOC", "instances_multi_alloc", "", map[string]any{
		"opportunistic_locking": boolParam(body, "opportunistic_locking", false), "instances": inner,
	}, nil)
	op.exec = func(x *execCtx) (any, *opErr) {
		alloc := []string{}
		jobs := []any{}
		for _, s := range specs {
			if x.dry {
				alloc = append(alloc, s.name)
				continue
			}
			sub := newOp("OP_INSTANCE_CREATE", "", s.name, maps.Clone(s.def), x.c.createExec(s))
			sub.def["comment"] = "Submitted by OP_INSTANCE_MULTI_ALLOC"
			sub.reasonPrefix, _ = x.j.ops[x.j.cur].def["reason"].([]any)
			id := x.c.submitLocked(nil, sub)
			alloc = append(alloc, s.name)
			jobs = append(jobs, []any{true, id})
		}
		return map[string]any{"allocatable": alloc, "failed": []string{}, "jobs": jobs}, nil
	}
	id := c.submitLocked(q, op)
	for _, d := range inner {
		d.(map[string]any)["reason"] = op.def["reason"]
	}
	return jobID(id), nil
}
