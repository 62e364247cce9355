package auth

import (
	"container/list"
	"sync"
	"time"
)

// Throttle counts failed logins per key (an account name or a client
// address) in a fixed window and blocks a key that reached the limit until
// its window ends. It holds at most MaxKeys keys; when full, the key touched
// least recently is forgotten, so memory stays bounded under a flood.
type Throttle struct {
	limit   int
	window  time.Duration
	maxKeys int
	now     func() time.Time

	mu    sync.Mutex
	keys  map[string]*list.Element
	order *list.List // front = most recently touched
}

type throttleEntry struct {
	key      string
	failures int
	start    time.Time
}

// NewThrottle returns a Throttle allowing limit failures per window for each
// of at most maxKeys keys. now may be nil (time.Now).
func NewThrottle(limit int, window time.Duration, maxKeys int, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{limit: limit, window: window, maxKeys: maxKeys, now: now,
		keys: make(map[string]*list.Element), order: list.New()}
}

// Blocked reports whether key has used up its failures, and for how long it
// stays blocked.
func (t *Throttle) Blocked(key string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.keys[key]
	if !ok {
		return false, 0
	}
	e := el.Value.(*throttleEntry)
	left := e.start.Add(t.window).Sub(t.now())
	if left <= 0 {
		t.remove(el)
		return false, 0
	}
	return e.failures >= t.limit, left
}

// Fail records one failure for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if el, ok := t.keys[key]; ok {
		e := el.Value.(*throttleEntry)
		if now.Sub(e.start) >= t.window {
			e.failures, e.start = 0, now
		}
		e.failures++
		t.order.MoveToFront(el)
		return
	}
	for len(t.keys) >= t.maxKeys {
		t.remove(t.order.Back())
	}
	t.keys[key] = t.order.PushFront(&throttleEntry{key: key, failures: 1, start: now})
}

// Reset forgets key's failures (after a successful login).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.keys[key]; ok {
		t.remove(el)
	}
}

// Len returns the number of keys held.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

func (t *Throttle) remove(el *list.Element) {
	delete(t.keys, el.Value.(*throttleEntry).key)
	t.order.Remove(el)
}
