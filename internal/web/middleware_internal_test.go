package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/config"
)

// TestFixedHeadersAreNeverChanged: the header values securityHeaders
// shares between responses survive a handler that adds to, replaces or
// deletes them: the next response has them exactly as made.
func TestFixedHeadersAreNeverChanged(t *testing.T) {
	s := &Server{cfg: &config.Config{BaseURL: &url.URL{Scheme: "http", Host: "localhost"}}}
	n := 0
	h := s.securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			w.Header().Add("X-Frame-Options", "SAMEORIGIN")
			w.Header().Set("Referrer-Policy", "no-referrer")
			w.Header().Del("X-Content-Type-Options")
			w.Header()["Cross-Origin-Opener-Policy"] = append(w.Header()["Cross-Origin-Opener-Policy"], "x")
		}
	}))
	first := httptest.NewRecorder()
	h.ServeHTTP(first, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := first.Header().Values("X-Frame-Options"); !slices.Equal(got, []string{"DENY", "SAMEORIGIN"}) {
		t.Errorf("first response X-Frame-Options = %q", got)
	}
	second := httptest.NewRecorder()
	h.ServeHTTP(second, httptest.NewRequest(http.MethodGet, "/", nil))
	for name, want := range map[string]string{"Content-Security-Policy": contentSecurityPolicy, "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "same-origin", "X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin"} {
		if got := second.Header().Values(name); !slices.Equal(got, []string{want}) {
			t.Errorf("second response %s = %q, want %q", name, got, want)
		}
	}
}

// TestRequestStateOutsideTheRouteTable: the helpers that read the request
// state answer for a request that has none (a handler called directly),
// and authenticate adds one when missing.
func TestRequestStateOutsideTheRouteTable(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if requestIDFrom(r) != "" || hasSession(r) || principalFrom(r) != nil || principalEntryFrom(r.Context()) != nil {
		t.Fatal("a request without state has an id, a session or a user")
	}
	st, r2 := withState(r)
	if st == nil || stateFrom(r2.Context()) != st {
		t.Fatal("withState did not add the state")
	}
	if again, r3 := withState(r2); again != st || r3 != r2 {
		t.Error("withState replaced an existing state")
	}
}
