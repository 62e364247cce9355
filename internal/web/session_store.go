package web

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// sessionStore puts a short-lived memory cache in front of the PostgreSQL
// session store, and enforces the idle timeout itself, so that a page view
// of a logged-in user usually costs no session query, no session write and
// no Set-Cookie:
//
//   - scs runs without its own idle timeout (it would re-save every session
//     on every request). The stored expiry is instead the earlier of the
//     absolute deadline and the last activity plus idle; Find moves it
//     forward (an UPDATE that never re-creates a deleted session) once it
//     lags more than touchSlack behind, so the idle timeout is enforced to
//     within touchSlack, and the absolute lifetime exactly.
//   - Find answers from memory when this server read or wrote the same
//     session less than ttl ago. A session deleted on another replica (a
//     logout there) is therefore still accepted here for at most ttl; on
//     this replica a logout deletes the entry at once. An entry past half
//     its ttl is still used while one background read replaces it
//     (refresh-ahead), so under steady traffic no request waits for the
//     session query; past the ttl it is never used. A read that started
//     before a Delete on this server is not kept (gen).
//   - Commit (a changed session: login, flash, language) and Delete always
//     go to the database.
//
// The cache holds at most maxEntries sessions.
type sessionStore struct {
	db         *pgxstore.PostgresStore
	st         *store.Store
	codec      *sessionCodec // reads the absolute deadline out of stored data
	bg         *background   // runs the refreshes ahead (the server's)
	ttl        time.Duration
	idle       time.Duration // 0: no idle timeout
	touchSlack time.Duration
	maxEntries int
	now        func() time.Time

	mu         sync.Mutex
	m          map[string]*sessionEntry
	gen        uint64 // bumped by Delete
	background map[string]bool
}

type sessionEntry struct {
	b        []byte
	expiry   time.Time // the expiry stored in the database
	deadline time.Time // the session's absolute end
	checked  time.Time // when this server last read or wrote it
}

func newSessionStore(st *store.Store, codec *sessionCodec, bg *background, ttl, idle, touchSlack time.Duration) *sessionStore {
	return &sessionStore{db: pgxstore.NewWithCleanupInterval(st.Pool(), 0), st: st, codec: codec, bg: bg, ttl: ttl,
		idle: idle, touchSlack: touchSlack, maxEntries: 100000, now: time.Now, m: map[string]*sessionEntry{},
		background: map[string]bool{}}
}

// storedExpiry is the expiry to store for a session active now.
func (s *sessionStore) storedExpiry(deadline, now time.Time) time.Time {
	if s.idle > 0 && now.Add(s.idle).Before(deadline) {
		return now.Add(s.idle)
	}
	return deadline
}

// Find returns the session's data.
func (s *sessionStore) Find(token string) ([]byte, bool, error) {
	now := s.now()
	s.mu.Lock()
	e := s.m[token]
	if e != nil && now.Sub(e.checked) < s.ttl {
		if !now.Before(e.expiry) {
			delete(s.m, token)
			s.mu.Unlock()
			return nil, false, nil
		}
		refresh := now.Sub(e.checked) >= s.ttl/2
		touch := s.storedExpiry(e.deadline, now).Sub(e.expiry) >= s.touchSlack
		start := (refresh || touch) && !s.background[token]
		if start {
			s.background[token] = true
		}
		s.mu.Unlock()
		if start {
			s.bg.startThen(func(ctx context.Context) {
				if touch {
					_ = s.touch(ctx, token, e, now)
				} else {
					_, _, _ = s.read(ctx, token, now)
				}
			}, func() {
				s.mu.Lock()
				delete(s.background, token)
				s.mu.Unlock()
			})
		}
		return e.b, true, nil
	}
	s.mu.Unlock()
	b, found, err := s.read(context.Background(), token, now)
	if err != nil || !found {
		return b, found, err
	}
	s.mu.Lock()
	e = s.m[token]
	s.mu.Unlock()
	if e != nil && s.storedExpiry(e.deadline, now).Sub(e.expiry) >= s.touchSlack {
		if err := s.touch(context.Background(), token, e, now); err != nil {
			return nil, false, err
		}
	}
	return b, true, nil
}

// read reads the session from the database and caches it.
func (s *sessionStore) read(ctx context.Context, token string, now time.Time) ([]byte, bool, error) {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	b, expiry, found, err := s.st.SessionByToken(ctx, token)
	if err != nil {
		return nil, false, fmt.Errorf("web: find session: %w", err)
	}
	if !found {
		s.mu.Lock()
		delete(s.m, token)
		s.mu.Unlock()
		return nil, false, nil
	}
	deadline, err := s.codec.deadline(b)
	if err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen == gen { // not deleted meanwhile on this server
		s.setLocked(token, &sessionEntry{b: b, expiry: expiry, deadline: deadline, checked: now})
	}
	return b, true, nil
}

