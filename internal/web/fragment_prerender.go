package web

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Rows are rendered once per change, ahead of the pages: whenever the list
// index is rebuilt (a sync changed some instances) and whenever a kind of
// list is asked for that was not recently (a language and column set: a
// rowKind), one background pass renders every row of the index that lacks
// its fragment in each recent kind (fragment_cache.go). A pass over an
// unchanged index renders nothing; after a sync it renders the changed
// rows only. Pages that come first render what they need themselves, as
// they always can, so the pass only takes that work off page views.

// rowKind is a language and column set whose rows pages have asked for.
type rowKind struct {
	lang string
	wide bool
}

// rowKindTTL is how long a kind of row is kept rendered ahead after the
// last page that showed it.
const rowKindTTL = time.Hour

// prerenderBatch is how many rows a pass loads in full (one query) and
// renders at a time.
const prerenderBatch = 500

// prerenderer schedules the passes: at most one runs at a time, and a
// trigger during a pass makes another pass follow it.
type prerenderer struct {
	kinds   sync.Map // rowKind → *atomic.Int64, last asked for (Unix seconds)
	running atomic.Bool
	again   atomic.Bool
	// passes counts the passes run (tests wait on it).
	passes atomic.Int64
}

// seen records that a page showed rows of kind k at now; it reports
// whether k is new (or had expired), which calls for a pass.
func (p *prerenderer) seen(k rowKind, now time.Time) bool {
	sec := now.Unix()
	if v, ok := p.kinds.Load(k); ok {
		last := v.(*atomic.Int64)
		prev := last.Load()
		if prev != sec {
			last.Store(sec)
		}
		return sec-prev > int64(rowKindTTL/time.Second)
	}
	v := new(atomic.Int64)
	v.Store(sec)
	_, loaded := p.kinds.LoadOrStore(k, v)
	return !loaded
}

// recent returns the kinds asked for within rowKindTTL of now, forgetting
// the others.
func (p *prerenderer) recent(now time.Time) []rowKind {
	var out []rowKind
	p.kinds.Range(func(key, v any) bool {
		if now.Unix()-v.(*atomic.Int64).Load() > int64(rowKindTTL/time.Second) {
			p.kinds.Delete(key)
		} else {
			out = append(out, key.(rowKind))
		}
		return true
	})
	return out
}

// prerender starts a pass in the background, or asks the running one to
// be followed by another.
func (s *Server) prerender() {
	p := s.prerenderer
	p.again.Store(true)
	if !p.running.CompareAndSwap(false, true) {
		return
	}
	started := s.bg.start(func(ctx context.Context) {
		for {
			for p.again.Swap(false) && ctx.Err() == nil {
				s.prerenderPass(ctx)
				p.passes.Add(1)
			}
			p.running.Store(false)
			// A trigger between the last Swap and the Store above finds
			// running set and leaves it to this loop: look once more.
			if ctx.Err() != nil || !p.again.Load() || !p.running.CompareAndSwap(false, true) {
				return
			}
		}
	})
	if !started {
		p.running.Store(false)
	}
}

// prerenderPass renders, for each recent kind of row, the rows of the
// current index that lack their fragment. It stops early when the
// fragments fill three quarters of their budget (what is left is for
// pages) or on an error, which it logs: pages render what is missing.
func (s *Server) prerenderPass(ctx context.Context) {
	kinds := s.prerenderer.recent(s.now())
	if len(kinds) == 0 {
		return
	}
	warn := func(what string, err error) {
		if ctx.Err() == nil { // not the server closing
			s.log.Warn("rendering list rows ahead"+what, "err", err)
		}
	}
	cs, err := s.state(ctx)
	if err != nil {
		warn(": cluster state", err)
		return
	}
	b, err := s.listIndex(ctx, cs)
	if err != nil {
		warn(": list index", err)
		return
	}
	demo := map[int64]bool{}
	for _, st := range cs.statuses {
		demo[st.ClusterID] = st.Demo
	}
	f := s.fragments
	for _, k := range kinds {
		loc := s.bundle.Localizer(k.lang)
		for i := 0; i < len(b.rows); i += prerenderBatch {
			if f.used.Load() > f.budget/4*3 {
				return
			}
			j := min(i+prerenderBatch, len(b.rows))
			rows, err := s.instanceRows(ctx, b.rows[i:j], b.slots[i:j], nil, cs, loc, k.wide, demo)
			if err != nil {
				warn("", err)
				return
			}
			s.releaseRows(rows)
		}
	}
}
