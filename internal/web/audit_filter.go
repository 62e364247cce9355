package web

import (
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// auditFilter is the history page's filter form as the reader typed it
// (GET parameters user, instance, cluster, action, outcome, from, to).
type auditFilter struct {
	User     string
	Instance string
	Cluster  string
	Action   string
	Outcome  string
	From     string
	To       string
}

// auditDate is the form of the from and to dates (days in UTC, as the page
// shows times).
const auditDate = "2006-01-02"

// maxAuditField bounds the text fields of the filter.
const maxAuditField = 255

var (
	auditUsernameRE = regexp.MustCompile(`^[A-Za-z0-9_.@+-]{1,150}$`)
	auditSlugRE     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$`)
)

// parseAuditFilter reads the filter and the page position from the query
// string into a store query. all is whether the reader sees everyone's
// entries: only then is the user filter read (others see their own).
// Instances are matched by their exact name (lowercased, as Ganeti names
// them), users by their exact name in any case. A bad value gives the
// message to answer 400 with.
func parseAuditFilter(v url.Values, all bool) (auditFilter, store.AuditQuery, i18n.Msg) {
	f := auditFilter{
		Instance: strings.ToLower(strings.TrimSpace(v.Get("instance"))),
		Cluster:  strings.TrimSpace(v.Get("cluster")),
		Action:   v.Get("action"),
		Outcome:  v.Get("outcome"),
		From:     strings.TrimSpace(v.Get("from")),
		To:       strings.TrimSpace(v.Get("to")),
	}
	q := store.AuditQuery{All: all}
	if all {
		f.User = strings.TrimSpace(v.Get("user"))
		if f.User != "" && !auditUsernameRE.MatchString(f.User) {
			return f, q, i18n.M("audit.bad.user")
		}
		q.Username = f.User
	}
	if len(f.Instance) > maxAuditField || strings.ContainsFunc(f.Instance, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}) {
		return f, q, i18n.M("audit.bad.instance")
	}
	q.Instance = f.Instance
	if f.Cluster != "" && !auditSlugRE.MatchString(f.Cluster) {
		return f, q, i18n.M("audit.bad.cluster")
	}
	q.ClusterSlug = f.Cluster
	if f.Action != "" && !audit.Action(f.Action).Valid() {
		return f, q, i18n.M("audit.bad.action")
	}
	q.Action = f.Action
	if f.Outcome != "" && !audit.Outcome(f.Outcome).Valid() {
		return f, q, i18n.M("audit.bad.outcome")
	}
	q.Outcome = f.Outcome
	if f.From != "" {
		d, err := time.Parse(auditDate, f.From)
		if err != nil {
			return f, q, i18n.M("audit.bad.date")
		}
		q.From = d
	}
	if f.To != "" {
		d, err := time.Parse(auditDate, f.To)
		if err != nil {
			return f, q, i18n.M("audit.bad.date")
		}
		q.To = d.AddDate(0, 0, 1) // the whole day
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return f, q, i18n.M("audit.bad.range")
	}
	before, after := v.Get("before"), v.Get("after")
	if before != "" && after != "" {
		return f, q, i18n.M("audit.bad.page")
	}
	for _, c := range []struct {
		s   string
		dst **store.AuditCursor
	}{{before, &q.Before}, {after, &q.After}} {
		if c.s == "" {
			continue
		}
		cur, err := store.ParseAuditCursor(c.s)
		if err != nil {
			return f, q, i18n.M("audit.bad.page")
		}
		*c.dst = &cur
	}
	return f, q, i18n.Msg{}
}

// query is the filter as URL parameters (empty ones left out), for the
// pagination links.
func (f auditFilter) query() url.Values {
	v := url.Values{}
	for _, p := range []struct{ k, v string }{{"user", f.User}, {"instance", f.Instance}, {"cluster", f.Cluster},
		{"action", f.Action}, {"outcome", f.Outcome}, {"from", f.From}, {"to", f.To}} {
		if p.v != "" {
			v.Set(p.k, p.v)
		}
	}
	return v
}

// Active reports whether any filter is set.
func (f auditFilter) Active() bool { return len(f.query()) > 0 }