// touch moves a session's stored expiry to its activity now.
func (s *sessionStore) touch(ctx context.Context, token string, e *sessionEntry, now time.Time) error {
	expiry := s.storedExpiry(e.deadline, now)
	found, err := s.st.TouchSession(ctx, token, expiry)
	if err != nil {
		return fmt.Errorf("web: touch session: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !found {
		delete(s.m, token) // deleted or expired meanwhile: the next Find says so
		return nil
	}
	if cur := s.m[token]; cur == e {
		s.setLocked(token, &sessionEntry{b: e.b, expiry: expiry, deadline: e.deadline, checked: now})
	}
	return nil
}

// Commit saves the session's data; deadline is its absolute end (scs's
// lifetime: scs runs without an idle timeout of its own).
func (s *sessionStore) Commit(token string, b []byte, deadline time.Time) error {
	now := s.now()
	expiry := s.storedExpiry(deadline, now)
	if err := s.db.Commit(token, b, expiry); err != nil {
		return fmt.Errorf("web: commit session: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLocked(token, &sessionEntry{b: slices.Clone(b), expiry: expiry, deadline: deadline, checked: now})
	return nil
}

// Delete removes the session.
func (s *sessionStore) Delete(token string) error {
	s.mu.Lock()
	delete(s.m, token)
	s.gen++
	s.mu.Unlock()
	if err := s.db.Delete(token); err != nil {
		return fmt.Errorf("web: delete session: %w", err)
	}
	return nil
}

// setLocked stores an entry, first dropping entries past the ttl when the
// map is full (and everything if that is not enough).
func (s *sessionStore) setLocked(token string, e *sessionEntry) {
	if len(s.m) >= s.maxEntries {
		now := s.now()
		for k, v := range s.m {
			if now.Sub(v.checked) >= s.ttl {
				delete(s.m, k)
			}
		}
		if len(s.m) >= s.maxEntries {
			clear(s.m)
		}
	}
	s.m[token] = e
}

// sessionCodec encodes session data deterministically (the keys sorted), so
// unchanged data encodes to the same bytes and sessionStore can tell a
// mere idle-timeout refresh from a change. It decodes scs's own gob format
// too (sessions saved before it was used).
//
// gob is costly for such small values (it sends and compiles type
// information every time), so the codec remembers recent results: a
// decoding by its bytes (each caller gets its own copy of the map, which
// scs modifies), and an encoding of data equal to what was decoded from
// known bytes gives those bytes back. At most maxMemo results are kept.
type sessionCodec struct {
	mu      sync.Mutex
	decoded map[string]*sessionMemo  // by the encoded bytes
	handed  map[uintptr]*sessionMemo // by the address of the copy handed out
	maxMemo int
}

type sessionMemo struct {
	b        []byte
	deadline time.Time
	values   map[string]any // never handed out: callers get copies
}

func newSessionCodec() *sessionCodec {
	return &sessionCodec{decoded: map[string]*sessionMemo{}, handed: map[uintptr]*sessionMemo{}, maxMemo: 10000}
}

// sessionMagic starts data in sessionCodec's format.
const sessionMagic = "gsc1\x00"

type sessionAux struct {
	Deadline time.Time
	Keys     []string
	Values   []any
}

// Encode implements scs.Codec.
func (c *sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	if b := c.known(deadline, values); b != nil {
		return b, nil
	}
	aux := sessionAux{Deadline: deadline, Keys: make([]string, 0, len(values))}
	for k := range values {
		aux.Keys = append(aux.Keys, k)
	}
	slices.Sort(aux.Keys)
	for _, k := range aux.Keys {
		aux.Values = append(aux.Values, values[k])
	}
	var b bytes.Buffer
	b.WriteString(sessionMagic)
	if err := gob.NewEncoder(&b).Encode(&aux); err != nil {
		return nil, fmt.Errorf("web: encode session: %w", err)
	}
	return b.Bytes(), nil
}

// known returns the encoding of (deadline, values) when values is a map
// this codec handed out (found by its address) and still holds the
// decoded data, else nil. The contents are compared, not just the
// address, so a reused address can never give another session's bytes.
func (c *sessionCodec) known(deadline time.Time, values map[string]any) []byte {
	c.mu.Lock()
	m := c.handed[reflect.ValueOf(values).Pointer()]
	c.mu.Unlock()
	if m != nil && m.deadline.Equal(deadline) && reflect.DeepEqual(m.values, values) {
		return m.b
	}
	return nil
}

// Decode implements scs.Codec.
func (c *sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	m, err := c.memo(b)
	if err != nil {
		return time.Time{}, nil, err
	}
	values := make(map[string]any, len(m.values))
	for k, v := range m.values {
		values[k] = v
	}
	c.mu.Lock()
	if len(c.handed) >= c.maxMemo {
		clear(c.handed)
	}
	c.handed[reflect.ValueOf(values).Pointer()] = m
	c.mu.Unlock()
	return m.deadline, values, nil
}

// deadline returns the absolute deadline stored in encoded session data.
func (c *sessionCodec) deadline(b []byte) (time.Time, error) {
	m, err := c.memo(b)
	if err != nil {
		return time.Time{}, err
	}
	return m.deadline, nil
}

// memo returns the decoding of b, remembered.
func (c *sessionCodec) memo(b []byte) (*sessionMemo, error) {
	c.mu.Lock()
	m := c.decoded[string(b)]
	c.mu.Unlock()
	if m != nil {
		return m, nil
	}
	deadline, values, err := decodeSession(b)
	if err != nil {
		return nil, err
	}
	m = &sessionMemo{b: slices.Clone(b), deadline: deadline, values: values}
	c.mu.Lock()
	if len(c.decoded) >= c.maxMemo {
		clear(c.decoded)
	}
	c.decoded[string(m.b)] = m
	c.mu.Unlock()
	return m, nil
}

func decodeSession(b []byte) (time.Time, map[string]any, error) {
	rest, ok := bytes.CutPrefix(b, []byte(sessionMagic))
	if !ok {
		return scs.GobCodec{}.Decode(b)
	}
	var aux sessionAux
	if err := gob.NewDecoder(bytes.NewReader(rest)).Decode(&aux); err != nil {
		return time.Time{}, nil, fmt.Errorf("web: decode session: %w", err)
	}
	if len(aux.Keys) != len(aux.Values) {
		return time.Time{}, nil, fmt.Errorf("web: decode session: %d keys, %d values", len(aux.Keys), len(aux.Values))
	}
	values := make(map[string]any, len(aux.Keys))
	for i, k := range aux.Keys {
		values[k] = aux.Values[i]
	}
	return aux.Deadline, values, nil
}
