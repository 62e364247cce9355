package rapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Instances returns the names of all instances.
func (c *Client) Instances(ctx context.Context) ([]string, error) {
	return c.listNames(ctx, "/2/instances")
}

// InstancesBulk returns all instances with their details (one call; about
// 190 ms on a small cluster whatever the count).
func (c *Client) InstancesBulk(ctx context.Context) ([]Instance, error) {
	raw, err := c.requestRaw(ctx, http.MethodGet, "/2/instances", bulkQuery(), nil)
	if err != nil {
		return nil, err
	}
	list, err := decodeInstances(raw)
	if err != nil {
		return nil, fmt.Errorf("rapi: GET /2/instances: decode response: %w", err)
	}
	return list, nil
}

// decodeInstances decodes a bulk instance list. The slice is sized up front
// (an Instance is large; growing a slice of 10,000 of them repeatedly costs
// more than one extra pass over the bytes).
func decodeInstances(raw []byte) ([]Instance, error) {
	list := make([]Instance, 0, countElements(raw, 1<<20))
	if err := decodeJSON(raw, &list); err != nil {
		return nil, err
	}
	if len(list) == 0 && bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	return list, nil
}

// countElements returns the number of elements of a top-level JSON array,
// at most limit, or 0 when data does not start with an array. It only
// serves as a capacity hint: it does not validate.
func countElements(data []byte, limit int) int {
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	if i >= len(data) || data[i] != '[' {
		return 0
	}
	n, depth, empty := 0, 0, true
	for ; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			empty = false
			// Skip the string, honouring backslash escapes.
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if depth == 1 {
				empty = false
			}
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				if !empty {
					n++
				}
				return min(n, limit)
			}
		case ',':
			if depth == 1 {
				n++
			}
		case ' ', '\t', '\n', '\r':
		default:
			if depth == 1 {
				empty = false
			}
		}
	}
	return min(n, limit)
}

