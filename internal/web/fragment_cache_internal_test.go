package web

import (
	"fmt"
	"html/template"
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

// TestFragmentBudget: a fragment that would pass the budget empties every
// slot of the current index first; one larger than the budget is not kept.
func TestFragmentBudget(t *testing.T) {
	h := template.HTML("<tr>0123456789</tr>")
	size := int64(len(h)) + fragmentOverhead
	f := newFragmentCache(3 * size)
	slots := []*rowSlot{{}, {}, {}, {}}
	f.adopt(slots)
	for _, sl := range slots[:3] {
		f.put(sl, 7, h)
	}
	if n, used := f.stats(); n != 3 || used != 3*size {
		t.Fatalf("stats %d %d", n, used)
	}
	f.put(slots[3], 7, h)
	for i, sl := range slots {
		if _, ok := sl.get(7); ok != (i == 3) {
			t.Errorf("slot %d kept %v after the budget was passed", i, ok)
		}
	}
	if n, used := f.stats(); n != 1 || used != size {
		t.Errorf("stats %d %d after the clear", n, used)
	}
	f.put(slots[0], 8, template.HTML(make([]byte, 3*size)))
	if _, ok := slots[0].get(8); ok {
		t.Error("a fragment larger than the budget was kept")
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
		slots: []*rowSlot{{}, {}, {}}}
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
}
