package instanceops

import (
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// The choices of the configuration form (kvm's hypervisor parameters, as
// ganetimgr offered them).
var (
	// BootOrders are the boot devices a user may choose.
	BootOrders = []string{"disk", "cdrom"}
	// NICTypes are the emulated network cards a user may choose.
	NICTypes = []string{"paravirtual", "rtl8139", "e1000", "ne2k_pci", "i82551", "i82557b", "i82559er", "pcnet"}
	// DiskTypes are the disk interfaces a user may choose.
	DiskTypes = []string{"paravirtual", "scsi", "ide"}
)

// MaxCDROMURL bounds the length of a CD-ROM image address.
const MaxCDROMURL = 1000

// The form fields of the actions' refusals (Refusal.Field).
const (
	FieldNewName      = "new_name"
	FieldOS           = "os"
	FieldBootOrder    = "boot_order"
	FieldCDROMURL     = "cdrom_url"
	FieldNICType      = "nic_type"
	FieldDiskType     = "disk_type"
	FieldUseLocalTime = "use_localtime"
)

// The hypervisor parameters of HVConfig (kvm's names).
const (
	hvBootOrder    = "boot_order"
	hvCDROM        = "cdrom_image_path"
	hvNICType      = "nic_type"
	hvDiskType     = "disk_type"
	hvUseLocalTime = "use_localtime"
)

// HVConfig is what the configuration form sets of an instance's
// hypervisor parameters.
type HVConfig struct {
	// BootOrder is "disk" or "cdrom".
	BootOrder string
	// CDROMURL is the CD-ROM image's address, "" for none: an http or
	// https URL only (never fetched by the server).
	CDROMURL string
	// NICType is one of NICTypes.
	NICType string
	// DiskType is one of DiskTypes.
	DiskType string
	// UseLocalTime sets the guest's clock to local time instead of UTC.
	UseLocalTime bool
}

// ConfigOf returns the configuration form's values of an instance from its
// cached hypervisor parameters. It is false when the instance's
// hypervisor has no such settings (only kvm has them); missing
// parameters are left empty.
func ConfigOf(in *store.CachedInstance) (HVConfig, bool) {
	if in == nil || in.Hypervisor != "kvm" {
		return HVConfig{}, false
	}
	var hv map[string]any
	if len(in.HVParams) > 0 {
		if err := json.Unmarshal(in.HVParams, &hv); err != nil {
			return HVConfig{}, false
		}
	}
	str := func(k string) string {
		s, _ := hv[k].(string)
		return s
	}
	local, _ := hv[hvUseLocalTime].(bool)
	return HVConfig{BootOrder: str(hvBootOrder), CDROMURL: str(hvCDROM), NICType: str(hvNICType),
		DiskType: str(hvDiskType), UseLocalTime: local}, true
}

// hvChange is one changed hypervisor parameter.
type hvChange struct {
	param    string
	from, to any
}

// configChanges checks a submitted configuration against the current one
// and returns the hypervisor parameters to change, in a stable order. A
// value left as it is passes whatever it is (an administrator may have set
// one the form does not offer); a changed one must be a choice of the
// form, and a new CD-ROM address must be a valid http or https URL.
// Booting from the CD-ROM needs an image. Nothing changed is Invalid.
func configChanges(cur, c HVConfig) ([]hvChange, *Refusal) {
	c.BootOrder = strings.TrimSpace(c.BootOrder)
	c.CDROMURL = strings.TrimSpace(c.CDROMURL)
	c.NICType = strings.TrimSpace(c.NICType)
	c.DiskType = strings.TrimSpace(c.DiskType)
	if c.BootOrder != cur.BootOrder && !slices.Contains(BootOrders, c.BootOrder) {
		return nil, invalid(FieldBootOrder, i18n.M("instance_ops.config.boot_order"))
	}
	if c.CDROMURL != cur.CDROMURL && c.CDROMURL != "" {
		if r := checkCDROMURL(c.CDROMURL); r != nil {
			return nil, r
		}
	}
	if c.BootOrder == "cdrom" && c.CDROMURL == "" {
		return nil, invalid(FieldCDROMURL, i18n.M("instance_ops.config.cdrom_required"))
	}
	if c.NICType != cur.NICType && !slices.Contains(NICTypes, c.NICType) {
		return nil, invalid(FieldNICType, i18n.M("instance_ops.config.nic_type"))
	}
	if c.DiskType != cur.DiskType && !slices.Contains(DiskTypes, c.DiskType) {
		return nil, invalid(FieldDiskType, i18n.M("instance_ops.config.disk_type"))
	}
	var out []hvChange
	add := func(param string, from, to any) {
		if from != to {
			out = append(out, hvChange{param: param, from: from, to: to})
		}
	}
	add(hvBootOrder, cur.BootOrder, c.BootOrder)
	add(hvCDROM, cur.CDROMURL, c.CDROMURL)
	add(hvNICType, cur.NICType, c.NICType)
	add(hvDiskType, cur.DiskType, c.DiskType)
	add(hvUseLocalTime, cur.UseLocalTime, c.UseLocalTime)
	if len(out) == 0 {
		return nil, invalid("", i18n.M("instance_ops.config.unchanged"))
	}
	return out, nil
}

// checkCDROMURL checks the address of a CD-ROM image by its syntax only:
// the server never fetches it (a probe would let users reach internal
// addresses through it). It must be an absolute http or https URL with a
// host, without user name or password or fragment, of printable ASCII
// without spaces or commas (the hypervisor's option separator), at most
// MaxCDROMURL characters.
func checkCDROMURL(s string) *Refusal {
	bad := invalid(FieldCDROMURL, i18n.M("instance_ops.config.cdrom_url"))
	if len(s) > MaxCDROMURL || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ',' }) {
		return bad
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.User != nil ||
		u.Fragment != "" || strings.Contains(s, "#") || u.Host == "" {
		return bad
	}
	host := u.Hostname()
	if host == "" || (u.Port() == "" && strings.HasSuffix(u.Host, ":")) {
		return bad
	}
	if strings.HasPrefix(u.Host, "[") {
		if ip := net.ParseIP(host); ip == nil {
			return bad
		}
	} else if !validHost(host) {
		return bad
	}
	return nil
}