// Instance returns one instance (404 if unknown: see IsNotFound).
func (c *Client) Instance(ctx context.Context, name string) (*Instance, error) {
	if err := checkName("instance", name); err != nil {
		return nil, err
	}
	var in Instance
	if err := c.request(ctx, http.MethodGet, instPath(name), nil, nil, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

func instPath(name string, sub ...string) string {
	return pathEscape(append([]string{"2", "instances", name}, sub...)...)
}

// InstanceInfo submits the instance information job (OP_INSTANCE_QUERY_DATA).
// With static, only the configuration is read (no node queries). Wait for
// the job and read its result with DecodeInstanceInfo.
func (c *Client) InstanceInfo(ctx context.Context, name string, static bool) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	q := url.Values{"static": {"0"}}
	if static {
		q.Set("static", "1")
	}
	return c.submit(ctx, http.MethodGet, instPath(name, "info"), q, nil)
}

// InstanceDisk is one disk in the instance information job result.
type InstanceDisk struct {
	IVName   string `json:"iv_name"`
	DevType  string `json:"dev_type"`
	Mode     string `json:"mode"`
	Size     int64  `json:"size"`
	Spindles int64  `json:"spindles"`
	Name     string `json:"name"`
	UUID     string `json:"uuid"`
	// LogicalID, PStatus and SStatus are kept raw: their shape depends on
	// the disk type.
	LogicalID json.RawMessage `json:"logical_id"`
	PStatus   json.RawMessage `json:"pstatus"`
	SStatus   json.RawMessage `json:"sstatus"`
}

// InstanceNIC is one NIC in the instance information job result.
type InstanceNIC struct {
	Name        string
	UUID        string
	IP          string
	MAC         string
	Mode        string
	Link        string
	VLAN        string
	Network     string
	NetworkName string
}

// UnmarshalJSON decodes [name, uuid, ip, mac, mode, link, vlan, network,
// network name].
func (n *InstanceNIC) UnmarshalJSON(data []byte) error {
	*n = InstanceNIC{}
	var parts []json.RawMessage
	if lenientUnmarshal(data, &parts) != nil {
		return nil
	}
	dst := []*string{&n.Name, &n.UUID, &n.IP, &n.MAC, &n.Mode, &n.Link, &n.VLAN, &n.Network, &n.NetworkName}
	for i := 0; i < len(parts) && i < len(dst); i++ {
		*dst[i] = rawScalar(parts[i])
	}
	return nil
}

// InstanceDetails is one instance in the result of the instance information
// job: configured and actual state, disks with their status, and the
// instance-level and effective parameters.
type InstanceDetails struct {
	Name           string         `json:"name"`
	UUID           string         `json:"uuid"`
	ConfigState    string         `json:"config_state"`
	RunState       string         `json:"run_state"`
	PNode          string         `json:"pnode"`
	PNodeGroupName string         `json:"pnode_group_name"`
	PNodeGroupUUID string         `json:"pnode_group_uuid"`
	SNodes         []string       `json:"snodes"`
	OS             string         `json:"os"`
	NICs           []InstanceNIC  `json:"nics"`
	DiskTemplate   string         `json:"disk_template"`
	Disks          []InstanceDisk `json:"disks"`
	Hypervisor     string         `json:"hypervisor"`
	NetworkPort    int            `json:"network_port"`
	HvInstance     Params         `json:"hv_instance"`
	HvActual       HvParams       `json:"hv_actual"`
	BeInstance     Params         `json:"be_instance"`
	BeActual       BeParams       `json:"be_actual"`
	OSInstance     Params         `json:"os_instance"`
	OSActual       Params         `json:"os_actual"`
	SerialNo       int64          `json:"serial_no"`
	CTime          Time           `json:"ctime"`
	MTime          Time           `json:"mtime"`
}

// DecodeInstanceInfo reads the result of a finished instance information
// job, keyed by instance name.
func DecodeInstanceInfo(job *Job) (map[string]InstanceDetails, error) {
	if job == nil {
		return nil, fmt.Errorf("rapi: instance info: nil job")
	}
	if err := job.Err(); err != nil {
		return nil, err
	}
	if job.Status != JobStatusSuccess || len(job.OpResult) == 0 {
		return nil, fmt.Errorf("rapi: instance info: job %s has no result (status %q)", job.ID, job.Status)
	}
	var out map[string]InstanceDetails
	if err := decodeJSON(job.OpResult[0], &out); err != nil {
		return nil, fmt.Errorf("rapi: instance info: job %s: %w", job.ID, err)
	}
	return out, nil
}

// DiskSpec is one disk of an instance creation.
type DiskSpec struct {
	// Size in MiB (required unless Adopt).
	Size int64
	// Mode is "rw" or "ro".
	Mode string
	// Name, VG, MetaVG, Provider (ext), Adopt, Access, Spindles are passed
	// when set.
	Name     string
	VG       string
	MetaVG   string
	Provider string
	Adopt    string
	Access   string
	Spindles int
	// Params are extra disk parameters (extstorage provider parameters).
	Params map[string]any
}

// MarshalJSON encodes the disk dictionary Ganeti expects.
func (d DiskSpec) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	maps.Copy(m, d.Params)
	if d.Size > 0 {
		m["size"] = d.Size
	}
	setStr(m, "mode", d.Mode)
	setStr(m, "name", d.Name)
	setStr(m, "vg", d.VG)
	setStr(m, "metavg", d.MetaVG)
	setStr(m, "provider", d.Provider)
	setStr(m, "adopt", d.Adopt)
	setStr(m, "access", d.Access)
	if d.Spindles > 0 {
		m["spindles"] = d.Spindles
	}
	return json.Marshal(m)
}

// NICSpec is one NIC of an instance creation.
type NICSpec struct {
	// MAC is "auto", "generate" or an address; empty lets Ganeti choose.
	MAC string
	// IP is an address, "pool" (with Network) or empty.
	IP string
	// Mode is "bridged", "routed" or "openvswitch"; Link the bridge or
	// routing table. Network names a gnt-network instead.
	Mode    string
	Link    string
	Network string
	Name    string
	VLAN    string
	// Params are extra NIC parameters.
	Params map[string]any
}

