package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Bounds of a job's event stream.
const (
	// jobEventsPoll is how often the stream reads the job's row.
	jobEventsPoll = time.Second
	// jobEventsMax bounds one stream; the browser then reconnects (after
	// jobEventsRetry) and gets a new one, so a job of any length is
	// followed without holding a connection for ever.
	jobEventsMax = 90 * time.Second
	// jobEventsRetry is the reconnection delay the stream asks for.
	jobEventsRetry = 2 * time.Second
	// jobEventsKeepAlive is how often an idle stream sends a comment, so
	// proxies do not close it.
	jobEventsKeepAlive = 15 * time.Second
)

// instanceJobEvents streams the progress of a tracked job as server-sent
// events (text/event-stream), reading the job's row about once a second:
// a "progress" event carries the progress area's new content (HTML, as
// the page renders it) whenever the status or the log changes, and an
// "end" event, when the job has ended, carries its status and the page to
// show next ({"status": ..., "location": ...}); the stream then closes.
// It also ends after jobEventsMax or when the client goes away.
func (s *Server) instanceJobEvents(w http.ResponseWriter, r *http.Request) {
	j, ok := s.instanceJob(w, r)
	if !ok {
		return
	}
	s.streamJob(w, r, j, s.jobProgressOf)
}

// streamJob streams j's progress as instanceJobEvents describes, the
// progress area as progress builds it (the instance's or the
// application's page).
func (s *Server) streamJob(w http.ResponseWriter, r *http.Request, j *store.InstanceJob,
	progress func(*i18n.Localizer, *store.InstanceJob) *jobProgress) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(jobEventsMax + 10*time.Second))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", jobEventsRetry.Milliseconds()); err != nil {
		return
	}
	loc := s.localizerFrom(r)
	stop := time.NewTimer(jobEventsMax)
	defer stop.Stop()
	tick := time.NewTicker(jobEventsPoll)
	defer tick.Stop()
	sent, idle := "", time.Duration(0)
	for {
		if sig := jobSignature(j); sig != sent {
			jp := progress(loc, j)
			var body bytes.Buffer
			if err := s.pages["instance"].ExecuteTemplate(&body, "instance_job_body", jp); err != nil {
				s.log.Error("job progress event failed", "err", err, "request_id", requestIDFrom(r))
				return
			}
			if writeEvent(w, "progress", body.String()) != nil {
				return
			}
			sent, idle = sig, 0
			if j.Finished() {
				end, _ := json.Marshal(map[string]string{"status": j.Status, "location": jp.NextURL})
				_ = writeEvent(w, "end", string(end))
				_ = rc.Flush()
				return
			}
		} else if idle >= jobEventsKeepAlive {
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			idle = 0
		}
		if rc.Flush() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-stop.C:
			return
		case <-tick.C:
			idle += jobEventsPoll
		}
		next, err := s.store.InstanceJobByID(ctx, j.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Purged meanwhile: it ended long ago.
			end, _ := json.Marshal(map[string]string{"status": j.Status, "location": progress(loc, j).PageURL})
			_ = writeEvent(w, "end", string(end))
			return
		case err != nil:
			if ctx.Err() == nil {
				s.log.Warn("job progress stream failed", "err", err, "tracked", j.ID, "request_id", requestIDFrom(r))
			}
			return
		}
		j = next
	}
}

// jobSignature changes whenever what the progress area shows of j does.
func jobSignature(j *store.InstanceJob) string {
	last := int64(0)
	if n := len(j.Log); n > 0 {
		last = j.Log[n-1].Serial
	}
	return j.Status + "\x00" + strconv.FormatInt(j.JobID, 10) + "\x00" + strconv.Itoa(len(j.Log)) + "\x00" +
		strconv.FormatInt(last, 10) + "\x00" + j.Error + "\x00" + strconv.FormatBool(j.Finished())
}

// writeEvent writes one server-sent event; data may span lines.
func writeEvent(w io.Writer, event, data string) error {
	var b strings.Builder
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteByte('\n')
	for line := range strings.SplitSeq(strings.ReplaceAll(data, "\r", ""), "\n") {
		b.WriteString("data: ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}
