package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/web"
)

// TestFramedPagesEqualFullRenders: every instance list page assembled from
// a frame (page_frame.go) is byte for byte the page the template renders in
// full: first pages and later ones, searches with characters that need
// escaping, filters, sorts, an empty result, for a user and an
// administrator, from a fresh frame and from a cached one.
func TestFramedPagesEqualFullRenders(t *testing.T) {
	f := newPagesFixtureWith(t, 40, cachedOptions())
	paths := []string{"/instances/?size=7", "/instances/?size=7&sort=memory&desc=1", "/instances/?size=5&status=running",
		"/instances/?cluster=alpha&size=9", "/instances/?q=" + url.QueryEscape(`<b>"x'&`),
		"/instances/?q=" + url.QueryEscape("vm alpha"), "/instances/?q=nomatch", "/instances/?size=3&x=%3Cscript%3E"}
	for _, who := range []string{"root", "alice"} {
		c := f.clients[who]
		c.get("/") // shows (and so drops) the welcome message
		for _, start := range paths {
			// Walk a few pages by their next links.
			p := start
			for page := 0; page < 3 && p != ""; page++ {
				f.site.SetFullRenders(false)
				framed := c.get(p)
				again := c.get(p)
				f.site.SetFullRenders(true)
				full := c.get(p)
				if framed.StatusCode != http.StatusOK || full.StatusCode != http.StatusOK {
					t.Fatalf("%s %s: status %d / %d", who, p, framed.StatusCode, full.StatusCode)
				}
				if framed.body != full.body || again.body != full.body {
					t.Fatalf("%s %s: framed page differs from the full render:\n%s", who, p, firstDiff(framed.body, full.body))
				}
				if !strings.Contains(full.body, `name="next" value="`+strings.ReplaceAll(html.EscapeString(p), "+", "&#43;")+`"`) {
					t.Errorf("%s %s: the language switcher does not return to the page", who, p)
				}
				p = ""
				if m := nextLink.FindStringSubmatch(full.body); m != nil {
					p = html.UnescapeString(m[1])
				}
			}
		}
	}
	f.site.SetFullRenders(false)
}

// cachedOptions are real cache bounds for tests that look at cached pages.
func cachedOptions() web.CacheOptions {
	return web.CacheOptions{PrincipalTTL: cacheBound, StateTTL: cacheBound}
}

// firstDiff shows where two pages first differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-120)
	return "framed: ..." + a[lo:min(len(a), i+120)] + "\nfull:   ..." + b[lo:min(len(b), i+120)]
}
