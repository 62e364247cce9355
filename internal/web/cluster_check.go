package web

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Bounds of the admin pages' calls to a cluster: an admin waits for them,
// so they are short.
const (
	clusterConnectTimeout = 5 * time.Second
	clusterCallTimeout    = 10 * time.Second
	clusterCheckTimeout   = 25 * time.Second
	// pendingLifetime bounds how long a certificate confirmation page can
	// be confirmed.
	pendingLifetime = 15 * time.Minute
)

// errNotGaneti means something answered on the port, but not ganeti-rapi.
var errNotGaneti = errors.New("web: not a ganeti rapi")

// clusterProbe is what a connection check learned.
type clusterProbe struct {
	Version  int
	Info     *rapi.Info
	Features []string
	CanWrite bool
}

// rapiConfig describes how to reach a cluster with the given credentials
// and TLS settings (pin xor CA).
func rapiConfig(host string, port int, username, password, pin, caPEM string) rapi.Config {
	return rapi.Config{Host: host, Port: port, Username: username, Password: password,
		TLS:            rapi.TLSConfig{PinnedSHA256: pin, CAPEM: []byte(caPEM)},
		ConnectTimeout: clusterConnectTimeout, ResponseTimeout: clusterCallTimeout, MaxConcurrent: 2,
		UserAgent: "ganetimgr-admin"}
}

// probeCluster connects with cfg and checks that the other end is a Ganeti
// RAPI that accepts the credentials: GET /version answers 2 and /2/info
// names a cluster. full adds the features and the write-access probe. It
// changes nothing on the cluster.
func probeCluster(ctx context.Context, cfg rapi.Config, full bool) (*clusterProbe, error) {
	ctx, cancel := context.WithTimeout(ctx, clusterCheckTimeout)
	defer cancel()
	c, err := rapi.New(cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	p := &clusterProbe{}
	if p.Version, err = c.Version(ctx); err != nil {
		return nil, err
	}
	if p.Version != 2 {
		return nil, fmt.Errorf("%w: rapi version %d", errNotGaneti, p.Version)
	}
	if p.Info, err = c.Info(ctx); err != nil {
		return nil, err
	}
	if p.Info.Name == "" || p.Info.SoftwareVersion == "" {
		return nil, fmt.Errorf("%w: /2/info names no cluster", errNotGaneti)
	}
	if !full {
		return p, nil
	}
	if p.Features, err = c.Features(ctx); err != nil {
		return nil, err
	}
	if p.CanWrite, err = c.CanWrite(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// clusterError turns a failed certificate fetch or connection check into a
// message for the admin. The technical error is logged, never shown (a
// hostile server's answer could echo anything).
func clusterError(err error) i18n.Msg {
	var recErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	var dnsErr *net.DNSError
	var apiErr *rapi.APIError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, rapi.ErrPinMismatch):
		return i18n.M("cluster.error.pinmismatch")
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return i18n.M("cluster.error.untrusted")
	case errors.As(err, &recErr):
		return i18n.M("cluster.error.nottls")
	case rapi.IsUnauthorized(err):
		return i18n.M("cluster.error.unauthorized")
	case rapi.IsForbidden(err):
		return i18n.M("cluster.error.forbidden")
	case errors.As(err, &dnsErr):
		return i18n.M("cluster.error.dns")
	case errors.Is(err, rapi.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return i18n.M("cluster.error.timeout")
	case errors.As(err, &apiErr) && apiErr.Code >= 500:
		return i18n.M("cluster.error.unavailable")
	case errors.Is(err, rapi.ErrUnavailable):
		return i18n.M("cluster.error.unreachable")
	case errors.Is(err, errNotGaneti), errors.As(err, &apiErr), errors.As(err, &syntaxErr),
		errors.As(err, &typeErr), errors.Is(err, rapi.ErrResponseTooLarge):
		return i18n.M("cluster.error.notganeti")
	default:
		return i18n.M("cluster.error.unexpected")
	}
}

// safeErr describes a cluster error for the log: a RAPI error answer by its
// status only (its body comes from the other end and could echo the
// request), anything else by its text.
func safeErr(err error) string {
	var apiErr *rapi.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Method + " " + apiErr.Path + ": HTTP " + strconv.Itoa(apiErr.Code)
	}
	return err.Error()
}

// logClusterError records why a check failed, without any secret.
func (s *Server) logClusterError(r *http.Request, what, host string, port int, err error) {
	s.log.Info("cluster check failed", "what", what, "host", host, "port", port, "err", safeErr(err),
		"request_id", requestIDFrom(r))
}

// pendingSecret carries what the certificate confirmation page must not
// show: the password, sealed with PendingForms and bound to the admin, the
// cluster being edited, the address, the user name and the fingerprint on
// the page, so it cannot be replayed elsewhere or sent to another host.
type pendingSecret struct {
	UserID      int64  `json:"u"`
	ClusterID   int64  `json:"c"`
	Expires     int64  `json:"e"`
	Host        string `json:"h"`
	Port        int    `json:"p"`
	Username    string `json:"n"`
	Fingerprint string `json:"f"`
	Password    string `json:"pw"`
	// Keep: editing without a new password; the stored one is used.
	Keep bool `json:"k"`
}

func (s *Server) sealPending(p pendingSecret) (string, error) {
	p.Expires = s.now().Add(pendingLifetime).Unix()
	raw, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("web: pending form: %w", err)
	}
	sealed, err := s.pending.Seal(string(raw))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openPending returns the sealed secret when it is intact, unexpired and
// bound to exactly these values; ok is false otherwise.
func (s *Server) openPending(token string, want pendingSecret) (pendingSecret, bool) {
	var p pendingSecret
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return p, false
	}
	raw, err := s.pending.Open(sealed)
	if err != nil || json.Unmarshal([]byte(raw), &p) != nil {
		return pendingSecret{}, false
	}
	if p.UserID != want.UserID || p.ClusterID != want.ClusterID || p.Host != want.Host || p.Port != want.Port ||
		p.Username != want.Username || p.Fingerprint != want.Fingerprint || s.now().Unix() > p.Expires {
		return pendingSecret{}, false
	}
	return p, true
}