// MarshalJSON encodes the NIC dictionary Ganeti expects.
func (n NICSpec) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	maps.Copy(m, n.Params)
	setStr(m, "mac", n.MAC)
	setStr(m, "ip", n.IP)
	setStr(m, "mode", n.Mode)
	setStr(m, "link", n.Link)
	setStr(m, "network", n.Network)
	setStr(m, "name", n.Name)
	setStr(m, "vlan", n.VLAN)
	return json.Marshal(m)
}

func setStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// InstanceCreate is an instance creation request (OpInstanceCreate, sent as
// the version 1 body). Start, NameCheck, IPCheck and WaitForSync are always
// sent as given: their zero value is false, unlike Ganeti's defaults.
type InstanceCreate struct {
	// Name is the instance name (required).
	Name string
	// Mode is "create" (default), "import" or "remote-import".
	Mode string
	// DiskTemplate: diskless, file, sharedfile, plain, drbd, rbd, ext, ...
	DiskTemplate string
	Disks        []DiskSpec
	NICs         []NICSpec
	// OS is the OS type, e.g. "debootstrap+default" (os_type).
	OS         string
	Hypervisor string
	BeParams   map[string]any
	HvParams   map[string]any
	OSParams   map[string]any
	// OSParamsPrivate and OSParamsSecret are not shown in Ganeti's output.
	OSParamsPrivate map[string]any
	OSParamsSecret  map[string]any
	// Placement: PNode (and SNode for drbd), or IAllocator, or neither for
	// the cluster's default allocator. GroupName restricts the allocator.
	PNode      string
	SNode      string
	IAllocator string
	GroupName  string
	Tags       []string

	Start       bool
	NameCheck   bool
	IPCheck     bool
	WaitForSync bool
	// NoConflictsCheck disables Ganeti's IP conflict check.
	NoConflictsCheck bool
	IgnoreIPolicy    bool
	NoInstall        bool
	ForceVariant     bool
	// Extra holds further opcode parameters; typed fields win on conflict.
	Extra map[string]any
	// DryRun only runs the prerequisite checks (query dry-run=1).
	DryRun bool
}

// body builds the opcode parameters (without __version__).
func (r InstanceCreate) body() (map[string]any, error) {
	if r.Name == "" {
		return nil, invalidArg("instance create: name is required")
	}
	m := map[string]any{}
	maps.Copy(m, r.Extra)
	mode := r.Mode
	if mode == "" {
		mode = "create"
	}
	m["mode"] = mode
	m["instance_name"] = r.Name
	setStr(m, "disk_template", r.DiskTemplate)
	disks := r.Disks
	if disks == nil {
		disks = []DiskSpec{}
	}
	nics := r.NICs
	if nics == nil {
		nics = []NICSpec{}
	}
	m["disks"] = disks
	m["nics"] = nics
	setStr(m, "os_type", r.OS)
	setStr(m, "hypervisor", r.Hypervisor)
	setMap(m, "beparams", r.BeParams)
	setMap(m, "hvparams", r.HvParams)
	setMap(m, "osparams", r.OSParams)
	setMap(m, "osparams_private", r.OSParamsPrivate)
	setMap(m, "osparams_secret", r.OSParamsSecret)
	setStr(m, "pnode", r.PNode)
	setStr(m, "snode", r.SNode)
	setStr(m, "iallocator", r.IAllocator)
	setStr(m, "group_name", r.GroupName)
	if len(r.Tags) > 0 {
		m["tags"] = r.Tags
	}
	m["start"] = r.Start
	m["name_check"] = r.NameCheck
	m["ip_check"] = r.IPCheck
	m["wait_for_sync"] = r.WaitForSync
	if r.NoConflictsCheck {
		m["conflicts_check"] = false
	}
	if r.IgnoreIPolicy {
		m["ignore_ipolicy"] = true
	}
	if r.NoInstall {
		m["no_install"] = true
	}
	if r.ForceVariant {
		m["force_variant"] = true
	}
	return m, nil
}

