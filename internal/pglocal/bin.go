package pglocal

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// debianBinGlob matches the per-version server binary directories of the
// Debian/Ubuntu "postgresql" packages.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// FindBinDir returns the directory holding the PostgreSQL server binaries
// (initdb and postgres). It looks at PATH first and then at the newest
// /usr/lib/postgresql/<version>/bin. The error names the package to install
// when nothing is found.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// Resolve symlinks so that a link in /usr/local/bin leads to the
		// directory that also holds the matching postgres binary.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if dir := filepath.Dir(real); hasServerBinaries(dir) {
				return dir, nil
			}
		}
		if dir := filepath.Dir(p); hasServerBinaries(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(debianBinGlob) // the pattern is constant and valid
	sort.Slice(dirs, func(i, j int) bool {
		return versionLess(filepath.Base(filepath.Dir(dirs[j])), filepath.Base(filepath.Dir(dirs[i])))
	})
	for _, dir := range dirs {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pglocal: PostgreSQL server binaries (initdb, postgres) not found in PATH or %s: "+
		"install the PostgreSQL server package (Debian/Ubuntu: apt-get install postgresql)", debianBinGlob)
}

// hasServerBinaries reports whether dir contains executable initdb and
// postgres programs.
func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// versionLess compares dotted numeric versions such as "9.6" and "15";
// non-numeric parts compare as zero.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
