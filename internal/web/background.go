package web

import (
	"context"
	"sync"
)

// background runs the server's work that no request waits for: cache
// refreshes ahead of expiry (cache_state.go, principal_cache.go,
// session_store.go) and list rows rendered ahead (fragment_prerender.go).
// Server.Close cancels its context and waits for it, so none of it
// outlives the server (and the database pool it uses).
type background struct {
	ctx  context.Context
	stop context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func newBackground() *background {
	ctx, stop := context.WithCancel(context.Background())
	return &background{ctx: ctx, stop: stop}
}

// start runs f in a goroutine with the background context and reports
// true, or reports false (and runs nothing) once the server is closed.
func (b *background) start(f func(ctx context.Context)) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f(b.ctx)
	}()
	return true
}

// startThen runs f in a goroutine with the background context and then
// done; once the server is closed, it runs only done (at once). done
// undoes what the caller set up for f, such as an "in progress" mark.
func (b *background) startThen(f func(ctx context.Context), done func()) {
	if !b.start(func(ctx context.Context) {
		defer done()
		f(ctx)
	}) {
		done()
	}
}

// close cancels the work running and waits for it; nothing starts after.
func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.stop()
	b.wg.Wait()
}

// Close stops the server's background work (cache refreshes ahead of
// expiry, list rows rendered ahead) and waits for it to end. Requests
// served after Close still work: they load what they need themselves.
// Call it once the HTTP servers have shut down, before the database pool
// is closed.
func (s *Server) Close() { s.bg.close() }