func setMap(m map[string]any, k string, v map[string]any) {
	if v != nil {
		m[k] = v
	}
}

// CreateInstance creates an instance with the version 1 body
// ("__version__": 1) after checking that the cluster announces
// instance-create-reqv1. The job's result is the list of chosen nodes.
func (c *Client) CreateInstance(ctx context.Context, r InstanceCreate) (JobID, error) {
	body, err := r.body()
	if err != nil {
		return 0, err
	}
	if err := checkName("instance", r.Name); err != nil {
		return 0, err
	}
	if err := c.requireFeature(ctx, &c.createReqV1, FeatureInstanceCreateReqV1); err != nil {
		return 0, fmt.Errorf("rapi: create instance %s: %w", r.Name, err)
	}
	body["__version__"] = 1
	return c.submit(ctx, http.MethodPost, "/2/instances", flag(nil, "dry-run", r.DryRun), body)
}

// MultiAlloc is a request to allocate several instances at once.
type MultiAlloc struct {
	Instances            []InstanceCreate
	IAllocator           string
	OpportunisticLocking bool
	DryRun               bool
}

// MultiAllocInstances submits OP_INSTANCE_MULTI_ALLOC. Its job result holds
// "allocatable", "failed" and the creation "jobs" (see DecodeMultiAlloc).
func (c *Client) MultiAllocInstances(ctx context.Context, r MultiAlloc) (JobID, error) {
	if len(r.Instances) == 0 {
		return 0, invalidArg("multi-alloc: no instances")
	}
	insts := make([]map[string]any, 0, len(r.Instances))
	for _, in := range r.Instances {
		b, err := in.body()
		if err != nil {
			return 0, err
		}
		insts = append(insts, b)
	}
	body := map[string]any{"instances": insts}
	setStr(body, "iallocator", r.IAllocator)
	if r.OpportunisticLocking {
		body["opportunistic_locking"] = true
	}
	return c.submit(ctx, http.MethodPost, "/2/instances-multi-alloc", flag(nil, "dry-run", r.DryRun), body)
}

// MultiAllocResult is the result of a multi-alloc job.
type MultiAllocResult struct {
	Allocatable []string
	Failed      []string
	// Jobs are the submitted creation jobs; OK false entries carry Ganeti's
	// message in Error.
	Jobs []SubmittedJob
}

// SubmittedJob is one [ok, job id or message] pair of a job result.
type SubmittedJob struct {
	OK    bool
	ID    JobID
	Error string
}

// UnmarshalJSON decodes [true, 14] or [false, "message"].
func (s *SubmittedJob) UnmarshalJSON(data []byte) error {
	*s = SubmittedJob{}
	var parts []json.RawMessage
	if lenientUnmarshal(data, &parts) != nil || len(parts) < 2 {
		return nil
	}
	_ = lenientUnmarshal(parts[0], &s.OK)
	if s.OK {
		_ = s.ID.UnmarshalJSON(parts[1])
	} else {
		s.Error = rawScalar(parts[1])
	}
	return nil
}

// DecodeMultiAlloc reads the result of a finished multi-alloc job.
func DecodeMultiAlloc(job *Job) (*MultiAllocResult, error) {
	if job == nil {
		return nil, fmt.Errorf("rapi: multi-alloc: nil job")
	}
	if err := job.Err(); err != nil {
		return nil, err
	}
	if len(job.OpResult) == 0 {
		return nil, fmt.Errorf("rapi: multi-alloc: job %s has no result", job.ID)
	}
	var r struct {
		Allocatable []string       `json:"allocatable"`
		Failed      []string       `json:"failed"`
		Jobs        []SubmittedJob `json:"jobs"`
	}
	if err := decodeJSON(job.OpResult[0], &r); err != nil {
		return nil, fmt.Errorf("rapi: multi-alloc: job %s: %w", job.ID, err)
	}
	return &MultiAllocResult{Allocatable: r.Allocatable, Failed: r.Failed, Jobs: r.Jobs}, nil
}

