package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	ganetimgr "github.com/ganetimgr/ganetimgr"
)

// assets are the embedded static files, each addressed by a name that
// carries a hash of its content (css/app.3f2a1b9c0d.css), so browsers may
// cache them for a year and a new build changes the URL.
type assets struct {
	byName   map[string]*asset // "css/app.css"
	byHashed map[string]*asset // "css/app.3f2a1b9c0d.css"
}

type asset struct {
	name, hashed, etag, ctype string
	body                      []byte
}

// loadAssets loads the embedded static files and, when extra is not nil,
// the files of extra beside them (an embedded file of the same name wins).
func loadAssets(extra fs.FS) (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byHashed: map[string]*asset{}}
	if extra != nil {
		if err := a.load(extra); err != nil {
			return nil, err
		}
	}
	if err := a.load(ganetimgr.Static()); err != nil {
		return nil, err
	}
	return a, nil
}

// load adds the files of fsys.
func (a *assets) load(fsys fs.FS) error {
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(p)
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		as := &asset{name: p, hashed: strings.TrimSuffix(p, ext) + "." + h + ext, etag: `"` + h + `"`, ctype: ctype, body: b}
		a.byName[p], a.byHashed[as.hashed] = as, as
		return nil
	})
	if err != nil {
		return fmt.Errorf("web: static files: %w", err)
	}
	return nil
}

// url returns the content-hashed URL path of a static file; it panics on an
// unknown name so a broken reference fails at template execution in tests.
func (a *assets) url(name string) (string, error) {
	as, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "/static/" + as.hashed, nil
}

// static serves embedded files. A content-hashed name is cached for a year;
// a plain name is served with an ETag and must be revalidated.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	h := w.Header()
	as, ok := s.assets.byHashed[name]
	if ok {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else if as, ok = s.assets.byName[name]; ok {
		h.Set("Cache-Control", "public, no-cache")
	} else {
		http.NotFound(w, r)
		return
	}
	h.Set("ETag", as.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, as.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", as.ctype)
	h.Set("Content-Length", fmt.Sprint(len(as.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(as.body)
	}
}
