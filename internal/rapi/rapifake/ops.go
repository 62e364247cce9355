package rapifake

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// instParams returns the instance-identifying opcode fields.
func (c *Cluster) instParams(name string, extra map[string]any) map[string]any {
	m := map[string]any{"instance_name": name}
	maps.Copy(m, extra)
	return m
}

// instanceJob submits a one-opcode job acting on an existing instance; fn
// runs with the instance resolved.
func (c *Cluster) instanceJob(q *request, name, opID, source string, summary bool, params map[string]any,
	fn func(x *execCtx, in *instance) (any, *opErr)) ([]byte, error) {
	sum := ""
	if summary {
		sum = name
	}
	op := newOp(opID, source, sum, c.instParams(name, params), func(x *execCtx) (any, *opErr) {
		in, err := x.inst(name)
		if err != nil {
			return nil, err
		}
		return fn(x, in)
	})
	return jobID(c.submit(q, op)), nil
}

func (c *Cluster) deleteInstance(q *request, name string) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	timeout, _, _ := intParam(body, "shutdown_timeout")
	if timeout == 0 {
		timeout = 120
	}
	return c.instanceJob(q, name, "OP_INSTANCE_REMOVE", "instances_name", true,
		map[string]any{"shutdown_timeout": timeout, "ignore_failures": false},
		func(x *execCtx, in *instance) (any, *opErr) {
			if !x.dry {
				x.c.removeInstance(in.name)
			}
			return nil, nil
		})
}

func (c *Cluster) putStartup(q *request, name string) ([]byte, error) {
	noRemember := q.flag("no_remember")
	return c.instanceJob(q, name, "OP_INSTANCE_STARTUP", "instances_name_startup", true, map[string]any{
		"force": q.flag("force"), "ignore_offline_nodes": false, "hvparams": map[string]any{}, "beparams": map[string]any{},
		"no_remember": noRemember, "startup_paused": false, "shutdown_timeout": 120,
	}, func(x *execCtx, in *instance) (any, *opErr) {
		if in.adminState == "offline" {
			return nil, prereq("wrong_state", "Instance '%s' is marked to be offline", in.name)
		}
		if n := x.c.nodeByN[in.pnode]; n != nil && n.offline {
			return nil, prereq("wrong_state", "Can't use offline node %s", n.name)
		}
		if x.dry {
			return nil, nil
		}
		if !noRemember {
			in.adminState = "up"
		}
		in.running = true
		x.c.touch(in)
		return nil, nil
	})
}

func (c *Cluster) putShutdown(q *request, name string) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	timeout, _, ok := intParam(body, "timeout")
	if !ok {
		return nil, invalidParam("OP_INSTANCE_SHUTDOWN", "timeout")
	}
	if _, present := body["timeout"]; !present {
		timeout = 120
	}
	noRemember := q.flag("no_remember")
	return c.instanceJob(q, name, "OP_INSTANCE_SHUTDOWN", "instances_name_shutdown", true, map[string]any{
		"force": boolParam(body, "force", false), "ignore_offline_nodes": boolParam(body, "ignore_offline_nodes", false),
		"timeout": timeout, "no_remember": noRemember, "admin_state_source": "admin",
	}, func(x *execCtx, in *instance) (any, *opErr) {
		if in.adminState == "offline" {
			return nil, prereq("wrong_state", "Instance '%s' is marked to be offline", in.name)
		}
		if x.dry {
			return nil, nil
		}
		if !noRemember {
			in.adminState = "down"
		}
		in.running = false
		x.c.touch(in)
		return nil, nil
	})
}

func (c *Cluster) postReboot(q *request, name string) ([]byte, error) {
	typ := q.query.Get("type")
	if typ == "" {
		typ = "hard"
	}
	if !slices.Contains([]string{"soft", "hard", "full"}, typ) {
		return nil, invalidParam("OP_INSTANCE_REBOOT", "reboot_type")
	}
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	timeout, present, _ := intParam(body, "shutdown_timeout")
	if !present {
		timeout = 120
	}
	return c.instanceJob(q, name, "OP_INSTANCE_REBOOT", "instances_name_reboot", true, map[string]any{
		"shutdown_timeout": timeout, "ignore_secondaries": q.flag("ignore_secondaries"), "reboot_type": typ,
	}, func(x *execCtx, in *instance) (any, *opErr) {
		if in.adminState == "offline" {
			return nil, prereq("wrong_state", "Instance '%s' is marked to be offline", in.name)
		}
		if x.dry {
			return nil, nil
		}
		in.adminState, in.running = "up", true
		x.c.touch(in)
		return nil, nil
	})
}