// DeleteOptions are optional parameters of DeleteInstance.
type DeleteOptions struct {
	// ShutdownTimeout bounds the shutdown before removal (Ganeti: 120 s).
	ShutdownTimeout time.Duration
	DryRun          bool
}

// DeleteInstance removes an instance and its disks.
func (c *Client) DeleteInstance(ctx context.Context, name string, opts DeleteOptions) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	var body any
	if opts.ShutdownTimeout > 0 {
		body = map[string]any{"shutdown_timeout": seconds(opts.ShutdownTimeout)}
	}
	return c.submit(ctx, http.MethodDelete, instPath(name), flag(nil, "dry-run", opts.DryRun), body)
}

// StartupOptions are optional parameters of StartupInstance.
type StartupOptions struct {
	Force bool
	// NoRemember starts without recording the new admin state.
	NoRemember bool
	DryRun     bool
}

// StartupInstance starts an instance (PUT .../startup, query parameters
// only).
func (c *Client) StartupInstance(ctx context.Context, name string, opts StartupOptions) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	var q url.Values
	q = flag(q, "force", opts.Force)
	q = flag(q, "no_remember", opts.NoRemember)
	q = flag(q, "dry-run", opts.DryRun)
	return c.submit(ctx, http.MethodPut, instPath(name, "startup"), q, nil)
}

// ShutdownOptions are optional parameters of ShutdownInstance.
type ShutdownOptions struct {
	// Timeout before the hypervisor forcibly stops the instance (Ganeti's
	// default 120 s when zero). Sent in seconds, rounded up.
	Timeout time.Duration
	// NoRemember stops without recording the new admin state.
	NoRemember bool
	// IgnoreOfflineNodes and Force are passed when set.
	IgnoreOfflineNodes bool
	Force              bool
	DryRun             bool
}

// ShutdownInstance stops an instance.
func (c *Client) ShutdownInstance(ctx context.Context, name string, opts ShutdownOptions) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	body := map[string]any{}
	if opts.Timeout > 0 {
		body["timeout"] = seconds(opts.Timeout)
	}
	if opts.IgnoreOfflineNodes {
		body["ignore_offline_nodes"] = true
	}
	if opts.Force {
		body["force"] = true
	}
	var q url.Values
	q = flag(q, "no_remember", opts.NoRemember)
	q = flag(q, "dry-run", opts.DryRun)
	return c.submit(ctx, http.MethodPut, instPath(name, "shutdown"), q, body)
}

// RebootType is the kind of reboot.
type RebootType string

// Reboot types.
const (
	// RebootSoft asks the guest OS to reboot.
	RebootSoft RebootType = "soft"
	// RebootHard restarts the instance at the hypervisor (Ganeti's default).
	RebootHard RebootType = "hard"
	// RebootFull shuts the instance down and starts it again.
	RebootFull RebootType = "full"
)

// RebootOptions are optional parameters of RebootInstance.
type RebootOptions struct {
	// Type defaults to Ganeti's default (hard) when empty.
	Type              RebootType
	IgnoreSecondaries bool
	// ShutdownTimeout bounds the shutdown of a full reboot.
	ShutdownTimeout time.Duration
	DryRun          bool
}

// RebootInstance reboots an instance (POST .../reboot?type=...).
func (c *Client) RebootInstance(ctx context.Context, name string, opts RebootOptions) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	var q url.Values
	switch opts.Type {
	case "":
	case RebootSoft, RebootHard, RebootFull:
		q = url.Values{"type": {string(opts.Type)}}
	default:
		return 0, invalidArg("reboot type %q", opts.Type)
	}
	q = flag(q, "ignore_secondaries", opts.IgnoreSecondaries)
	q = flag(q, "dry-run", opts.DryRun)
	var body any
	if opts.ShutdownTimeout > 0 {
		body = map[string]any{"shutdown_timeout": seconds(opts.ShutdownTimeout)}
	}
	return c.submit(ctx, http.MethodPost, instPath(name, "reboot"), q, body)
}

