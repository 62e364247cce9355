package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// clusterOSData is the page of the operating systems a cluster reports.
type clusterOSData struct {
	Cluster *store.Cluster
	// OSes are the names the cluster reports (Ganeti's "name+variant"),
	// each with whether a catalogue image already installs it.
	OSes []clusterOS
	// Unreachable: the list could not be read (the page says so).
	Unreachable bool
}

type clusterOS struct {
	Name      string
	Catalogue bool
}

// adminOSImagesCluster lists the operating systems one cluster reports
// (/2/os), beside the catalogue, each with a link that starts a catalogue
// image for it. It is the only catalogue page that calls a cluster (Ganeti
// runs an OS diagnose job for the list, kept for a while by the service),
// so it is a page of its own, reached from the catalogue; a cluster that
// cannot be reached gives a 502 page that says so.
func (s *Server) adminOSImagesCluster(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	ctx := r.Context()
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	c, err := s.store.ClusterByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	images, err := s.apps.Images(ctx, true)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := &clusterOSData{Cluster: c}
	status := http.StatusOK
	names, err := s.apps.ClusterOSes(ctx, principalFrom(r), c.ID)
	if err != nil {
		if msg, ok := applications.ErrorMessage(err); ok && errors.Is(err, applications.ErrForbidden) {
			s.errorPage(w, r, http.StatusNotFound, msg)
			return
		}
		s.log.Warn("reading a cluster's OS list failed", "cluster", c.Slug, "err", err, "request_id", requestIDFrom(r))
		d.Unreachable, status = true, http.StatusBadGateway
	}
	for _, n := range names {
		d.OSes = append(d.OSes, clusterOS{Name: n, Catalogue: slices.ContainsFunc(images, func(im applications.Image) bool {
			return im.Provider == n
		})})
	}
	s.render(w, r, status, "admin_os_images_cluster", d)
}
