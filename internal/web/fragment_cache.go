package web

import (
	"bytes"
	"context"
	"fmt"
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
	lru *byteLRU[fragmentKey, template.HTML]
}

// fragmentKey is everything a rendered row depends on.
type fragmentKey struct {
	cluster     int64
	name        string
	hash        int64
	slug        string
	lang        string
	wide        bool
	demo        bool
	maintenance bool
	busy        string // the kind of its unfinished tracked job, "" for none
	networks    string
}

func newFragmentCache(budget int64) *fragmentCache {
	return &fragmentCache{lru: newByteLRU[fragmentKey, template.HTML](budget)}
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
	keyOf := func(in *store.CachedInstance) fragmentKey {
		return fragmentKey{cluster: in.ClusterID, name: in.Name, hash: in.ContentHash, slug: in.ClusterSlug,
			lang: loc.Lang(), wide: wide, demo: demo[in.ClusterID],
			maintenance: in.NodeGroup != "" && cs.pc.locked[in.ClusterID][in.NodeGroup],
			busy:        cs.busy[store.InstanceKey{ClusterID: in.ClusterID, Name: in.Name}], networks: cs.networks}
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
			if k.busy != "" {
				v.Busy = instanceops.Kind(k.busy).Busy()
			}
			d := rowData{L: loc, V: v, Wide: wide, Demo: k.demo}
			if err := t.ExecuteTemplate(&buf, "instance_row", d); err != nil {
				return nil, fmt.Errorf("web: render instance row: %w", err)
			}
			// Produced by html/template from rowData: already escaped.
			h := template.HTML(buf.String())
			s.fragments.lru.put(k, h, int64(len(h)+len(k.name)+len(k.slug)+len(k.networks)+len(k.busy)+96))
			i := where[store.InstanceKey{ClusterID: in.ClusterID, Name: in.Name}]
			parts[i] = h
		}
	}
	return parts, nil
}
