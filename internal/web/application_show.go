package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// applicationShowData is an application's page: its request, status,
// history and creation job; for reviewers also the review form.
type applicationShowData struct {
	App    *store.Application
	Events []store.ApplicationEvent
	// InProgress: the VM is being created (the page offers a refresh).
	InProgress bool
	// JobPath is the creation job's page (helpdesk and administrators).
	JobPath string
	// InstancePath is the created VM's page.
	InstancePath string
	// Progress is the creation job's progress, followed live while it
	// runs; nil when it was never tracked.
	Progress *jobProgress
	// AwaitJob: the VM is being created but its job is not followed yet
	// (not sent to the cluster, or an earlier attempt's ended): the page
	// reloads itself every few seconds until it is.
	AwaitJob bool
	// The actions the user may take in the application's status.
	CanApprove, CanRefuse, CanDiscard, CanSubmit bool
	// The review form (reviewers only).
	Review     applications.Form
	Images     []applications.Image
	Orgs       []store.Organization
	Placement  placementSelects
	Comment    string
	Errors     fieldErrors
	ReviewOpen bool
}

// placementSelects are the placement choices from the cluster cache, as
// the review form's select fields show them.
type placementSelects struct {
	Clusters  []clusterSelect
	Groups    []groupSelect
	Networks  []networkSelect
	Templates []valueSelect
	VG        string
}

type clusterSelect struct {
	ID          int64
	Slug        string
	Description string
	Synced      bool
	Selected    bool
}

type groupSelect struct {
	Cluster     string
	Name        string
	Locked      bool
	Allocatable bool
	Nodes       int
	Selected    bool
}

type networkSelect struct {
	Cluster, Group string
	applications.NetworkOption
	Selected bool
}

type valueSelect struct {
	Value    string
	Selected bool
}

// applicationShow shows an application to its applicant and to those who
// list applications; reviewers also get the review form when the status
// allows a decision. Nothing here calls a cluster: the placement choices
// come from the cluster cache.
func (s *Server) applicationShow(w http.ResponseWriter, r *http.Request) {
	s.renderApplication(w, r, http.StatusOK, nil)
}

// renderApplication renders an application's page; edit, when set, fills
// the review form with what a reviewer submitted and its errors.
func (s *Server) renderApplication(w http.ResponseWriter, r *http.Request, status int, edit func(*applicationShowData)) {
	if s.applicationsOff(w, r) {
		return
	}
	ctx := r.Context()
	p := principalFrom(r)
	a, err := s.apps.Get(ctx, p, applicationIDFrom(r))
	if s.applicationFailed(w, r, err) {
		return
	}
	events, err := s.apps.Events(ctx, p, a.ID)
	if s.applicationFailed(w, r, err) {
		return
	}
	d := &applicationShowData{App: a, Events: events, InProgress: a.Status == store.AppSubmitted}
	if a.JobID != 0 && a.ClusterSlug != "" && p.Role() >= RoleHelpdesk {
		d.JobPath = "/jobs/" + a.ClusterSlug + "/" + itoa64(a.JobID) + "/"
	}
	if a.Status == store.AppCreated && a.ClusterSlug != "" {
		d.InstancePath = applications.InstancePath(a.ClusterSlug, a.Hostname)
	}
	if s.instances != nil && a.JobID != 0 {
		j, err := s.store.LatestApplicationJob(ctx, a.ID)
		switch {
		case err == nil:
			d.Progress = s.applicationJobProgress(s.localizerFrom(r), j)
		case !errors.Is(err, store.ErrNotFound):
			s.serverError(w, r, err)
			return
		}
	}
	d.AwaitJob = d.InProgress && (d.Progress == nil || d.Progress.Job.Finished())
	next := applications.Next(a.Status, applications.RolesOf(p, a))
	if applications.CanReview(p) {
		d.CanApprove = slices.Contains(next, store.AppApproved)
		d.CanRefuse = slices.Contains(next, store.AppRefused)
		d.CanDiscard = slices.Contains(next, store.AppDiscarded)
		d.CanSubmit = a.Status == store.AppApproved && slices.Contains(next, store.AppSubmitted)
	}
	if d.CanApprove {
		d.Review = applications.FormFromApplication(a)
		choice := applications.PlacementChoice{ClusterID: a.ClusterID, NodeGroup: a.NodeGroup,
			DiskTemplate: a.DiskTemplate, VG: a.VG}
		if edit != nil {
			edit(d)
			choice = d.Placement.choice()
		}
		if err := s.loadReviewChoices(r, a, d, choice, edit != nil); err != nil {
			s.serverError(w, r, err)
			return
		}
	} else if edit != nil {
		edit(d)
	}
	s.render(w, r, status, "application_show", d)
}

// choice returns the choice a submitted form carried (set by the
// handlers that re-render the form).
func (ps placementSelects) choice() applications.PlacementChoice {
	var c applications.PlacementChoice
	for _, x := range ps.Clusters {
		if x.Selected {
			c.ClusterID = x.ID
		}
	}
	for _, x := range ps.Groups {
		if x.Selected {
			c.NodeGroup = x.Name
		}
	}
	for _, x := range ps.Networks {
		if x.Selected {
			c.Network = x.Key
		}
	}
	for _, x := range ps.Templates {
		if x.Selected {
			c.DiskTemplate = x.Value
		}
	}
	c.VG = ps.VG
	return c
}

