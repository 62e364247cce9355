package audit

import (
	"context"
	"net/netip"

	"github.com/ganetimgr/ganetimgr/internal/auth"
)

// addrKey is the context key of the client address.
type addrKey struct{}

// WithAddr returns ctx carrying the client address of the request being
// served (the web layer sets it once per request, after working out
// X-Forwarded-For), so that the packages below the web layer record it
// without knowing about HTTP.
func WithAddr(ctx context.Context, addr netip.Addr) context.Context {
	return context.WithValue(ctx, addrKey{}, addr)
}

// AddrFrom returns the client address WithAddr put in ctx; the invalid
// address when there is none (background work).
func AddrFrom(ctx context.Context) netip.Addr {
	a, _ := ctx.Value(addrKey{}).(netip.Addr)
	return a
}

// ActorIn is the actor of principal p (nil: the system) at the client
// address ctx carries.
func ActorIn(ctx context.Context, p *auth.Principal) Actor {
	return ActorOf(p, AddrFrom(ctx))
}
