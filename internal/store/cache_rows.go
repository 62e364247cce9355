package store

import (
	"context"
	"encoding/binary"
	"hash"
	"hash/fnv"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// This file holds what the cached cluster tables (cache_*.go) share: the
// content hash that lets a sync skip unchanged rows, and the replacement of
// one cluster's rows of a table by a new list (diff by key and hash, COPY
// the changed rows into a temporary table, upsert them, delete the vanished
// ones), always inside the caller's transaction.

// cacheTable describes one cached table for replaceRows.
type cacheTable struct {
	// name is the table, key its key column besides cluster_id.
	name, key string
	// columns are all columns written, in the order of cacheRow.values,
	// starting with cluster_id and the key and ending with content_hash.
	columns []string
	// keepVanished keeps rows that are absent from the new list (jobs
	// archived by Ganeti stay until pruned).
	keepVanished bool
}

// cacheRow is one row ready for writing.
type cacheRow struct {
	key    string
	hash   int64
	values []any
}

// replaceRows makes the cluster's rows of t equal to rows (or a superset,
// with keepVanished) and returns the number of rows inserted, updated or
// deleted. Unchanged rows (same key and hash) are not written at all.
func replaceRows(ctx context.Context, tx pgx.Tx, t cacheTable, clusterID int64, rows []cacheRow) (int, error) {
	existing := make(map[string]int64)
	r, err := tx.Query(ctx, `SELECT `+t.key+`::text, content_hash FROM `+t.name+` WHERE cluster_id = $1`, clusterID)
	if err != nil {
		return 0, err
	}
	for r.Next() {
		var k string
		var h int64
		if err := r.Scan(&k, &h); err != nil {
			r.Close()
			return 0, err
		}
		existing[k] = h
	}
	r.Close()
	if err := r.Err(); err != nil {
		return 0, err
	}

	var changed [][]any
	seen := make(map[string]bool, len(rows))
	for _, row := range rows {
		if seen[row.key] {
			continue // Ganeti never repeats a name; a bad answer must not break the upsert
		}
		seen[row.key] = true
		if h, ok := existing[row.key]; ok && h == row.hash {
			continue
		}
		changed = append(changed, row.values)
	}
	var vanished []string
	if !t.keepVanished {
		for k := range existing {
			if !seen[k] {
				vanished = append(vanished, k)
			}
		}
	}

	n := 0
	if len(changed) > 0 {
		// A temporary table per connection, emptied at commit, avoids
		// creating and dropping catalog entries at every sync.
		tmp := "tmp_" + t.name
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS `+tmp+` (LIKE `+t.name+` INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
			return 0, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{tmp}, t.columns, pgx.CopyFromRows(changed)); err != nil {
			return 0, err
		}
		cols := strings.Join(t.columns, ", ")
		var set strings.Builder
		for _, c := range t.columns[2:] {
			set.WriteString(c + " = EXCLUDED." + c + ", ")
		}
		set.WriteString("synced_at = now()")
		tag, err := tx.Exec(ctx, `INSERT INTO `+t.name+` (`+cols+`) SELECT `+cols+` FROM `+tmp+`
			ON CONFLICT (cluster_id, `+t.key+`) DO UPDATE SET `+set.String()+`
			WHERE `+t.name+`.content_hash <> EXCLUDED.content_hash`)
		if err != nil {
			return 0, err
		}
		n += int(tag.RowsAffected())
		// Empty it now too, in case the caller writes the table again in
		// the same transaction.
		if _, err := tx.Exec(ctx, `TRUNCATE `+tmp); err != nil {
			return 0, err
		}
	}
	if len(vanished) > 0 {
		tag, err := tx.Exec(ctx, `DELETE FROM `+t.name+` WHERE cluster_id = $1 AND `+t.key+`::text = ANY($2)`, clusterID, vanished)
		if err != nil {
			return 0, err
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}

// hasher builds the content hash of a row: FNV-1a over every field with
// length prefixes, so that ("ab","c") and ("a","bc") differ. It is stable
// across processes and versions of Go (replicas compare each other's
// hashes).
type hasher struct{ h hash.Hash64 }

func newHasher() hasher { return hasher{h: fnv.New64a()} }

func (h hasher) u64(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	h.h.Write(b[:])
}

func (h hasher) str(s string) {
	h.u64(uint64(len(s)))
	h.h.Write([]byte(s))
}

func (h hasher) strs(ss []string) {
	h.u64(uint64(len(ss)))
	for _, s := range ss {
		h.str(s)
	}
}

func (h hasher) i64(v int64) { h.u64(uint64(v)) }

func (h hasher) i64s(vs []int64) {
	h.u64(uint64(len(vs)))
	for _, v := range vs {
		h.i64(v)
	}
}

func (h hasher) bool(b bool) {
	if b {
		h.u64(1)
	} else {
		h.u64(0)
	}
}

func (h hasher) time(t time.Time) {
	if t.IsZero() {
		h.u64(math.MaxUint64)
		return
	}
	h.i64(t.UnixMicro())
}

func (h hasher) bytes(b []byte) {
	h.u64(uint64(len(b)))
	h.h.Write(b)
}

func (h hasher) sum() int64 { return int64(h.h.Sum64()) }

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// nonNil maps a nil slice to an empty one (array columns are NOT NULL).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nullJSON maps empty JSON to NULL and passes other JSON as text for a
// jsonb column.
func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// scanTime turns a scanned nullable timestamp into a time (zero for NULL).
func scanTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
