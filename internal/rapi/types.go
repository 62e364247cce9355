package rapi

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Time is a Ganeti timestamp. It decodes from a number of seconds since the
// epoch (ctime, mtime: 1795771099.740084), from a [seconds, microseconds]
// pair (job timestamps), or from null (the zero time).
type Time struct {
	time.Time
}

// UnmarshalJSON decodes the forms described on Time; anything else gives the
// zero time.
func (t *Time) UnmarshalJSON(data []byte) error {
	t.Time = time.Time{}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case '[':
		var pair []float64
		if lenientUnmarshal(data, &pair) != nil || len(pair) == 0 {
			return nil
		}
		us := 0.0
		if len(pair) > 1 {
			us = pair[1]
		}
		t.Time = fromUnix(pair[0], us/1e6)
	case 'n', '"', '{', 't', 'f':
		// null or a type Ganeti never sends here: zero time.
	default:
		f, err := strconv.ParseFloat(string(data), 64)
		if err == nil {
			t.Time = fromUnix(f, 0)
		}
	}
	return nil
}

// MarshalJSON encodes the time as seconds since the epoch (null when zero).
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(t.UnixMicro())/1e6, 'f', 6, 64), nil
}

// fromUnix builds a time from seconds plus a fraction. 0 (Ganeti's "never
// set", e.g. the default group's ctime) and values out of range give the
// zero time.
func fromUnix(sec, frac float64) time.Time {
	total := sec + frac
	if math.IsNaN(total) || math.IsInf(total, 0) || total <= 0 || total > 1e11 {
		return time.Time{}
	}
	whole, f := math.Modf(total)
	return time.Unix(int64(whole), int64(math.Round(f*1e6))*1000).UTC()
}

// JobID identifies a Ganeti job. It decodes from a JSON number or a string
// holding one (old Ganeti versions sent strings).
type JobID int64

// String formats the id in decimal.
func (id JobID) String() string { return strconv.FormatInt(int64(id), 10) }

// UnmarshalJSON accepts 7 and "7". Anything else (null, a negative or
// fractional number, another type) gives 0, which is never a valid job id:
// callers that need an id check for 0.
func (id *JobID) UnmarshalJSON(data []byte) error {
	*id = 0
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	if data[0] == '"' {
		var s string
		if json.Unmarshal(data, &s) != nil {
			return nil
		}
		data = []byte(strings.TrimSpace(s))
	}
	n, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil || n < 0 {
		return nil
	}
	*id = JobID(n)
	return nil
}

// Params is a Ganeti parameter dictionary kept as the JSON received (null or
// absent gives nil). It is cheap to decode; use Map or Decode to read it.
type Params json.RawMessage

// UnmarshalJSON keeps a copy of an object; any other value gives nil.
func (p *Params) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		*p = nil
		return nil
	}
	*p = append((*p)[:0:0], data...)
	return nil
}

// MarshalJSON returns the stored JSON, or null.
func (p Params) MarshalJSON() ([]byte, error) {
	if len(p) == 0 {
		return []byte("null"), nil
	}
	return p, nil
}

// String returns the JSON text.
func (p Params) String() string { return string(p) }

// Map decodes the dictionary (numbers as float64).
func (p Params) Map() map[string]any {
	if len(p) == 0 {
		return nil
	}
	var m map[string]any
	_ = lenientUnmarshal(p, &m)
	return m
}

// Decode unmarshals the dictionary into v.
func (p Params) Decode(v any) error {
	if len(p) == 0 {
		return nil
	}
	return json.Unmarshal(p, v)
}

// Lookup returns the raw JSON value of key, if present.
func (p Params) Lookup(key string) (json.RawMessage, bool) {
	if len(p) == 0 {
		return nil, false
	}
	var m map[string]json.RawMessage
	if lenientUnmarshal(p, &m) != nil {
		return nil, false
	}
	v, ok := m[key]
	return v, ok
}

// BeParams are an instance's backend parameters (filled with the cluster
// defaults in bulk and detail output). Raw keeps the dictionary received.
type BeParams struct {
	MinMem         int  `json:"minmem"`
	MaxMem         int  `json:"maxmem"`
	Memory         int  `json:"memory"` // RAPI sets memory = maxmem
	VCPUs          int  `json:"vcpus"`
	AutoBalance    bool `json:"auto_balance"`
	AlwaysFailover bool `json:"always_failover"`
	SpindleUse     int  `json:"spindle_use"`
	// Raw is the whole dictionary as received.
	Raw Params `json:"-"`
}

