package web

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TLS modes of the cluster form.
const (
	tlsModePin = "pin" // fetch the certificate, confirm and pin its SHA-256
	tlsModeCA  = "ca"  // verify the certificate against a CA given as PEM
)

// Limits of the cluster form's fields.
const (
	maxDescription = 500
	maxRAPIUser    = 64
	maxRAPIPass    = 256
	maxCAPEM       = 64 << 10
)

// slugPattern is the clusters.slug check: 1-50 lowercase letters, digits
// and hyphens, not starting or ending with a hyphen.
var slugPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$`)

// clusterForm is the cluster add/edit form as typed, with its errors. The
// password is never sent back to the browser: templates leave its field
// empty.
type clusterForm struct {
	ID          int64 // 0 when adding
	Demo        bool
	Hostname    string
	Slug        string
	Port        string
	Description string
	Username    string
	Password    string // only from the request; never rendered
	TLSMode     string
	CAPEM       string
	// Refetch (editing, pin mode): fetch and confirm the certificate the
	// cluster presents now instead of keeping the pinned one.
	Refetch          bool
	FastCreate       bool
	UseGntNetwork    bool
	CreationDisabled bool
	Disabled         bool

	// HasPassword: a password is stored (editing); Fingerprint: the one
	// pinned now (editing).
	HasPassword bool
	Fingerprint string

	Errors fieldErrors  // by field name
	Error  i18n.Message // about the whole form (connection check)

	// Set by validate.
	port  int
	caPEM string
}

func newClusterForm() *clusterForm {
	return &clusterForm{Port: strconv.Itoa(rapi.DefaultPort), TLSMode: tlsModePin, UseGntNetwork: true}
}

// clusterFormFrom fills the edit form with a stored cluster.
func clusterFormFrom(c *store.Cluster) *clusterForm {
	f := &clusterForm{ID: c.ID, Demo: c.Demo, Hostname: c.Hostname, Slug: c.Slug, Port: strconv.Itoa(c.Port),
		Description: c.Description, Username: c.RAPIUsername, TLSMode: tlsModePin, CAPEM: c.TLSCAPEM,
		FastCreate: c.FastCreate, UseGntNetwork: c.UseGntNetwork, CreationDisabled: c.CreationDisabled,
		Disabled: c.Disabled, HasPassword: len(c.RAPIPassword) > 0, Fingerprint: c.TLSFingerprint}
	if c.TLSFingerprint == "" {
		f.TLSMode = tlsModeCA
	}
	return f
}

// HasErrors reports whether any error is set.
func (f *clusterForm) HasErrors() bool { return len(f.Errors) > 0 || !f.Error.Msg.IsZero() }

func (f *clusterForm) fieldError(name string, m i18n.Msg, args ...any) {
	f.Errors = f.Errors.add(name, m, args...)
}

// fieldErrors are a form's errors by field name; the first error of a
// field wins.
type fieldErrors map[string]i18n.Message

// Has reports whether the field has an error (for templates).
func (e fieldErrors) Has(name string) bool { _, ok := e[name]; return ok }

// Get returns the field's error (for templates).
func (e fieldErrors) Get(name string) i18n.Message { return e[name] }

func (e fieldErrors) add(name string, m i18n.Msg, args ...any) fieldErrors {
	if e == nil {
		e = fieldErrors{}
	}
	if _, ok := e[name]; !ok {
		e[name] = i18n.Message{Msg: m, Args: args}
	}
	return e
}

// parseClusterForm reads the form's fields from a parsed request (the
// confirmation page posts the same names as hidden fields).
func parseClusterForm(r *http.Request, f *clusterForm) {
	var ok bool
	text := func(name string, max int, dst *string) {
		if *dst, ok = field(r, name, max); !ok {
			f.fieldError(name, i18n.M("clusteradmin.toolong"), "Max", max)
		}
	}
	text("hostname", 255, &f.Hostname)
	text("slug", 50, &f.Slug)
	text("port", 5, &f.Port)
	text("description", maxDescription, &f.Description)
	text("rapi_username", maxRAPIUser, &f.Username)
	f.Password = r.PostForm.Get("rapi_password") // not trimmed: spaces may be part of it
	if len(f.Password) > maxRAPIPass {
		f.Password = ""
		f.fieldError("rapi_password", i18n.M("clusteradmin.toolong"), "Max", maxRAPIPass)
	}
	f.TLSMode = r.PostForm.Get("tls_mode")
	f.CAPEM = strings.TrimSpace(r.PostForm.Get("tls_ca_pem"))
	if len(f.CAPEM) > maxCAPEM {
		f.CAPEM = ""
		f.fieldError("tls_ca_pem", i18n.M("clusteradmin.toolong"), "Max", maxCAPEM)
	}
	f.Refetch = r.PostForm.Get("refetch") != ""
	f.FastCreate = r.PostForm.Get("fast_create") != ""
	f.UseGntNetwork = r.PostForm.Get("use_gnt_network") != ""
	f.CreationDisabled = r.PostForm.Get("creation_disabled") != ""
	f.Disabled = r.PostForm.Get("disabled") != ""
}

// validate checks and normalises the fields. adding requires a password.
func (f *clusterForm) validate(adding bool) {
	if h, ok := normalizeClusterHost(f.Hostname); ok {
		f.Hostname = h
	} else if f.Hostname == "" {
		f.fieldError("hostname", i18n.M("clusteradmin.required"))
	} else {
		f.fieldError("hostname", i18n.M("cluster.form.hostname.invalid"))
	}
	if f.Slug == "" && !f.Errors.Has("hostname") {
		f.Slug = slugFromHost(f.Hostname)
	}
	if f.Slug == "" {
		f.fieldError("slug", i18n.M("clusteradmin.required"))
	} else if !slugPattern.MatchString(f.Slug) {
		f.fieldError("slug", i18n.M("cluster.form.slug.invalid"))
	}
	if f.Port == "" {
		f.Port = strconv.Itoa(rapi.DefaultPort)
	}
	if p, err := strconv.Atoi(f.Port); err != nil || p < 1 || p > 65535 {
		f.fieldError("port", i18n.M("cluster.form.port.invalid"))
	} else {
		f.port = p
		f.Port = strconv.Itoa(p)
	}
	if hasControl(f.Description) {
		f.fieldError("description", i18n.M("clusteradmin.control"))
	}
	switch {
	case f.Username == "":
		f.fieldError("rapi_username", i18n.M("clusteradmin.required"))
	case strings.ContainsFunc(f.Username, func(r rune) bool { return unicode.IsSpace(r) || r == ':' || unicode.IsControl(r) }):
		f.fieldError("rapi_username", i18n.M("cluster.form.username.invalid"))
	}
	switch {
	case f.Password == "" && adding:
		f.fieldError("rapi_password", i18n.M("clusteradmin.required"))
	case hasControl(f.Password):
		f.Password = ""
		f.fieldError("rapi_password", i18n.M("clusteradmin.control"))
	}
	switch f.TLSMode {
	case tlsModePin:
		f.CAPEM = ""
	case tlsModeCA:
		if f.CAPEM == "" {
			f.fieldError("tls_ca_pem", i18n.M("cluster.form.ca.required"))
		} else if pemText, ok := parseCAPEM(f.CAPEM); !ok {
			f.fieldError("tls_ca_pem", i18n.M("cluster.form.ca.invalid"))
		} else {
			f.caPEM = pemText
		}
	default:
		f.TLSMode = tlsModePin
		f.fieldError("tls_mode", i18n.M("cluster.form.tlsmode.invalid"))
	}
}

// input is the validated form as the store takes it. sealed is the sealed
// password (nil keeps the stored one), pin the fingerprint in pin mode.
func (f *clusterForm) input(sealed []byte, pin string) store.ClusterInput {
	in := store.ClusterInput{Slug: f.Slug, Hostname: f.Hostname, Port: f.port, Description: f.Description,
		RAPIUsername: f.Username, RAPIPassword: sealed, FastCreate: f.FastCreate, UseGntNetwork: f.UseGntNetwork,
		CreationDisabled: f.CreationDisabled, Disabled: f.Disabled}
	if f.TLSMode == tlsModeCA {
		in.TLSCAPEM = f.caPEM
	} else {
		in.TLSFingerprint = pin
	}
	return in
}

// normalizeClusterHost accepts an FQDN (at least two labels, the last not
// numeric) or an IP address literal (IPv6 with or without brackets) and
// returns it in lower case without a trailing dot or brackets.
func normalizeClusterHost(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
		return a.String(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return "", false
		}
		return a.String(), true
	}
	s = strings.TrimSuffix(s, ".")
	if len(s) == 0 || len(s) > 253 {
		return "", false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", false // "10.0.0.256" is a broken address, not a name
	}
	return s, true
}

// slugFromHost suggests a slug from a host name's first label ("" for an
// IP address or a label that is no valid slug).
func slugFromHost(h string) string {
	if _, err := netip.ParseAddr(h); err == nil || h == "" {
		return ""
	}
	first, _, _ := strings.Cut(h, ".")
	if len(first) > 50 || !slugPattern.MatchString(first) {
		return ""
	}
	return first
}

// parseCAPEM checks that s holds one or more PEM certificates (and nothing
// else, so a private key pasted by mistake is refused) and returns them
// re-encoded.
func parseCAPEM(s string) (string, bool) {
	rest := []byte(s)
	var out []byte
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return "", false
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return "", false
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.Bytes})...)
	}
	if len(out) == 0 || strings.TrimSpace(string(rest)) != "" {
		return "", false
	}
	return string(out), true
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// checkSlugFree marks the slug field when another cluster already uses the
// (valid) slug. The database's unique index still decides on save; this
// gives the admin the message before any connection is attempted.
func (s *Server) checkSlugFree(ctx context.Context, f *clusterForm) error {
	if f.Errors.Has("slug") {
		return nil
	}
	_, err := s.store.ClusterBySlug(ctx, f.Slug)
	switch {
	case err == nil:
		f.fieldError("slug", i18n.M("cluster.form.slug.taken"))
		return nil
	case errors.Is(err, store.ErrNotFound):
		return nil
	default:
		return err
	}
}
