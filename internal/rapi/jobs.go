package rapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// JobStatus is a job's (or an opcode's) status.
type JobStatus string

// Job statuses.
const (
	JobStatusQueued    JobStatus = "queued"
	JobStatusWaiting   JobStatus = "waiting"
	JobStatusCanceling JobStatus = "canceling"
	JobStatusRunning   JobStatus = "running"
	JobStatusCanceled  JobStatus = "canceled"
	JobStatusSuccess   JobStatus = "success"
	JobStatusError     JobStatus = "error"
)

// Finalized reports whether the status is final (success, error, canceled).
func (s JobStatus) Finalized() bool {
	return s == JobStatusSuccess || s == JobStatusError || s == JobStatusCanceled
}

// Op is one opcode of a job. ID is its OP_ID (e.g. "OP_INSTANCE_CREATE");
// InstanceName and NodeName are set for opcodes acting on one; Raw keeps the
// whole opcode.
type Op struct {
	ID           string
	InstanceName string
	NodeName     string
	GroupName    string
	Raw          json.RawMessage
}

// UnmarshalJSON keeps the opcode and extracts the common names.
func (o *Op) UnmarshalJSON(data []byte) error {
	*o = Op{}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil
	}
	var f struct {
		ID           string `json:"OP_ID"`
		InstanceName string `json:"instance_name"`
		NodeName     string `json:"node_name"`
		GroupName    string `json:"group_name"`
	}
	_ = lenientUnmarshal(data, &f)
	o.ID, o.InstanceName, o.NodeName, o.GroupName = f.ID, f.InstanceName, f.NodeName, f.GroupName
	o.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// LogEntry is one progress message of a job: oplog entries and the
// log_entries of a job wait. Message is the text for "message" entries; for
// other types (message-list, remote-import) it is the JSON of the payload.
type LogEntry struct {
	Serial  int64
	Time    Time
	Type    string
	Message string
}

// UnmarshalJSON decodes [serial, [sec, usec], type, message].
func (e *LogEntry) UnmarshalJSON(data []byte) error {
	*e = LogEntry{}
	var parts []json.RawMessage
	if lenientUnmarshal(data, &parts) != nil {
		return nil
	}
	if len(parts) > 0 {
		_ = lenientUnmarshal(parts[0], &e.Serial)
	}
	if len(parts) > 1 {
		_ = e.Time.UnmarshalJSON(parts[1])
	}
	if len(parts) > 2 {
		e.Type = rawScalar(parts[2])
	}
	if len(parts) > 3 {
		if m := bytes.TrimSpace(parts[3]); len(m) > 0 && m[0] == '"' {
			e.Message = rawScalar(m)
		} else if string(m) != "null" {
			e.Message = string(m)
		}
	}
	return nil
}

// Job is a Ganeti job as returned by /2/jobs/<id> (and, without OpLog and
// OpResult, by /2/jobs?bulk=1).
type Job struct {
	ID         JobID             `json:"id"`
	Status     JobStatus         `json:"status"`
	Summary    []string          `json:"summary"`
	Ops        []Op              `json:"ops"`
	OpStatus   []JobStatus       `json:"opstatus"`
	OpResult   []json.RawMessage `json:"opresult"`
	OpLog      [][]LogEntry      `json:"oplog"`
	ReceivedAt Time              `json:"received_ts"`
	StartedAt  Time              `json:"start_ts"`
	EndedAt    Time              `json:"end_ts"`
}

// Finalized reports whether the job has ended.
func (j *Job) Finalized() bool { return j.Status.Finalized() }

// Log returns all log entries of all opcodes, in order.
func (j *Job) Log() []LogEntry {
	var out []LogEntry
	for _, l := range j.OpLog {
		out = append(out, l...)
	}
	return out
}

// OpID returns the first opcode's OP_ID, or "".
func (j *Job) OpID() string {
	if len(j.Ops) == 0 {
		return ""
	}
	return j.Ops[0].ID
}