// UnmarshalJSON decodes the typed fields leniently and keeps Raw.
func (b *BeParams) UnmarshalJSON(data []byte) error {
	type plain BeParams
	var p plain
	_ = lenientUnmarshal(data, &p)
	*b = BeParams(p)
	return b.Raw.UnmarshalJSON(data)
}

// HvParams are an instance's hypervisor parameters. The typed fields are the
// ones a portal shows or edits (KVM and Xen names); Raw keeps everything.
type HvParams struct {
	BootOrder       string `json:"boot_order"`
	CdromImagePath  string `json:"cdrom_image_path"`
	KernelPath      string `json:"kernel_path"`
	KernelArgs      string `json:"kernel_args"`
	InitrdPath      string `json:"initrd_path"`
	RootPath        string `json:"root_path"`
	NICType         string `json:"nic_type"`
	DiskType        string `json:"disk_type"`
	SerialConsole   bool   `json:"serial_console"`
	VNCBindAddress  string `json:"vnc_bind_address"`
	VNCTLS          bool   `json:"vnc_tls"`
	VNCPasswordFile string `json:"vnc_password_file"`
	SpiceBind       string `json:"spice_bind"`
	MachineVersion  string `json:"machine_version"`
	CPUType         string `json:"cpu_type"`
	UseLocaltime    bool   `json:"use_localtime"`
	MigrationMode   string `json:"migration_mode"`
	RebootBehavior  string `json:"reboot_behavior"`
	SecurityModel   string `json:"security_model"`
	USBMouse        string `json:"usb_mouse"`
	Keymap          string `json:"keymap"`
	VGA             string `json:"vga"`
	DiskCache       string `json:"disk_cache"`
	UseChroot       bool   `json:"use_chroot"`
	CPUMask         string `json:"cpu_mask"`
	ACPI            bool   `json:"acpi"`
	// Raw is the whole dictionary as received.
	Raw Params `json:"-"`
}

// UnmarshalJSON decodes the typed fields leniently and keeps Raw.
func (h *HvParams) UnmarshalJSON(data []byte) error {
	type plain HvParams
	var p plain
	_ = lenientUnmarshal(data, &p)
	*h = HvParams(p)
	return h.Raw.UnmarshalJSON(data)
}

// NdParams are node parameters.
type NdParams struct {
	OOBProgram       string  `json:"oob_program"`
	SpindleCount     int     `json:"spindle_count"`
	ExclusiveStorage bool    `json:"exclusive_storage"`
	OVS              bool    `json:"ovs"`
	OVSName          string  `json:"ovs_name"`
	OVSLink          string  `json:"ovs_link"`
	SSHPort          int     `json:"ssh_port"`
	CPUSpeed         float64 `json:"cpu_speed"`
	// Raw is the whole dictionary as received.
	Raw Params `json:"-"`
}

// UnmarshalJSON decodes the typed fields leniently and keeps Raw.
func (n *NdParams) UnmarshalJSON(data []byte) error {
	type plain NdParams
	var p plain
	_ = lenientUnmarshal(data, &p)
	*n = NdParams(p)
	return n.Raw.UnmarshalJSON(data)
}

// ISpec is one instance specification of an instance policy.
type ISpec struct {
	MemorySize int64 `json:"memory-size"`
	DiskSize   int64 `json:"disk-size"`
	DiskCount  int   `json:"disk-count"`
	CPUCount   int   `json:"cpu-count"`
	NICCount   int   `json:"nic-count"`
	SpindleUse int   `json:"spindle-use"`
}

// MinMax is one allowed range of an instance policy.
type MinMax struct {
	Min ISpec `json:"min"`
	Max ISpec `json:"max"`
}

// IPolicy is a cluster or node group instance policy.
type IPolicy struct {
	MinMax        []MinMax `json:"minmax"`
	Std           ISpec    `json:"std"`
	SpindleRatio  float64  `json:"spindle-ratio"`
	VCPURatio     float64  `json:"vcpu-ratio"`
	DiskTemplates []string `json:"disk-templates"`
}

// InstanceStatus is the "status" field of an instance.
type InstanceStatus string

