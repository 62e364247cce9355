package clustersync_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSync2000 measures one sync of a 2,000-instance fake cluster:
// "unchanged" is the steady state (nothing written), "changed" rewrites
// every instance row (the first sync of a cluster). cpu-ms/op is the CPU
// time of this process (client side: RAPI decoding, hashing, pgx; the fake
// RAPI server runs in the same process and is included).
//
//	go test -run '^$' -bench Sync2000 -benchtime 20x ./internal/clustersync
func BenchmarkSync2000(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	f := e.fake(rapifake.Options{Instances: 2000, Nodes: 20, Groups: 2, Owners: []string{"alice", "bob", "carol"},
		OwnerGroups: []string{"ops"}, KeepAlive: true})
	c := e.register("bench", f, rapiPass)
	opts := e.fastOptions(nil)
	opts.ResponseTimeout, opts.SyncTimeout = 30*time.Second, time.Minute
	s := e.syncer(opts)
	if err := s.SyncNow(ctx, c); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"unchanged", "changed"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			var cpu time.Duration
			for b.Loop() {
				if mode == "changed" {
					b.StopTimer()
					e.exec(`UPDATE cluster_instances SET content_hash = 0 WHERE cluster_id = $1`, c.ID)
					b.StartTimer()
				}
				c0 := cpuTime()
				if err := s.SyncNow(ctx, c); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
