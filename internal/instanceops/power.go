package instanceops

import (
	"context"
	"strconv"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// MaxShutdownTimeout bounds the timeout of a shutdown.
const MaxShutdownTimeout = time.Hour

// Start starts a stopped instance.
func (s *Service) Start(ctx context.Context, req Request, slug, name string) (*store.InstanceJob, error) {
	return s.run(ctx, req, slug, name, Start, "", func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error) {
		return c.StartupInstance(ctx, in.Name, rapi.StartupOptions{})
	})
}

// Shutdown stops an instance. After timeout (0: Ganeti's default of two
// minutes; at most MaxShutdownTimeout, whole seconds) the hypervisor stops
// it forcibly.
func (s *Service) Shutdown(ctx context.Context, req Request, slug, name string, timeout time.Duration) (*store.InstanceJob, error) {
	detail := ""
	a := action{kind: Shutdown, audit: auditAction(Shutdown)}
	if timeout < 0 || timeout > MaxShutdownTimeout {
		a.check = func(State) *Refusal {
			return invalid("timeout", i18n.M("instance_ops.invalid.shutdown_timeout"))
		}
	} else if timeout > 0 {
		timeout = timeout.Round(time.Second)
		detail = "timeout " + strconv.Itoa(int(timeout/time.Second)) + " s"
	}
	a.detail = detail
	a.call = func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error) {
		return c.ShutdownInstance(ctx, in.Name, rapi.ShutdownOptions{Timeout: timeout})
	}
	return s.runAction(ctx, req, slug, name, a)
}

// Reboot reboots a running instance: a soft reboot asks the guest, a hard
// one restarts it at the hypervisor. A successful reboot clears the
// needsreboot tag.
func (s *Service) Reboot(ctx context.Context, req Request, slug, name string, hard bool) (*store.InstanceJob, error) {
	typ := rapi.RebootSoft
	if hard {
		typ = rapi.RebootHard
	}
	return s.run(ctx, req, slug, name, Reboot, string(typ), func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error) {
		return c.RebootInstance(ctx, in.Name, rapi.RebootOptions{Type: typ})
	})
}
