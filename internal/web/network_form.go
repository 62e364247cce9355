package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// linkPattern is the networks.link check: a bridge or link name.
var linkPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$`)

// networkForm is the declared-network add/edit form with its choices and
// errors.
type networkForm struct {
	ID             int64 // 0 when adding
	Description    string
	ClusterID      int64
	Link           string
	Mode           string
	ClusterDefault bool
	IPv6Prefix     string
	GroupIDs       []int64

	Clusters []*store.Cluster
	Groups   []store.Group

	Errors fieldErrors
}

func (f *networkForm) fieldError(name string, m i18n.Msg, args ...any) {
	f.Errors = f.Errors.add(name, m, args...)
}

// HasGroup reports whether the group is selected (for the template).
func (f *networkForm) HasGroup(id int64) bool { return slices.Contains(f.GroupIDs, id) }

// loadChoices fills the cluster and group lists.
func (s *Server) loadNetworkChoices(ctx context.Context, f *networkForm) error {
	var err error
	if f.Clusters, err = s.store.Clusters(ctx); err != nil {
		return err
	}
	f.Groups, err = s.store.GroupChoices(ctx)
	return err
}

func networkFormFrom(n *store.Network) *networkForm {
	f := &networkForm{ID: n.ID, Description: n.Description, ClusterID: n.ClusterID, Link: n.Link, Mode: n.Mode,
		ClusterDefault: n.ClusterDefault, IPv6Prefix: n.IPv6Prefix}
	for _, g := range n.Groups {
		f.GroupIDs = append(f.GroupIDs, g.ID)
	}
	return f
}

// parseNetworkForm reads the fields; bad numbers are field errors.
func parseNetworkForm(r *http.Request, f *networkForm) {
	var ok bool
	if f.Description, ok = field(r, "description", 255); !ok {
		f.fieldError("description", i18n.M("clusteradmin.toolong"), "Max", 255)
	}
	if f.Link, ok = field(r, "link", 128); !ok {
		f.fieldError("link", i18n.M("clusteradmin.toolong"), "Max", 128)
	}
	if f.IPv6Prefix, ok = field(r, "ipv6_prefix", 64); !ok {
		f.fieldError("ipv6_prefix", i18n.M("networks.form.ipv6.invalid"))
	}
	f.Mode = r.PostForm.Get("mode")
	f.ClusterDefault = r.PostForm.Get("cluster_default") != ""
	f.ClusterID = 0
	if v := r.PostForm.Get("cluster"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			f.fieldError("cluster", i18n.M("networks.form.cluster.invalid"))
		}
		f.ClusterID = id
	}
	f.GroupIDs = nil
	for _, v := range r.PostForm["group"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			f.fieldError("group", i18n.M("networks.form.group.invalid"))
			continue
		}
		if !slices.Contains(f.GroupIDs, id) {
			f.GroupIDs = append(f.GroupIDs, id)
		}
	}
}

// validate checks the fields against the loaded choices and the one
// default network per cluster rule.
func (s *Server) validateNetworkForm(ctx context.Context, f *networkForm) error {
	if f.Description == "" {
		f.fieldError("description", i18n.M("clusteradmin.required"))
	} else if hasControl(f.Description) {
		f.fieldError("description", i18n.M("clusteradmin.control"))
	}
	if f.Link == "" {
		f.fieldError("link", i18n.M("clusteradmin.required"))
	} else if !linkPattern.MatchString(f.Link) {
		f.fieldError("link", i18n.M("networks.form.link.invalid"))
	}
	if f.Mode != "bridged" && f.Mode != "routed" {
		f.fieldError("mode", i18n.M("networks.form.mode.invalid"))
	}
	if f.IPv6Prefix != "" {
		if p, msg := canonicalIPv6Prefix(f.IPv6Prefix); msg.IsZero() {
			f.IPv6Prefix = p
		} else {
			f.fieldError("ipv6_prefix", msg, "Prefix", p)
		}
	}
	known := slices.ContainsFunc(f.Clusters, func(c *store.Cluster) bool { return c.ID == f.ClusterID })
	if f.ClusterID == 0 {
		f.fieldError("cluster", i18n.M("clusteradmin.required"))
	} else if !known {
		f.fieldError("cluster", i18n.M("networks.form.cluster.invalid"))
	}
	for _, id := range f.GroupIDs {
		if !slices.ContainsFunc(f.Groups, func(g store.Group) bool { return g.ID == id }) {
			f.fieldError("group", i18n.M("networks.form.group.invalid"))
		}
	}
	if f.ClusterDefault && known {
		d, err := s.store.DefaultNetwork(ctx, f.ClusterID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && d.ID != f.ID {
			f.fieldError("cluster_default", i18n.M("networks.form.default.taken"), "Network", d.Description)
		}
	}
	return nil
}

// canonicalIPv6Prefix parses an IPv6 prefix of /64 or shorter and returns
// it in canonical form. A prefix with host bits set is refused, naming the
// network it probably meant.
func canonicalIPv6Prefix(s string) (string, i18n.Msg) {
	p, err := netip.ParsePrefix(strings.ToLower(s))
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return "", i18n.M("networks.form.ipv6.invalid")
	}
	if p.Bits() < 1 || p.Bits() > 64 {
		return "", i18n.M("networks.form.ipv6.length")
	}
	if m := p.Masked(); m != p {
		return m.String(), i18n.M("networks.form.ipv6.hostbits")
	}
	return p.String(), i18n.Msg{}
}

func (f *networkForm) input() store.NetworkInput {
	return store.NetworkInput{ClusterID: f.ClusterID, Description: f.Description, Link: f.Link, Mode: f.Mode,
		ClusterDefault: f.ClusterDefault, IPv6Prefix: f.IPv6Prefix, GroupIDs: f.GroupIDs}
}

// networkSaveError maps a uniqueness conflict to its field (422); anything
// else is a server error.
func (s *Server) networkSaveError(w http.ResponseWriter, r *http.Request, f *networkForm, err error) {
	switch {
	case errors.Is(err, store.ErrConflict) && strings.Contains(err.Error(), store.NetworkDefaultConstraint):
		f.fieldError("cluster_default", i18n.M("networks.form.default.conflict"))
	case errors.Is(err, store.ErrConflict) && strings.Contains(err.Error(), store.NetworkLinkConstraint):
		f.fieldError("link", i18n.M("networks.form.link.taken"))
	case errors.Is(err, store.ErrNotFound):
		// A cluster or group deleted meanwhile.
		f.fieldError("cluster", i18n.M("networks.form.cluster.invalid"))
	default:
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusUnprocessableEntity, "network_form", f)
}

// networkFromURL loads the network named by {id}; nil when it answered.
func (s *Server) networkFromURL(w http.ResponseWriter, r *http.Request) *store.Network {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return nil
	}
	n, err := s.store.NetworkByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r)
		return nil
	}
	if err != nil {
		s.serverError(w, r, err)
		return nil
	}
	return n
}
