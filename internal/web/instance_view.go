package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// instanceState is the status of an instance in words, as the instance
// pages show it, derived from Ganeti's status (which already combines the
// administrative and the operational state).
type instanceState string

// Instance states, each with a message id "instance.state.<state>" and a
// CSS class "state-<state>".
const (
	stateRunning       instanceState = "running"
	stateStopped       instanceState = "stopped"
	stateShouldStop    instanceState = "shouldstop" // running, should be stopped
	stateShouldRun     instanceState = "shouldrun"  // stopped, should be running
	stateError         instanceState = "error"      // wrong node
	stateNodeDown      instanceState = "nodedown"   // its primary node is down or offline
	stateUnknownStatus instanceState = stateError   // anything Ganeti may add later
)

// Bounds of the instance list's query parameters.
const (
	maxSearchLength     = 200  // longest accepted search text
	instancePageSize    = 50   // default rows per page
	maxInstancePageSize = 200  // largest page a user may ask for
	maxCursorLength     = 1024 // longest accepted page cursor
)

// instanceStates lists the states in the order of the status filter.
var instanceStates = []instanceState{stateRunning, stateStopped, stateShouldStop, stateShouldRun, stateNodeDown, stateError}

// ganetiStatuses returns the Ganeti statuses that show as state s (for the
// status filter, applied in SQL).
func (s instanceState) ganetiStatuses() []string {
	switch s {
	case stateRunning:
		return []string{"running"}
	case stateStopped:
		return []string{"ADMIN_down", "ADMIN_offline"}
	case stateShouldStop:
		return []string{"ERROR_up"}
	case stateShouldRun:
		return []string{"ERROR_down", "USER_down"}
	case stateNodeDown:
		return []string{"ERROR_nodedown", "ERROR_nodeoffline"}
	case stateError:
		return []string{"ERROR_wrongnode"}
	}
	return nil
}

// Msg is the state's message.
func (s instanceState) Msg() i18n.Msg {
	switch s {
	case stateRunning:
		return i18n.M("instance.state.running")
	case stateStopped:
		return i18n.M("instance.state.stopped")
	case stateShouldStop:
		return i18n.M("instance.state.shouldstop")
	case stateShouldRun:
		return i18n.M("instance.state.shouldrun")
	case stateNodeDown:
		return i18n.M("instance.state.nodedown")
	default:
		return i18n.M("instance.state.error")
	}
}

// stateOf maps an instance's Ganeti status (and, when the status is
// missing, its admin and operational state) to words.
func stateOf(status, adminState string, operState bool) instanceState {
	switch status {
	case "running":
		return stateRunning
	case "ADMIN_down", "ADMIN_offline":
		return stateStopped
	case "ERROR_up":
		return stateShouldStop
	case "ERROR_down", "USER_down":
		return stateShouldRun
	case "ERROR_nodedown", "ERROR_nodeoffline":
		return stateNodeDown
	case "":
		up := adminState == "up"
		switch {
		case up && operState:
			return stateRunning
		case up:
			return stateShouldRun
		case operState:
			return stateShouldStop
		default:
			return stateStopped
		}
	}
	return stateUnknownStatus
}

// eui64 derives the stateless autoconfiguration address of a MAC address
// in an IPv6 prefix the way ganetimgr does: the first 64 bits of the
// prefix, then the MAC with ff:fe inserted in the middle and the
// universal/local bit (0x02 of the first octet) flipped. It fails for a
// prefix longer than /64, a non-IPv6 prefix or a malformed MAC.
func eui64(prefix netip.Prefix, mac string) (netip.Addr, bool) {
	if !prefix.IsValid() || !prefix.Addr().Is6() || prefix.Addr().Is4In6() || prefix.Bits() > 64 {
		return netip.Addr{}, false
	}
	hex := strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.TrimSpace(mac))
	if len(hex) != 12 {
		return netip.Addr{}, false
	}
	var m [6]byte
	for i := range m {
		b, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			return netip.Addr{}, false
		}
		m[i] = byte(b)
	}
	a := prefix.Masked().Addr().As16()
	a[8], a[9], a[10] = m[0]^0x02, m[1], m[2]
	a[11], a[12] = 0xff, 0xfe
	a[13], a[14], a[15] = m[3], m[4], m[5]
	return netip.AddrFrom16(a), true
}

// pageContext is what rendering instances needs besides the instances:
// the declared IPv6 prefixes per cluster and link, and the node groups
// under maintenance.
type pageContext struct {
	prefixes map[int64]map[string]netip.Prefix
	locked   map[int64]map[string]bool
}