func (c *Cluster) postReinstall(q *request, name string) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	osName, _ := strParam(body, "os")
	if osName == "" {
		osName = q.query.Get("os")
	}
	start := boolParam(body, "start", !q.flag("nostartup"))
	osparams, _ := jsonValue(body["osparams"]).(map[string]any)
	c.mu.RLock()
	cur := ""
	if in := c.insts[name]; in != nil {
		cur = in.os
	}
	c.mu.RUnlock()
	if osName == "" {
		osName = cur
	}
	shutdown := newOp("OP_INSTANCE_SHUTDOWN", "", name, c.instParams(name, map[string]any{
		"force": false, "ignore_offline_nodes": false, "timeout": 120, "no_remember": false, "admin_state_source": "admin",
	}), func(x *execCtx) (any, *opErr) {
		in, err := x.inst(name)
		if err != nil {
			return nil, err
		}
		if !x.dry {
			in.adminState, in.running = "down", false
			x.c.touch(in)
		}
		return nil, nil
	})
	reinstall := newOp("OP_INSTANCE_REINSTALL", "", name, c.instParams(name, map[string]any{
		"force_variant": false, "os_type": osName, "osparams": nonNilMap(osparams),
		"osparams_private": map[string]any{}, "osparams_secret": map[string]any{},
	}), func(x *execCtx) (any, *opErr) {
		in, err := x.inst(name)
		if err != nil {
			return nil, err
		}
		if !x.c.osKnown(osName) {
			return nil, prereq("wrong_input", "OS '%s' not in supported OS list for node %s", osName, in.pnode)
		}
		if !x.dry {
			x.log("Changing OS scripts to '%s'...", osName)
			x.log(" - INFO: Running instance OS create scripts...")
			in.os = osName
			if osparams != nil {
				in.osparams = osparams
			}
			x.c.touch(in)
		}
		return nil, nil
	})
	ops := []*jobOp{shutdown, reinstall}
	if start {
		ops = append(ops, newOp("OP_INSTANCE_STARTUP", "", name, c.instParams(name, map[string]any{
			"force": false, "ignore_offline_nodes": false, "hvparams": map[string]any{}, "beparams": map[string]any{},
			"no_remember": false, "startup_paused": false, "shutdown_timeout": 120,
		}), func(x *execCtx) (any, *opErr) {
			in, err := x.inst(name)
			if err != nil {
				return nil, err
			}
			if !x.dry {
				in.adminState, in.running = "up", true
				x.c.touch(in)
			}
			return nil, nil
		}))
	}
	return jobID(c.submit(q, ops...)), nil
}

// modList parses a list of NIC or disk modifications in the current
// ([op, index, params]) or legacy ([index|"add"|"remove", params]) form.
type modEntry struct {
	op     string
	index  int
	params map[string]any
}

func parseMods(v any) ([]modEntry, bool) {
	if v == nil {
		return nil, true
	}
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	var out []modEntry
	for _, e := range l {
		t, ok := e.([]any)
		if !ok || len(t) < 2 {
			return nil, false
		}
		var m modEntry
		var idx any
		if len(t) == 3 {
			s, ok := t[0].(string)
			if !ok {
				return nil, false
			}
			m.op, idx = s, t[1]
			m.params, _ = t[2].(map[string]any)
		} else {
			m.params, _ = t[1].(map[string]any)
			switch s := t[0].(type) {
			case string:
				m.op, idx = s, json.Number("-1")
			default:
				m.op, idx = "modify", s
			}
		}
		n, ok := idx.(json.Number)
		if !ok {
			return nil, false
		}
		i, err := n.Int64()
		if err != nil {
			return nil, false
		}
		m.index = int(i)
		if m.params == nil {
			m.params = map[string]any{}
		}
		out = append(out, m)
	}
	return out, true
}

