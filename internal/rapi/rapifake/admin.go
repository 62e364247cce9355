package rapifake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AdminHandler returns a small plain-HTTP control API over several
// clusters, for the standalone command (bind it to localhost only; it
// has no authentication). Clusters are addressed by index with
// ?cluster=N; without it, a change applies to all clusters.
//
//	GET  /clusters                 name, url, fingerprint, counters per cluster
//	POST /faults?latency=100ms&hang=1&status=503&malformed=1&reset=1&path=/2/instances
//	                               replace the faults (omitted = off)
//	DELETE /faults                 clear all faults
//	POST /rotate-cert              serve a new self-signed certificate
//	GET  /counts                   per-path request counters
//	POST /counts/reset             zero the counters
//	POST /job-delay?delay=1s       change the job duration
func AdminHandler(clusters []*Cluster) http.Handler {
	mux := http.NewServeMux()
	pick := func(w http.ResponseWriter, r *http.Request) ([]*Cluster, bool) {
		s := r.URL.Query().Get("cluster")
		if s == "" {
			return clusters, true
		}
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(clusters) {
			http.Error(w, "unknown cluster index", http.StatusNotFound)
			return nil, false
		}
		return clusters[i : i+1], true
	}
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(marshal(v), '\n'))
	}
	mux.HandleFunc("GET /clusters", func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]any{}
		for i, c := range clusters {
			f := c.Faults()
			out = append(out, map[string]any{
				"index": i, "name": c.Name(), "url": c.URL(), "fingerprint": c.Fingerprint(),
				"instances": c.InstanceCount(), "jobs": c.JobCount(), "requests": c.RequestCount(),
				"faults": map[string]any{"latency": f.Latency.String(), "hang": f.Hang, "status": f.Status,
					"malformed": f.MalformedJSON, "reset": f.Reset, "path": f.PathPrefix},
			})
		}
		reply(w, out)
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		cs, ok := pick(w, r)
		if !ok {
			return
		}
		q := r.URL.Query()
		var f Faults
		if s := q.Get("latency"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				http.Error(w, "invalid latency", http.StatusBadRequest)
				return
			}
			f.Latency = d
		}
		if s := q.Get("status"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 400 || n > 599 {
				http.Error(w, "invalid status", http.StatusBadRequest)
				return
			}
			f.Status = n
		}
		on := func(k string) bool { v := q.Get(k); return v == "1" || strings.EqualFold(v, "true") }
		f.Hang, f.MalformedJSON, f.Reset = on("hang"), on("malformed"), on("reset")
		f.PathPrefix = q.Get("path")
		for _, c := range cs {
			c.SetFaults(f)
		}
		reply(w, "ok")
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		cs, ok := pick(w, r)
		if !ok {
			return
		}
		for _, c := range cs {
			c.ClearFaults()
		}
		reply(w, "ok")
	})
	mux.HandleFunc("POST /rotate-cert", func(w http.ResponseWriter, r *http.Request) {
		cs, ok := pick(w, r)
		if !ok {
			return
		}
		out := map[string]string{}
		for _, c := range cs {
			fp, err := c.RotateCertificate()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			out[c.Name()] = fp
		}
		reply(w, out)
	})
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, r *http.Request) {
		cs, ok := pick(w, r)
		if !ok {
			return
		}
		out := map[string]any{}
		for _, c := range cs {
			out[c.Name()] = map[string]any{"total": c.RequestCount(), "paths": c.PathCounts()}
		}
		reply(w, out)
	})
	mux.HandleFunc("POST /counts/reset", func(w http.ResponseWriter, r *http.Request) {
		cs, ok := pick(w, r)
		if !ok {
			return
		}
		for _, c := range cs {
			c.ResetCounts()
		}
		reply(w, "ok")
	})
	mux.HandleFunc("POST /job-delay", func(w http.ResponseWriter, r *http.Request) {
		cs, ok := pick(w, r)
		if !ok {
			return
		}
		d, err := time.ParseDuration(r.URL.Query().Get("delay"))
		if err != nil {
			http.Error(w, "invalid delay", http.StatusBadRequest)
			return
		}
		for _, c := range cs {
			c.SetJobDelay(d)
		}
		reply(w, "ok")
	})
	return mux
}
