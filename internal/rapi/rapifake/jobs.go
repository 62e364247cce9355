package rapifake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxJobs bounds the job queue; older finished jobs are dropped beyond it
// (as Ganeti archives them).
const maxJobs = 20000

// opErr is a failed opcode: Ganeti's [error class, [message, error code]].
type opErr struct {
	class, msg, code string
}

func prereq(code, format string, args ...any) *opErr {
	return &opErr{class: "OpPrereqError", msg: fmt.Sprintf(format, args...), code: code}
}

func execErr(format string, args ...any) *opErr {
	return &opErr{class: "OpExecError", msg: fmt.Sprintf(format, args...)}
}

func (e *opErr) encode() any {
	if e.code == "" {
		return []any{e.class, []any{e.msg}}
	}
	return []any{e.class, []any{e.msg, e.code}}
}

// execCtx is passed to opcode implementations, which run with c.mu held
// for writing.
type execCtx struct {
	c   *Cluster
	j   *job
	dry bool
}

// log appends a "message" entry to the job's oplog for the current opcode.
func (x *execCtx) log(format string, args ...any) {
	x.j.logSerial++
	op := x.j.ops[x.j.cur]
	op.log = append(op.log, []any{x.j.logSerial, tsNow(), "message", fmt.Sprintf(format, args...)})
}

// dryRunOps reports whether rlib2 passes dry_run into the opcode (as seen
// in the recorded jobs).
func dryRunOps(opID string) bool {
	switch opID {
	case "OP_INSTANCE_CREATE", "OP_INSTANCE_MULTI_ALLOC", "OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_STARTUP",
		"OP_INSTANCE_REBOOT", "OP_INSTANCE_REMOVE", "OP_TAGS_SET", "OP_TAGS_DEL", "OP_NETWORK_ADD",
		"OP_NETWORK_CONNECT", "OP_NETWORK_DISCONNECT", "OP_NODE_SET_PARAMS":
		return true
	}
	return false
}

type jobOp struct {
	reasonPrefix []any
	def          map[string]any
	source       string
	summary      string
	exec         func(x *execCtx) (any, *opErr)
	status       string
	result       any
	log          [][]any
}

type job struct {
	id                   int
	status               string
	ops                  []*jobOp
	received, start, end []int64
	dry                  bool
	cur                  int
	logSerial            int
	changed              chan struct{}
}

func (j *job) finalized() bool {
	return j.status == "success" || j.status == "error" || j.status == "canceled"
}

func tsNow() []int64 {
	t := time.Now()
	return []int64{t.Unix(), int64(t.Nanosecond() / 1000)}
}

// newOp builds an opcode definition with the common fields real jobs
// carry. params are the opcode-specific fields.
func newOp(opID, source, summaryName string, params map[string]any, exec func(*execCtx) (any, *opErr)) *jobOp {
	// Like rlib2, only some resources pass dry_run into the opcode;
	// debug_level and the instance uuid are filled in when the job runs.
	def := map[string]any{"priority": 0, "depends": nil, "comment": nil, "OP_ID": opID}
	if source != "" && dryRunOps(opID) {
		def["dry_run"] = false
	}
	for k, v := range params {
		def[k] = v
	}
	s := strings.TrimPrefix(opID, "OP_")
	if summaryName != "" {
		s += "(" + summaryName + ")"
	}
	return &jobOp{def: def, source: source, summary: s, exec: exec, status: "queued"}
}

// submit queues a job made of ops and returns its id. It takes c.mu.
func (c *Cluster) submit(q *request, ops ...*jobOp) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.submitLocked(q, ops...)
}

// submitLocked queues a job; callers hold c.mu for writing.
func (c *Cluster) submitLocked(q *request, ops ...*jobOp) int {
	id := c.nextJob
	c.nextJob++
	j := &job{id: id, status: "queued", ops: ops, received: tsNow(), changed: make(chan struct{})}
	ns := time.Now().UnixNano()
	for i, op := range ops {
		reason := slices.Clone(op.reasonPrefix)
		if q != nil {
			if t := q.query.Get("reason"); t != "" {
				reason = append(reason, []any{"gnt:user", t, ns})
			}
			if q.flag("dry-run") {
				j.dry = true
				op.def["dry_run"] = true
			}
		}
		if op.source != "" {
			reason = append(reason, []any{"gnt:library:rlib2:" + op.source, "", ns})
		}
		lower := strings.ToLower(strings.TrimPrefix(op.def["OP_ID"].(string), "OP_"))
		reason = append(reason, []any{"gnt:opcode:" + lower, fmt.Sprintf("job=%d;index=%d", id, i), ns})
		op.def["reason"] = reason
	}
	c.jobs = append(c.jobs, j)
	c.jobByID[id] = j
	c.trimJobs()
	delay := c.jobDelay
	if delay <= 0 {
		c.startJob(j)
		c.finishJob(j)
		return id
	}
	go c.runJob(j, delay)
	return id
}

