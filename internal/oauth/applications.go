package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// ApplicationForm is an application as typed in its form.
type ApplicationForm struct {
	Name       string
	ClientType string // store.OAuthConfidential or store.OAuthPublic
	GrantType  string // store.OAuthImplicit or store.OAuthAuthorizationCode
	// RedirectURIs are separated by white space (one per line in the form).
	RedirectURIs string
}

// FieldError is a refused field of an application form.
type FieldError struct {
	// Field is "name", "client_type", "grant_type" or "redirect_uris".
	Field string
	// Message says what is wrong, translated by the page.
	Message i18n.Message
}

// Limits of an application's fields.
const (
	maxNameLen      = 255
	maxRedirectURIs = 20
)

// CheckApplication validates an application form and returns what to
// store, or the refused fields.
func CheckApplication(f ApplicationForm) (store.OAuthClientInput, []FieldError) {
	var errs []FieldError
	bad := func(field string, m i18n.Msg, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: i18n.Message{Msg: m, Args: args}})
	}
	in := store.OAuthClientInput{Name: strings.TrimSpace(f.Name), ClientType: f.ClientType, GrantType: f.GrantType}
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		bad("name", i18n.M("oauth.app.error.name"))
	case n > maxNameLen || !utf8.ValidString(in.Name) || strings.ContainsFunc(in.Name, isControl):
		bad("name", i18n.M("oauth.app.error.name.long"), "Max", maxNameLen)
	}
	if in.ClientType != store.OAuthConfidential && in.ClientType != store.OAuthPublic {
		bad("client_type", i18n.M("oauth.app.error.choice"))
	}
	if in.GrantType != store.OAuthImplicit && in.GrantType != store.OAuthAuthorizationCode {
		bad("grant_type", i18n.M("oauth.app.error.choice"))
	}
	for _, u := range strings.Fields(f.RedirectURIs) {
		if !slices.Contains(in.RedirectURIs, u) {
			in.RedirectURIs = append(in.RedirectURIs, u)
		}
	}
	switch {
	case len(in.RedirectURIs) == 0:
		bad("redirect_uris", i18n.M("oauth.app.error.redirect.none"))
	case len(in.RedirectURIs) > maxRedirectURIs:
		bad("redirect_uris", i18n.M("oauth.app.error.redirect.many"), "Max", maxRedirectURIs)
	default:
		for _, u := range in.RedirectURIs {
			if !validRedirectURI(u) {
				bad("redirect_uris", i18n.M("oauth.app.error.redirect.invalid"), "URI", u)
				break
			}
		}
	}
	return in, errs
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// validRedirectURI accepts an absolute https URI without fragment or user
// information, or an http one to this machine's loopback (for scripts and
// native applications that listen locally): a token must never travel in
// clear over a network.
func validRedirectURI(s string) bool {
	if len(s) > maxURILen || !utf8.ValidString(s) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(s, "#") || u.Opaque != "" {
		return false
	}
	if !plainHost(u.Hostname()) {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		return loopback(u.Hostname())
	}
	return false
}

// plainHost accepts a DNS name or an IP address: no other characters
// (such as ';' or ','), so a redirect URI's origin can go into a
// Content-Security-Policy as it is.
func plainHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewApplication is a registered application with its secret, which is
// shown once and never stored ("" for a public client).
type NewApplication struct {
	Client *store.OAuthClient
	Secret string
}

// Register registers a checked application of the user: a new client id,
// and a new secret for a confidential client.
func (p *Provider) Register(ctx context.Context, userID int64, in store.OAuthClientInput) (*NewApplication, error) {
	id, err := newClientID()
	if err != nil {
		return nil, err
	}
	var secret string
	var hash []byte
	if in.ClientType == store.OAuthConfidential {
		if secret, err = newSecret(); err != nil {
			return nil, err
		}
		hash = HashSecret(secret)
	}
	c, err := p.store.CreateOAuthClient(ctx, userID, id, hash, in)
	if err != nil {
		return nil, fmt.Errorf("oauth: register application: %w", err)
	}
	return &NewApplication{Client: c, Secret: secret}, nil
}

// Update changes the user's application id. An application that becomes
// confidential gets a new secret (returned, shown once); one that becomes
// public loses its secret. Another user's application is store.ErrNotFound.
func (p *Provider) Update(ctx context.Context, userID, id int64, in store.OAuthClientInput) (*NewApplication, error) {
	old, err := p.store.OAuthClientOfUser(ctx, userID, id)
	if err != nil {
		return nil, fmt.Errorf("oauth: update application: %w", err)
	}
	var secret string
	var hash []byte
	if in.ClientType == store.OAuthConfidential && old.ClientType != store.OAuthConfidential {
		if secret, err = newSecret(); err != nil {
			return nil, err
		}
		hash = HashSecret(secret)
	}
	c, err := p.store.UpdateOAuthClient(ctx, userID, id, in, hash)
	if err != nil {
		return nil, fmt.Errorf("oauth: update application: %w", err)
	}
	return &NewApplication{Client: c, Secret: secret}, nil
}

// Application returns the user's application id; another user's is
// store.ErrNotFound.
func (p *Provider) Application(ctx context.Context, userID, id int64) (*store.OAuthClient, error) {
	c, err := p.store.OAuthClientOfUser(ctx, userID, id)
	if err != nil {
		return nil, fmt.Errorf("oauth: application: %w", err)
	}
	return c, nil
}

// Applications returns the user's applications, oldest first.
func (p *Provider) Applications(ctx context.Context, userID int64) ([]*store.OAuthClient, error) {
	cs, err := p.store.OAuthClientsOfUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("oauth: applications: %w", err)
	}
	return cs, nil
}

// DeleteApplication deletes the user's application id and every code and
// token issued to it. Another user's application is store.ErrNotFound.
func (p *Provider) DeleteApplication(ctx context.Context, userID, id int64) error {
	if err := p.store.DeleteOAuthClient(ctx, userID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return fmt.Errorf("oauth: delete application: %w", err)
	}
	return nil
}
