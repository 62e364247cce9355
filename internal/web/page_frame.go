package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// A page frame is a page rendered once by html/template with holes where
// the per-request parts go: the request URI (the language switcher returns
// to it), the rows, and the pager. Pages that differ only in those parts
// (another page of the same list, or the same list with another cursor)
// are then assembled by copying bytes, without running the template
// engine. The holes are marked while rendering by values no request can
// produce: random per server, made of characters html/template never
// escapes, and inserted as the only content of their context.

// frameSlot names a hole of a frame.
type frameSlot int

// The holes of a frame, in the order of frameMarkers' entries.
const (
	slotPath  frameSlot = iota // the request URI, HTML-escaped at assembly
	slotRows                   // already-escaped HTML (fragment_cache.go)
	slotPager                  // already-escaped HTML
	numSlots
)

// frameMarkers are the per-server marker strings of the holes.
type frameMarkers [numSlots]string

func newFrameMarkers() frameMarkers {
	var m frameMarkers
	for i := range m {
		b := make([]byte, 16)
		_, _ = rand.Read(b) // crypto/rand.Read never fails
		m[i] = "frame-" + hex.EncodeToString(b)
	}
	return m
}

// pageFrame is a compiled frame: literal segments with a hole between each
// two consecutive ones.
type pageFrame struct {
	lits  []string // strings, so writing them converts nothing
	slots []frameSlot
	size  int // of the literals
}

// compileFrame splits a rendered page at its markers. want gives how many
// times each hole must appear (-1: any number), so a template that lost or
// repeated a hole fails here instead of producing a broken page.
func compileFrame(b []byte, m frameMarkers, want [numSlots]int) (*pageFrame, error) {
	f := &pageFrame{}
	var seen [numSlots]int
	for {
		at, slot := -1, frameSlot(0)
		for i, mk := range m {
			if j := bytes.Index(b, []byte(mk)); j >= 0 && (at < 0 || j < at) {
				at, slot = j, frameSlot(i)
			}
		}
		if at < 0 {
			f.lits = append(f.lits, string(b))
			f.size += len(b)
			break
		}
		f.lits = append(f.lits, string(b[:at]))
		f.size += at
		f.slots = append(f.slots, slot)
		seen[slot]++
		b = b[at+len(m[slot]):]
	}
	for i, n := range want {
		if n >= 0 && seen[i] != n {
			return nil, fmt.Errorf("web: page frame has hole %d %d times, want %d", i, seen[i], n)
		}
	}
	return f, nil
}

// attrEscaper escapes a quoted attribute value exactly as html/template
// does, so an assembled page equals the full render byte for byte.
var attrEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;",
	"<", "&lt;", ">", "&gt;")

// each calls fn with the page's pieces in order, the holes filled: the
// request URI escaped as html/template escapes a quoted attribute value
// (the only context it is rendered in), the rows and the pager as they are
// (html/template output). It returns the page's length.
func (f *pageFrame) each(uri string, rows rowsHTML, pager template.HTML, fn func(string)) int {
	esc := attrEscaper.Replace(uri)
	n := 0
	put := func(p string) {
		n += len(p)
		if fn != nil && p != "" {
			fn(p)
		}
	}
	for i, lit := range f.lits {
		put(lit)
		if i == len(f.slots) {
			break
		}
		switch f.slots[i] {
		case slotPath:
			put(esc)
		case slotRows:
			for _, h := range rows {
				put(string(h))
			}
		case slotPager:
			put(string(pager))
		}
	}
	return n
}

// assemble returns the page with the holes filled (see each).
func (f *pageFrame) assemble(uri string, rows rowsHTML, pager template.HTML) []byte {
	out := make([]byte, 0, f.each(uri, rows, pager, nil))
	f.each(uri, rows, pager, func(p string) { out = append(out, p...) })
	return out
}

// writeTo writes the page with the holes filled to w, piece by piece.
func (f *pageFrame) writeTo(w io.Writer, uri string, rows rowsHTML, pager template.HTML) {
	f.each(uri, rows, pager, func(p string) { _, _ = io.WriteString(w, p) })
}

// bytes is the memory a frame holds, for the LRU budget.
func (f *pageFrame) bytes() int64 { return int64(f.size + 24*len(f.lits) + 64) }
