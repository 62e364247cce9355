package rapifake

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// qfield is a Query2 field definition.
type qfield struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Kind  string `json:"kind"`
	Doc   string `json:"doc"`
}

func queryFieldTable(res string) []qfield {
	common := []qfield{
		{"ctime", "CTime", "timestamp", "Creation timestamp"},
		{"mtime", "MTime", "timestamp", "Modification timestamp"},
		{"uuid", "UUID", "text", "Object UUID"},
		{"serial_no", "SerialNo", "number", "Object serial number, incremented on each modification"},
		{"tags", "Tags", "other", "Tags"},
	}
	var f []qfield
	switch res {
	case "job":
		// Jobs have none of the common object fields (as recorded from
		// Ganeti 3.0's /2/query/job).
		return []qfield{
			{"id", "ID", "number", "Job ID"},
			{"ops", "OpCodes", "other", "List of all opcodes"},
			{"status", "Status", "text", "Job status"},
			{"summary", "Summary", "other", "List of per-opcode summaries"},
			{"opstatus", "OpCode_status", "other", "List of opcodes status"},
			{"opresult", "OpCode_result", "other", "List of opcodes results"},
			{"oplog", "OpCode_log", "other", "List of opcode output logs"},
			{"received_ts", "Received", "other", "Timestamp of when job was received (tuple containing seconds and microseconds)"},
			{"start_ts", "Start", "other", "Timestamp of job start (tuple containing seconds and microseconds)"},
			{"end_ts", "End", "other", "Timestamp of job end (tuple containing seconds and microseconds)"},
		}
	case "instance":
		f = []qfield{
			{"name", "Instance", "text", "Instance name"},
			{"status", "Status", "text", "Instance status; \"running\" if instance is set to be running and actually is, \"ADMIN_down\" if instance is stopped and is not running, \"ERROR_wrongnode\" if instance running, but not on its designated primary node, \"ERROR_up\" if instance should be stopped, but is actually running, \"ERROR_down\" if instance should run, but doesn't, \"ERROR_nodedown\" if instance's primary node is down, \"ERROR_nodeoffline\" if instance's primary node is marked offline, \"ADMIN_offline\" if instance is offline and does not use dynamic resources"},
			{"oper_state", "Running", "bool", "Actual state of instance"},
			{"admin_state", "InstanceState", "text", "Desired state of instance"},
			{"admin_up", "Autostart", "bool", "Desired state of instance (if set, the instance should be up)"},
			{"pnode", "Primary_node", "text", "Primary node"},
			{"snodes", "Secondary_Nodes", "other", "Secondary nodes; usually this will just be one node"},
			{"os", "OS", "text", "Operating system"},
			{"disk_template", "Disk_template", "text", "Instance disk template"},
			{"hypervisor", "Hypervisor", "text", "Hypervisor name"},
			{"network_port", "Network_port", "other", "Instance network port if available (e.g. for VNC console)"},
			{"oper_ram", "Memory", "unit", "Actual memory usage as seen by hypervisor"},
			{"oper_vcpus", "VCPUs", "number", "Actual number of VCPUs as seen by hypervisor"},
			{"be/maxmem", "ConfigMaxMem", "unit", "The \"maxmem\" backend parameter"},
			{"be/minmem", "ConfigMinMem", "unit", "The \"minmem\" backend parameter"},
			{"be/vcpus", "ConfigVCPUs", "number", "The \"vcpus\" backend parameter"},
			{"disk_usage", "DiskUsage", "unit", "Total disk space used by instance on each of its nodes; this is not the disk size visible to the instance, but the usage on the node"},
			{"disk.count", "Disks", "number", "Number of disks"},
			{"disk.sizes", "Disk_sizes", "other", "List of disk sizes"},
			{"nic.count", "NICs", "number", "Number of network interfaces"},
			{"nic.ips", "NIC_IPs", "other", "List containing each network interface's IP address"},
			{"nic.macs", "NIC_MACs", "other", "List containing each network interface's MAC address"},
			{"nic.modes", "NIC_modes", "other", "List containing each network interface's mode"},
			{"nic.links", "NIC_links", "other", "List containing each network interface's link"},
			{"nic.networks.names", "NIC_networks_names", "other", "List containing each network interface's network name"},
		}
	case "node":
		f = []qfield{
			{"name", "Node", "text", "Node name"},
			{"role", "Role", "text", "Node role; \"M\" for master, \"C\" for master candidate, \"R\" for regular, \"D\" for a drained, \"O\" for a offline node"},
			{"offline", "Offline", "bool", "Whether node is marked offline"},
			{"drained", "Drained", "bool", "Whether node is drained"},
			{"master_candidate", "MasterC", "bool", "Whether node is a master candidate"},
			{"master", "IsMaster", "bool", "Whether node is master"},
			{"group", "Group", "text", "Node group"},
			{"group.uuid", "GroupUUID", "text", "UUID of node group"},
			{"pip", "PrimaryIP", "text", "Primary IP address"},
			{"sip", "SecondaryIP", "text", "Secondary IP address"},
			{"mtotal", "MTotal", "unit", "Total amount of memory of physical machine"},
			{"mfree", "MFree", "unit", "Memory available for instance allocations"},
			{"dtotal", "DTotal", "unit", "Total disk space in volume group used for instance disk allocation"},
			{"dfree", "DFree", "unit", "Available disk space in volume group"},
			{"ctotal", "CTotal", "number", "Total number of logical processors"},
			{"pinst_cnt", "Pinst", "number", "Number of instances with this node as primary"},
			{"sinst_cnt", "Sinst", "number", "Number of instances with this node as secondary"},
			{"pinst_list", "PriInstances", "other", "List of instances with this node as primary"},
			{"sinst_list", "SecInstances", "other", "List of instances with this node as secondary"},
		}
	case "group":
		f = []qfield{
			{"name", "Group", "text", "Group name"},
			{"alloc_policy", "AllocPolicy", "text", "Allocation policy for group"},
			{"node_cnt", "Nodes", "number", "Number of nodes"},
			{"node_list", "NodeList", "other", "List of nodes"},
			{"pinst_cnt", "Instances", "number", "Number of primary instances"},
			{"pinst_list", "InstanceList", "other", "List of primary instances"},
		}
	default:
		return nil
	}
	return append(f, common...)
}