// ReinstallOptions are the parameters of ReinstallInstance.
type ReinstallOptions struct {
	// OS is the OS to install (empty: keep the current one).
	OS string
	// OSParams are OS parameters for the reinstall.
	OSParams map[string]any
	// NoStart leaves the instance stopped afterwards (body start=false).
	NoStart bool
	// ClearOSParams drops the instance's previous OS parameters (Ganeti
	// 2.16 and later).
	ClearOSParams bool
}

// ReinstallInstance reinstalls an instance's OS. The job shuts the instance
// down, reinstalls and (unless NoStart) starts it. It uses the version 1
// body when the cluster announces instance-reinstall-reqv1 and the legacy
// query form otherwise (which cannot carry OS parameters).
func (c *Client) ReinstallInstance(ctx context.Context, name string, opts ReinstallOptions) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	path := instPath(name, "reinstall")
	if err := c.requireFeature(ctx, &c.reinstallReqV1, FeatureInstanceReinstallReqV1); err != nil {
		if !errors.Is(err, ErrUnsupported) {
			return 0, err
		}
		if len(opts.OSParams) > 0 || opts.ClearOSParams {
			return 0, fmt.Errorf("rapi: reinstall %s with os parameters: %w", name, err)
		}
		q := url.Values{}
		setQuery(q, "os", opts.OS)
		q = flag(q, "nostartup", opts.NoStart)
		return c.submit(ctx, http.MethodPost, path, q, nil)
	}
	body := map[string]any{"start": !opts.NoStart}
	setStr(body, "os", opts.OS)
	setMap(body, "osparams", opts.OSParams)
	if opts.ClearOSParams {
		body["clear_osparams"] = true
	}
	return c.submit(ctx, http.MethodPost, path, nil, body)
}

func setQuery(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// ModAction is the action of a NIC or disk modification.
type ModAction string

// Modification actions.
const (
	ModAdd    ModAction = "add"
	ModAttach ModAction = "attach"
	ModRemove ModAction = "remove"
	ModDetach ModAction = "detach"
	ModModify ModAction = "modify"
)

// DeviceMod is one NIC or disk modification, sent as
// [action, index or name, params]. Index -1 means "append" for ModAdd.
type DeviceMod struct {
	Action ModAction
	// Index selects the device unless Name is set.
	Index  int
	Name   string
	Params map[string]any
}

// MarshalJSON encodes [action, index or name, params].
func (d DeviceMod) MarshalJSON() ([]byte, error) {
	var id any = d.Index
	if d.Name != "" {
		id = d.Name
	}
	p := d.Params
	if p == nil {
		p = map[string]any{}
	}
	return json.Marshal([]any{d.Action, id, p})
}

// AddDevice returns a modification appending a device with params.
func AddDevice(params map[string]any) DeviceMod {
	return DeviceMod{Action: ModAdd, Index: -1, Params: params}
}

// ModifyDevice returns a modification changing device index.
func ModifyDevice(index int, params map[string]any) DeviceMod {
	return DeviceMod{Action: ModModify, Index: index, Params: params}
}

// RemoveDevice returns a modification removing device index.
func RemoveDevice(index int) DeviceMod {
	return DeviceMod{Action: ModRemove, Index: index}
}

// InstanceModify are the changes of ModifyInstance (OpInstanceSetParams).
// Unset fields are not sent.
type InstanceModify struct {
	BeParams        map[string]any
	HvParams        map[string]any
	OSParams        map[string]any
	OSParamsPrivate map[string]any
	// OSName changes the OS (used with a reinstall).
	OSName string
	NICs   []DeviceMod
	Disks  []DeviceMod
	// RuntimeMem changes the memory of a running instance (MiB).
	RuntimeMem int64
	// DiskTemplate converts the disks (with RemoteNode for drbd).
	DiskTemplate string
	RemoteNode   string
	// Offline marks the instance offline (true) or online (false).
	Offline *bool
	// Hotplug overrides Ganeti's hotplug default.
	Hotplug       *bool
	Force         bool
	IgnoreIPolicy bool
	// Extra holds further opcode parameters; typed fields win on conflict.
	Extra  map[string]any
	DryRun bool
}

func (m InstanceModify) body() map[string]any {
	b := map[string]any{}
	maps.Copy(b, m.Extra)
	setMap(b, "beparams", m.BeParams)
	setMap(b, "hvparams", m.HvParams)
	setMap(b, "osparams", m.OSParams)
	setMap(b, "osparams_private", m.OSParamsPrivate)
	setStr(b, "os_name", m.OSName)
	if len(m.NICs) > 0 {
		b["nics"] = m.NICs
	}
	if len(m.Disks) > 0 {
		b["disks"] = m.Disks
	}
	if m.RuntimeMem > 0 {
		b["runtime_mem"] = m.RuntimeMem
	}
	setStr(b, "disk_template", m.DiskTemplate)
	setStr(b, "remote_node", m.RemoteNode)
	if m.Offline != nil {
		b["offline"] = *m.Offline
	}
	if m.Hotplug != nil {
		b["hotplug"] = *m.Hotplug
	}
	if m.Force {
		b["force"] = true
	}
	if m.IgnoreIPolicy {
		b["ignore_ipolicy"] = true
	}
	return b
}

// ModifyInstance changes an instance's parameters, NICs or disks. Most
// changes apply at the next boot.
func (c *Client) ModifyInstance(ctx context.Context, name string, m InstanceModify) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	body := m.body()
	if len(body) == 0 {
		return 0, invalidArg("modify instance %s: nothing to change", name)
	}
	return c.submit(ctx, http.MethodPut, instPath(name, "modify"), flag(nil, "dry-run", m.DryRun), body)
}

