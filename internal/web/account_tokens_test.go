package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestTokenRoutesKeepTheirTokens walks the route table: every route that
// carries a mailed link's {token} sends no Referer-leaking, cacheable
// page, and its token never reaches the log (not even when the request is
// refused as cross-origin, before routing).
func TestTokenRoutesKeepTheirTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("amy", "correct horse battery", false)
	c := h.client()
	c.mustLogin("amy", "correct horse battery")
	routes, ok := h.site.Handler().(chi.Routes)
	if !ok {
		t.Fatal("the site's handler is not a chi router")
	}
	secret := strings.Repeat("Q", 43) // the shape of a real token
	found := 0
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if !strings.Contains(route, "{token}") {
			return nil
		}
		found++
		path := strings.Replace(route, "{token}", secret, 1)
		var r *response
		if method == http.MethodGet {
			r = c.get(path)
		} else {
			r = c.post(path, nil)
		}
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s with an unknown token: %d, want 404", method, route, r.StatusCode)
		}
		checkTokenPageHeaders(t, method+" "+route, r)
		req, _ := http.NewRequest(http.MethodPost, h.baseURL+path, nil)
		req.Header.Set("Origin", "https://evil.example")
		if r := c.do(req); r.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin POST %s: %d", route, r.StatusCode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 6 {
		t.Fatalf("found %d routes with a token, want at least 6", found)
	}
	logs := h.logs.String()
	if strings.Contains(logs, secret) {
		t.Errorf("a token reached the log:\n%s", logs)
	}
	if !strings.Contains(logs, "REDACTED") {
		t.Error("the token routes' requests were not logged")
	}
}
