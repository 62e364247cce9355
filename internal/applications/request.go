package applications

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// PersonalityParam is the OS parameter (snf-image's) that carries files to
// put into the new VM: here the applicant's authorized_keys.
const PersonalityParam = "img_personality"

// CreateInput is everything the creation request of an application is
// built from.
type CreateInput struct {
	// App is the application, approved and submitted, with its placement.
	App *store.Application
	// Image is the catalogue image (nil when App.OSName names the OS).
	Image *store.OSImage
	// SecretParams are the image's secret OS parameters, opened.
	SecretParams map[string]string
	// Applicant is the applicant's username (the owner tag).
	Applicant string
	// OrgTag is the applicant's organization's tag ("" for none).
	OrgTag string
	// SSHKeys are the applicant's authorized_keys lines.
	SSHKeys []string
	// KeyURL is the URL serving SSHKeys ("" when the image takes none).
	KeyURL string
	// Codec builds the ganetimgr tags.
	Codec tags.Codec
	// PNode and SNode place the VM (empty: the cluster's allocator).
	PNode, SNode string
	// Start starts the VM once created.
	Start bool
}

// Marker is the text that marks the Ganeti job of one submission attempt
// (sent as the job's reason, so it is in the job's reason trail):
// "ganetimgr:application:<id>/<attempt>". A retry finds its own job by it.
func Marker(applicationID int64, attempt int) string {
	return "ganetimgr:application:" + strconv.FormatInt(applicationID, 10) + "/" + strconv.Itoa(attempt)
}

// BuildCreate builds the version 1 creation request of an application:
// ganetimgr's tags (owner, application, organization, mail service,
// volume group), memory, vCPUs, one disk (none for diskless), the NIC of
// the placement, the OS with its parameters (non-string values are never
// produced: Ganeti's OS parameters are strings), the key URL and
// img_personality as the image asks, and the secret parameters as private
// OS parameters (Ganeti hides them in its output). Names are not checked
// against DNS (ganetimgr never did).
func BuildCreate(in CreateInput) (rapi.InstanceCreate, error) {
	a := in.App
	if a == nil {
		return rapi.InstanceCreate{}, errors.New("applications: build create: no application")
	}
	if a.DiskTemplate == "" || a.NodeGroup == "" {
		return rapi.InstanceCreate{}, fmt.Errorf("applications: build create: application %d has no placement", a.ID)
	}
	r := rapi.InstanceCreate{
		Name: a.Hostname, Mode: "create", DiskTemplate: a.DiskTemplate,
		BeParams: map[string]any{"maxmem": a.MemoryMB, "minmem": a.MemoryMB, "vcpus": a.VCPUs},
		PNode:    in.PNode, SNode: in.SNode, Start: in.Start,
		NameCheck: false, IPCheck: false, WaitForSync: false,
	}

	// Tags.
	var err error
	add := func(t string, e error) {
		if e != nil && err == nil {
			err = e
		}
		if e == nil {
			r.Tags = append(r.Tags, t)
		}
	}
	add(in.Codec.User(in.Applicant))
	add(in.Codec.Application(a.ID))
	if in.OrgTag != "" {
		add(in.Codec.Org(in.OrgTag))
	}
	if a.HostsMailServer {
		add(in.Codec.Service(tags.ServiceMail))
	}
	if a.VG != "" {
		add(in.Codec.VG(a.VG))
	}
	if err != nil {
		return rapi.InstanceCreate{}, fmt.Errorf("applications: build create: %w", err)
	}

	// Disk and NIC.
	if a.DiskTemplate != "diskless" {
		d := rapi.DiskSpec{Size: int64(a.DiskGB) * 1024}
		if NeedsVG(a.DiskTemplate) {
			d.VG = a.VG
		}
		r.Disks = []rapi.DiskSpec{d}
	}
	r.NICs = []rapi.NICSpec{nicOf(a.Placement)}

	// Operating system.
	switch {
	case in.Image != nil:
		r.OS = in.Image.Provider
		r.OSParams = map[string]any{}
		for k, v := range in.Image.OSParams {
			r.OSParams[k] = v
		}
		if in.Image.SSHKeyParam != "" && in.KeyURL != "" {
			r.OSParams[in.Image.SSHKeyParam] = in.KeyURL
		}
		if len(in.Image.SSHKeyUsers) > 0 && len(in.SSHKeys) > 0 {
			p, err := Personality(in.Image.SSHKeyUsers, in.SSHKeys)
			if err != nil {
				return rapi.InstanceCreate{}, err
			}
			r.OSParams[PersonalityParam] = p
		}
		if len(in.SecretParams) > 0 {
			r.OSParamsPrivate = map[string]any{}
			for k, v := range in.SecretParams {
				r.OSParamsPrivate[k] = v
			}
		}
	case a.OSName != "":
		r.OS = a.OSName
	default:
		return rapi.InstanceCreate{}, fmt.Errorf("applications: build create: application %d has no operating system", a.ID)
	}
	return r, nil
}

