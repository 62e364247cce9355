// Package i18n translates ganetimgr's interface into English and Greek.
//
// Messages live in locales/<lang>.json and locales/<area>.<lang>.json
// (go-i18n's JSON format). Templates
// translate with {{$.L.T "message.id"}}; Go code never passes bare strings
// around as message ids but i18n.M("message.id") values, so a test can find
// every id the code uses and fail when a language lacks one.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"sort"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Language is one supported interface language.
type Language struct {
	Code string // "en", "el"
	Name string // its own name, as shown in the language switcher
}

// Languages returns the supported languages, default first.
func Languages() []Language {
	return []Language{{"en", "English"}, {"el", "Ελληνικά"}}
}

// Supported reports whether code is a supported language code.
func Supported(code string) bool {
	for _, l := range Languages() {
		if l.Code == code {
			return true
		}
	}
	return false
}

// Msg is a translatable message id. Build one only with M and a literal id.
type Msg struct{ id string }

// M names the message id as a Msg. Call it with a string literal only.
func M(id string) Msg { return Msg{id: id} }

// ID returns the message id.
func (m Msg) ID() string { return m.id }

// IsZero reports whether m is the zero Msg.
func (m Msg) IsZero() bool { return m.id == "" }

// Bundle holds every language's messages and a localizer per language.
type Bundle struct {
	bundle     *goi18n.Bundle
	localizers map[string]*Localizer
	ids        map[string][]string
	matcher    language.Matcher
	tags       []language.Tag
	def        string
}

// Load reads <code>.json for every supported language from fsys. def is the
// language used when nothing else decides.
func Load(fsys fs.FS, def string) (*Bundle, error) {
	if !Supported(def) {
		return nil, fmt.Errorf("i18n: unsupported default language %q", def)
	}
	b := &Bundle{bundle: goi18n.NewBundle(language.English), localizers: map[string]*Localizer{}, ids: map[string][]string{}, def: def}
	b.bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, l := range Languages() {
		// <code>.json, plus <area>.<code>.json files, so each part of the
		// interface can keep its messages in a file of its own.
		names, err := fs.Glob(fsys, "*."+l.Code+".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		names = append([]string{l.Code + ".json"}, names...)
		for _, name := range names {
			raw, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("i18n: load %s: %w", name, err)
			}
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(raw, &keys); err != nil {
				return nil, fmt.Errorf("i18n: load %s: %w", name, err)
			}
			for id := range keys {
				if slices.Contains(b.ids[l.Code], id) {
					return nil, fmt.Errorf("i18n: %s: message %q defined twice", name, id)
				}
				b.ids[l.Code] = append(b.ids[l.Code], id)
			}
			if _, err := b.bundle.ParseMessageFileBytes(raw, name); err != nil {
				return nil, fmt.Errorf("i18n: load %s: %w", name, err)
			}
		}
		sort.Strings(b.ids[l.Code])
		b.localizers[l.Code] = &Localizer{lang: l.Code, loc: goi18n.NewLocalizer(b.bundle, l.Code)}
		b.tags = append(b.tags, language.MustParse(l.Code))
	}
	b.matcher = language.NewMatcher(b.tags)
	return b, nil
}

// Default returns the default language code.
func (b *Bundle) Default() string { return b.def }

// Localizer returns the localizer for code, or the default language's.
func (b *Bundle) Localizer(code string) *Localizer {
	if l, ok := b.localizers[code]; ok {
		return l
	}
	return b.localizers[b.def]
}

// Negotiate picks the interface language: the user's saved preference, then
// the language cookie, then the browser's Accept-Language, then the default.
func (b *Bundle) Negotiate(userPref, cookie, acceptLanguage string) string {
	for _, c := range []string{userPref, cookie} {
		if Supported(c) {
			return c
		}
	}
	if acceptLanguage != "" {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, idx, conf := b.matcher.Match(tags...)
			if conf != language.No {
				return Languages()[idx].Code
			}
		}
	}
	return b.def
}

// NegotiateRequest applies Negotiate to a request's cookie and header.
func (b *Bundle) NegotiateRequest(r *http.Request, userPref, cookieName string) string {
	cookie := ""
	if c, err := r.Cookie(cookieName); err == nil {
		cookie = c.Value
	}
	return b.Negotiate(userPref, cookie, r.Header.Get("Accept-Language"))
}

// MessageIDs returns the ids defined for a language, sorted.
func (b *Bundle) MessageIDs(code string) []string {
	return append([]string(nil), b.ids[code]...)
}

// Has reports whether the message id is defined for the language.
func (b *Bundle) Has(code, id string) bool {
	l, ok := b.localizers[code]
	if !ok {
		return false
	}
	_, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id})
	return err == nil
}

// Localizer translates into one language. It is safe for concurrent use.
type Localizer struct {
	lang string
	loc  *goi18n.Localizer
}

// Lang returns the language code.
func (l *Localizer) Lang() string { return l.lang }

// T translates a message id. Extra arguments are name/value pairs for the
// message's template, e.g. T("welcome", "Name", "Ann"). A missing message
// gives the id itself (the completeness test keeps that from shipping).
func (l *Localizer) T(id string, args ...any) string {
	var data map[string]any
	if len(args) > 1 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			if k, ok := args[i].(string); ok {
				data[k] = args[i+1]
			}
		}
	}
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil || s == "" {
		return id
	}
	return s
}

// Msg translates a Msg.
func (l *Localizer) Msg(m Msg) string { return l.T(m.id) }

// Message is a Msg with arguments, for messages built in Go code.
type Message struct {
	Msg  Msg
	Args []any
}

// Text translates a Message.
func (l *Localizer) Text(m Message) string { return l.T(m.Msg.id, m.Args...) }

// Dir returns the text direction, always "ltr" for the supported languages.
func (l *Localizer) Dir() string { return "ltr" }

// FormatName joins first and last name for display.
func FormatName(first, last string) string { return strings.TrimSpace(first + " " + last) }

// Tv translates m with a list of name/value arguments (for templates, which
// cannot spread a slice into T's variadic arguments).
func (l *Localizer) Tv(m Msg, args []any) string { return l.T(m.id, args...) }

// Stored turns an id that was produced by M and kept somewhere (a session,
// a database row) back into a Msg. The id was checked when M was called.
func Stored(id string) Msg { return Msg{id: id} }