func (c *Cluster) putModify(q *request, name string) ([]byte, error) {
	const opID = "OP_INSTANCE_SET_PARAMS"
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	for old, nw := range map[string]string{"custom_beparams": "beparams", "custom_hvparams": "hvparams"} {
		if v, ok := body[old]; ok {
			body[nw] = v
			delete(body, old)
		}
	}
	be := map[string]any{}
	if v, ok := body["beparams"]; ok && v != nil {
		if be, ok = v.(map[string]any); !ok {
			return nil, invalidParam(opID, "beparams")
		}
	}
	for k := range be {
		if _, _, ok := intParam(be, k); !ok && k != "auto_balance" && k != "always_failover" {
			return nil, errorf(400, "Invalid body parameters: (\"Invalid value for beparams/%s\", 'wrong_input')", k)
		}
	}
	nicMods, ok := parseMods(body["nics"])
	if !ok {
		return nil, invalidParam(opID, "nics")
	}
	diskMods, ok := parseMods(body["disks"])
	if !ok {
		return nil, invalidParam(opID, "disks")
	}
	osName, _ := strParam(body, "os_name")
	osparams, _ := jsonValue(body["osparams"]).(map[string]any)
	hvparams, _ := jsonValue(body["hvparams"]).(map[string]any)
	offline, hasOffline := body["offline"].(bool)
	params := map[string]any{
		"force": boolParam(body, "force", false), "force_variant": false, "ignore_ipolicy": boolParam(body, "ignore_ipolicy", false),
		"nics": anyList(jsonValue(body["nics"])), "disks": anyList(jsonValue(body["disks"])),
		"beparams": jsonValue(be), "hvparams": nonNilMap(hvparams), "ext_params": map[string]any{},
		"osparams": nonNilMap(osparams), "wait_for_sync": true, "conflicts_check": true,
		"hotplug": boolParam(body, "hotplug", false), "hotplug_if_possible": false,
	}
	if osName != "" {
		params["os_name"] = osName
	}
	if hasOffline {
		params["offline"] = offline
	}
	return c.instanceJob(q, name, opID, "instances_name_modify", true, params, func(x *execCtx, in *instance) (any, *opErr) {
		changes := []any{}
		maxmem, minmem, vcpus := in.maxmem, in.minmem, in.vcpus
		for _, k := range slices.Sorted(maps.Keys(be)) {
			v, _, _ := intParam(be, k)
			switch k {
			case "memory":
				maxmem, minmem = v, v
			case "maxmem":
				maxmem = v
			case "minmem":
				minmem = v
			case "vcpus":
				vcpus = v
			default:
				continue
			}
			changes = append(changes, []any{"be/" + k, v})
		}
		if minmem > maxmem {
			return nil, prereq("wrong_input", "Minimum memory (%d) is greater than maximum memory (%d)", minmem, maxmem)
		}
		if !boolParam(x.j.ops[x.j.cur].def, "ignore_ipolicy", false) {
			if v := x.c.policyViolations(maxmem, vcpus, nil, len(in.nics)); len(v) > 0 {
				return nil, prereq("wrong_input", "Instance violates policy: %s", strings.Join(v, ", "))
			}
		}
		if osName != "" && !x.c.osKnown(osName) {
			return nil, prereq("wrong_input", "OS '%s' not in supported OS list for node %s", osName, in.pnode)
		}
		nics := slices.Clone(in.nics)
		for _, m := range nicMods {
			switch m.op {
			case "add":
				n := &nic{uuid: x.c.newUUID(), mac: x.c.newMAC(), mode: "bridged", link: "br0"}
				if s, ok := m.params["link"].(string); ok {
					n.link = s
				}
				if s, ok := m.params["mode"].(string); ok {
					n.mode = s
				}
				if s, ok := m.params["ip"].(string); ok && s != "" {
					n.ip = &s
				}
				nics = append(nics, n)
				ip := "None"
				if n.ip != nil {
					ip = *n.ip
				}
				changes = append(changes, []any{fmt.Sprintf("nic.%d", len(nics)-1),
					fmt.Sprintf("add:mac=%s,ip=%s,mode=%s,link=%s,vlan=", n.mac, ip, n.mode, n.link)})
			case "remove":
				i := m.index
				if i < 0 {
					i = len(nics) - 1
				}
				if i < 0 || i >= len(nics) {
					return nil, prereq("wrong_input", "Invalid NIC index %d", m.index)
				}
				nics = slices.Delete(nics, i, i+1)
				changes = append(changes, []any{fmt.Sprintf("nic.%d", i), "remove"})
			case "modify":
				if m.index < 0 || m.index >= len(nics) {
					return nil, prereq("wrong_input", "Invalid NIC index %d", m.index)
				}
				n := *nics[m.index]
				if s, ok := m.params["link"].(string); ok {
					n.link = s
					changes = append(changes, []any{fmt.Sprintf("nic.link/%d", m.index), s})
				}
				if s, ok := m.params["mode"].(string); ok {
					n.mode = s
					changes = append(changes, []any{fmt.Sprintf("nic.mode/%d", m.index), s})
				}
				nics[m.index] = &n
			default:
				return nil, prereq("wrong_input", "Unsupported NIC modification '%s'", m.op)
			}
		}
		disks := slices.Clone(in.disks)
		for _, m := range diskMods {
			switch m.op {
			case "add":
				size, ok := parseSize(m.params["size"])
				if !ok {
					return nil, prereq("wrong_input", "Missing or invalid disk size")
				}
				if in.template == "diskless" {
					return nil, prereq("wrong_state", "Can't add a disk to an instance with disk template diskless")
				}
				d := &disk{size: size, uuid: x.c.newUUID(), mode: "rw"}
				if s, ok := m.params["name"].(string); ok {
					d.name = &s
				}
				disks = append(disks, d)
				changes = append(changes, []any{fmt.Sprintf("disk/%d", len(disks)-1), fmt.Sprintf("add:size=%d,mode=rw", size)})
			case "remove":
				i := m.index
				if i < 0 {
					i = len(disks) - 1
				}
				if i < 0 || i >= len(disks) {
					return nil, prereq("wrong_input", "Invalid disk index %d", m.index)
				}
				if in.running {
					return nil, prereq("wrong_state", "Instance is running, can't remove disks")
				}
				disks = slices.Delete(disks, i, i+1)
				changes = append(changes, []any{fmt.Sprintf("disk/%d", i), "remove"})
			default:
				return nil, prereq("wrong_input", "Unsupported disk modification '%s'", m.op)
			}
		}
		if osName != "" {
			changes = append(changes, []any{"os_name", osName})
		}
		for _, k := range slices.Sorted(maps.Keys(osparams)) {
			changes = append(changes, []any{"os/" + k, osparams[k]})
		}
		for _, k := range slices.Sorted(maps.Keys(hvparams)) {
			changes = append(changes, []any{"hv/" + k, hvparams[k]})
		}
		if hasOffline {
			changes = append(changes, []any{"admin_state", map[bool]string{true: "offline", false: "down"}[offline]})
		}
		if x.dry {
			return changes, nil
		}
		in.maxmem, in.minmem, in.vcpus = maxmem, minmem, vcpus
		in.nics, in.disks = nics, disks
		if osName != "" {
			in.os = osName
		}
		if osparams != nil {
			in.osparams = maps.Clone(osparams)
		}
		if len(hvparams) > 0 {
			if in.hvparams == nil {
				in.hvparams = map[string]any{}
			} else {
				in.hvparams = maps.Clone(in.hvparams)
			}
			maps.Copy(in.hvparams, hvparams)
		}
		if hasOffline {
			if offline {
				if in.running {
					return nil, prereq("wrong_state", "Instance is running, can't mark it offline")
				}
				in.adminState = "offline"
			} else if in.adminState == "offline" {
				in.adminState = "down"
			}
		}
		x.c.touch(in)
		return changes, nil
	})
}

