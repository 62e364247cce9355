package web

import (
	"strings"
	"testing"
)

func TestCompileFrame(t *testing.T) {
	m := newFrameMarkers()
	if m[0] == m[1] || !strings.HasPrefix(m[0], "frame-") {
		t.Fatalf("markers %v", m)
	}
	page := "<a>" + m[slotPath] + "</a><t>" + m[slotRows] + "</t>" + m[slotPager] + "<f>" + m[slotPath] + "</f>"
	f, err := compileFrame([]byte(page), m, [numSlots]int{slotPath: -1, slotRows: 1, slotPager: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := string(f.assemble(`/i/?q=a+b&x="<'>`, rowsHTML{"<tr>R", "</tr>"}, "<nav>P</nav>"))
	want := `<a>/i/?q=a&#43;b&amp;x=&#34;&lt;&#39;&gt;</a><t><tr>R</tr></t><nav>P</nav><f>/i/?q=a&#43;b&amp;x=&#34;&lt;&#39;&gt;</f>`
	if got != want {
		t.Errorf("assemble:\n got %s\nwant %s", got, want)
	}
	for _, bad := range []string{
		"<a>" + m[slotRows] + "</a>",                               // no pager
		m[slotRows] + m[slotRows] + m[slotPager],                   // rows twice
		"<a>" + m[slotPager] + "</a>" + m[slotPager] + m[slotRows], // pager twice
	} {
		if _, err := compileFrame([]byte(bad), m, [numSlots]int{slotPath: -1, slotRows: 1, slotPager: 1}); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
	if f, err := compileFrame([]byte("plain"), m, [numSlots]int{-1, 0, 0}); err != nil || string(f.assemble("u", rowsHTML{"r"}, "p")) != "plain" {
		t.Errorf("a page without holes: %v", err)
	}
}
