// Package ganetimgr is the root of the ganetimgr module. It embeds the files
// the binary ships with: HTML templates, static assets, translations and
// database migrations. Everything else lives under cmd/ and internal/.
package ganetimgr

import (
	"embed"
	"io/fs"
)

//go:embed templates static locales migrations
var files embed.FS

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		// fs.Sub only fails on an invalid path, which is a programming error.
		panic(err)
	}
	return f
}

// Templates returns the HTML templates (templates/).
func Templates() fs.FS { return sub("templates") }

// Static returns the static assets served under /static/ (static/).
func Static() fs.FS { return sub("static") }

// Locales returns the translation files (locales/).
func Locales() fs.FS { return sub("locales") }

// Migrations returns the SQL migrations (migrations/).
func Migrations() fs.FS { return sub("migrations") }
