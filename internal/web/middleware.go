package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// maxBody bounds every request body; forms here are small.
const maxBody = 1 << 20

// requestState is what the middleware learns about a request: its id, and
// (in the "dynamic" chain) whether a session is loaded, who is logged in
// and the language. requestContext puts it in the request's context once;
// the middleware after it fill it in place instead of each copying the
// request to add one more context value. Its fields are written only by
// the middleware, before the handler runs.
type requestState struct {
	id      string
	session bool            // a session is loaded (authenticate ran)
	entry   *principalEntry // the logged-in user; nil when anonymous
	loc     *i18n.Localizer // the language (localize, or an error page)
}

type requestStateKey struct{}

// stateFrom returns the request's state, nil outside the route table.
func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(requestStateKey{}).(*requestState)
	return st
}

// withState returns the request's state, adding an empty one to the
// request when it has none (a handler used outside the route table).
func withState(r *http.Request) (*requestState, *http.Request) {
	if st := stateFrom(r.Context()); st != nil {
		return st, r
	}
	st := &requestState{}
	return st, r.WithContext(context.WithValue(r.Context(), requestStateKey{}, st))
}

// requestContext starts every request. It gives the request an id (sent
// as X-Request-Id and logged with everything the request logs) and works
// out the client address: the connection's peer or, when the peer is a
// trusted proxy, the right-most untrusted address of X-Forwarded-For
// (ClientAddr). The address is kept as audit.WithAddr does, so that the
// packages below the web layer record it in the audit log with every
// change a request makes (clientAddrFrom reads it back). Both go into the
// request's context with its requestState in one copy of the request.
func (s *Server) requestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		st := &requestState{id: hex.EncodeToString(b[:])}
		w.Header()["X-Request-Id"] = []string{st.id}
		addr := ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.trusted)
		ctx := audit.WithAddr(context.WithValue(r.Context(), requestStateKey{}, st), addr)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func requestIDFrom(r *http.Request) string {
	if st := stateFrom(r.Context()); st != nil {
		return st.id
	}
	return ""
}

// ClientAddr works out the client address from the connection's remote
// address and the X-Forwarded-For headers, believing the header only as far
// as the hops are trusted proxies.
func ClientAddr(remote string, xff []string, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer
	}
	var hops []string
	for _, h := range xff {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a
		}
		peer = a
	}
	return peer
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddrFrom is the client address clientAddr worked out.
func clientAddrFrom(r *http.Request) netip.Addr { return audit.AddrFrom(r.Context()) }

// statusWriter remembers the status code and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logPath returns the request's path as logs show it: on the routes of
// mailed links (tokenRoutePrefixes) everything after the prefix, the secret
// token, is replaced by "REDACTED", so a log reader cannot use the link.
func logPath(r *http.Request) string {
	p := r.URL.Path
	for _, prefix := range tokenRoutePrefixes() {
		if i := strings.Index(p, prefix); i >= 0 && len(p) > i+len(prefix) {
			return p[:i+len(prefix)] + "REDACTED"
		}
	}
	return p
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

// observe writes one structured log line per request and records the
// request in the metrics, labelled by route pattern (never by raw path, so
// the number of series stays bounded). Only the path is logged, never the
// query string (it may carry tokens), and the token of a mailed link is
// cut out of the path (logPath).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		end := time.Now()
		elapsed := end.Sub(start)
		route := routePattern(r)
		s.metrics.observe(route, r.Method, sw.status, elapsed)
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || strings.HasPrefix(r.URL.Path, "/static/") {
			level = slog.LevelDebug
		}
		ctx := r.Context()
		if !s.log.Enabled(ctx, level) {
			return
		}
		// The record is handed to the handler directly: Logger.LogAttrs
		// would also walk the stack for a source line nobody reads here.
		rec := slog.NewRecord(end, level, "request", 0)
		rec.AddAttrs(slog.String("request_id", requestIDFrom(r)),
			slog.String("method", r.Method), slog.String("path", logPath(r)), slog.String("route", route),
			slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000), slog.String("client", clientAddrFrom(r).String()))
		_ = s.log.Handler().Handle(ctx, rec)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.serverError(w, r, fmt.Errorf("web: panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows scripts, styles and images only from the
// site itself: no inline script, no framing, forms post only here.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	// Made once and shared by every response: the names are already in
	// canonical form and each slice is full (len == cap), so a handler's
	// Set replaces it and an Add copies it, never changing it here.
	fixed := []fixedHeader{
		{"Content-Security-Policy", []string{contentSecurityPolicy}},
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"Referrer-Policy", []string{"same-origin"}},
		{"X-Frame-Options", []string{"DENY"}},
		{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	}
	if s.cfg.Secure() {
		fixed = append(fixed, fixedHeader{"Strict-Transport-Security", []string{"max-age=31536000"}})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, f := range fixed {
			f.set(h)
		}
		next.ServeHTTP(w, r)
	})
}

