package instanceops

import (
	"context"
	"errors"
	"fmt"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Job returns a tracked job p may see: one of an instance p may see, one p
// asked for, or, for an application's creation job, one the applicant or a
// holder of view_applications or change_application asks for (superusers
// see all). Anything else, and an unknown id, gives a *Refusal NotFound.
func (s *Service) Job(ctx context.Context, p *auth.Principal, id int64) (*store.InstanceJob, error) {
	if p == nil || p.User == nil || !p.User.IsActive {
		return nil, notFound()
	}
	j, err := s.st.InstanceJobByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	if p.Can(auth.ViewInstances) || j.UserID == p.User.ID {
		return j, nil
	}
	if j.ApplicationID != 0 {
		if p.Can(auth.ViewApplications) || p.Can(auth.ChangeApplication) {
			return j, nil
		}
		a, err := s.st.Application(ctx, j.ApplicationID)
		switch {
		case err == nil && a.ApplicantID == p.User.ID:
			return j, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("instanceops: %w", err)
		}
	}
	t, err := s.load(ctx, p, j.ClusterSlug, j.Instance)
	if err != nil {
		return nil, err
	}
	if t.exists() && t.state.Owns(p) {
		return j, nil
	}
	return nil, notFound()
}
