package web

import (
	"fmt"
	"html/template"
	"slices"
	"sync"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestRowSlotVariants: a slot returns each variant it was given, holds at
// most maxRowVariants of them (the oldest goes first), and the cache's
// count and charge follow.
func TestRowSlotVariants(t *testing.T) {
	f := newFragmentCache(1 << 20)
	sl := &rowSlot{}
	f.adopt([]*rowSlot{sl})
	if _, ok := sl.get(1); ok {
		t.Fatal("an empty slot has a fragment")
	}
	for v := uint64(1); v <= maxRowVariants+2; v++ {
		f.put(sl, v, template.HTML(fmt.Sprintf("<tr>%d</tr>", v)))
	}
	for v := uint64(1); v <= maxRowVariants+2; v++ {
		h, ok := sl.get(v)
		if kept := v > 2; ok != kept || (ok && string(h) != fmt.Sprintf("<tr>%d</tr>", v)) {
			t.Errorf("variant %d: %q %v, want kept %v", v, h, ok, kept)
		}
	}
	n, used := f.stats()
	if want := int64(maxRowVariants * (len("<tr>1</tr>") + fragmentOverhead)); n != maxRowVariants || used != want {
		t.Errorf("stats %d %d, want %d %d", n, used, maxRowVariants, want)
	}
	// A variant rendered again (two requests at once) replaces itself.
	f.put(sl, 3, "<tr>3</tr>")
	if n2, used2 := f.stats(); n2 != n || used2 != used {
		t.Errorf("a variant put twice: stats %d %d, want %d %d", n2, used2, n, used)
	}
	// A new index counts what its slots hold: the slot gone, nothing.
	f.adopt([]*rowSlot{{}})
	if n, used := f.stats(); n != 0 || used != 0 {
		t.Errorf("after adopt: stats %d %d", n, used)
	}
}

// TestFragmentBudget: a fragment that would pass the budget first empties
// the slots not read since the clock hand passed them (a slot read gets a
// second chance) until three quarters of the budget are used; one larger
// than the budget is not kept.
func TestFragmentBudget(t *testing.T) {
	h := template.HTML("<tr>0123456789</tr>")
	size := int64(len(h)) + fragmentOverhead
	f := newFragmentCache(4 * size)
	slots := []*rowSlot{{}, {}, {}, {}, {}, {}}
	f.adopt(slots)
	check := func(when string, kept ...bool) {
		t.Helper()
		for i, sl := range slots {
			rf := sl.p.Load() // looked at without marking the slot read
			if ok := rf != nil && slices.Contains(rf.variant[:rf.n], 7); ok != kept[i] {
				t.Errorf("%s: slot %d kept %v, want %v", when, i, ok, kept[i])
			}
		}
		if n, used := f.stats(); n != 4 || used != 4*size {
			t.Errorf("%s: stats %d %d, want 4 %d", when, n, used, 4*size)
		}
	}
	for _, sl := range slots[:4] {
		f.put(sl, 7, h)
	}
	check("full", true, true, true, true, false, false)
	// Every slot is marked (stored): the hand clears the marks, then
	// empties the first slot it meets again.
	f.put(slots[4], 7, h)
	check("after the first sweep", false, true, true, true, true, false)
	// Slot 1 is read: it keeps its place, the next one goes.
	if _, ok := slots[1].get(7); !ok {
		t.Fatal("slot 1 lost its fragment")
	}
	f.put(slots[5], 7, h)
	check("after the second sweep", false, true, false, true, true, true)

	f.put(slots[0], 8, template.HTML(make([]byte, 4*size)))
	if _, ok := slots[0].get(8); ok {
		t.Error("a fragment larger than the budget was kept")
	}
}

// TestFragmentBudgetConcurrent: puts, reads and sweeps at once keep the
// count and charge equal to what the slots hold, within the budget.
func TestFragmentBudgetConcurrent(t *testing.T) {
	h := template.HTML("<tr>0123456789</tr>")
	size := int64(len(h)) + fragmentOverhead
	f := newFragmentCache(20 * size)
	slots := make([]*rowSlot, 200)
	for i := range slots {
		slots[i] = &rowSlot{}
	}
	f.adopt(slots)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				sl := slots[(i*7+g*13)%len(slots)]
				v := uint64(i % 3)
				if _, ok := sl.get(v); !ok {
					f.put(sl, v, h)
				}
			}
		}()
	}
	wg.Wait()
	var n, used int64
	for _, sl := range slots {
		if rf := sl.p.Load(); rf != nil {
			n, used = n+int64(rf.n), used+rf.charge()
		}
	}
	// Puts that pass the budget check at once may each add their
	// fragment: the budget can be passed by one fragment per goroutine.
	gotN, gotUsed := f.stats()
	if int64(gotN) != n || gotUsed != used || used > f.budget+8*size {
		t.Errorf("stats %d %d; the slots hold %d fragments, %d bytes (budget %d)", gotN, gotUsed, n, used, f.budget)
	}
}

// TestCarrySlots: reloaded entries keep the slots of the instances whose
// content did not change; changed, new and renamed-cluster ones get empty
// slots.
func TestCarrySlots(t *testing.T) {
	e := func(name string, hash int64) *store.CachedInstance {
		return &store.CachedInstance{ClusterID: 1, Name: name, ContentHash: hash}
	}
	old := clusterEntries{slug: "c1", entries: []*store.CachedInstance{e("a", 1), e("b", 2), e("c", 3)},
		slots: []*rowSlot{{cluster: 1}, {cluster: 1}, {cluster: 1}}}
	entries := []*store.CachedInstance{e("c", 3), e("b", 20), e("d", 4), e("a", 1)}
	got := carrySlots(old, entries, true)
	if got[0] != old.slots[2] || got[3] != old.slots[0] {
		t.Error("an unchanged instance lost its slot")
	}
	for _, i := range []int{1, 2} {
		for _, o := range old.slots {
			if got[i] == o || got[i] == nil {
				t.Errorf("entry %s got an old or no slot", entries[i].Name)
			}
		}
	}
	for i, sl := range carrySlots(old, entries, false) {
		for _, o := range old.slots {
			if sl == o {
				t.Errorf("entry %s kept its slot though the cluster's rows changed", entries[i].Name)
			}
		}
	}
	if got := carrySlots(clusterEntries{}, entries, true); len(got) != len(entries) || got[0] == nil {
		t.Errorf("first load: %v", got)
	}
	// A new slot knows its row's cluster (instanceRows reads it there).
	for _, sl := range carrySlots(clusterEntries{}, entries, true) {
		if sl.cluster != 1 {
			t.Errorf("a new slot has cluster %d, want 1", sl.cluster)
		}
	}
}
