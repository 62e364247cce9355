package web

import (
	"context"
	"time"
)

// SetFullRenders makes the instance list render every page in full,
// bypassing the page and frame caches, so tests can compare the two.
func (s *Server) SetFullRenders(on bool) { s.fullRenders = on }

// SweepOnce runs one round of Sweep as if it were now.
func (s *Server) SweepOnce(ctx context.Context, now time.Time) { s.sweepOnce(ctx, now) }