// clusterConfirmData is the certificate confirmation page: the form's
// values (hidden, without the password), the certificate and the sealed
// password.
type clusterConfirmData struct {
	Form   *clusterForm
	Cert   *rapi.CertificateInfo
	Token  string
	Action string
	// Expired or NotYetValid: the certificate is outside its validity (a
	// pin still works, but the admin should know).
	Expired     bool
	NotYetValid bool
}

// fetchForConfirmation fetches the certificate the cluster presents and
// renders the confirmation page; a failure re-renders the form (422).
func (s *Server) fetchForConfirmation(w http.ResponseWriter, r *http.Request, f *clusterForm, page, action string, secret pendingSecret) {
	cert, err := rapi.FetchCertificate(r.Context(), f.Hostname, f.port, clusterConnectTimeout)
	if err != nil {
		s.logClusterError(r, "fetch certificate", f.Hostname, f.port, err)
		f.Error = i18n.Message{Msg: clusterError(err)}
		f.Password = ""
		s.render(w, r, http.StatusUnprocessableEntity, page, f)
		return
	}
	secret.UserID = principalFrom(r).User.ID
	secret.Host, secret.Port, secret.Username, secret.Fingerprint = f.Hostname, f.port, f.Username, cert.SHA256
	token, err := s.sealPending(secret)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	f.Password = ""
	f.Fingerprint = cert.SHA256
	now := s.now()
	s.render(w, r, http.StatusOK, "cluster_confirm", clusterConfirmData{Form: f, Cert: cert, Token: token, Action: action,
		Expired: now.After(cert.NotAfter), NotYetValid: now.Before(cert.NotBefore)})
}

// checkAndSeal verifies the connection with the final settings and seals
// the password for storage (nil when keep). On failure it re-renders the
// form with the error (422) and returns ok false.
func (s *Server) checkAndSeal(w http.ResponseWriter, r *http.Request, f *clusterForm, page, password, pin string, keep bool) (sealed []byte, probe *clusterProbe, ok bool) {
	probe, err := probeCluster(r.Context(), rapiConfig(f.Hostname, f.port, f.Username, password, pin, f.caPEM), true)
	if err != nil {
		s.logClusterError(r, "connection check", f.Hostname, f.port, err)
		f.Error = i18n.Message{Msg: clusterError(err)}
		f.Password = ""
		s.render(w, r, http.StatusUnprocessableEntity, page, f)
		return nil, nil, false
	}
	if keep {
		return nil, probe, true
	}
	if sealed, err = s.passwords.Seal(password); err != nil {
		s.serverError(w, r, err)
		return nil, nil, false
	}
	return sealed, probe, true
}

// storedPassword opens a cluster's stored RAPI password.
func (s *Server) storedPassword(c *store.Cluster) (string, error) {
	if len(c.RAPIPassword) == 0 {
		return "", nil
	}
	pw, err := s.passwords.Open(c.RAPIPassword)
	if err != nil {
		return "", fmt.Errorf("web: cluster %s: rapi password: %w", c.Slug, err)
	}
	return pw, nil
}

// flashSaved adds the success message, and a warning when the credentials
// turned out to be read-only.
func (s *Server) flashSaved(ctx context.Context, m i18n.Msg, probe *clusterProbe) {
	s.addFlash(ctx, "success", m)
	if probe != nil && !probe.CanWrite {
		s.addFlash(ctx, "warning", i18n.M("cluster.readonly.saved"))
	}
}

// clusterSaveError maps a failed save to the form: a slug taken is a field
// error (422); anything else is a server error.
func (s *Server) clusterSaveError(w http.ResponseWriter, r *http.Request, f *clusterForm, page string, err error) {
	if errors.Is(err, store.ErrConflict) {
		f.Password = ""
		f.fieldError("slug", i18n.M("cluster.form.slug.taken"))
		s.render(w, r, http.StatusUnprocessableEntity, page, f)
		return
	}
	s.serverError(w, r, err)
}
