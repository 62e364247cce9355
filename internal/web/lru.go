package web

import (
	"container/list"
	"errors"
	"sync"
)

// errFlightAborted is what waiters get when the call they waited for
// panicked.
var errFlightAborted = errors.New("web: shared computation aborted")

// byteLRU is a least-recently-used map bounded by the total size of its
// values (as reported by the caller) rather than by a number of entries.
// It is safe for concurrent use.
//
// The order is kept approximately, as in many caches: a value read while
// in the more recent half of the order stays where it is (it is far from
// being evicted), so most reads of a hot set move nothing; the order is
// always that of the stamps, so what is evicted is what was stamped
// longest ago.
type byteLRU[K comparable, V any] struct {
	mu     sync.Mutex
	budget int64
	used   int64
	order  *list.List // front: most recently stamped; elements hold *lruItem
	items  map[K]*list.Element
	clock  uint64 // the last stamp given
}

type lruItem[K comparable, V any] struct {
	key   K
	val   V
	size  int64
	stamp uint64
}

// touch marks e as used: it moves to the front with a new stamp unless it
// is in the more recent half of the order already.
func (c *byteLRU[K, V]) touch(e *list.Element) *lruItem[K, V] {
	it := e.Value.(*lruItem[K, V])
	if c.clock-it.stamp >= uint64(len(c.items)/2) {
		c.clock++
		it.stamp = c.clock
		c.order.MoveToFront(e)
	}
	return it
}

func newByteLRU[K comparable, V any](budget int64) *byteLRU[K, V] {
	return &byteLRU[K, V]{budget: budget, order: list.New(), items: map[K]*list.Element{}}
}

// get returns the value under k and marks it recently used.
func (c *byteLRU[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		return c.touch(e).val, true
	}
	var zero V
	return zero, false
}

// put stores v under k, charging size bytes against the budget, and evicts
// the least recently used values until the total fits. A value larger than
// the whole budget is not stored.
func (c *byteLRU[K, V]) put(k K, v V, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		it := e.Value.(*lruItem[K, V])
		c.used -= it.size
		c.order.Remove(e)
		delete(c.items, k)
	}
	if size > c.budget {
		return
	}
	c.clock++
	c.items[k] = c.order.PushFront(&lruItem[K, V]{key: k, val: v, size: size, stamp: c.clock})
	c.used += size
	for c.used > c.budget {
		last := c.order.Back()
		it := last.Value.(*lruItem[K, V])
		c.order.Remove(last)
		delete(c.items, it.key)
		c.used -= it.size
	}
}

// grow adds n bytes to the charge of k (a value that grew after being
// stored, such as a page whose compressed form was added later).
func (c *byteLRU[K, V]) grow(k K, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		e.Value.(*lruItem[K, V]).size += n
		c.used += n
	}
}

// remove deletes k.
func (c *byteLRU[K, V]) remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.used -= e.Value.(*lruItem[K, V]).size
		c.order.Remove(e)
		delete(c.items, k)
	}
}

// stats returns the number of values and the bytes charged.
func (c *byteLRU[K, V]) stats() (n int, used int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.used
}

// flight collapses concurrent calls for the same key into one: the first
// caller runs fn, the others wait for its result.
type flight[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*flightCall[V]
}

type flightCall[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// do runs fn once for all concurrent callers with key k. shared reports
// whether this caller got another caller's result.
func (f *flight[K, V]) do(k K, fn func() (V, error)) (v V, shared bool, err error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[K]*flightCall[V]{}
	}
	if c, ok := f.calls[k]; ok {
		f.mu.Unlock()
		<-c.done
		return c.val, true, c.err
	}
	c := &flightCall[V]{done: make(chan struct{})}
	f.calls[k] = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.calls, k)
		f.mu.Unlock()
		close(c.done)
	}()
	c.err = errFlightAborted // replaced unless fn panics
	c.val, c.err = fn()
	return c.val, false, c.err
}