// validHost matches a DNS host name or an IPv4 address.
func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// hvParams returns the changes as the hvparams of a modification.
func hvParams(changes []hvChange) map[string]any {
	m := make(map[string]any, len(changes))
	for _, ch := range changes {
		m[ch.param] = ch.to
	}
	return m
}

// describeChanges says what changes, for the audit log and the tracked
// job, as "boot_order: disk -> cdrom, nic_type: paravirtual -> e1000" (an
// empty value is shown as two single quotes).
func describeChanges(changes []hvChange) string {
	parts := make([]string, 0, len(changes))
	for _, ch := range changes {
		parts = append(parts, ch.param+": "+hvText(ch.from)+" -> "+hvText(ch.to))
	}
	return strings.Join(parts, ", ")
}

func hvText(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return "''"
		}
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return "?"
}

// normalizeNewName checks the new name of a rename as a VM's name is
// checked when applying for one (applications.NormalizeHostname: a
// lowercase fully qualified domain name) and returns it normalized.
func normalizeNewName(s string) (string, *Refusal) {
	name, fe := applications.NormalizeHostname(s)
	if fe == nil {
		return name, nil
	}
	switch fe.Message.Msg.ID() {
	case "applications.required":
		return "", invalid(FieldNewName, i18n.M("instance_ops.rename.required"))
	case "applications.too_long":
		return "", invalid(FieldNewName, i18n.M("instance_ops.rename.too_long"))
	}
	return "", invalid(FieldNewName, i18n.M("instance_ops.rename.invalid"))
}