func (c *Cluster) putRename(q *request, name string) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	newName, ok := strParam(body, "new_name")
	if !ok || !validName(newName) {
		return nil, invalidParam("OP_INSTANCE_RENAME", "new_name")
	}
	return c.instanceJob(q, name, "OP_INSTANCE_RENAME", "instances_name_rename", false, map[string]any{
		"new_name": newName, "name_check": boolParam(body, "name_check", false), "ip_check": boolParam(body, "ip_check", false),
	}, func(x *execCtx, in *instance) (any, *opErr) {
		if in.running {
			return nil, prereq("wrong_state", "Instance %s is running, cannot rename", in.name)
		}
		if x.c.insts[newName] != nil {
			return nil, prereq("already_exists", "Instance '%s' is already in the cluster", newName)
		}
		if x.dry {
			return newName, nil
		}
		x.c.removeInstance(in.name)
		in.name = newName
		in.serial++
		in.mtime = nowFloat()
		x.c.addInstance(in)
		return newName, nil
	})
}

// moveTarget picks the node an instance migrates or fails over to.
// Callers hold c.mu.
func (c *Cluster) moveTarget(in *instance, target string) (string, *opErr) {
	switch in.template {
	case "drbd":
		if len(in.snodes) == 0 {
			return "", prereq("internal_error", "The instance has a strange layout, expected one secondary but found 0")
		}
		if target != "" && target != in.snodes[0] {
			return "", prereq("wrong_input", "Instances with disk template drbd cannot be migrated to an arbitrary node; only to the secondary %s", in.snodes[0])
		}
		return in.snodes[0], nil
	case "diskless", "sharedfile", "blockdev", "rbd", "ext", "gluster":
		p := c.nodeByN[in.pnode]
		if target != "" {
			n := c.nodeByN[target]
			if n == nil {
				return "", prereq("unknown_entity", "Node '%s' not known", target)
			}
			if n == p {
				return "", prereq("wrong_input", "Instance %s is already on node %s", in.name, target)
			}
			return target, nil
		}
		for _, n := range c.nodes {
			if n != p && p != nil && n.group == p.group && !n.offline && !n.drained {
				return n.name, nil
			}
		}
		return "", prereq("insufficient_resources", "Can't compute nodes using iallocator 'hail': Request failed: Can't find any good node: ")
	}
	return "", prereq("wrong_input", "Instance's disk layout '%s' does not allow migrations", in.template)
}

