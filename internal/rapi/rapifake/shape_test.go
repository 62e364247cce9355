package rapifake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// A shape is the merged JSON structure of one or more sample values: which
// JSON kinds were seen at a position, the keys of objects (and how often
// each appeared), and the element shapes of arrays.
//
// Comparison rules (fake value against sample shape):
//   - Kinds are null, bool, int, float, string, object, array. A fake int
//     matches a sample float (a float can happen to be whole), a fake float
//     never matches a sample int (it would break integer decoding).
//   - null: a fake null is accepted only where some sample was null, or
//     where the rules declare the path nullable. Where the samples are only
//     ever null (e.g. network_port with the fake hypervisor), a fake value
//     is accepted only with a declared kind for that path (rules.valueKinds).
//   - Objects: every key present in all sample observations is required,
//     keys present in only some are optional, keys never seen are reported
//     as extra. rules.mapPaths marks objects with free-form keys (e.g. a
//     result keyed by instance name); their values are compared against the
//     merged shape of all sample values.
//   - Arrays: an array whose non-null elements have different kinds is a
//     tuple and is compared position by position; otherwise every fake
//     element is compared with the merged shape of all sample elements.
//     Arrays that were empty in every sample accept any elements (nothing
//     to compare with); tests merge several samples to reduce that.
type shape struct {
	kinds      map[string]bool
	objects    int
	fields     map[string]*shape
	fieldCount map[string]int
	arrays     int
	tupleLike  bool
	elem       *shape
	tuple      []*shape
}

func newShape() *shape {
	return &shape{kinds: map[string]bool{}, fields: map[string]*shape{}, fieldCount: map[string]int{}}
}

func kindOf(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(t.String(), ".eE") {
			return "float"
		}
		return "int"
	case string:
		return "string"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("unknown(%T)", v)
}

func (s *shape) add(v any) {
	k := kindOf(v)
	s.kinds[k] = true
	switch t := v.(type) {
	case map[string]any:
		s.objects++
		for key, val := range t {
			if s.fields[key] == nil {
				s.fields[key] = newShape()
			}
			s.fields[key].add(val)
			s.fieldCount[key]++
		}
	case []any:
		if len(t) == 0 {
			return
		}
		s.arrays++
		elemKinds := map[string]bool{}
		for _, e := range t {
			if k := kindOf(e); k != "null" {
				if k == "int" {
					k = "float"
				}
				elemKinds[k] = true
			}
		}
		if len(elemKinds) > 1 {
			s.tupleLike = true
		}
		if s.elem == nil {
			s.elem = newShape()
		}
		for i, e := range t {
			s.elem.add(e)
			for len(s.tuple) <= i {
				s.tuple = append(s.tuple, newShape())
			}
			s.tuple[i].add(e)
		}
	}
}

// shapeRules are the documented exceptions of a comparison, by path.
type shapeRules struct {
	nullable   map[string]bool
	valueKinds map[string]string
	optional   map[string]bool
	extra      map[string]bool
	mapPaths   map[string]bool
	floatOK    map[string]bool
}

func (r shapeRules) has(m map[string]bool, path string) bool { return m != nil && m[path] }

func kindList(m map[string]bool) string {
	var l []string
	for k := range m {
		l = append(l, k)
	}
	sort.Strings(l)
	return strings.Join(l, "|")
}

// check compares a fake value with the sample shape and returns the
// differences, each prefixed with its path.
func (s *shape) check(v any, path string, r shapeRules) []string {
	k := kindOf(v)
	if k == "null" {
		if s.kinds["null"] || r.has(r.nullable, path) {
			return nil
		}
		return []string{fmt.Sprintf("%s: fake is null, samples are %s", path, kindList(s.kinds))}
	}
	onlyNull := len(s.kinds) == 1 && s.kinds["null"]
	if onlyNull {
		allowed := r.valueKinds[path]
		if allowed == "*" || slices.Contains(strings.Split(allowed, "|"), k) {
			return nil
		}
		return []string{fmt.Sprintf("%s: fake is %s, samples are only null (declare valueKinds)", path, k)}
	}
	ok := s.kinds[k] || (k == "int" && s.kinds["float"]) || (k == "float" && s.kinds["int"] && r.has(r.floatOK, path))
	if !ok {
		return []string{fmt.Sprintf("%s: fake is %s, samples are %s", path, k, kindList(s.kinds))}
	}
	var diffs []string
	switch t := v.(type) {
	case map[string]any:
		if r.has(r.mapPaths, path) {
			merged := newShape()
			for _, f := range s.fields {
				merged.merge(f)
			}
			if len(merged.kinds) == 0 {
				return nil // only empty objects in the samples
			}
			for _, key := range sortedKeys(t) {
				diffs = append(diffs, merged.check(t[key], path+"{*}", r)...)
			}
			return diffs
		}
		for _, key := range sortedKeys(s.fields) {
			if _, present := t[key]; !present && s.fieldCount[key] == s.objects && !r.has(r.optional, path+"."+key) {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing in fake", path, key))
			}
		}
		for _, key := range sortedKeys(t) {
			fs := s.fields[key]
			if fs == nil {
				if !r.has(r.extra, path+"."+key) {
					diffs = append(diffs, fmt.Sprintf("%s.%s: extra key in fake", path, key))
				}
				continue
			}
			diffs = append(diffs, fs.check(t[key], path+"."+key, r)...)
		}
	case []any:
		if s.arrays == 0 || len(t) == 0 {
			return nil
		}
		if s.tupleLike {
			if len(t) > len(s.tuple) {
				return []string{fmt.Sprintf("%s: fake tuple has %d elements, samples at most %d", path, len(t), len(s.tuple))}
			}
			for i, e := range t {
				diffs = append(diffs, s.tuple[i].check(e, fmt.Sprintf("%s[%d]", path, i), r)...)
			}
			return diffs
		}
		for i, e := range t {
			d := s.elem.check(e, path+"[]", r)
			diffs = append(diffs, d...)
			if len(d) > 0 && i > 0 {
				break // one bad element is enough, avoid thousands of lines
			}
		}
	}
	return diffs
}

