package instanceops

import (
	"context"
	"errors"
	"fmt"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// View is everything the instance page needs about actions.
type View struct {
	State
	// Owner: the principal owns the instance.
	Owner bool
	// Last is the most recent tracked job (running or finished), nil if
	// none.
	Last *store.InstanceJob
	// Refusals holds, for each of Kinds(), why the action is not allowed
	// now; nil (or absent) means allowed.
	Refusals map[Kind]*Refusal
}

// Allowed reports whether k is allowed now.
func (v *View) Allowed(k Kind) bool { return v != nil && v.Refusals[k] == nil }

// Busy reports whether a tracked job runs on the instance.
func (v *View) Busy() bool { return v != nil && v.Pending != nil && !v.Pending.Finished() }

// View returns what p may do to an instance now. An instance p may not
// see, or that does not exist, gives a *Refusal NotFound.
func (s *Service) View(ctx context.Context, p *auth.Principal, slug, name string) (*View, error) {
	t, err := s.load(ctx, p, slug, name)
	if err != nil {
		return nil, err
	}
	if !t.exists() || !s.visible(p, t.state) {
		return nil, notFound()
	}
	v := &View{State: t.state, Owner: t.state.Owns(p), Refusals: make(map[Kind]*Refusal, len(Kinds()))}
	last, err := s.st.LatestInstanceJob(ctx, t.cluster.ID, name)
	switch {
	case err == nil:
		v.Last = last
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	for _, k := range Kinds() {
		if r := s.decide(p, t, k); r != nil {
			v.Refusals[k] = r
		}
	}
	return v, nil
}

// visible reports whether p may see the instance of st.
func (s *Service) visible(p *auth.Principal, st State) bool {
	return st.Instance != nil && (st.Owns(p) || p.Can(auth.ViewInstances))
}
