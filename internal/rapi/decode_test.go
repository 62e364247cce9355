package rapi

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLenientDecoding: nulls, unexpected types and unknown fields inside an
// item do not fail the response.
func TestLenientDecoding(t *testing.T) {
	raw := `[{"name": "a", "status": "running", "oper_ram": null, "oper_vcpus": "2", "network_port": 11000,
		"disk.sizes": [null, 1024, "x"], "nic.ips": [null, "192.0.2.1", 5], "beparams": [], "hvparams": {"serial_console": "yes", "kernel_path": "/k"},
		"ctime": "yesterday", "mtime": null, "tags": null, "future_field": {"deep": [1, 2, {"x": null}]}, "snodes": "n2",
		"custom_nicparams": [{}, null, 3]},
		{"name": "b", "admin_state": "up", "serial_no": 1.5, "ctime": [1795771097, 5]}]`
	list, err := decodeInstances([]byte(raw))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("len = %d", len(list))
	}
	a := list[0]
	if a.Name != "a" || a.OperRAM != 0 || a.OperVCPUs != 0 || a.NetworkPort != 11000 || a.DiskSizes[1] != 1024 ||
		a.NICIPs[0] != "" || a.NICIPs[1] != "192.0.2.1" || a.HvParams.KernelPath != "/k" || a.HvParams.SerialConsole ||
		a.BeParams.Raw != nil || !a.CTime.IsZero() || a.Tags != nil {
		t.Errorf("a = %+v", a)
	}
	if b := list[1]; b.Name != "b" || !b.AdminUp() || b.CTime.Unix() != 1795771097 {
		t.Errorf("b = %+v", b)
	}
	for _, bad := range []string{`{}`, `"x"`, `[1]`, `[`, ``} {
		if _, err := decodeInstances([]byte(bad)); err == nil && bad != `[1]` {
			t.Errorf("%q: no error", bad)
		}
	}
	if l, err := decodeInstances([]byte(`null`)); err != nil || l != nil {
		t.Errorf("null = %v, %v", l, err)
	}
}

func TestTimeForms(t *testing.T) {
	for in, want := range map[string]int64{
		`1795771099.740084`:    1795771099740084,
		`[1795771104, 977186]`: 1795771104977186,
		`[1795771104]`:         1795771104000000,
		`null`:                 0,
		`0`:                    0,
		`-5`:                   0,
		`1e300`:                0,
		`"1795771099"`:         0,
		`[null, "x"]`:          0,
	} {
		var tm Time
		if err := json.Unmarshal([]byte(in), &tm); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		got := int64(0)
		if !tm.IsZero() {
			got = tm.UnixMicro()
		}
		if got != want {
			t.Errorf("%s: got %d, want %d", in, got, want)
		}
	}
	var tm Time
	_ = json.Unmarshal([]byte(`1795771099.740084`), &tm)
	b, _ := json.Marshal(tm)
	if string(b) != "1795771099.740084" {
		t.Errorf("marshal = %s", b)
	}
}