func (c *Cluster) move(q *request, name, opID, source string, params map[string]any, target string) ([]byte, error) {
	return c.instanceJob(q, name, opID, source, true, params, func(x *execCtx, in *instance) (any, *opErr) {
		dst, err := x.c.moveTarget(in, target)
		if err != nil {
			return nil, err
		}
		if x.dry {
			return nil, nil
		}
		x.log("Migrating instance %s", in.name)
		if in.template == "drbd" {
			in.snodes = []string{in.pnode}
		}
		in.pnode = dst
		x.c.touch(in)
		return nil, nil
	})
}

func (c *Cluster) putMigrate(q *request, name string) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	target, _ := strParam(body, "target_node")
	params := map[string]any{
		"allow_runtime_changes": boolParam(body, "allow_runtime_changes", true), "ignore_ipolicy": boolParam(body, "ignore_ipolicy", false),
		"cleanup": boolParam(body, "cleanup", false), "iallocator": "hail", "allow_failover": boolParam(body, "allow_failover", false),
		"ignore_hvversions": false,
	}
	if m, ok := strParam(body, "mode"); ok {
		params["mode"] = m
	}
	if target != "" {
		params["target_node"] = target
		delete(params, "iallocator")
	}
	return c.move(q, name, "OP_INSTANCE_MIGRATE", "instances_name_migrate", params, target)
}

func (c *Cluster) putFailover(q *request, name string) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	target, _ := strParam(body, "target_node")
	params := map[string]any{
		"shutdown_timeout": 120, "ignore_consistency": boolParam(body, "ignore_consistency", false),
		"ignore_ipolicy": boolParam(body, "ignore_ipolicy", false), "cleanup": false, "iallocator": "hail",
	}
	if target != "" {
		params["target_node"] = target
		delete(params, "iallocator")
	}
	return c.move(q, name, "OP_INSTANCE_FAILOVER", "instances_name_failover", params, target)
}

func diskPath(in *instance, i int, d *disk) string {
	switch in.template {
	case "plain", "drbd":
		return fmt.Sprintf("/dev/xenvg/%s.disk%d", d.uuid, i)
	case "sharedfile":
		return fmt.Sprintf("/srv/ganeti/shared-file-storage/%s/%s.file.disk%d", in.name, d.uuid, i)
	}
	return fmt.Sprintf("/srv/ganeti/file-storage/%s/%s.file.disk%d", in.name, d.uuid, i)
}

func (c *Cluster) putActivateDisks(q *request, name string) ([]byte, error) {
	return c.instanceJob(q, name, "OP_INSTANCE_ACTIVATE_DISKS", "instances_name_activate_disks", true, map[string]any{
		"ignore_size": q.flag("ignore_size"), "wait_for_sync": false,
	}, func(x *execCtx, in *instance) (any, *opErr) {
		out := []any{}
		for i, d := range in.disks {
			out = append(out, []any{in.pnode, fmt.Sprintf("disk/%d", i), diskPath(in, i, d)})
		}
		return out, nil
	})
}

func (c *Cluster) putDeactivateDisks(q *request, name string) ([]byte, error) {
	force := q.flag("force")
	return c.instanceJob(q, name, "OP_INSTANCE_DEACTIVATE_DISKS", "instances_name_deactivate_disks", true, map[string]any{
		"force": force,
	}, func(x *execCtx, in *instance) (any, *opErr) {
		if in.running && !force {
			return nil, prereq("wrong_state", "Instance %s is running, can't deactivate disks", in.name)
		}
		return nil, nil
	})
}

func (c *Cluster) postGrowDisk(q *request, name string, idx int) ([]byte, error) {
	const opID = "OP_INSTANCE_GROW_DISK"
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	amount, present, ok := intParam(body, "amount")
	if !present || !ok || amount < 0 {
		return nil, invalidParam(opID, "amount")
	}
	absolute := boolParam(body, "absolute", false)
	return c.instanceJob(q, name, opID, "instances_name_disk_grow", true, map[string]any{
		"wait_for_sync": boolParam(body, "wait_for_sync", true), "disk": idx, "amount": amount,
		"absolute": absolute, "ignore_ipolicy": boolParam(body, "ignore_ipolicy", false),
	}, func(x *execCtx, in *instance) (any, *opErr) {
		if idx >= len(in.disks) {
			return nil, prereq("wrong_input", "Invalid disk index: %d", idx)
		}
		d := in.disks[idx]
		size := d.size + amount
		if absolute {
			if amount < d.size {
				return nil, prereq("wrong_input", "Requested size (%d) is smaller than current disk size (%d)", amount, d.size)
			}
			size = amount
		}
		if x.dry {
			return nil, nil
		}
		x.log("Growing disk %d of instance '%s' by %d MiB to %d MiB", idx, in.name, size-d.size, size)
		nd := *d
		nd.size = size
		in.disks = slices.Clone(in.disks)
		in.disks[idx] = &nd
		x.c.touch(in)
		return nil, nil
	})
}

