package rapifake

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// newCertificate creates a self-signed certificate like the one
// gnt-cluster init generates: CN ganeti.example.com, no SAN, five years
// (ECDSA P-256 instead of RSA, and a random serial so that a rotated
// certificate differs).
func newCertificate() (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               pkix.Name{CommonName: "ganeti.example.com"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// Fingerprint formats the SHA-256 of a DER certificate as uppercase,
// colon-separated hex ("AB:CD:...").
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// CertificateDER returns the DER bytes of the certificate the cluster
// currently serves.
func (c *Cluster) CertificateDER() []byte {
	return c.cert.Load().Certificate[0]
}

// CertificatePEM returns the current certificate (without key) as PEM.
func (c *Cluster) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.CertificateDER()})
}

// Fingerprint returns the SHA-256 fingerprint of the current certificate,
// uppercase colon-separated hex, for pinning.
func (c *Cluster) Fingerprint() string { return Fingerprint(c.CertificateDER()) }

// RotateCertificate replaces the served certificate with a new
// self-signed one (a "changed certificate" fault: pinned clients must
// refuse it) and returns the new fingerprint. New TLS handshakes use it at
// once.
func (c *Cluster) RotateCertificate() (string, error) {
	cert, err := newCertificate()
	if err != nil {
		return "", err
	}
	c.cert.Store(cert)
	return Fingerprint(cert.Certificate[0]), nil
}

// TLSConfig returns a server TLS configuration serving the cluster's
// current certificate (following RotateCertificate).
func (c *Cluster) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cert.Load(), nil },
	}
}

// Start listens on Options.Addr (default 127.0.0.1 on a free port) and
// serves HTTPS in the background. It returns the base URL, e.g.
// "https://127.0.0.1:43121".
func (c *Cluster) Start() (string, error) {
	ln, err := net.Listen("tcp", c.opts.Addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", c.opts.Addr, err)
	}
	return c.Serve(ln)
}

// Serve serves HTTPS on an existing listener in the background and
// returns the base URL. The listener is closed by Close.
func (c *Cluster) Serve(ln net.Listener) (string, error) {
	c.srvMu.Lock()
	defer c.srvMu.Unlock()
	if c.srv != nil {
		_ = ln.Close()
		return "", errors.New("cluster already started")
	}
	if c.ctx.Err() != nil {
		_ = ln.Close()
		return "", errors.New("cluster closed")
	}
	srv := &http.Server{
		Handler:           c.Handler(),
		TLSConfig:         c.TLSConfig(),
		ReadHeaderTimeout: 30 * time.Second,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	srv.SetKeepAlivesEnabled(c.opts.KeepAlive)
	c.srv, c.ln = srv, ln
	c.url = "https://" + ln.Addr().String()
	tl := tls.NewListener(ln, srv.TLSConfig)
	go func() { _ = srv.Serve(tl) }()
	return c.url, nil
}

// URL returns the base URL once started ("" before).
func (c *Cluster) URL() string {
	c.srvMu.Lock()
	defer c.srvMu.Unlock()
	return c.url
}

// Addr returns the listening address ("host:port") once started.
func (c *Cluster) Addr() string {
	c.srvMu.Lock()
	defer c.srvMu.Unlock()
	if c.ln == nil {
		return ""
	}
	return c.ln.Addr().String()
}

// Host returns the listening host once started.
func (c *Cluster) Host() string {
	h, _, _ := net.SplitHostPort(c.Addr())
	return h
}

// Port returns the listening port once started (0 before).
func (c *Cluster) Port() int {
	_, p, _ := net.SplitHostPort(c.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// Close stops the server (if started), ends hanging requests and
// pending jobs. The cluster cannot be restarted.
func (c *Cluster) Close() error {
	c.cancel()
	c.srvMu.Lock()
	srv := c.srv
	c.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// ClientTLSConfig returns a client TLS configuration that accepts exactly
// the cluster's current certificate (pinning by fingerprint, no hostname
// check), as a ganetimgr client would do.
func (c *Cluster) ClientTLSConfig() *tls.Config {
	return PinnedTLSConfig(c.Fingerprint())
}

// PinnedTLSConfig returns a client TLS configuration accepting only a leaf
// certificate with the given SHA-256 fingerprint (format of Fingerprint).
func PinnedTLSConfig(fingerprint string) *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // replaced by the pin check below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no peer certificate")
			}
			if got := Fingerprint(raw[0]); !strings.EqualFold(got, fingerprint) {
				return fmt.Errorf("certificate fingerprint %s does not match pinned %s", got, fingerprint)
			}
			return nil
		},
	}
}
