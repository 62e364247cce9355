package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// Rendered is a mail ready to be stored and sent.
type Rendered struct {
	Subject string
	Text    string
}

// renderer holds the parsed mail templates: templates/mail/layout.txt (the
// parts every mail shares) with each templates/mail/<name>.txt, which
// defines "subject" and "body". The templates get no functions: the
// translator and the link builder travel in the data (a view), so nothing
// per-mail is attached to a shared template.
type renderer struct {
	templates map[string]*template.Template
	bundle    *i18n.Bundle
	base      string // the base URL without a trailing slash
}

func newRenderer(fsys fs.FS, bundle *i18n.Bundle, base *url.URL) (*renderer, error) {
	if base == nil || base.Scheme == "" || base.Host == "" {
		return nil, errors.New("mail: the base URL must be absolute")
	}
	layout, err := template.ParseFS(fsys, "mail/layout.txt")
	if err != nil {
		return nil, fmt.Errorf("mail: templates: %w", err)
	}
	r := &renderer{templates: map[string]*template.Template{}, bundle: bundle, base: strings.TrimSuffix(base.String(), "/")}
	for _, name := range templateNames() {
		t, err := template.Must(layout.Clone()).ParseFS(fsys, "mail/"+name+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: templates: %w", err)
		}
		for _, part := range []string{"subject", "body"} {
			if t.Lookup(part) == nil {
				return nil, fmt.Errorf("mail: template %s does not define %q", name, part)
			}
		}
		r.templates[name] = t.Option("missingkey=error")
	}
	return r, nil
}

// render renders m for to in to's language (the default one when to.Lang
// is not supported).
func (r *renderer) render(to Recipient, m Mail) (Rendered, string, error) {
	t := r.templates[m.Template()]
	if t == nil {
		return Rendered{}, "", fmt.Errorf("mail: no template %q", m.Template())
	}
	loc := r.bundle.Localizer(to.Lang)
	v := &view{L: loc, M: m, To: to, Site: loc.T("site.name"), BaseURL: r.base + "/"}
	var subj, body bytes.Buffer
	if err := t.ExecuteTemplate(&subj, "subject", v); err != nil {
		return Rendered{}, "", fmt.Errorf("mail: render %s subject: %w", m.Template(), err)
	}
	if err := t.ExecuteTemplate(&body, "body", v); err != nil {
		return Rendered{}, "", fmt.Errorf("mail: render %s: %w", m.Template(), err)
	}
	out := Rendered{Subject: oneLine(subj.String()), Text: tidyBody(body.String())}
	if out.Subject == "" {
		return Rendered{}, "", fmt.Errorf("mail: %s renders an empty subject", m.Template())
	}
	return out, loc.Lang(), nil
}

// view is the data of a mail template.
type view struct {
	// L translates into the recipient's language.
	L *i18n.Localizer
	// M is the Mail being rendered.
	M Mail
	// To is the recipient.
	To Recipient
	// Site is the site's name in the recipient's language.
	Site string
	// BaseURL is the site's public address, ending in "/".
	BaseURL string
}

// Link turns a path under the site into an absolute URL on the base URL.
func (v *view) Link(path string) (string, error) {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.ContainsAny(path, "\\ \t\r\n") {
		return "", fmt.Errorf("link %q is not a path under the site", path)
	}
	u, err := url.Parse(path)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "", fmt.Errorf("link %q is not a path under the site", path)
	}
	return strings.TrimSuffix(v.BaseURL, "/") + path, nil
}

// Expiry says how long a link works: in days when d is a whole number of
// days, else in hours or minutes, rounded up.
func (v *view) Expiry(d time.Duration) (string, error) {
	if d <= 0 {
		return "", fmt.Errorf("link expiry %s is not positive", d)
	}
	ceil := func(unit time.Duration) int { return int((d + unit - 1) / unit) }
	day := 24 * time.Hour
	switch {
	case d%day == 0:
		if n := int(d / day); n != 1 {
			return v.L.Text(i18n.Message{Msg: i18n.M("mail.expiry.days"), Args: []any{"Count", n}}), nil
		}
		return v.L.Msg(i18n.M("mail.expiry.day")), nil
	case d > time.Hour:
		return v.L.Text(i18n.Message{Msg: i18n.M("mail.expiry.hours"), Args: []any{"Count", ceil(time.Hour)}}), nil
	case d == time.Hour:
		return v.L.Msg(i18n.M("mail.expiry.hour")), nil
	case d > time.Minute:
		return v.L.Text(i18n.Message{Msg: i18n.M("mail.expiry.minutes"), Args: []any{"Count", ceil(time.Minute)}}), nil
	default:
		return v.L.Msg(i18n.M("mail.expiry.minute")), nil
	}
}

// Quote indents free text given by a user ("> " before every line), so it
// stands apart from the mail's own words.
func (v *view) Quote(s string) string {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("> "+l, " ")
	}
	return strings.Join(lines, "\n")
}

// oneLine makes a subject a single line without control characters.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// tidyBody drops control characters (but newlines and tabs) and trailing
// spaces (but the signature separator "-- "), collapses runs of blank
// lines to one and ends the text with a single newline.
func tidyBody(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, " \t")
		if l == "--" {
			l = "-- "
		}
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n") + "\n"
}