// loadPageContext reads the declared IPv6 prefixes and locked node groups.
func (s *Server) loadPageContext(ctx context.Context) (*pageContext, error) {
	pc := &pageContext{prefixes: map[int64]map[string]netip.Prefix{}, locked: map[int64]map[string]bool{}}
	lp, err := s.store.DeclaredIPv6Prefixes(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range lp {
		pfx, err := netip.ParsePrefix(p.Prefix)
		if err != nil {
			continue
		}
		if pc.prefixes[p.ClusterID] == nil {
			pc.prefixes[p.ClusterID] = map[string]netip.Prefix{}
		}
		pc.prefixes[p.ClusterID][p.Link] = pfx
	}
	groups, err := s.store.LockedNodeGroups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if pc.locked[g.ClusterID] == nil {
			pc.locked[g.ClusterID] = map[string]bool{}
		}
		pc.locked[g.ClusterID][g.Name] = true
	}
	return pc, nil
}

// instanceNIC is one network card as the pages show it.
type instanceNIC struct {
	MAC     string
	IPv4    string
	IPv6    string
	Link    string
	Mode    string
	Network string
}

// instanceView is one instance prepared for the templates.
type instanceView struct {
	*store.CachedInstance
	URL         string
	State       instanceState
	IPv4        []string
	IPv6        []string
	NICs        []instanceNIC
	Networks    []string // "ip@link" or "link", for the helpdesk column
	DiskSizes   []string
	Memory      string
	Maintenance bool
	// Busy is what the instance's unfinished tracked job does ("shutting
	// down"); the zero Msg when none runs.
	Busy i18n.Msg
}

// StateMsg is the instance's status in words.
func (v *instanceView) StateMsg() i18n.Msg { return v.State.Msg() }

func (s *Server) instanceView(in *store.CachedInstance, pc *pageContext) *instanceView {
	v := &instanceView{CachedInstance: in, State: stateOf(in.Status, in.AdminState, in.OperState),
		URL:    s.path("/instances/" + pathEscape(in.ClusterSlug) + "/" + pathEscape(in.Name) + "/"),
		Memory: formatMiB(int64(in.MemoryMB)),
	}
	prefixes := pc.prefixes[in.ClusterID]
	for i, mac := range in.NICMACs {
		n := instanceNIC{MAC: mac}
		if i < len(in.NICIPs) {
			n.IPv4 = in.NICIPs[i]
		}
		if i < len(in.NICLinks) {
			n.Link = in.NICLinks[i]
		}
		if i < len(in.NICModes) {
			n.Mode = in.NICModes[i]
		}
		if i < len(in.NICNetworks) {
			n.Network = in.NICNetworks[i]
		}
		if p, ok := prefixes[n.Link]; ok && n.Link != "" {
			if a, ok := eui64(p, mac); ok {
				n.IPv6 = a.String()
			}
		}
		if n.IPv4 != "" {
			v.IPv4 = append(v.IPv4, n.IPv4)
		}
		if n.IPv6 != "" {
			v.IPv6 = append(v.IPv6, n.IPv6)
		}
		switch {
		case n.IPv4 != "" && n.Link != "":
			v.Networks = append(v.Networks, n.IPv4+"@"+n.Link)
		case n.Link != "":
			v.Networks = append(v.Networks, n.Link)
		}
		v.NICs = append(v.NICs, n)
	}
	for _, d := range in.DiskSizesMB {
		v.DiskSizes = append(v.DiskSizes, formatMiB(d))
	}
	v.Maintenance = in.NodeGroup != "" && pc.locked[in.ClusterID][in.NodeGroup]
	return v
}

// formatMiB writes a size given in MiB in the largest binary unit that
// keeps it readable ("512 MiB", "2 GiB", "1.5 TiB").
func formatMiB(mib int64) string {
	switch {
	case mib >= 1<<20:
		return trimFloat(float64(mib)/(1<<20)) + " TiB"
	case mib >= 1<<10:
		return trimFloat(float64(mib)/(1<<10)) + " GiB"
	default:
		return strconv.FormatInt(mib, 10) + " MiB"
	}
}

func trimFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

// pathEscape escapes one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }

// percent returns used/total as a whole percentage (0 when total is 0).
func percent(used, total int64) int {
	if total <= 0 {
		return 0
	}
	p := used * 100 / total
	return int(min(max(p, 0), 100))
}

// jsonDump is the indented form of a JSON document for display, or the
// raw text when it is not valid JSON.
func jsonDump(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}
