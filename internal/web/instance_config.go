package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceConfig changes the instance's hypervisor settings (boot order,
// CD-ROM image, NIC and disk types, local time); the service validates
// them and, on a running instance, marks it as needing a reboot.
func (s *Server) instanceConfig(w http.ResponseWriter, r *http.Request) {
	if !s.actionForm(w, r) {
		return
	}
	c := instanceops.HVConfig{UseLocalTime: r.PostForm.Get("use_localtime") == "on"}
	for _, f := range []struct {
		name string
		max  int
		dst  *string
	}{{"boot_order", 32, &c.BootOrder}, {"cdrom_url", instanceops.MaxCDROMURL, &c.CDROMURL}, {"nic_type", 32, &c.NICType},
		{"disk_type", 32, &c.DiskType}} {
		v, ok := field(r, f.name, f.max)
		if !ok {
			s.actionInvalid(w, r, instanceops.Configure, f.name, i18n.M("instanceactions.config.toolong"))
			return
		}
		*f.dst = v
	}
	slug, name := actionTarget(r)
	_, err := s.instances.Configure(r.Context(), actionRequest(r), slug, name, c)
	if s.actionFailed(w, r, instanceops.Configure, err) {
		return
	}
	s.actionDone(w, r, i18n.M("instanceactions.done.configure"))
}