// RenameOptions are optional parameters of RenameInstance. Both checks are
// always sent (false unless set), since Ganeti's true default fails for
// names that do not resolve.
type RenameOptions struct {
	IPCheck   bool
	NameCheck bool
	DryRun    bool
}

// RenameInstance renames a (stopped) instance.
func (c *Client) RenameInstance(ctx context.Context, name, newName string, opts RenameOptions) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	if err := checkName("instance", newName); err != nil {
		return 0, err
	}
	body := map[string]any{"new_name": newName, "ip_check": opts.IPCheck, "name_check": opts.NameCheck}
	return c.submit(ctx, http.MethodPut, instPath(name, "rename"), flag(nil, "dry-run", opts.DryRun), body)
}

// MigrateOptions are optional parameters of MigrateInstance.
type MigrateOptions struct {
	// Mode is "live" or "non-live" (empty: the hypervisor default).
	Mode          string
	Cleanup       bool
	TargetNode    string
	IAllocator    string
	AllowFailover bool
	// AllowRuntimeChanges overrides Ganeti's default (true).
	AllowRuntimeChanges *bool
	IgnoreIPolicy       bool
}

// MigrateInstance live-migrates an instance to its secondary (drbd) or to
// another node (shared storage).
func (c *Client) MigrateInstance(ctx context.Context, name string, opts MigrateOptions) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	body := map[string]any{}
	setStr(body, "mode", opts.Mode)
	setStr(body, "target_node", opts.TargetNode)
	setStr(body, "iallocator", opts.IAllocator)
	if opts.Cleanup {
		body["cleanup"] = true
	}
	if opts.AllowFailover {
		body["allow_failover"] = true
	}
	if opts.AllowRuntimeChanges != nil {
		body["allow_runtime_changes"] = *opts.AllowRuntimeChanges
	}
	if opts.IgnoreIPolicy {
		body["ignore_ipolicy"] = true
	}
	return c.submit(ctx, http.MethodPut, instPath(name, "migrate"), nil, body)
}

