package web

import (
	"net/http"
	"strconv"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// networkListData is the declared networks list, optionally of one cluster.
type networkListData struct {
	Networks []*store.Network
	Clusters []*store.Cluster
	Cluster  int64
}

// networkList lists the declared networks (?cluster=<id> filters).
func (s *Server) networkList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var d networkListData
	if v := r.URL.Query().Get("cluster"); v != "" {
		d.Cluster, _ = strconv.ParseInt(v, 10, 64)
	}
	var err error
	if d.Networks, err = s.store.Networks(ctx, d.Cluster); err != nil {
		s.serverError(w, r, err)
		return
	}
	if d.Clusters, err = s.store.Clusters(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "networks", d)
}
