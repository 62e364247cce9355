package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// osImagesData is the catalogue page: the images, and the clusters whose
// reported operating systems can be looked at (admin_os_images_cluster.go).
type osImagesData struct {
	Images   []applications.Image
	Clusters []*store.Cluster
}

// adminOSImagesList lists the operating system catalogue, enabled and
// disabled images, with the names (never the values) of their secret OS
// parameters, and links to the OS lists of the enabled clusters.
func (s *Server) adminOSImagesList(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	images, err := s.apps.Images(r.Context(), true)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	clusters, err := s.store.Clusters(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := &osImagesData{Images: images}
	for _, c := range clusters {
		if !c.Disabled {
			d.Clusters = append(d.Clusters, c)
		}
	}
	s.render(w, r, http.StatusOK, "admin_os_images", d)
}