// FailoverOptions are optional parameters of FailoverInstance.
type FailoverOptions struct {
	IgnoreConsistency bool
	ShutdownTimeout   time.Duration
	TargetNode        string
	IAllocator        string
	Cleanup           bool
	IgnoreIPolicy     bool
}

// FailoverInstance fails an instance over (stop, then start elsewhere).
func (c *Client) FailoverInstance(ctx context.Context, name string, opts FailoverOptions) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	body := map[string]any{}
	setStr(body, "target_node", opts.TargetNode)
	setStr(body, "iallocator", opts.IAllocator)
	if opts.IgnoreConsistency {
		body["ignore_consistency"] = true
	}
	if opts.ShutdownTimeout > 0 {
		body["shutdown_timeout"] = seconds(opts.ShutdownTimeout)
	}
	if opts.Cleanup {
		body["cleanup"] = true
	}
	if opts.IgnoreIPolicy {
		body["ignore_ipolicy"] = true
	}
	return c.submit(ctx, http.MethodPut, instPath(name, "failover"), nil, body)
}

// InstanceConsole returns how to reach an instance's console. A stopped
// instance gives a 503 (IsUnavailable).
func (c *Client) InstanceConsole(ctx context.Context, name string) (*Console, error) {
	if err := checkName("instance", name); err != nil {
		return nil, err
	}
	var con Console
	if err := c.request(ctx, http.MethodGet, instPath(name, "console"), nil, nil, &con); err != nil {
		return nil, err
	}
	return &con, nil
}

// InstanceTags returns an instance's tags.
func (c *Client) InstanceTags(ctx context.Context, name string) ([]string, error) {
	if err := checkName("instance", name); err != nil {
		return nil, err
	}
	return c.getTags(ctx, instPath(name, "tags"))
}

// AddInstanceTags adds tags to an instance.
func (c *Client) AddInstanceTags(ctx context.Context, name string, tags []string) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	return c.changeTags(ctx, http.MethodPut, instPath(name, "tags"), tags)
}

// DeleteInstanceTags removes tags from an instance.
func (c *Client) DeleteInstanceTags(ctx context.Context, name string, tags []string) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	return c.changeTags(ctx, http.MethodDelete, instPath(name, "tags"), tags)
}

// GrowDiskOptions are the parameters of GrowInstanceDisk.
type GrowDiskOptions struct {
	// Amount in MiB to add, or the new size with Absolute.
	Amount   int64
	Absolute bool
	// NoWaitForSync returns without waiting for a drbd resync.
	NoWaitForSync bool
	IgnoreIPolicy bool
}

// GrowInstanceDisk grows disk number disk of an instance.
func (c *Client) GrowInstanceDisk(ctx context.Context, name string, disk int, opts GrowDiskOptions) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	if disk < 0 {
		return 0, invalidArg("disk index %d", disk)
	}
	if opts.Amount <= 0 {
		return 0, invalidArg("grow disk: amount must be positive")
	}
	body := map[string]any{"amount": opts.Amount}
	if opts.Absolute {
		body["absolute"] = true
	}
	if opts.NoWaitForSync {
		body["wait_for_sync"] = false
	}
	if opts.IgnoreIPolicy {
		body["ignore_ipolicy"] = true
	}
	return c.submit(ctx, http.MethodPost, instPath(name, "disk", strconv.Itoa(disk), "grow"), nil, body)
}

// ActivateInstanceDisks activates an instance's disks; its job result lists
// [node, iv_name, device path] triples.
func (c *Client) ActivateInstanceDisks(ctx context.Context, name string, ignoreSize bool) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	return c.submit(ctx, http.MethodPut, instPath(name, "activate-disks"), flag(nil, "ignore_size", ignoreSize), nil)
}

// DeactivateInstanceDisks deactivates a stopped instance's disks.
func (c *Client) DeactivateInstanceDisks(ctx context.Context, name string, force bool) (JobID, error) {
	if err := checkName("instance", name); err != nil {
		return 0, err
	}
	return c.submit(ctx, http.MethodPut, instPath(name, "deactivate-disks"), flag(nil, "force", force), nil)
}
