package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// target is what one wrk run requests: one URL with one cookie, or (with
// paths) a rotation over paths and cookies, each request optionally made
// unique by a counter parameter (so that none is a page-cache hit).
type target struct {
	url     string
	paths   []string
	cookies []string
	base    string
	unique  bool
}

// sample is one wrk run's figures.
type sample struct {
	rps      float64
	p50, p99 time.Duration
}

// wrk runs wrk.
type wrk struct {
	ctx   context.Context // ends the run early (wrk is killed)
	dur   time.Duration
	conns int
	dir   string
}

var (
	reRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	rePct     = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s)\s*$`)
	reNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reSockErr = regexp.MustCompile(`Socket errors: (.*)`)
)

// warmUpTime is how long a scenario's load runs, unmeasured, before its
// measured runs.
const warmUpTime = 2 * time.Second

// warmUp runs t's load for warmUpTime and discards the figures.
func (w wrk) warmUp(t target) error {
	w.dur = warmUpTime
	_, err := w.run(t)
	return err
}

func (w wrk) run(t target) (sample, error) {
	args := []string{"-t2", "-c" + strconv.Itoa(w.conns), "-d" + w.dur.String(), "--latency"}
	u := t.url
	if t.paths != nil {
		script, err := w.script(t)
		if err != nil {
			return sample{}, err
		}
		args = append(args, "-s", script)
		u = t.base + "/"
	} else if len(t.cookies) == 1 {
		args = append(args, "-H", "Cookie: "+t.cookies[0])
	}
	out, err := exec.CommandContext(w.ctx, "wrk", append(args, u)...).CombinedOutput()
	if err != nil {
		return sample{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	text := string(out)
	if m := reNon2xx.FindStringSubmatch(text); m != nil {
		return sample{}, fmt.Errorf("wrk: %s non-2xx responses:\n%s", m[1], text)
	}
	if m := reSockErr.FindStringSubmatch(text); m != nil {
		return sample{}, fmt.Errorf("wrk: socket errors %s", m[1])
	}
	var s sample
	m := reRPS.FindStringSubmatch(text)
	if m == nil {
		return sample{}, fmt.Errorf("wrk: no Requests/sec in:\n%s", text)
	}
	s.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range rePct.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		d := time.Duration(v * float64(map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]))
		if m[1] == "50" {
			s.p50 = d
		} else {
			s.p99 = d
		}
	}
	return s, nil
}

// script writes the Lua script rotating paths and cookies.
func (w wrk) script(t target) (string, error) {
	var b strings.Builder
	b.WriteString("local paths = {")
	for _, p := range t.paths {
		b.WriteString(strconv.Quote(p) + ",")
	}
	b.WriteString("}\nlocal cookies = {")
	for _, c := range t.cookies {
		b.WriteString(strconv.Quote(c) + ",")
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "local unique = %v\n", t.unique)
	b.WriteString(`local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local i = 0
function request()
  i = i + 1
  local p = paths[(i % #paths) + 1]
  local c = cookies[(math.floor(i / #paths) % #cookies) + 1]
  if unique then
    local sep = "?"
    if string.find(p, "?", 1, true) then sep = "&" end
    p = p .. sep .. "n=" .. tostring(tid) .. "-" .. tostring(i)
  end
  return wrk.format("GET", p, {["Cookie"] = c})
end
`)
	f := filepath.Join(w.dir, fmt.Sprintf("rotate-%d.lua", time.Now().UnixNano()))
	return f, os.WriteFile(f, []byte(b.String()), 0o600)
}

// median returns the run with the median throughput, with the median p50
// and p99 of all runs.
func median(ss []sample) sample {
	pick := func(f func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return sample{rps: pick(func(s sample) float64 { return s.rps }),
		p50: time.Duration(pick(func(s sample) float64 { return float64(s.p50) })),
		p99: time.Duration(pick(func(s sample) float64 { return float64(s.p99) }))}
}

// result is one table line.
type result struct {
	name        string
	s, static   sample
	hasRatio    bool
	info        bool // a ratio shown for comparison, with no target
	ratioTarget float64
	p99Target   time.Duration
}

func (r result) print() {
	ratio, tgt, res := "", "", ""
	if r.hasRatio {
		q := r.s.rps / r.static.rps
		ratio = fmt.Sprintf("%.2f", q)
		if !r.info {
			tgt = fmt.Sprintf("≥%.2f, p99≤%s", r.ratioTarget, ms(r.p99Target))
			res = pass(q >= r.ratioTarget && r.s.p99 <= r.p99Target)
		}
	} else if r.p99Target > 0 {
		tgt = "p99≤" + ms(r.p99Target)
		res = pass(r.s.p99 <= r.p99Target)
	}
	fmt.Printf("%-44s %9.0f %9s %9s %8s %16s %s\n", r.name, r.s.rps, ms(r.s.p50), ms(r.s.p99), ratio, tgt, res)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