func (c *Cluster) queryFields(q *request, res string) ([]byte, error) {
	table := queryFieldTable(res)
	if table == nil {
		return nil, errorf(400, "Unknown or unsupported resource '%s'", res)
	}
	out := table
	if fl := q.query.Get("fields"); fl != "" {
		out = nil
		for _, f := range strings.Split(fl, ",") {
			out = append(out, fieldDef(table, f))
		}
	}
	return marshal(map[string]any{"fields": out}), nil
}

func fieldDef(table []qfield, name string) qfield {
	for _, f := range table {
		if f.Name == name {
			return f
		}
	}
	return qfield{Name: name, Title: name, Kind: "unknown", Doc: fmt.Sprintf("Unknown field '%s'", name)}
}

// query answers GET|PUT /2/query/<res>.
func (c *Cluster) query(q *request, res string, put bool) ([]byte, error) {
	table := queryFieldTable(res)
	if table == nil {
		return nil, errorf(400, "Unknown or unsupported resource '%s'", res)
	}
	var fields []string
	var filter any
	if put {
		body, err := decodeBody(q)
		if err != nil {
			return nil, err
		}
		fl, ok := stringList(body["fields"])
		if !ok {
			return nil, errorf(400, "Invalid body parameters: (\"Parameter 'fields' must be a list of strings\", 'wrong_input')")
		}
		fields = fl
		filter = jsonValue(body["qfilter"])
		if filter == nil {
			filter = jsonValue(body["filter"])
		}
	} else {
		fl := q.query.Get("fields")
		if fl == "" {
			return nil, errorf(400, "Missing 'fields' query argument")
		}
		fields = strings.Split(fl, ",")
	}
	defs := make([]qfield, 0, len(fields))
	for _, f := range fields {
		defs = append(defs, fieldDef(table, f))
	}
	var getters []func(string) (any, bool)
	c.mu.RLock()
	defer c.mu.RUnlock()
	switch res {
	case "instance":
		for _, name := range c.instNames {
			in := c.insts[name]
			getters = append(getters, func(f string) (any, bool) { return instanceField(in, f) })
		}
	case "node":
		st := c.nodeStats()
		for _, n := range c.nodes {
			getters = append(getters, func(f string) (any, bool) { return c.nodeField(n, st[n.name], f) })
		}
	case "group":
		st := c.nodeStats()
		for _, g := range c.groups {
			getters = append(getters, func(f string) (any, bool) { return c.groupField(g, st, f) })
		}
	case "job":
		for _, j := range c.jobs {
			getters = append(getters, func(f string) (any, bool) {
				if fieldDef(table, f).Kind == "unknown" {
					return nil, false
				}
				return j.field(f), true
			})
		}
	}
	data := [][]any{}
	for _, get := range getters {
		if filter != nil {
			ok, err := evalFilter(filter, get)
			if err != nil {
				return nil, errorf(400, "Invalid body parameters: (\"%s\", 'wrong_input')", err.Error())
			}
			if !ok {
				continue
			}
		}
		row := make([]any, 0, len(fields))
		for _, f := range fields {
			if v, ok := get(f); ok {
				row = append(row, []any{0, v})
			} else {
				row = append(row, []any{1, nil})
			}
		}
		data = append(data, row)
	}
	return marshal(map[string]any{"data": data, "fields": defs}), nil
}