// Instance status values.
const (
	StatusRunning          InstanceStatus = "running"
	StatusAdminDown        InstanceStatus = "ADMIN_down"
	StatusAdminOffline     InstanceStatus = "ADMIN_offline"
	StatusUserDown         InstanceStatus = "USER_down"
	StatusErrorUp          InstanceStatus = "ERROR_up"
	StatusErrorDown        InstanceStatus = "ERROR_down"
	StatusErrorNodeDown    InstanceStatus = "ERROR_nodedown"
	StatusErrorNodeOffline InstanceStatus = "ERROR_nodeoffline"
	StatusErrorWrongNode   InstanceStatus = "ERROR_wrongnode"
)

// IsError reports whether the status is one of the ERROR_* values.
func (s InstanceStatus) IsError() bool { return len(s) > 6 && s[:6] == "ERROR_" }

// Instance is an instance as returned by /2/instances?bulk=1 and
// /2/instances/<name>. Per-NIC and per-disk fields are parallel lists;
// Ganeti's null entries (an unset NIC IP, disk name) are "" and a null
// number is 0 (oper_ram and oper_vcpus of a stopped instance, network_port
// without VNC).
type Instance struct {
	Name         string         `json:"name"`
	UUID         string         `json:"uuid"`
	Status       InstanceStatus `json:"status"`
	AdminState   string         `json:"admin_state"` // "up", "down" or "offline"
	OperState    bool           `json:"oper_state"`  // actually running
	OS           string         `json:"os"`
	PNode        string         `json:"pnode"`
	SNodes       []string       `json:"snodes"`
	DiskTemplate string         `json:"disk_template"`
	Hypervisor   string         `json:"hypervisor"` // newer Ganeti only

	DiskSizes    []int64  `json:"disk.sizes"` // MiB
	DiskSpindles []int64  `json:"disk.spindles"`
	DiskUUIDs    []string `json:"disk.uuids"`
	DiskNames    []string `json:"disk.names"`
	DiskUsage    int64    `json:"disk_usage"` // MiB

	NICIPs          []string `json:"nic.ips"`
	NICMACs         []string `json:"nic.macs"`
	NICModes        []string `json:"nic.modes"`
	NICLinks        []string `json:"nic.links"`
	NICUUIDs        []string `json:"nic.uuids"`
	NICNames        []string `json:"nic.names"`
	NICNetworks     []string `json:"nic.networks"` // network UUIDs
	NICNetworkNames []string `json:"nic.networks.names"`
	NICBridges      []string `json:"nic.bridges"`

	NetworkPort int `json:"network_port"`
	OperRAM     int `json:"oper_ram"`   // MiB, 0 when not running
	OperVCPUs   int `json:"oper_vcpus"` // 0 when not running

	BeParams        BeParams `json:"beparams"`
	HvParams        HvParams `json:"hvparams"`
	CustomBeParams  Params   `json:"custom_beparams"`
	CustomHvParams  Params   `json:"custom_hvparams"`
	CustomOSParams  Params   `json:"custom_osparams"`
	CustomNICParams []Params `json:"custom_nicparams"`

	CTime    Time     `json:"ctime"`
	MTime    Time     `json:"mtime"`
	SerialNo int64    `json:"serial_no"`
	Tags     []string `json:"tags"`
}

// Running reports whether the instance is actually running.
func (i *Instance) Running() bool { return i.OperState }

// AdminUp reports whether the instance is meant to be running.
func (i *Instance) AdminUp() bool { return i.AdminState == "up" }

// Node is a node as returned by /2/nodes?bulk=1 and /2/nodes/<name>. Live
// figures (memory, disk, CPUs) are 0 when Ganeti reports null (offline node).
type Node struct {
	Name            string `json:"name"`
	UUID            string `json:"uuid"`
	Role            string `json:"role"` // one letter: M, C, R, D, O
	Offline         bool   `json:"offline"`
	Drained         bool   `json:"drained"`
	MasterCandidate bool   `json:"master_candidate"`
	MasterCapable   bool   `json:"master_capable"`
	VMCapable       bool   `json:"vm_capable"`
	GroupUUID       string `json:"group.uuid"`
	PrimaryIP       string `json:"pip"`
	SecondaryIP     string `json:"sip"`

	DiskTotal     int64 `json:"dtotal"` // MiB
	DiskFree      int64 `json:"dfree"`
	SpindlesTotal int64 `json:"sptotal"`
	SpindlesFree  int64 `json:"spfree"`
	MemTotal      int64 `json:"mtotal"` // MiB
	MemNode       int64 `json:"mnode"`
	MemFree       int64 `json:"mfree"`
	CPUTotal      int   `json:"ctotal"`
	CPUNodeOS     int   `json:"cnos"`
	NUMANodes     int   `json:"cnodes"`
	CPUSockets    int   `json:"csockets"`

	PInstCount int      `json:"pinst_cnt"`
	SInstCount int      `json:"sinst_cnt"`
	PInstList  []string `json:"pinst_list"`
	SInstList  []string `json:"sinst_list"`

	NdParams NdParams `json:"ndparams"`
	CTime    Time     `json:"ctime"`
	MTime    Time     `json:"mtime"`
	SerialNo int64    `json:"serial_no"`
	Tags     []string `json:"tags"`
}