func (c *Cluster) getInstanceInfo(q *request, name string) ([]byte, error) {
	static := q.flag("static")
	op := newOp("OP_INSTANCE_QUERY_DATA", "instances_name_info", "", map[string]any{
		"use_locking": !static, "instances": []string{name}, "static": static,
	}, func(x *execCtx) (any, *opErr) {
		in := x.c.insts[name]
		if in == nil {
			return nil, prereq("unknown_entity", "Instance '%s' not known", name)
		}
		if !static {
			x.log(" - WARNING: Non-static data requested, locks need to be acquired")
		}
		return map[string]any{in.name: x.c.instanceData(in, static)}, nil
	})
	delete(op.def, "dry_run")
	return jobID(c.submit(q, op)), nil
}

// instanceData builds the OP_INSTANCE_QUERY_DATA result for one instance.
// Callers hold c.mu.
func (c *Cluster) instanceData(in *instance, static bool) map[string]any {
	pn := c.nodeByN[in.pnode]
	var gUUID, gName any
	if pn != nil {
		if g := c.groupByN[pn.group]; g != nil {
			gUUID, gName = g.uuid, g.name
		}
	}
	sgu, sgn := []any{}, []any{}
	for _, s := range in.snodes {
		if n := c.nodeByN[s]; n != nil {
			if g := c.groupByN[n.group]; g != nil {
				sgu, sgn = append(sgu, g.uuid), append(sgn, g.name)
			}
		}
	}
	nics := []any{}
	for _, n := range in.nics {
		var netinfo any
		if n.networkName != nil {
			if nw := c.netByN[*n.networkName]; nw != nil {
				netinfo = map[string]any{"name": nw.name, "network": nw.cidr, "gateway": nw.gateway,
					"network6": nw.network6, "gateway6": nw.gateway6, "mac_prefix": nil, "uuid": nw.uuid,
					"serial_no": nw.serial, "tags": nonNil(nw.tags)}
			}
		}
		nics = append(nics, []any{n.name, n.uuid, n.ip, n.mac, n.mode, n.link, n.vlan, n.networkUUID, netinfo})
	}
	disks := []any{}
	for i, d := range in.disks {
		path := diskPath(in, i, d)
		var logical any = []any{"loop", path}
		devType := in.template
		switch in.template {
		case "plain":
			logical = []any{"xenvg", fmt.Sprintf("%s.disk%d", d.uuid, i)}
		case "drbd":
			logical = []any{in.pnode, strings.Join(in.snodes, ""), 11000 + i, 0, 0, "secret"}
			devType = "drbd"
		}
		var pstatus any
		if !static && in.running {
			pstatus = []any{path, nil, nil, nil, nil, false, 1}
		}
		disks = append(disks, map[string]any{
			"iv_name": fmt.Sprintf("disk/%d", i), "dev_type": devType, "logical_id": logical, "drbd_info": nil,
			"pstatus": pstatus, "sstatus": nil, "children": []any{}, "mode": d.mode, "size": d.size,
			"spindles": nil, "name": d.name, "uuid": d.uuid,
		})
	}
	runState := "down"
	if in.running {
		runState = "up"
	}
	var runStateV any = runState
	if static {
		runStateV = nil
	}
	be := map[string]any{"minmem": in.minmem, "maxmem": in.maxmem, "vcpus": in.vcpus}
	return map[string]any{
		"name": in.name, "config_state": in.adminState, "run_state": runStateV, "pnode": in.pnode,
		"pnode_group_uuid": gUUID, "pnode_group_name": gName, "snodes": nonNil(in.snodes),
		"snodes_group_uuids": sgu, "snodes_group_names": sgn, "os": in.os, "nics": nics,
		"disk_template": in.template, "disks": disks, "hypervisor": in.hypervisor, "network_port": in.networkPort,
		"hv_instance": nonNilMap(in.hvparams), "hv_actual": nonNilMap(in.hvparams), "be_instance": be,
		"be_actual": map[string]any{"always_failover": false, "auto_balance": true, "maxmem": in.maxmem,
			"minmem": in.minmem, "spindle_use": 1, "vcpus": in.vcpus},
		"os_instance": nonNilMap(in.osparams), "os_actual": nonNilMap(in.osparams),
		"serial_no": in.serial, "mtime": in.mtime, "ctime": in.ctime, "uuid": in.uuid,
	}
}

// validTag checks a tag like Ganeti: 1-128 characters from a safe set.
func validTag(t string) bool {
	if len(t) == 0 || len(t) > 128 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".+*/:@-_=", r)) {
			return false
		}
	}
	return true
}

