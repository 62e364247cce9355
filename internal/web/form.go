package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// errInvalidForm means the request body could not be read as a form.
var errInvalidForm = errors.New("web: invalid form")

// parseForm reads a urlencoded form, mapping a too-large body or bad
// encoding to a message for a 4xx page.
func parseForm(r *http.Request) (int, i18n.Msg, error) {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge, i18n.M("error.toolarge"), errInvalidForm
		}
		return http.StatusBadRequest, i18n.M("error.badform"), errInvalidForm
	}
	for _, vs := range r.PostForm {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return http.StatusBadRequest, i18n.M("error.badencoding"), errInvalidForm
			}
		}
	}
	return 0, i18n.Msg{}, nil
}

// field returns a trimmed form value, or false when it is longer than max
// characters.
func field(r *http.Request, name string, max int) (string, bool) {
	v := strings.TrimSpace(r.PostForm.Get(name))
	return v, utf8.RuneCountInString(v) <= max
}