// submittedPlacement stands for a reviewer's choice in placementSelects
// until loadReviewChoices builds the real lists.
func submittedPlacement(c applications.PlacementChoice) placementSelects {
	return placementSelects{Clusters: []clusterSelect{{ID: c.ClusterID, Selected: true}},
		Groups: []groupSelect{{Name: c.NodeGroup, Selected: true}}, Networks: []networkSelect{{
			NetworkOption: applications.NetworkOption{Key: c.Network}, Selected: true}},
		Templates: []valueSelect{{Value: c.DiskTemplate, Selected: true}}, VG: c.VG}
}

// loadReviewChoices fills the review form's choices from the cluster
// cache, preselecting choice, or (not submitted, nothing chosen yet) the
// first usable cluster and group with its default network.
func (s *Server) loadReviewChoices(r *http.Request, a *store.Application, d *applicationShowData, choice applications.PlacementChoice, submitted bool) error {
	ctx := r.Context()
	d.ReviewOpen = true
	ch, err := s.reviewerChoices(r, false)
	if err != nil {
		return err
	}
	d.Images, d.Orgs = ch.images, ch.orgs
	requestedLink := ""
	if a.RequestedNetworkID != 0 {
		if n, err := s.store.NetworkByID(ctx, a.RequestedNetworkID); err == nil {
			requestedLink = n.Link
		}
	}
	if !submitted && choice.NodeGroup == "" {
		choice = defaultPlacement(ch.opts, a, requestedLink)
	}
	d.Placement = placementSelectsOf(ch.opts, choice)
	return nil
}

// reviewerOptions are what a reviewer's form (the review form and the
// fast-create form) offers: images, organizations and placements.
type reviewerOptions struct {
	images []applications.Image
	orgs   []store.Organization
	opts   []applications.ClusterOptions
}

// reviewerChoices loads a reviewer's choices: with fastOnly (the
// fast-create form) the enabled images and the clusters allowing fast
// creation, else every image and every eligible cluster.
func (s *Server) reviewerChoices(r *http.Request, fastOnly bool) (*reviewerOptions, error) {
	ctx := r.Context()
	var ch reviewerOptions
	var err error
	if ch.images, err = s.apps.Images(ctx, !fastOnly); err != nil {
		return nil, err
	}
	if ch.orgs, err = s.store.ListOrganizations(ctx); err != nil {
		return nil, err
	}
	if ch.opts, err = s.apps.PlacementOptions(ctx, principalFrom(r), fastOnly); err != nil {
		return nil, err
	}
	return &ch, nil
}

// defaultPlacement is the first synced cluster (the application's own
// when it has one), its first allocatable group, that group's default
// network and first disk template.
func defaultPlacement(opts []applications.ClusterOptions, a *store.Application, requestedLink string) applications.PlacementChoice {
	for _, o := range opts {
		if !o.Synced || (a.ClusterID != 0 && o.ClusterID != a.ClusterID) {
			continue
		}
		for _, g := range o.Groups {
			if !g.Allocatable {
				continue
			}
			c := applications.PlacementChoice{ClusterID: o.ClusterID, NodeGroup: g.Name,
				Network: g.DefaultNetwork(requestedLink)}
			if len(g.DiskTemplates) > 0 {
				c.DiskTemplate = g.DiskTemplates[0]
			}
			return c
		}
	}
	if a.ClusterID != 0 {
		return defaultPlacement(opts, &store.Application{}, requestedLink)
	}
	return applications.PlacementChoice{}
}

// placementSelectsOf lays out the options as select fields.
func placementSelectsOf(opts []applications.ClusterOptions, c applications.PlacementChoice) placementSelects {
	var ps placementSelects
	ps.VG = c.VG
	seenTemplate := map[string]bool{}
	netSelected := false
	for _, o := range opts {
		here := o.ClusterID == c.ClusterID
		ps.Clusters = append(ps.Clusters, clusterSelect{ID: o.ClusterID, Slug: o.Slug, Description: o.Description,
			Synced: o.Synced, Selected: here})
		for _, g := range o.Groups {
			gHere := here && g.Name == c.NodeGroup
			ps.Groups = append(ps.Groups, groupSelect{Cluster: o.Slug, Name: g.Name, Locked: g.Locked,
				Allocatable: g.Allocatable, Nodes: g.Nodes, Selected: gHere})
			for _, n := range g.Networks {
				sel := gHere && !netSelected && n.Key == c.Network
				netSelected = netSelected || sel
				ps.Networks = append(ps.Networks, networkSelect{Cluster: o.Slug, Group: g.Name, NetworkOption: n, Selected: sel})
			}
			for _, t := range g.DiskTemplates {
				if !seenTemplate[t] {
					seenTemplate[t] = true
					ps.Templates = append(ps.Templates, valueSelect{Value: t, Selected: t == c.DiskTemplate})
				}
			}
		}
	}
	return ps
}
