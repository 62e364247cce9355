package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// Page is what every template receives. Per-request things (the translator,
// the user) are fields here rather than template functions, so the shared
// templates are never modified per request.
type Page struct {
	L         *i18n.Localizer
	Languages []i18n.Language
	User      *auth.Principal
	Role      auth.Role
	Flashes   []FlashView
	Path      string // current request URI, for the language switcher's return
	Base      string // base URL path ("" at the root)
	Version   string
	Status    int
	Data      any
	// Stale names the clusters whose data is stale or whose last sync
	// failed (logged-in pages only; see sync_banner.go).
	Stale []StaleCluster
	// PendingApplications is the number of applications awaiting review,
	// shown in the navigation of those who list applications.
	PendingApplications int
}

// Roles for templates.
const (
	RoleUser     = auth.RoleUser
	RoleHelpdesk = auth.RoleHelpdesk
	RoleAdmin    = auth.RoleAdmin
)

// IsHelpdesk reports whether the user sees the helpdesk navigation.
func (p *Page) IsHelpdesk() bool { return p.User != nil && p.Role >= auth.RoleHelpdesk }

// IsAdmin reports whether the user sees the administrator navigation.
func (p *Page) IsAdmin() bool { return p.User != nil && p.Role == auth.RoleAdmin }

// loadTemplates parses layout.html and the shared pieces under partials/
// with each page under pages/. A missing or broken template stops the
// program at start.
func (s *Server) loadTemplates() (map[string]*template.Template, error) {
	fsys := ganetimgr.Templates()
	funcs := template.FuncMap{
		"asset": s.assets.url,
		"url":   s.path,
		// statusLabel names an application status (application_*.go).
		"statusLabel": statusLabel,
		"appPath":     applicationPathOf,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "layout.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	names, err := fs.Glob(fsys, "pages/*.html")
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("web: templates: no pages found")
	}
	pages := make(map[string]*template.Template, len(names))
	for _, n := range names {
		t, err := template.Must(layout.Clone()).ParseFS(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	for _, required := range []string{"login", "dashboard", "error", "admin_home",
		"clusters", "cluster_form", "cluster_confirm", "cluster_show", "cluster_delete",
		"networks", "network_form", "network_delete", "instances",
		"account_notice", "account_register", "account_verify", "account_reset_request", "account_reset",
		"account_profile", "account_password", "account_email", "account_email_confirm", "account_keys",
		"admin_users", "admin_user", "admin_user_delete", "admin_groups", "admin_group_new", "admin_group",
		"admin_group_delete", "admin_orgs", "admin_org_form", "admin_org_delete",
		"application_new", "application_list", "application_show",
		"admin_application_fast", "admin_os_images", "admin_os_images_cluster", "admin_os_image_form", "admin_os_image_delete",
		"instance_confirm_action", "instance_confirm"} {
		if pages[required] == nil {
			return nil, fmt.Errorf("web: templates: page %q missing", required)
		}
	}
	return pages, nil
}

// render writes a page through a buffer, so a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	buf, err := s.renderPage(s.page(w, r, status, data), name)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", fmt.Sprint(buf.Len()))
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// renderPage executes page name with the layout into a buffer.
func (s *Server) renderPage(p *Page, name string) (*bytes.Buffer, error) {
	t, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return &buf, nil
}

func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, data any) *Page {
	p := &Page{
		L:         s.localizerFrom(r),
		Languages: i18n.Languages(),
		User:      principalFrom(r),
		Path:      r.URL.RequestURI(),
		Base:      s.path(""),
		Version:   s.version,
		Status:    status,
		Data:      data,
	}
	if p.User != nil {
		p.Role = p.User.Role()
		p.Stale = s.staleClusters(r)
		p.PendingApplications = s.pendingApplications(r)
	}
	if hasSession(r) {
		p.Flashes = s.popFlashes(r.Context())
	}
	return p
}

// path joins a site path to the base URL's path prefix.
func (s *Server) path(p string) string {
	if s.cfg.BaseURL == nil {
		return p
	}
	return s.cfg.BaseURL.Path + p
}

func urlQueryEscape(v string) string { return url.QueryEscape(v) }

// safeNext returns target when it is a path on this site, else fallback.
// It refuses absolute and scheme-relative URLs ("//evil", "/\evil").
func (s *Server) safeNext(target, fallback string) string {
	if target == "" || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") ||
		strings.HasPrefix(target, "/\\") || strings.ContainsAny(target, "\r\n\t") {
		return fallback
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	base := s.path("/")
	if !strings.HasPrefix(u.Path, base) {
		return fallback
	}
	return target
}
