package web

import (
	"net/http"
	"strconv"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// clusterBulk enables or disables the checked clusters.
func (s *Server) clusterBulk(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	var disable bool
	switch r.PostForm.Get("action") {
	case "enable":
	case "disable":
		disable = true
	default:
		s.badRequest(w, r, i18n.M("error.badform"))
		return
	}
	var ids []int64
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.badRequest(w, r, i18n.M("error.badform"))
			return
		}
		ids = append(ids, id)
	}
	ctx := r.Context()
	if len(ids) == 0 {
		s.addFlash(ctx, "warning", i18n.M("cluster.bulk.none"))
		http.Redirect(w, r, s.path("/admin/clusters"), http.StatusSeeOther)
		return
	}
	n, err := s.store.SetClustersDisabled(ctx, ids, disable)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("clusters bulk change", "disabled", disable, "ids", ids, "changed", n,
		"by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	if disable {
		s.addFlash(ctx, "success", i18n.M("cluster.bulk.disabled"))
	} else {
		s.addFlash(ctx, "success", i18n.M("cluster.bulk.enabled"))
	}
	http.Redirect(w, r, s.path("/admin/clusters"), http.StatusSeeOther)
}