// fixedHeader is a response header made once and set on many responses
// without canonicalizing its name or allocating: name must be in
// canonical form, and value full (len == cap) so that a later Add copies
// it rather than appending in place.
type fixedHeader struct {
	name  string
	value []string
}

func (f fixedHeader) set(h http.Header) { h[f.name] = f.value }

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// crossOriginProtection rejects state-changing requests that the browser
// says come from another origin (Sec-Fetch-Site, or Origin against Host).
// Together with SameSite=Lax cookies and no state-changing GET this is the
// site's CSRF defence.
func (s *Server) crossOriginProtection(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	if s.cfg.BaseURL != nil {
		origin := s.cfg.BaseURL.Scheme + "://" + s.cfg.BaseURL.Host
		if err := cop.AddTrustedOrigin(origin); err != nil {
			s.log.Warn("base URL not usable as trusted origin", "err", err)
		}
	}
	// The OAuth2 token and revocation endpoints take POSTs from other
	// origins by design; they load no session (see oauthCrossOriginRoutes).
	for _, pattern := range oauthCrossOriginRoutes() {
		cop.AddInsecureBypassPattern(pattern)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "path", logPath(r), "origin", r.Header.Get("Origin"),
			"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "request_id", requestIDFrom(r))
		// No session is loaded here: render with the request's language only.
		st, r := withState(r)
		st.loc = s.bundle.Localizer(s.bundle.NegotiateRequest(r, "", langCookie))
		s.errorPage(w, r, http.StatusForbidden, i18n.M("error.crossorigin"))
	}))
	return cop.Handler(next)
}

// authenticate loads the logged-in user from the session. A session whose
// user is gone, deactivated or logged out everywhere is ended. It runs right
// after the session is loaded and marks the request as having one. The
// user and permissions come from the principal cache (at most
// principalTTL old, see principal_cache.go); a session refused on cached
// data is checked against the database first.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, r := withState(r)
		st.session, st.entry = true, nil
		ctx := r.Context()
		uid := s.sessions.GetInt64(ctx, keyUserID)
		if uid == 0 {
			next.ServeHTTP(w, r)
			return
		}
		epoch := s.sessions.GetInt32(ctx, keyEpoch)
		valid := func(e *principalEntry) bool {
			return e != nil && e.p.User.IsActive && e.p.User.SessionEpoch == epoch
		}
		e, err := s.principal(ctx, uid, false)
		if err == nil && !valid(e) {
			e, err = s.principal(ctx, uid, true)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.serverError(w, r, err)
			return
		}
		if err != nil || !valid(e) {
			if err := s.endSession(ctx); err != nil {
				s.serverError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		st.entry = e
		next.ServeHTTP(w, r)
	})
}

// endSession logs the session out: its data is cleared and its token
// replaced, so a stolen old token is worthless.
func (s *Server) endSession(ctx context.Context) error {
	if err := s.sessions.Clear(ctx); err != nil {
		return fmt.Errorf("web: clear session: %w", err)
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("web: renew session token: %w", err)
	}
	return nil
}

// hasSession reports whether a session is loaded for this request (pages
// rendered outside the "dynamic" chain, such as the cross-origin refusal,
// have none and show no flashes).
func hasSession(r *http.Request) bool {
	st := stateFrom(r.Context())
	return st != nil && st.session
}

func principalFrom(r *http.Request) *auth.Principal {
	if e := principalEntryFrom(r.Context()); e != nil {
		return e.p
	}
	return nil
}

// localize chooses the language: the user's setting, the cookie, the
// browser's Accept-Language, the default.
func (s *Server) localize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pref := ""
		if p := principalFrom(r); p != nil {
			pref = p.User.Language
		}
		st, r := withState(r)
		st.loc = s.bundle.Localizer(s.bundle.NegotiateRequest(r, pref, langCookie))
		w.Header().Set("Content-Language", st.loc.Lang())
		next.ServeHTTP(w, r)
	})
}

func (s *Server) localizerFrom(r *http.Request) *i18n.Localizer {
	if st := stateFrom(r.Context()); st != nil && st.loc != nil {
		return st.loc
	}
	return s.bundle.Localizer(s.bundle.NegotiateRequest(r, "", langCookie))
}

// requireLogin sends anonymous visitors to the login page, remembering
// where they wanted to go (for GET requests).
func (s *Server) requireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if principalFrom(r) == nil {
			target := s.path("/login")
			if r.Method == http.MethodGet {
				target += "?next=" + urlQueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) requireSuperuser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !principalFrom(r).IsSuperuser() {
			s.errorPage(w, r, http.StatusForbidden, i18n.M("error.forbidden"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