func (c *Cluster) trimJobs() {
	if len(c.jobs) <= maxJobs {
		return
	}
	keep := c.jobs[:0]
	drop := len(c.jobs) - maxJobs
	for _, j := range c.jobs {
		if drop > 0 && j.finalized() {
			delete(c.jobByID, j.id)
			drop--
			continue
		}
		keep = append(keep, j)
	}
	c.jobs = keep
}

func (c *Cluster) runJob(j *job, delay time.Duration) {
	sleep := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-c.ctx.Done():
			return false
		}
	}
	if !sleep(delay / 3) {
		return
	}
	c.mu.Lock()
	if j.status != "queued" {
		c.mu.Unlock()
		return
	}
	c.startJob(j)
	c.mu.Unlock()
	if !sleep(delay - delay/3) {
		return
	}
	c.mu.Lock()
	c.finishJob(j)
	c.mu.Unlock()
}

func (c *Cluster) notify(j *job) {
	close(j.changed)
	j.changed = make(chan struct{})
}

// startJob moves a queued job to running. Callers hold c.mu.
func (c *Cluster) startJob(j *job) {
	j.status = "running"
	j.start = tsNow()
	j.ops[0].status = "running"
	c.notify(j)
}

// finishJob runs the job's opcodes against the model. Callers hold c.mu.
func (c *Cluster) finishJob(j *job) {
	x := &execCtx{c: c, j: j, dry: j.dry}
	failed := false
	for i, op := range j.ops {
		j.cur = i
		if _, ok := op.def["debug_level"]; !ok {
			op.def["debug_level"] = 0
		}
		if failed {
			op.status = "error"
			op.result = execErr("Preceding opcode failed").encode()
			continue
		}
		res, err := op.exec(x)
		if err != nil {
			failed = true
			op.status = "error"
			op.result = err.encode()
			continue
		}
		op.status = "success"
		op.result = res
	}
	j.status = "success"
	if failed {
		j.status = "error"
	}
	j.end = tsNow()
	c.notify(j)
}

type jobJSON struct {
	ID         int              `json:"id"`
	Ops        []map[string]any `json:"ops"`
	Status     string           `json:"status"`
	Summary    []string         `json:"summary"`
	OpStatus   []string         `json:"opstatus"`
	ReceivedTS []int64          `json:"received_ts"`
	StartTS    []int64          `json:"start_ts"`
	EndTS      []int64          `json:"end_ts"`
}

type jobFullJSON struct {
	jobJSON
	OpLog    [][][]any `json:"oplog"`
	OpResult []any     `json:"opresult"`
}

func (j *job) brief() jobJSON {
	out := jobJSON{ID: j.id, Status: j.status, ReceivedTS: j.received, StartTS: j.start, EndTS: j.end}
	for _, op := range j.ops {
		out.Ops = append(out.Ops, op.def)
		out.Summary = append(out.Summary, op.summary)
		out.OpStatus = append(out.OpStatus, op.status)
	}
	return out
}

func (j *job) full() jobFullJSON {
	out := jobFullJSON{jobJSON: j.brief()}
	for _, op := range j.ops {
		out.OpLog = append(out.OpLog, nonNil(op.log))
		out.OpResult = append(out.OpResult, op.result)
	}
	return out
}

// field returns one job field as used by the wait resource.
func (j *job) field(name string) any {
	f := j.full()
	switch name {
	case "id":
		return j.id
	case "status":
		return j.status
	case "ops":
		return f.Ops
	case "opstatus":
		return f.OpStatus
	case "opresult":
		return f.OpResult
	case "oplog":
		return f.OpLog
	case "summary":
		return f.Summary
	case "received_ts":
		return j.received
	case "start_ts":
		return j.start
	case "end_ts":
		return j.end
	}
	return nil
}

func (c *Cluster) getJobs(q *request) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if q.flag("bulk") {
		out := make([]jobJSON, 0, len(c.jobs))
		for _, j := range c.jobs {
			out = append(out, j.brief())
		}
		return marshal(out), nil
	}
	out := make([]idURI, 0, len(c.jobs))
	for _, j := range c.jobs {
		out = append(out, idURI{ID: j.id, URI: fmt.Sprintf("/2/jobs/%d", j.id)})
	}
	return marshal(out), nil
}

func (c *Cluster) getJob(id int) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	j := c.jobByID[id]
	if j == nil {
		m := map[string]any{"id": id}
		for _, k := range []string{"ops", "status", "summary", "opstatus", "received_ts", "start_ts", "end_ts", "oplog", "opresult"} {
			m[k] = nil
		}
		return marshal(m), nil
	}
	return marshal(j.full()), nil
}

func (c *Cluster) deleteJob(id int) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	j := c.jobByID[id]
	switch {
	case j == nil || j.finalized():
		return marshal([]any{false, fmt.Sprintf("Job %d not found in queue", id)}), nil
	case j.status != "queued":
		return marshal([]any{false, fmt.Sprintf("Job %d is no longer waiting in the queue", id)}), nil
	}
	j.status = "canceled"
	for _, op := range j.ops {
		op.status = "canceled"
	}
	j.end = tsNow()
	c.notify(j)
	return marshal([]any{true, fmt.Sprintf("Job %d canceled", id)}), nil
}