// Err returns nil for a job that has not failed, or a *JobError for a job
// that ended "error" or "canceled".
func (j *Job) Err() error {
	switch j.Status {
	case JobStatusError:
		return j.jobError()
	case JobStatusCanceled:
		return &JobError{JobID: j.ID, Status: JobStatusCanceled, OpIndex: -1}
	}
	return nil
}

// jobError extracts Ganeti's error from the failed opcode's result, which
// looks like ["OpPrereqError", ["message", "wrong_input"]].
func (j *Job) jobError() *JobError {
	je := &JobError{JobID: j.ID, Status: JobStatusError, OpIndex: -1}
	idx := -1
	for i, s := range j.OpStatus {
		if s == JobStatusError {
			idx = i
			break
		}
	}
	if idx < 0 || idx >= len(j.OpResult) {
		// Fall back to the first result that looks like an error.
		for i, r := range j.OpResult {
			if c, _, _, ok := parseOpError(r); ok && c != "" {
				idx = i
				break
			}
		}
	}
	if idx >= 0 {
		je.OpIndex = idx
		if idx < len(j.Ops) {
			je.OpID = j.Ops[idx].ID
		}
		if idx < len(j.OpResult) {
			je.Class, je.Message, je.Code, _ = parseOpError(j.OpResult[idx])
		}
	}
	if je.Message == "" && je.Class == "" {
		je.Message = "job failed without an error message"
	}
	return je
}

// parseOpError decodes an opcode error result. ok is false when raw is not
// of the [class, args] shape.
func parseOpError(raw json.RawMessage) (class, msg, code string, ok bool) {
	var pair []json.RawMessage
	if lenientUnmarshal(raw, &pair) != nil || len(pair) == 0 {
		return "", "", "", false
	}
	class = rawScalar(pair[0])
	if class == "" {
		return "", "", "", false
	}
	ok = true
	if len(pair) < 2 {
		return
	}
	args := bytes.TrimSpace(pair[1])
	if len(args) > 0 && args[0] == '[' {
		var list []json.RawMessage
		_ = lenientUnmarshal(args, &list)
		var parts []string
		for i, a := range list {
			s := rawScalar(a)
			if i == 1 && isECode(s) {
				code = s
				continue
			}
			if s == "" {
				s = strings.TrimSpace(string(a))
				if s == "null" {
					continue
				}
			}
			parts = append(parts, s)
		}
		msg = strings.Join(parts, "; ")
	} else {
		msg = rawScalar(args)
		if msg == "" && string(args) != "null" {
			msg = string(args)
		}
	}
	msg = cleanText(msg)
	return
}

// isECode reports whether s looks like a Ganeti error code
// (lowercase words joined by underscores).
func isECode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z') && r != '_' {
			return false
		}
	}
	return strings.Contains(s, "_")
}