func instanceField(in *instance, f string) (any, bool) {
	var j instanceJSON
	if strings.HasPrefix(f, "nic.") || strings.HasPrefix(f, "disk.") || f == "snodes" || f == "tags" ||
		f == "oper_ram" || f == "oper_vcpus" {
		j = in.toJSON()
	}
	switch f {
	case "name":
		return in.name, true
	case "status":
		return in.status(), true
	case "oper_state":
		return in.running, true
	case "admin_state":
		return in.adminState, true
	case "admin_up":
		return in.adminState == "up", true
	case "pnode":
		return in.pnode, true
	case "snodes":
		return j.SNodes, true
	case "os":
		return in.os, true
	case "disk_template":
		return in.template, true
	case "hypervisor":
		return in.hypervisor, true
	case "network_port":
		return in.networkPort, true
	case "oper_ram":
		return j.OperRAM, true
	case "oper_vcpus":
		return j.OperVCPUs, true
	case "be/maxmem":
		return in.maxmem, true
	case "be/minmem":
		return in.minmem, true
	case "be/vcpus":
		return in.vcpus, true
	case "disk_usage":
		return in.diskUsage(), true
	case "disk.count":
		return len(in.disks), true
	case "disk.sizes":
		return j.DiskSizes, true
	case "nic.count":
		return len(in.nics), true
	case "nic.ips":
		return j.NICIPs, true
	case "nic.macs":
		return j.NICMACs, true
	case "nic.modes":
		return j.NICModes, true
	case "nic.links":
		return j.NICLinks, true
	case "nic.networks.names":
		return j.NICNetworkNames, true
	case "ctime":
		return in.ctime, true
	case "mtime":
		return in.mtime, true
	case "uuid":
		return in.uuid, true
	case "serial_no":
		return in.serial, true
	case "tags":
		return j.Tags, true
	}
	return nil, false
}

func (c *Cluster) nodeField(n *node, s *nodeStat, f string) (any, bool) {
	m := c.nodeMap(n, s, false)
	switch f {
	case "role":
		l, _ := n.role()
		return l, true
	case "master":
		return n.master, true
	case "group":
		return n.group, true
	}
	v, ok := m[f]
	return v, ok
}

func (c *Cluster) groupField(g *group, st map[string]*nodeStat, f string) (any, bool) {
	switch f {
	case "pinst_cnt", "pinst_list":
		list := []string{}
		for _, n := range c.nodes {
			if n.group == g.name {
				list = append(list, st[n.name].pinst...)
			}
		}
		slices.Sort(list)
		if f == "pinst_cnt" {
			return len(list), true
		}
		return list, true
	}
	v, ok := c.groupMap(g)[f]
	return v, ok
}

// normValue converts field values into the types encoding/json decodes
// into (float64, string, bool, nil, []any) for comparisons.
func normValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}

// evalFilter evaluates a Query2 filter (a subset of Ganeti's language:
// & | ! ? == = != < > <= >= =~ =[]) against one object.
func evalFilter(f any, get func(string) (any, bool)) (bool, error) {
	l, ok := f.([]any)
	if !ok || len(l) == 0 {
		return false, fmt.Errorf("invalid filter %v", f)
	}
	op, ok := l[0].(string)
	if !ok {
		return false, fmt.Errorf("invalid filter operator %v", l[0])
	}
	args := l[1:]
	field := func() (any, error) {
		if len(args) < 1 {
			return nil, fmt.Errorf("missing field for operator %s", op)
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("invalid field name %v", args[0])
		}
		v, ok := get(name)
		if !ok {
			return nil, fmt.Errorf("unknown field '%s'", name)
		}
		return normValue(v), nil
	}
	switch op {
	case "&", "|":
		for _, sub := range args {
			r, err := evalFilter(sub, get)
			if err != nil {
				return false, err
			}
			if op == "&" && !r {
				return false, nil
			}
			if op == "|" && r {
				return true, nil
			}
		}
		return op == "&", nil
	case "!":
		if len(args) != 1 {
			return false, fmt.Errorf("operator ! takes one argument")
		}
		r, err := evalFilter(args[0], get)
		return !r, err
	case "?":
		v, err := field()
		if err != nil {
			return false, err
		}
		return truthy(v), nil
	}
	v, err := field()
	if err != nil {
		return false, err
	}
	if len(args) != 2 {
		return false, fmt.Errorf("operator %s takes a field and a value", op)
	}
	want := normValue(args[1])
	switch op {
	case "==", "=":
		return reflect.DeepEqual(v, want), nil
	case "!=":
		return !reflect.DeepEqual(v, want), nil
	case "=~":
		pat, ok := want.(string)
		if !ok {
			return false, fmt.Errorf("regular expression must be a string")
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return false, fmt.Errorf("invalid regular expression %q", pat)
		}
		s, ok := v.(string)
		return ok && re.MatchString(s), nil
	case "=[]":
		list, ok := v.([]any)
		if !ok {
			return false, nil
		}
		for _, e := range list {
			if reflect.DeepEqual(e, want) {
				return true, nil
			}
		}
		return false, nil
	case "<", ">", "<=", ">=":
		cmp, ok := compare(v, want)
		if !ok {
			return false, nil
		}
		switch op {
		case "<":
			return cmp < 0, nil
		case ">":
			return cmp > 0, nil
		case "<=":
			return cmp <= 0, nil
		}
		return cmp >= 0, nil
	}
	return false, fmt.Errorf("unknown operator '%s'", op)
}

func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case float64:
		return t != 0
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}

func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	}
	return 0, false
}