// samplesFor returns all recorded samples whose name starts with prefix.
func samplesFor(t testing.TB, prefixes ...string) [][]byte {
	var out [][]byte
	ents, err := os.ReadDir(filepath.Join("testdata", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		for _, p := range prefixes {
			if strings.HasPrefix(e.Name(), p) {
				out = append(out, sample(t, e.Name()))
			}
		}
	}
	return out
}

func FuzzDecodeInstances(f *testing.F) {
	// The small recorded answers (the 50-instance one makes each fuzz
	// execution and minimization slow without adding shapes).
	for _, s := range samplesFor(f, "instances-bulk.json", "instances-bulk-error", "instance.json") {
		f.Add(s)
	}
	f.Add([]byte(`[{"name": null, "disk.sizes": [1e400], "ctime": [1e308, -1e308]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := decodeInstances(data)
		if err != nil {
			return
		}
		for i := range list {
			in := &list[i]
			_ = in.Status.IsError()
			_ = in.BeParams.Raw.Map()
			_ = in.HvParams.Raw.Map()
			_, _ = in.CustomBeParams.Lookup("maxmem")
			_ = in.CTime.String()
			if _, err := json.Marshal(in); err != nil {
				t.Fatalf("re-encode: %v", err)
			}
		}
		// A single object decodes too.
		var one Instance
		_ = decodeJSON(data, &one)
	})
}

func FuzzDecodeJob(f *testing.F) {
	for _, s := range samplesFor(f, "job") {
		f.Add(s)
	}
	f.Add([]byte(`{"id": "12", "status": "error", "opstatus": ["error"], "opresult": [["X", [["nested"], 3, null]]], "oplog": [[[1, null, null, {"a": 1}]]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := decodeJob("/2/jobs/1", data)
		if err != nil {
			return
		}
		_ = j.Log()
		_ = j.OpID()
		if err := j.Err(); err != nil {
			_ = err.Error()
			if j.Status != JobStatusError && j.Status != JobStatusCanceled {
				t.Fatalf("error for status %q", j.Status)
			}
		}
		_, _ = DecodeInstanceInfo(j)
		_, _ = DecodeMultiAlloc(j)
		var jobs []Job
		_ = decodeJSON(data, &jobs)
		var ch *JobChange
		if decodeJSON(data, &ch) == nil {
			_ = ch.Status()
		}
		_, _ = decodeJobID("GET", "/x", data)
	})
}

func FuzzParseAPIError(f *testing.F) {
	for _, s := range samplesFor(f, "error-") {
		f.Add(500, s)
	}
	f.Add(502, []byte("<html>&#x27;&quot;\xff</html>"))
	f.Add(0, []byte{})
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		e := parseAPIError("GET", "/2/info", code, body)
		if e.Code != code || e.Message == "" {
			t.Fatalf("APIError = %+v", e)
		}
		s := e.Error()
		if !strings.HasPrefix(s, "rapi: ") || len(s) > 5000 {
			t.Fatalf("Error() = %q", s)
		}
		_ = IsUnavailable(e)
	})
}

func FuzzDecodeQuery(f *testing.F) {
	for _, s := range samplesFor(f, "query-") {
		f.Add(s)
	}
	f.Add([]byte(`{"fields": [{"name": "a"}], "data": [[[0]], [[1, 2, 3]], [null], [["x", 1]], 5]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeQuery(data)
		if err != nil {
			return
		}
		rows := r.Rows()
		if len(rows) != len(r.Data) {
			t.Fatalf("rows %d, data %d", len(rows), len(r.Data))
		}
		for i := range r.Data {
			for _, fl := range r.Fields {
				c := r.Cell(i, fl.Name)
				_ = c.String()
				_, _ = c.Int()
				_ = c.Bool()
				var v any
				_ = c.Decode(&v)
			}
		}
	})
}

// bulkSample synthesizes a /2/instances?bulk=1 answer of n instances by
// repeating and varying the 50 recorded ones.
func bulkSample(tb testing.TB, n int) []byte {
	var base []map[string]any
	if err := json.Unmarshal(sample(tb, "instances-bulk-50.json"), &base); err != nil {
		tb.Fatal(err)
	}
	var extra []map[string]any
	if err := json.Unmarshal(sample(tb, "instances-bulk.json"), &extra); err != nil {
		tb.Fatal(err)
	}
	base = append(base, extra...)
	out := make([]map[string]any, n)
	for i := range out {
		m := make(map[string]any, len(base[0]))
		for k, v := range base[i%len(base)] {
			m[k] = v
		}
		m["name"] = fmt.Sprintf("vm%05d.cluster%d.example.org", i, i%5)
		m["uuid"] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		m["nic.macs"] = []string{fmt.Sprintf("aa:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)}
		m["tags"] = []string{"ganetimgr:user:user" + fmt.Sprint(i%200), "ganetimgr:application:" + fmt.Sprint(i)}
		m["serial_no"] = i % 7
		out[i] = m
	}
	b, err := json.Marshal(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkDecodeInstancesBulk10k decodes a 10,000-instance bulk answer
// (about 9.7 MB). "client" is what InstancesBulk does; "plain" is a bare
// json.Unmarshal into []Instance, for a same-run ratio.
func BenchmarkDecodeInstancesBulk10k(b *testing.B) {
	data := bulkSample(b, 10000)
	b.Run("client", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			list, err := decodeInstances(data)
			if err != nil || len(list) != 10000 {
				b.Fatalf("decode: %d, %v", len(list), err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var list []Instance
			if err := json.Unmarshal(data, &list); err != nil || len(list) != 10000 {
				b.Fatalf("decode: %d, %v", len(list), err)
			}
		}
	})
}

func TestBulkSampleDecodes(t *testing.T) {
	data := bulkSample(t, 1000)
	list, err := decodeInstances(data)
	if err != nil || len(list) != 1000 || list[999].Name != "vm00999.cluster4.example.org" || len(list[999].Tags) != 2 {
		t.Fatalf("synth decode = %d, %v", len(list), err)
	}
}

func TestCountElements(t *testing.T) {
	for in, want := range map[string]int{
		`[]`: 0, ` [ ] `: 0, `[1]`: 1, `[1,2,3]`: 3, `[{"a":[1,2]},"x,y",[3,4]]`: 3, `["a\"],b", 2]`: 2,
		`{}`: 0, `null`: 0, ``: 0, `[`: 0, `[1,`: 1, `[{"a":"\\"}, 2]`: 2,
	} {
		if got := countElements([]byte(in), 100); got != want {
			t.Errorf("countElements(%s) = %d, want %d", in, got, want)
		}
	}
	if got := countElements([]byte(`[1,2,3,4]`), 2); got != 2 {
		t.Errorf("limit: %d", got)
	}
}