func (c *Cluster) changeTags(q *request, kind, name string, add bool) ([]byte, error) {
	tags := q.query["tag"]
	for _, t := range tags {
		if !validTag(t) {
			return nil, errorf(400, "Invalid tag name '%s'", t)
		}
	}
	opID, src := "OP_TAGS_SET", "tags"
	if !add {
		opID = "OP_TAGS_DEL"
	}
	switch kind {
	case "instance":
		src = "instances_name_tags"
	case "node":
		src = "nodes_name_tags"
	case "nodegroup":
		src = "groups_name_tags"
	case "network":
		src = "networks_name_tags"
	}
	params := map[string]any{"kind": kind, "tags": nonNil(tags)}
	if kind != "cluster" {
		params["name"] = name
	}
	op := newOp(opID, src, "", params, func(x *execCtx) (any, *opErr) {
		cur, err := x.c.tagsOf(kind, name)
		if err != nil {
			return nil, prereq("unknown_entity", "%s '%s' not known", kind, name)
		}
		next := slices.Clone(*cur)
		if add {
			next = sortedUnique(append(next, tags...))
			if len(next) > 4096 {
				return nil, prereq("wrong_input", "Too many tags")
			}
		} else {
			if missing := containsAll(next, tags); len(missing) > 0 {
				return nil, prereq("unknown_entity", "Tag(s) %s not found", strings.Join(quoteAll(missing), ", "))
			}
			next = slices.DeleteFunc(next, func(t string) bool { return slices.Contains(tags, t) })
		}
		if x.dry {
			return nil, nil
		}
		*cur = nonNil(next)
		switch kind {
		case "instance":
			x.c.touch(x.c.insts[name])
		case "node":
			n := x.c.nodeByN[name]
			n.serial++
			n.mtime = nowFloat()
		case "nodegroup":
			g := x.c.groupByN[name]
			g.serial++
			g.mtime = nowFloat()
		case "network":
			nw := x.c.netByN[name]
			nw.serial++
			nw.mtime = nowFloat()
		case "cluster":
			x.c.serial++
			x.c.mtime = nowFloat()
		}
		x.c.changed()
		return nil, nil
	})
	return jobID(c.submit(q, op)), nil
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "'" + v + "'"
	}
	return out
}

func (c *Cluster) putNodeRole(q *request, name string) ([]byte, error) {
	var role string
	if err := json.Unmarshal(q.body, &role); err != nil {
		return nil, errorf(400, "Invalid role, expected a JSON string")
	}
	var params map[string]any
	switch role {
	case "master":
		return nil, errorf(400, "Can't set 'master' role")
	case "master-candidate":
		params = map[string]any{"master_candidate": true, "offline": false, "drained": false}
	case "regular":
		params = map[string]any{"master_candidate": false, "offline": false, "drained": false}
	case "drained":
		params = map[string]any{"master_candidate": false, "offline": false, "drained": true}
	case "offline":
		params = map[string]any{"master_candidate": false, "offline": true, "drained": false}
	default:
		return nil, errorf(400, "Unknown role '%s'", role)
	}
	return c.nodeModify(q, name, "nodes_name_role", params, q.flag("force"), q.flag("auto-promote"))
}

func (c *Cluster) postNodeModify(q *request, name string) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	params := map[string]any{}
	for _, k := range []string{"master_candidate", "offline", "drained"} {
		if v, ok := body[k]; ok && v != nil {
			b, ok := v.(bool)
			if !ok {
				return nil, invalidParam("OP_NODE_SET_PARAMS", k)
			}
			params[k] = b
		}
	}
	return c.nodeModify(q, name, "nodes_name_modify", params, boolParam(body, "force", false), boolParam(body, "auto_promote", false))
}

func (c *Cluster) nodeModify(q *request, name, source string, params map[string]any, force, autoPromote bool) ([]byte, error) {
	def := map[string]any{"node_name": name, "force": force, "auto_promote": autoPromote}
	maps.Copy(def, params)
	op := newOp("OP_NODE_SET_PARAMS", source, name, def, func(x *execCtx) (any, *opErr) {
		n := x.c.nodeByN[name]
		if n == nil {
			return nil, prereq("unknown_entity", "Node '%s' not known", name)
		}
		if n.master && len(params) > 0 {
			return nil, prereq("wrong_input", "The master role can be changed only via master-failover")
		}
		changes := []any{}
		for _, k := range slices.Sorted(maps.Keys(params)) {
			b := params[k].(bool)
			var cur *bool
			switch k {
			case "master_candidate":
				cur = &n.mc
			case "offline":
				cur = &n.offline
			case "drained":
				cur = &n.drained
			}
			if *cur != b {
				changes = append(changes, []any{k, map[bool]string{true: "True", false: "False"}[b]})
				if !x.dry {
					*cur = b
				}
			}
		}
		if len(changes) > 0 && !x.dry {
			n.serial++
			n.mtime = nowFloat()
			x.c.changed()
		}
		return changes, nil
	})
	return jobID(c.submit(q, op)), nil
}