// nicOf returns the NIC of a placement: bridged (or routed without
// gnt-network) by link and mode, a gnt-network with an address from its
// pool, or Ganeti's defaults for an empty placement network.
func nicOf(p store.Placement) rapi.NICSpec {
	switch {
	case p.NetworkPool:
		return rapi.NICSpec{Network: p.NetworkName, IP: "pool"}
	case p.NetworkLink != "":
		return rapi.NICSpec{Link: p.NetworkLink, Mode: p.NetworkMode}
	case p.NetworkName != "":
		return rapi.NICSpec{Network: p.NetworkName}
	}
	return rapi.NICSpec{}
}

// personalityFile is one img_personality entry (snf-image's format).
type personalityFile struct {
	Path     string `json:"path"`
	Contents string `json:"contents"`
	Owner    string `json:"owner"`
	Group    string `json:"group"`
	Mode     int    `json:"mode"`
}

// Personality returns the img_personality value that installs keys as the
// authorized_keys of each account in users ("user[:group[:path]]", as
// ganetimgr's ssh_key_users): the file goes to path, by default
// /root/.ssh/authorized_keys for root and /home/<user>/.ssh/authorized_keys
// otherwise; the group defaults to the user's own ("" for root, as
// ganetimgr had it); mode 0600.
func Personality(users, keys []string) (string, error) {
	contents := base64.StdEncoding.EncodeToString([]byte(AuthorizedKeys(keys)))
	files := make([]personalityFile, 0, len(users))
	for _, u := range users {
		parts := strings.SplitN(u, ":", 3)
		user := parts[0]
		if !validAccount(user) {
			return "", fmt.Errorf("applications: ssh key user %q is not an account name", u)
		}
		f := personalityFile{Owner: user, Contents: contents, Mode: 0o600}
		if user == "root" {
			f.Path = "/root/.ssh/authorized_keys"
		} else {
			f.Path, f.Group = "/home/"+user+"/.ssh/authorized_keys", user
		}
		if len(parts) > 1 && parts[1] != "" {
			if !validAccount(parts[1]) {
				return "", fmt.Errorf("applications: ssh key user %q has an invalid group", u)
			}
			f.Group = parts[1]
		}
		if len(parts) > 2 && parts[2] != "" {
			if !strings.HasPrefix(parts[2], "/") || strings.Contains(parts[2], "..") {
				return "", fmt.Errorf("applications: ssh key user %q has an invalid path", u)
			}
			f.Path = parts[2]
		}
		files = append(files, f)
	}
	b, err := json.Marshal(files)
	if err != nil {
		return "", fmt.Errorf("applications: img_personality: %w", err)
	}
	return string(b), nil
}

// validAccount matches a Unix account or group name.
func validAccount(s string) bool {
	if s == "" || len(s) > 32 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// AuthorizedKeys returns keys as an authorized_keys file: one line each,
// each ending in a newline; "" for none.
func AuthorizedKeys(keys []string) string {
	var b strings.Builder
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		b.WriteString(k)
		b.WriteByte('\n')
	}
	return b.String()
}
