package rapifake

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestScaleTenThousandInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	start := time.Now()
	var clusters []*Cluster
	var clients []*tclient
	for i := range 5 {
		c, tc := startCluster(t, Options{
			Name: fmt.Sprintf("cluster%d.example.org", i+1), Nodes: 20, Groups: 3, Instances: 2000, Seed: uint64(i + 1),
			Owners: []string{"alice", "bob", "carol", "dave"}, OwnerGroups: []string{"ops", "dev"}, KeepAlive: true,
		})
		clusters = append(clusters, c)
		clients = append(clients, tc)
	}
	t.Logf("generated 5 clusters x 2000 instances in %v", time.Since(start))

	decode := func(raw []byte) int {
		var l []map[string]any
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	tc := clients[0]
	t0 := time.Now()
	raw := tc.ok("GET", "/2/instances?bulk=1", nil)
	cold := time.Since(t0)
	t0 = time.Now()
	tc.ok("GET", "/2/instances?bulk=1", nil)
	warm := time.Since(t0)
	if n := decode(raw); n != 2000 {
		t.Fatalf("bulk list has %d instances", n)
	}
	// After one change only the list is rebuilt from per-instance JSON.
	tc.run("PUT", "/2/instances/"+clusters[0].InstanceNames()[7]+"/tags?tag=changed", nil)
	t0 = time.Now()
	tc.ok("GET", "/2/instances?bulk=1", nil)
	changed := time.Since(t0)
	t.Logf("2000-instance bulk over HTTPS: %d bytes, first %v, cached %v, after a change %v", len(raw), cold, warm, changed)
	if warm > 500*time.Millisecond {
		t.Errorf("cached 2000-instance bulk took %v", warm)
	}

	// All five clusters listed concurrently.
	t0 = time.Now()
	var wg sync.WaitGroup
	counts := make([]int, 5)
	for i, cl := range clients {
		wg.Go(func() {
			t1 := time.Now()
			_, body, _, err := cl.doCtx(t.Context(), "GET", "/2/instances?bulk=1", nil)
			if err != nil {
				t.Error(err)
				return
			}
			t.Logf("cluster %d: bulk fetched in %v", i+1, time.Since(t1))
			var l []json.RawMessage
			if err := json.Unmarshal(body, &l); err != nil {
				t.Error(err)
			}
			counts[i] = len(l)
		})
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 10000 {
		t.Errorf("total instances %d", total)
	}
	t.Logf("5 concurrent bulk lists (10000 instances, decoded) in %v", time.Since(t0))
}

// BenchmarkBulk2000 measures serving GET /2/instances?bulk=1 for 2,000
// instances through the handler (no TLS), cached and after a change.
func BenchmarkBulk2000(b *testing.B) {
	c, err := NewCluster(Options{Instances: 2000, Nodes: 10, Seed: 1, Owners: []string{"a", "b"}, JobDelay: NoJobDelay})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	h := c.Handler()
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, authedRequest("GET", "/2/instances?bulk=1"))
			if w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
	names := c.InstanceNames()
	b.Run("after-change", func(b *testing.B) {
		i := 0
		for b.Loop() {
			_ = c.SetInstanceTags(names[i%len(names)], []string{fmt.Sprint("t", i)})
			i++
			w := httptest.NewRecorder()
			h.ServeHTTP(w, authedRequest("GET", "/2/instances?bulk=1"))
		}
	})
}