func (c *Cluster) getNodeStorage(q *request, name string) ([]byte, error) {
	st := q.query.Get("storage_type")
	fields := q.query.Get("output_fields")
	if st == "" {
		return nil, errorf(400, "Missing the required 'storage_type' parameter")
	}
	if fields == "" {
		return nil, errorf(400, "Missing the required 'output_fields' parameter")
	}
	fl := strings.Split(fields, ",")
	op := newOp("OP_NODE_QUERY_STORAGE", "nodes_name_storage", "", map[string]any{
		"output_fields": fl, "storage_type": st, "nodes": []string{name},
	}, func(x *execCtx) (any, *opErr) {
		n := x.c.nodeByN[name]
		if n == nil {
			return nil, prereq("unknown_entity", "Node '%s' not known", name)
		}
		used := x.c.nodeStats()[name].diskUsed
		row := []any{}
		for _, f := range fl {
			switch f {
			case "name":
				row = append(row, map[string]string{"file": "/srv/ganeti/file-storage", "lvm-vg": "xenvg", "lvm-pv": "/dev/sda3"}[st])
			case "size":
				row = append(row, n.dtotal)
			case "used":
				row = append(row, used)
			case "free":
				row = append(row, n.dtotal-used)
			case "allocatable":
				row = append(row, true)
			default:
				return nil, prereq("wrong_input", "Unknown output field '%s'", f)
			}
		}
		return []any{row}, nil
	})
	delete(op.def, "dry_run")
	return jobID(c.submit(q, op)), nil
}

func (c *Cluster) putNetworkConnect(q *request, name string, connect bool) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	opID, src := "OP_NETWORK_CONNECT", "networks_name_connect"
	group, ok := strParam(body, "group_name")
	if !ok {
		if !connect {
			opID = "OP_NETWORK_DISCONNECT"
		}
		return nil, invalidParam(opID, "group_name")
	}
	params := map[string]any{"group_name": group, "network_name": name}
	mode, link, vlan := "bridged", "", ""
	if connect {
		if s, ok := strParam(body, "network_mode"); ok {
			mode = s
		}
		link, _ = strParam(body, "network_link")
		vlan, _ = strParam(body, "network_vlan")
		params["network_mode"], params["network_link"], params["network_vlan"] = mode, link, vlan
		params["conflicts_check"] = boolParam(body, "conflicts_check", true)
	} else {
		opID, src = "OP_NETWORK_DISCONNECT", "networks_name_disconnect"
	}
	op := newOp(opID, src, name, params, func(x *execCtx) (any, *opErr) {
		nw := x.c.netByN[name]
		if nw == nil {
			return nil, prereq("unknown_entity", "Network '%s' not found", name)
		}
		if x.c.groupByN[group] == nil {
			return nil, prereq("unknown_entity", "Group '%s' not found", group)
		}
		i := slices.IndexFunc(nw.conns, func(cn netConn) bool { return cn.group == group })
		if connect {
			if i >= 0 {
				x.log("Network '%s' is already connected to group '%s'", name, group)
				return nil, nil
			}
			if !x.dry {
				nw.conns = append(nw.conns, netConn{group: group, mode: mode, link: link, vlan: vlan})
			}
		} else {
			if i < 0 {
				x.log("Network '%s' is not connected to group '%s'", name, group)
				return nil, nil
			}
			if !x.dry {
				nw.conns = slices.Delete(slices.Clone(nw.conns), i, i+1)
			}
		}
		if !x.dry {
			nw.serial++
			nw.mtime = nowFloat()
			x.c.changed()
		}
		return nil, nil
	})
	return jobID(c.submit(q, op)), nil
}

func (c *Cluster) putClusterModify(q *request) ([]byte, error) {
	body, err := decodeBody(q)
	if err != nil {
		return nil, err
	}
	if _, ok := body["compression_tools"]; ok {
		return nil, errorf(403, "Forbidden parameter 'compression_tools'")
	}
	params, _ := jsonValue(body).(map[string]any)
	op := newOp("OP_CLUSTER_SET_PARAMS", "modify", "", params, func(x *execCtx) (any, *opErr) {
		if !x.dry {
			x.c.serial++
			x.c.mtime = nowFloat()
			x.c.changed()
		}
		return nil, nil
	})
	return jobID(c.submit(q, op)), nil
}

func (c *Cluster) putRedistConfig(q *request) ([]byte, error) {
	op := newOp("OP_CLUSTER_REDIST_CONF", "redistribute_config", "", nil, func(*execCtx) (any, *opErr) { return nil, nil })
	return jobID(c.submit(q, op)), nil
}

func anyList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{}
}