// merge folds another shape into s.
func (s *shape) merge(o *shape) {
	for k := range o.kinds {
		s.kinds[k] = true
	}
	s.objects += o.objects
	for key, f := range o.fields {
		if s.fields[key] == nil {
			s.fields[key] = newShape()
		}
		s.fields[key].merge(f)
		s.fieldCount[key] += o.fieldCount[key]
	}
	s.arrays += o.arrays
	s.tupleLike = s.tupleLike || o.tupleLike
	if o.elem != nil {
		if s.elem == nil {
			s.elem = newShape()
		}
		s.elem.merge(o.elem)
	}
	for i, t := range o.tuple {
		for len(s.tuple) <= i {
			s.tuple = append(s.tuple, newShape())
		}
		s.tuple[i].merge(t)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("invalid JSON (%v): %.300s", err, b)
	}
	return v
}

// sampleShape merges the named testdata samples into one shape.
func sampleShape(t testing.TB, files ...string) *shape {
	t.Helper()
	s := newShape()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		s.add(decodeJSON(t, b))
	}
	return s
}

// sampleElems merges the elements of list samples with single-object
// samples, so a bulk list and a single GET share one element shape.
func sampleElems(t testing.TB, lists []string, singles []string) *shape {
	t.Helper()
	s := newShape()
	for _, f := range lists {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range decodeJSON(t, b).([]any) {
			s.add(e)
		}
	}
	for _, f := range singles {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		s.add(decodeJSON(t, b))
	}
	return s
}

func assertShape(t testing.TB, what string, s *shape, fake []byte, r shapeRules) {
	t.Helper()
	diffs := s.check(decodeJSON(t, fake), "$", r)
	if len(diffs) > 0 {
		if len(diffs) > 20 {
			diffs = append(diffs[:20], fmt.Sprintf("... %d more", len(diffs)-20))
		}
		t.Errorf("%s: fake answer differs from the real samples:\n  %s\nfake: %.600s", what, strings.Join(diffs, "\n  "), fake)
	}
}

func TestShapeHelperReportsDifferences(t *testing.T) {
	s := newShape()
	s.add(decodeJSON(t, []byte(`{"a": 1, "b": [null, "x"], "c": {"d": 1.5}, "t": [0, "n"], "o": null}`)))
	s.add(decodeJSON(t, []byte(`{"a": 2, "b": [], "c": {"d": 2.5, "e": true}, "t": [1, "m"], "o": null}`)))
	cases := []struct {
		fake string
		want []string
	}{
		{`{"a": 3, "b": ["y", null], "c": {"d": 3}, "t": [2, "z"], "o": null}`, nil},
		{`{"a": 3.5, "b": [], "c": {"d": 1}, "t": [0, "z"], "o": null}`, []string{"$.a: fake is float, samples are int"}},
		{`{"a": 1, "b": [1], "c": {"d": 1}, "t": [0, "z"], "o": null}`, []string{"$.b[]: fake is int, samples are null|string"}},
		{`{"a": 1, "b": [], "c": {"e": false}, "t": [0, "z"], "o": null, "x": 1}`, []string{"$.c.d: missing in fake", "$.x: extra key in fake"}},
		{`{"a": 1, "b": [], "c": {"d": 1}, "t": ["z", 0], "o": 5}`, []string{"$.o: fake is int, samples are only null (declare valueKinds)", "$.t[0]: fake is string, samples are int", "$.t[1]: fake is int, samples are string"}},
		{`{"a": null, "b": [], "c": {"d": 1}, "t": [0, "z", 1], "o": null}`, []string{"$.a: fake is null, samples are int", "$.t: fake tuple has 3 elements, samples at most 2"}},
	}
	for i, tc := range cases {
		got := s.check(decodeJSON(t, []byte(tc.fake)), "$", shapeRules{})
		if !slices.Equal(got, tc.want) {
			t.Errorf("case %d: got %q, want %q", i, got, tc.want)
		}
	}
	r := shapeRules{nullable: map[string]bool{"$.a": true}, valueKinds: map[string]string{"$.o": "int"}}
	if got := s.check(decodeJSON(t, []byte(`{"a": null, "b": [], "c": {"d": 1}, "t": [0, "z"], "o": 7}`)), "$", r); len(got) > 0 {
		t.Errorf("rules not applied: %q", got)
	}
}