// Jobs returns the ids of all jobs still in the queue (not archived).
func (c *Client) Jobs(ctx context.Context) ([]JobID, error) {
	var items []struct {
		ID JobID `json:"id"`
	}
	if err := c.request(ctx, http.MethodGet, "/2/jobs", nil, nil, &items); err != nil {
		return nil, err
	}
	ids := make([]JobID, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids, nil
}

// JobsBulk returns all jobs still in the queue with their status, summary,
// opcodes and timestamps (no log or results).
func (c *Client) JobsBulk(ctx context.Context) ([]Job, error) {
	var jobs []Job
	err := c.request(ctx, http.MethodGet, "/2/jobs", bulkQuery(), nil, &jobs)
	return jobs, err
}

// jobQueryFields are the fields JobsWithLog asks for: those of the bulk
// resource plus the log and the results, which /2/jobs?bulk=1 leaves out
// (and it ignores a fields parameter).
var jobQueryFields = []string{"id", "ops", "status", "summary", "opstatus", "opresult", "oplog",
	"received_ts", "start_ts", "end_ts"}

// JobsWithLog returns all jobs still in the queue like JobsBulk, with
// each opcode's log and result, in one call to the query resource
// (GET /2/query/job). A cell Ganeti could not fill leaves its field empty.
func (c *Client) JobsWithLog(ctx context.Context) ([]Job, error) {
	res, err := c.QueryGet(ctx, QueryJob, jobQueryFields)
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, 0, len(res.Data))
	for _, row := range res.Rows() {
		var j Job
		id, ok := row["id"].Int()
		if !ok {
			continue
		}
		j.ID = JobID(id)
		j.Status = JobStatus(row["status"].String())
		_ = row["ops"].Decode(&j.Ops)
		_ = row["summary"].Decode(&j.Summary)
		_ = row["opstatus"].Decode(&j.OpStatus)
		_ = row["opresult"].Decode(&j.OpResult)
		_ = row["oplog"].Decode(&j.OpLog)
		_ = row["received_ts"].Decode(&j.ReceivedAt)
		_ = row["start_ts"].Decode(&j.StartedAt)
		_ = row["end_ts"].Decode(&j.EndedAt)
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// Job returns one job with its log and results. An unknown or archived job
// is reported as not found (IsNotFound): Ganeti 3.0 answers 200 with every
// field null for those, older versions 404.
func (c *Client) Job(ctx context.Context, id JobID) (*Job, error) {
	path := "/2/jobs/" + id.String()
	raw, err := c.requestRaw(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	return decodeJob(path, raw)
}

// decodeJob decodes a /2/jobs/<id> answer.
func decodeJob(path string, raw []byte) (*Job, error) {
	var j Job
	if err := decodeJSON(raw, &j); err != nil {
		return nil, fmt.Errorf("rapi: GET %s: decode response: %w", path, err)
	}
	if j.Status == "" {
		return nil, &APIError{Method: http.MethodGet, Path: path, Code: http.StatusNotFound,
			Message: "job not found", Explain: "unknown or archived job (ganeti answered with empty fields)"}
	}
	return &j, nil
}

// CancelJob asks Ganeti to cancel a job that has not started. It returns
// Ganeti's verdict: whether the job was canceled, and its message (e.g.
// "Job 46 not found in queue" for a finished one).
func (c *Client) CancelJob(ctx context.Context, id JobID) (bool, string, error) {
	var res []json.RawMessage
	if err := c.request(ctx, http.MethodDelete, "/2/jobs/"+id.String(), nil, nil, &res); err != nil {
		return false, "", err
	}
	ok := len(res) > 0 && string(bytes.TrimSpace(res[0])) == "true"
	msg := ""
	if len(res) > 1 {
		msg = rawScalar(res[1])
	}
	return ok, msg, nil
}

// JobChange is the answer of a job wait: the values of the watched fields
// (in the order asked) and the log entries newer than the previous serial.
type JobChange struct {
	JobInfo    []json.RawMessage `json:"job_info"`
	LogEntries []LogEntry        `json:"log_entries"`
}

// Status returns the job status when "status" was the first watched field.
func (ch *JobChange) Status() JobStatus {
	if ch == nil || len(ch.JobInfo) == 0 {
		return ""
	}
	return JobStatus(rawScalar(ch.JobInfo[0]))
}

// WaitForJobChange long-polls /2/jobs/<id>/wait (a GET with a JSON body;
// needs a write user). It returns when one of the fields differs from
// prevInfo or a log entry newer than prevLogSerial exists, or after about
// 10 s with nil (no change). Pass nil and 0 on the first call.
func (c *Client) WaitForJobChange(ctx context.Context, id JobID, fields []string, prevInfo []json.RawMessage, prevLogSerial int64) (*JobChange, error) {
	if len(fields) == 0 {
		return nil, invalidArg("wait for job change: no fields")
	}
	body := map[string]any{
		"fields":              fields,
		"previous_job_info":   nil,
		"previous_log_serial": nil,
	}
	if prevInfo != nil {
		body["previous_job_info"] = prevInfo
	}
	if prevLogSerial > 0 {
		body["previous_log_serial"] = prevLogSerial
	}
	var ch *JobChange
	if err := c.request(ctx, http.MethodGet, "/2/jobs/"+id.String()+"/wait", nil, body, &ch); err != nil {
		return nil, err
	}
	return ch, nil
}

// WaitJob follows a job until it ends and returns it. A job that ended
// "error" or "canceled" is returned together with a *JobError. The caller's
// context bounds the whole wait.
func (c *Client) WaitJob(ctx context.Context, id JobID) (*Job, error) {
	return c.WaitJobProgress(ctx, id, nil)
}

// pollSchedule is the fallback polling interval sequence (as ganetimgr's
// watcher), used when the wait resource cannot be used.
var pollSchedule = []time.Duration{
	500 * time.Millisecond, time.Second, time.Second, 2 * time.Second,
	2 * time.Second, 2 * time.Second, 5 * time.Second,
}

// WaitJobProgress is WaitJob calling onLog (when not nil) with each new log
// entry as it appears, for progress display. It long-polls the job wait
// resource and falls back to polling /2/jobs/<id> when that is refused (a
// read-only user gets 403 there).
func (c *Client) WaitJobProgress(ctx context.Context, id JobID, onLog func(LogEntry)) (*Job, error) {
	var prev []json.RawMessage
	var serial int64
	emit := func(entries []LogEntry) {
		for _, e := range entries {
			if e.Serial <= serial {
				continue
			}
			serial = e.Serial
			if onLog != nil {
				onLog(e)
			}
		}
	}
	for {
		start := time.Now()
		ch, err := c.WaitForJobChange(ctx, id, []string{"status"}, prev, serial)
		if err != nil {
			switch statusOf(err) {
			case http.StatusForbidden, http.StatusNotImplemented, http.StatusMethodNotAllowed,
				http.StatusBadRequest, http.StatusInternalServerError:
				return c.pollJob(ctx, id, emit)
			}
			if errors.Is(err, ErrTimeout) && ctx.Err() == nil {
				// ResponseTimeout shorter than Ganeti's ~10 s long-poll.
				return c.pollJob(ctx, id, emit)
			}
			return nil, fmt.Errorf("rapi: wait for job %s: %w", id, err)
		}
		if ch != nil {
			emit(ch.LogEntries)
			prev = ch.JobInfo
		}
		st := ch.Status()
		if ch == nil || st == "" || st.Finalized() {
			// Confirm with the full job: it has the result and the error,
			// and reports unknown jobs as not found.
			job, err := c.Job(ctx, id)
			if err != nil {
				return nil, err
			}
			if job.Finalized() {
				emit(job.Log())
				return job, job.Err()
			}
		}
		// Guard against a server that answers at once without change.
		if time.Since(start) < 200*time.Millisecond {
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return nil, fmt.Errorf("rapi: wait for job %s: %w", id, err)
			}
		}
	}
}

// pollJob polls /2/jobs/<id> with a growing interval until the job ends.
func (c *Client) pollJob(ctx context.Context, id JobID, emit func([]LogEntry)) (*Job, error) {
	for i := 0; ; i++ {
		job, err := c.Job(ctx, id)
		if err != nil {
			return nil, err
		}
		emit(job.Log())
		if job.Finalized() {
			return job, job.Err()
		}
		d := pollSchedule[min(i, len(pollSchedule)-1)]
		if err := sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("rapi: wait for job %s: %w", id, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit sends a mutation and decodes the job id it returns.
func (c *Client) submit(ctx context.Context, method, path string, query map[string][]string, body any) (JobID, error) {
	raw, err := c.requestRaw(ctx, method, path, query, body)
	if err != nil {
		return 0, err
	}
	return decodeJobID(method, path, raw)
}

// decodeJobID decodes a submitted job's id (a JSON number, or a string on
// old Ganeti).
func decodeJobID(method, path string, raw []byte) (JobID, error) {
	var id JobID
	if err := json.Unmarshal(raw, &id); err != nil || id <= 0 {
		return 0, fmt.Errorf("rapi: %s %s: response is not a job id: %q", method, path, truncate(string(bytes.TrimSpace(raw)), 64))
	}
	return id, nil
}
