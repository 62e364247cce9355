package web

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"html/template"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// fragmentCache keeps the rendered HTML of instance-list rows. A row is
// rendered by html/template (template "instance_row" of the instances
// page, so its escaping is html/template's) once per fragmentKey: the
// instance's content hash (which changes with any synced field), its
// cluster's slug and demo flag, the language, the column set, whether its
// node group is under maintenance, the kind of job running on it (the
// "job pending" badge) and the declared networks (IPv6 addresses are
// derived from them). Pages are assembled from these
// fragments, so a page nobody has seen before does not run the template
// engine for each of its rows.
type fragmentCache struct {
	lru  *byteLRU[fragmentKey, template.HTML]
	seed maphash.Seed // of the variant hashes (per process)
}

// fragmentKey is everything a rendered row depends on: the instance
// (cluster, name, content hash) and, as one 64-bit hash, the rest
// (variantOf): its cluster's slug and demo flag, the language, the column
// set, the declared networks, whether its node group is under maintenance
// and the kind of job running on it. Hashing those once per request and
// cluster rather than per row keeps the lookups of a 200-row page cheap.
type fragmentKey struct {
	cluster int64
	hash    int64
	variant uint64
	name    string
}

func newFragmentCache(budget int64) *fragmentCache {
	return &fragmentCache{lru: newByteLRU[fragmentKey, template.HTML](budget), seed: maphash.MakeSeed()}
}

// rowVariants computes the variant part of the fragment keys of one
// request: everything a row depends on besides the instance itself.
type rowVariants struct {
	seed    maphash.Seed
	base    uint64           // language, column set, declared networks
	cluster map[int64]uint64 // base with the cluster's slug and demo flag
}

func (f *fragmentCache) variants(lang string, wide bool, networks string) *rowVariants {
	var h maphash.Hash
	h.SetSeed(f.seed)
	h.WriteString(lang)
	h.WriteByte(0)
	h.WriteString(networks)
	if wide {
		h.WriteByte(1)
	}
	return &rowVariants{seed: f.seed, base: h.Sum64(), cluster: map[int64]uint64{}}
}

// of is the variant of a row of cluster id (slug, demo), with its
// maintenance flag and the kind of its running job ("" for none).
func (rv *rowVariants) of(id int64, slug string, demo, maintenance bool, busy string) uint64 {
	v, ok := rv.cluster[id]
	if !ok {
		v = mix64(rv.base ^ maphash.String(rv.seed, slug))
		if demo {
			v = mix64(v ^ 0x64656d6f)
		}
		rv.cluster[id] = v
	}
	if maintenance {
		v = mix64(v ^ 0x6d61696e74)
	}
	if busy != "" {
		v = mix64(v ^ maphash.String(rv.seed, busy))
	}
	return v
}

// mix64 is splitmix64's finalizer: every input bit affects every output
// bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// rowData is what template "instance_row" receives.
type rowData struct {
	L    *i18n.Localizer
	V    *instanceView
	Wide bool
	Demo bool
}

// rowsHTML are rendered rows, in order: pieces of already-escaped HTML made
// only of html/template output.
type rowsHTML []template.HTML

// Joined returns the rows as one piece, so the page template inserts them
// with one call rather than one per row.
func (rs rowsHTML) Joined() template.HTML {
	n := 0
	for _, h := range rs {
		n += len(h)
	}
	var out strings.Builder
	out.Grow(n)
	for _, h := range rs {
		out.WriteString(string(h))
	}
	return template.HTML(out.String())
}

// instanceRows returns the rendered rows of instances (a row deleted
// meanwhile is an empty piece). rows may be key rows
// (store.InstanceQuery.KeysOnly): rows not yet rendered are loaded in full
// with one query and rendered.
func (s *Server) instanceRows(ctx context.Context, rows []*store.CachedInstance, cs *cacheState, loc *i18n.Localizer,
	wide bool, demo map[int64]bool) (rowsHTML, error) {
	rv := s.fragments.variants(loc.Lang(), wide, cs.networks)
	// The row's state besides its content: its node group under
	// maintenance, the kind of job running on it (both rare: the maps are
	// usually empty).
	state := func(in *store.CachedInstance) (maintenance bool, busy string) {
		if locked := cs.pc.locked[in.ClusterID]; len(locked) > 0 && in.NodeGroup != "" {
			maintenance = locked[in.NodeGroup]
		}
		if len(cs.busy) > 0 {
			busy = cs.busy[store.InstanceKey{ClusterID: in.ClusterID, Name: in.Name}]
		}
		return maintenance, busy
	}
	keyOf := func(in *store.CachedInstance) fragmentKey {
		maintenance, busy := state(in)
		return fragmentKey{cluster: in.ClusterID, hash: in.ContentHash, name: in.Name,
			variant: rv.of(in.ClusterID, in.ClusterSlug, demo[in.ClusterID], maintenance, busy)}
	}
	parts := make(rowsHTML, len(rows))
	keys := make([]fragmentKey, len(rows))
	for i, in := range rows {
		keys[i] = keyOf(in)
	}
	found := make([]bool, len(rows))
	s.fragments.lru.getMany(keys, parts, found)
	var missing []store.InstanceKey
	var where map[store.InstanceKey]int
	for i, in := range rows {
		if found[i] {
			continue
		}
		if where == nil {
			where = map[store.InstanceKey]int{}
		}
		k := store.InstanceKey{ClusterID: in.ClusterID, Name: in.Name}
		missing = append(missing, k)
		where[k] = i
	}
	if len(missing) > 0 {
		full, err := s.store.InstancesByKey(ctx, missing)
		if err != nil {
			return nil, err
		}
		t := s.pages["instances"]
		var buf bytes.Buffer
		for _, in := range full {
			// The full row may be newer than the key row; it is rendered
			// and kept under its own content hash.
			k := keyOf(in)
			buf.Reset()
			v := s.instanceView(in, cs.pc)
			if _, busy := state(in); busy != "" {
				v.Busy = instanceops.Kind(busy).Busy()
			}
			d := rowData{L: loc, V: v, Wide: wide, Demo: demo[in.ClusterID]}
			if err := t.ExecuteTemplate(&buf, "instance_row", d); err != nil {
				return nil, fmt.Errorf("web: render instance row: %w", err)
			}
			// Produced by html/template from rowData: already escaped.
			h := template.HTML(buf.String())
			s.fragments.lru.put(k, h, int64(len(h)+len(k.name)+64))
			i := where[store.InstanceKey{ClusterID: in.ClusterID, Name: in.Name}]
			parts[i] = h
		}
	}
	return parts, nil
}