// JobStatus returns the status of a job ("" when unknown).
func (c *Cluster) JobStatus(id int) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if j := c.jobByID[id]; j != nil {
		return j.status
	}
	return ""
}

// WaitJobs blocks until every job in the queue is finalized or timeout
// elapses, and reports whether they all finished.
func (c *Cluster) WaitJobs(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		c.mu.RLock()
		done := true
		for _, j := range c.jobs {
			if !j.finalized() {
				done = false
				break
			}
		}
		c.mu.RUnlock()
		if done {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *Cluster) waitJob(q *request, id int) ([]byte, error) {
	var body struct {
		Fields            []string        `json:"fields"`
		PreviousJobInfo   json.RawMessage `json:"previous_job_info"`
		PreviousLogSerial *int            `json:"previous_log_serial"`
	}
	if err := json.Unmarshal(q.body, &body); err != nil {
		return nil, errorf(400, "The body must be a JSON object with 'fields'")
	}
	if body.Fields == nil {
		return nil, errorf(400, "The 'fields' parameter should be a list")
	}
	prev := normalizeJSON(body.PreviousJobInfo)
	minSerial := -1
	if body.PreviousLogSerial != nil {
		minSerial = *body.PreviousLogSerial
	}
	timer := time.NewTimer(c.opts.WaitTimeout)
	defer timer.Stop()
	for {
		c.mu.RLock()
		j := c.jobByID[id]
		if j == nil {
			c.mu.RUnlock()
			return nil, notFound()
		}
		info := make([]any, 0, len(body.Fields))
		for _, f := range body.Fields {
			info = append(info, j.field(f))
		}
		entries := []any{}
		for _, op := range j.ops {
			for _, e := range op.log {
				if s, _ := e[0].(int); s > minSerial {
					entries = append(entries, e)
				}
			}
		}
		cur := marshal(info)
		fin := j.finalized()
		ch := j.changed
		c.mu.RUnlock()
		if fin || len(entries) > 0 || !bytes.Equal(cur, prev) {
			return marshal(map[string]any{"job_info": json.RawMessage(cur), "log_entries": entries}), nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return []byte("null"), nil
		case <-q.r.Context().Done():
			return []byte("null"), nil
		case <-c.ctx.Done():
			return []byte("null"), nil
		}
	}
}

// normalizeJSON re-encodes a JSON value with this package's encoder so it
// can be compared byte-wise with a freshly encoded value.
func normalizeJSON(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return []byte("null")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []byte("null")
	}
	return marshal(v)
}

// instOp looks up an instance for an opcode. Callers hold c.mu.
func (x *execCtx) inst(name string) (*instance, *opErr) {
	in := x.c.insts[name]
	if in == nil {
		return nil, prereq("unknown_entity", "Instance '%s' not known", name)
	}
	x.j.ops[x.j.cur].def["instance_uuid"] = in.uuid
	return in, nil
}

func jobID(id int) []byte { return marshal(id) }

// decodeBody decodes an optional JSON object body.
func decodeBody(q *request) (map[string]any, error) {
	m := map[string]any{}
	if len(bytes.TrimSpace(q.body)) == 0 {
		return m, nil
	}
	dec := json.NewDecoder(bytes.NewReader(q.body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(400, "Unable to parse JSON data")
	}
	if v == nil {
		return m, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(400, "Invalid body contents, not a dictionary")
	}
	return obj, nil
}

func invalidParam(opID, name string) error {
	return errorf(400, "Invalid body parameters: (\"Parameter '%s.%s' fails validation\", 'wrong_input')", opID, name)
}

// intParam reads an integer body parameter (JSON number or numeric
// string); ok is false when absent.
func intParam(m map[string]any, key string) (int, bool, bool) {
	v, present := m[key]
	if !present || v == nil {
		return 0, false, true
	}
	switch t := v.(type) {
	case json.Number:
		i, err := t.Int64()
		if err != nil {
			f, ferr := t.Float64()
			if ferr != nil || f != float64(int64(f)) {
				return 0, true, false
			}
			return int(f), true, true
		}
		return int(i), true, true
	case float64:
		return int(t), true, true
	}
	return 0, true, false
}

func boolParam(m map[string]any, key string, def bool) bool {
	if b, ok := m[key].(bool); ok {
		return b
	}
	return def
}

func strParam(m map[string]any, key string) (string, bool) {
	s, ok := m[key].(string)
	return s, ok
}

// jsonValue converts decoded json.Number values into int or float64 so
// opcode definitions encode like Ganeti's.
func jsonValue(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = jsonValue(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = jsonValue(e)
		}
		return out
	}
	return v
}

func stringList(v any) ([]string, bool) {
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func containsAll(have []string, want []string) []string {
	var missing []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			missing = append(missing, w)
		}
	}
	return missing
}
