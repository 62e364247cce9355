package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"hash/maphash"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The rendered-page cache keeps whole pages (the instance list) as bytes,
// keyed by everything the bytes depend on: who looks (user id, username,
// role, groups), what they asked (the request URI), the language, the
// cluster cache's data versions, the declared networks and the stale banner
// (see pageKey). A hit costs a map lookup and one write: no query, no
// template. The key changes whenever any input changes, so entries are never
// invalidated explicitly; unused ones fall out of the LRU, whose budget
// bounds the memory.

// cachedPage is one rendered page. The gzip form is made once, the first
// time a client accepting gzip asks for it after the page was served at
// least once: a page seen only once (another page of a long list, a
// one-off search) is sent as it is rather than compressed for a single
// use, which would cost more CPU than rendering it did.
type cachedPage struct {
	body []byte
	// The ETag and Content-Length header values, made once (fixedHeader).
	etag, length []string
	uses         atomic.Int32 // times served, counted up to 2

	gzOnce sync.Once
	gz     []byte
}

func newCachedPage(body []byte, etag string) *cachedPage {
	return &cachedPage{body: body, etag: []string{etag}, length: []string{strconv.Itoa(len(body))}}
}

// gzipped returns the page compressed (made at most once, with a writer
// from zw) and whether it was made by this call.
func (p *cachedPage) gzipped(zw *sync.Pool) ([]byte, bool) {
	made := false
	p.gzOnce.Do(func() {
		var b bytes.Buffer
		b.Grow(len(p.body) / 4)
		w, _ := zw.Get().(*gzip.Writer)
		if w == nil {
			w, _ = gzip.NewWriterLevel(&b, gzip.BestSpeed)
		} else {
			w.Reset(&b)
		}
		_, _ = w.Write(p.body)
		if w.Close() == nil && b.Len() < len(p.body) {
			p.gz = b.Bytes()
		}
		zw.Put(w)
		made = true
	})
	return p.gz, made
}

// pageCache is the server's rendered-page cache. A page is kept from its
// second request on (seen remembers the first): a page asked for once (a
// one-off search, one page of a long list) is streamed to its client from
// its frame without being assembled in memory or pushing a useful page out
// of the cache.
type pageCache struct {
	lru    *byteLRU[string, *cachedPage]
	flight flight[string, *cachedPage]
	gzip   sync.Pool // of *gzip.Writer (each holds about 1 MB of state)
	bufs   sync.Pool // of *bytes.Buffer, for pages not kept (serveFramed)

	// The headers every page served from here has.
	noStore, html fixedHeader

	mu      sync.Mutex
	seed    maphash.Seed
	seen    map[uint64]struct{} // digests of keys requested once
	seenMax int
}

func newPageCache(budget int64) *pageCache {
	return &pageCache{lru: newByteLRU[string, *cachedPage](budget), seed: maphash.MakeSeed(),
		seen: map[uint64]struct{}{}, seenMax: 200000,
		noStore: fixedHeader{"Cache-Control", []string{"no-store"}},
		html:    fixedHeader{"Content-Type", []string{"text/html; charset=utf-8"}}}
}

// admit reports whether a page not in the cache should be kept now: true at
// its second request since it was first seen (the memory of first requests
// is bounded; when full it starts over).
func (c *pageCache) admit(key string) bool {
	h := maphash.String(c.seed, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[h]; ok {
		delete(c.seen, h)
		return true
	}
	if len(c.seen) >= c.seenMax {
		clear(c.seen)
	}
	c.seen[h] = struct{}{}
	return false
}

// pageKey builds a cache key from its parts; parts are separated by a byte
// that never occurs in them (a NUL), so no two part lists give one key.
type pageKey struct{ b strings.Builder }

func (k *pageKey) add(parts ...string) {
	for _, p := range parts {
		k.b.WriteString(p)
		k.b.WriteByte(0)
	}
}

func (k *pageKey) addInt(n int64) { k.add(strconv.FormatInt(n, 10)) }

func (k *pageKey) String() string { return k.b.String() }

// etagOf is the strong entity tag of a key: a digest, so the key's parts
// (user ids, group names) never leave the server.
func etagOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// get returns the page under key, rendering it with render on a miss. Any
// number of concurrent misses of one key render once. hit reports whether
// no rendering was needed by this request.
func (c *pageCache) get(key string, render func() ([]byte, error)) (p *cachedPage, hit bool, err error) {
	if p, ok := c.lru.get(key); ok {
		return p, true, nil
	}
	p, shared, err := c.flight.do(key, func() (*cachedPage, error) {
		if p, ok := c.lru.get(key); ok {
			return p, nil
		}
		body, err := render()
		if err != nil {
			return nil, err
		}
		p := newCachedPage(body, etagOf(key))
		p.uses.Store(1) // admitted at its second request: the first was streamed
		c.lru.put(key, p, int64(len(body)+len(key)+256))
		return p, nil
	})
	return p, shared, err
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (a "gzip;q=0" refusal is honoured).
func acceptsGzip(r *http.Request) bool {
	for _, h := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(h, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// serveCached writes a cached page: 304 when the client already has it,
// the stored gzip form to clients accepting gzip, else the plain bytes.
// Pages of logged-in users stay no-store, like every other such page, so a
// browser never keeps them on disk (a shared computer, the back button
// after logout); the server-side cache does not depend on the browser's.
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request, key string, p *cachedPage) {
	h := w.Header()
	h["Etag"] = p.etag
	h.Add("Vary", "Accept-Encoding")
	s.pageCache.noStore.set(h)
	if etagMatches(r.Header.Get("If-None-Match"), p.etag[0]) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.pageCache.html.set(h)
	body, length := p.body, p.length
	if p.uses.Load() < 2 {
		p.uses.Add(1)
	}
	if p.uses.Load() >= 2 && acceptsGzip(r) {
		gz, made := p.gzipped(&s.pageCache.gzip)
		if made {
			s.pageCache.lru.grow(key, int64(len(gz)))
		}
		if gz != nil {
			body, length = gz, []string{strconv.Itoa(len(gz))}
			h.Set("Content-Encoding", "gzip")
		}
	}
	h["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// serveFramed writes a page assembled from its frame (the first request of
// a page: see pageCache), with the headers a cached page has. It is
// assembled in a pooled buffer and written at once: nothing of it is kept.
func (s *Server) serveFramed(w http.ResponseWriter, r *http.Request, key string, f *pageFrame, rows rowsHTML, pager template.HTML) {
	h := w.Header()
	etag := etagOf(key)
	h.Set("ETag", etag)
	h.Add("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "no-store")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	buf, _ := s.pageCache.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	f.writeTo(buf, r.URL.RequestURI(), rows, pager)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
	if buf.Cap() <= maxPooledPage {
		s.pageCache.bufs.Put(buf)
	}
}

// maxPooledPage is the largest page buffer kept for reuse.
const maxPooledPage = 1 << 20

// CacheStats reports the sizes of the server's rendered-page and
// row-fragment caches.
type CacheStats struct {
	Pages, Fragments         int
	PageBytes, FragmentBytes int64
}

// CacheStats returns the current cache sizes.
func (s *Server) CacheStats() CacheStats {
	var st CacheStats
	st.Pages, st.PageBytes = s.pageCache.lru.stats()
	st.Fragments, st.FragmentBytes = s.fragments.stats()
	return st
}