// NodeRole is a node's role as used by /2/nodes/<name>/role.
type NodeRole string

// Node roles.
const (
	RoleMaster          NodeRole = "master"
	RoleMasterCandidate NodeRole = "master-candidate"
	RoleRegular         NodeRole = "regular"
	RoleDrained         NodeRole = "drained"
	RoleOffline         NodeRole = "offline"
)

// RoleName maps the one-letter role of bulk output to a NodeRole ("" when
// unknown).
func (n *Node) RoleName() NodeRole {
	switch n.Role {
	case "M":
		return RoleMaster
	case "C":
		return RoleMasterCandidate
	case "R":
		return RoleRegular
	case "D":
		return RoleDrained
	case "O":
		return RoleOffline
	}
	return ""
}

// Group is a node group as returned by /2/groups?bulk=1 and /2/groups/<name>.
// Its tags carry ganetimgr's "locked" (maintenance) and "vg:<name>" markers.
type Group struct {
	Name             string   `json:"name"`
	UUID             string   `json:"uuid"`
	AllocPolicy      string   `json:"alloc_policy"` // preferred, last_resort, unallocable
	NodeCount        int      `json:"node_cnt"`
	NodeList         []string `json:"node_list"`
	IPolicy          IPolicy  `json:"ipolicy"`
	CustomIPolicy    Params   `json:"custom_ipolicy"`
	DiskParams       Params   `json:"diskparams"`
	CustomDiskParams Params   `json:"custom_diskparams"`
	NdParams         NdParams `json:"ndparams"`
	CustomNdParams   Params   `json:"custom_ndparams"`
	CTime            Time     `json:"ctime"`
	MTime            Time     `json:"mtime"`
	SerialNo         int64    `json:"serial_no"`
	Tags             []string `json:"tags"`
}

// NetworkGroup is one node group a network is connected to.
type NetworkGroup struct {
	Group string
	Mode  string // bridged, routed, openvswitch
	Link  string
	VLAN  string
}

// UnmarshalJSON decodes Ganeti's [group, mode, link(, vlan)] list.
func (g *NetworkGroup) UnmarshalJSON(data []byte) error {
	*g = NetworkGroup{}
	var parts []json.RawMessage
	if lenientUnmarshal(data, &parts) != nil {
		return nil
	}
	dst := []*string{&g.Group, &g.Mode, &g.Link, &g.VLAN}
	for i := 0; i < len(parts) && i < len(dst); i++ {
		*dst[i] = rawScalar(parts[i])
	}
	return nil
}

// Network is a Ganeti network (gnt-network) as returned by
// /2/networks?bulk=1 and /2/networks/<name>.
type Network struct {
	Name                 string         `json:"name"`
	UUID                 string         `json:"uuid"`
	Network              string         `json:"network"` // IPv4 CIDR
	Gateway              string         `json:"gateway"`
	Network6             string         `json:"network6"`
	Gateway6             string         `json:"gateway6"`
	MACPrefix            string         `json:"mac_prefix"`
	FreeCount            int            `json:"free_count"`
	ReservedCount        int            `json:"reserved_count"`
	Map                  string         `json:"map"` // "X" used, "." free
	GroupList            []NetworkGroup `json:"group_list"`
	InstList             []string       `json:"inst_list"`
	ExternalReservations string         `json:"external_reservations"`
	CTime                Time           `json:"ctime"`
	MTime                Time           `json:"mtime"`
	SerialNo             int64          `json:"serial_no"`
	Tags                 []string       `json:"tags"`
}

