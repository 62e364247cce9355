package web

import (
	"fmt"
	"testing"
)

// TestByteLRUEvictsLeastRecentlyUsed: the budget holds; what goes first
// is what was used longest ago, and a value read while in the older half
// of the order is kept over values never read again.
func TestByteLRUEvictsLeastRecentlyUsed(t *testing.T) {
	c := newByteLRU[string, int](10)
	for i := range 10 {
		c.put(fmt.Sprint(i), i, 1)
	}
	// "0" and "1" are the oldest: reading them moves them to the front.
	for _, k := range []string{"0", "1"} {
		if v, ok := c.get(k); !ok || fmt.Sprint(v) != k {
			t.Fatalf("get %s: %v %v", k, v, ok)
		}
	}
	for i := 10; i < 14; i++ {
		c.put(fmt.Sprint(i), i, 1)
	}
	n, used := c.stats()
	if n != 10 || used != 10 {
		t.Fatalf("stats %d %d, want 10 10", n, used)
	}
	for _, k := range []string{"0", "1", "10", "13", "9"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s was evicted", k)
		}
	}
	for _, k := range []string{"2", "3", "4", "5"} {
		if _, ok := c.get(k); ok {
			t.Errorf("%s was kept", k)
		}
	}
	// A value larger than the budget is not stored; replacing one
	// re-charges it.
	c.put("big", 0, 11)
	if _, ok := c.get("big"); ok {
		t.Error("a value over the budget was stored")
	}
	c.put("9", 9, 5)
	if _, used := c.stats(); used > 10 {
		t.Errorf("over budget: %d", used)
	}
}

// TestByteLRUHotSetMovesLittle: reading values in the recent half moves
// nothing, so a hot set costs no list updates; get finds what is there.
func TestByteLRUHotSetMovesLittle(t *testing.T) {
	c := newByteLRU[int, int](1000)
	for i := range 100 {
		c.put(i, i, 1)
	}
	clock := c.clock
	for _, k := range []int{99, 98, 97, 60, 51} {
		if v, ok := c.get(k); !ok || v != k {
			t.Errorf("get %d: %v %v", k, v, ok)
		}
	}
	if c.clock != clock {
		t.Errorf("reading the recent half moved %d values", c.clock-clock)
	}
	c.get(3) // in the older half: moves to the front
	if c.clock != clock+1 || c.order.Front().Value.(*lruItem[int, int]).key != 3 {
		t.Error("a value of the older half was not moved to the front")
	}
}