// NICParams are cluster-level NIC defaults.
type NICParams struct {
	Mode string `json:"mode"`
	Link string `json:"link"`
	VLAN string `json:"vlan"`
}

// Info is the cluster information of /2/info. Raw keeps the whole answer.
type Info struct {
	Name                 string               `json:"name"`
	UUID                 string               `json:"uuid"`
	Master               string               `json:"master"`
	SoftwareVersion      string               `json:"software_version"`
	ProtocolVersion      int64                `json:"protocol_version"`
	ConfigVersion        int64                `json:"config_version"`
	OSAPIVersion         int                  `json:"os_api_version"`
	ExportVersion        int                  `json:"export_version"`
	VCSVersion           string               `json:"vcs_version"`
	Architecture         []string             `json:"architecture"`
	DefaultHypervisor    string               `json:"default_hypervisor"`
	EnabledHypervisors   []string             `json:"enabled_hypervisors"`
	EnabledDiskTemplates []string             `json:"enabled_disk_templates"`
	HvParams             map[string]Params    `json:"hvparams"`
	BeParams             map[string]BeParams  `json:"beparams"`
	NICParams            map[string]NICParams `json:"nicparams"`
	OSParams             Params               `json:"osparams"`
	DiskParams           map[string]Params    `json:"diskparams"`
	NdParams             NdParams             `json:"ndparams"`
	IPolicy              IPolicy              `json:"ipolicy"`
	DefaultIAllocator    string               `json:"default_iallocator"`
	CandidatePoolSize    int                  `json:"candidate_pool_size"`
	MaxRunningJobs       int                  `json:"max_running_jobs"`
	MACPrefix            string               `json:"mac_prefix"`
	MasterNetdev         string               `json:"master_netdev"`
	VolumeGroupName      string               `json:"volume_group_name"`
	FileStorageDir       string               `json:"file_storage_dir"`
	SharedFileStorageDir string               `json:"shared_file_storage_dir"`
	PrimaryIPVersion     int                  `json:"primary_ip_version"`
	HiddenOS             []string             `json:"hidden_os"`
	BlacklistedOS        []string             `json:"blacklisted_os"`
	CompressionTools     []string             `json:"compression_tools"`
	OSHvp                map[string]Params    `json:"os_hvp"`
	CTime                Time                 `json:"ctime"`
	MTime                Time                 `json:"mtime"`
	Tags                 []string             `json:"tags"`
	// Raw is the whole /2/info answer as received.
	Raw json.RawMessage `json:"-"`
}

// OSParameter is one parameter an OS declares.
type OSParameter struct {
	Name        string
	Description string
}

// UnmarshalJSON accepts [name, description] and {"name","description"}.
func (p *OSParameter) UnmarshalJSON(data []byte) error {
	*p = OSParameter{}
	var pair []json.RawMessage
	if lenientUnmarshal(data, &pair) == nil && len(pair) > 0 {
		p.Name = rawScalar(pair[0])
		if len(pair) > 1 {
			p.Description = rawScalar(pair[1])
		}
		return nil
	}
	var obj struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	_ = lenientUnmarshal(data, &obj)
	p.Name, p.Description = obj.Name, obj.Description
	return nil
}

// OS is an operating system definition as returned by /2/os?bulk=1.
type OS struct {
	Name        string        `json:"name"`
	Valid       bool          `json:"valid"`
	Variants    []string      `json:"variants"`
	Parameters  []OSParameter `json:"parameters"`
	APIVersions []int         `json:"api_versions"`
	Blacklisted bool          `json:"blacklisted"`
	Hidden      bool          `json:"hidden"`
	Trusted     bool          `json:"trusted"`
}

// Console is the answer of /2/instances/<name>/console.
type Console struct {
	Instance string   `json:"instance"`
	Kind     string   `json:"kind"` // msg, ssh, vnc, spice
	Message  string   `json:"message"`
	Host     string   `json:"host"`
	Port     int      `json:"port"`
	User     string   `json:"user"`
	Command  []string `json:"command"`
	Display  int      `json:"display"`
}

// Console kinds.
const (
	ConsoleMessage = "msg"
	ConsoleSSH     = "ssh"
	ConsoleVNC     = "vnc"
	ConsoleSpice   = "spice"
)

// rawScalar returns a JSON string's value or the JSON text of a number or
// boolean; null and containers give "".
func rawScalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	case 'n', '[', '{':
		return ""
	}
	return string(raw)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
