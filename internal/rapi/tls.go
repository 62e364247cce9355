package rapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// TLSConfig selects how the cluster's certificate is verified. Verification
// is never off: with PinnedSHA256 set the certificate is pinned, otherwise it
// is verified against CAPEM (or the system roots when CAPEM is empty) with
// normal host name verification.
type TLSConfig struct {
	// PinnedSHA256 is the SHA-256 fingerprint of the cluster's DER leaf
	// certificate, as uppercase or lowercase hex, with or without colons
	// (see FormatFingerprint). When set, the presented leaf certificate must
	// match it exactly (compared in constant time); the host name and the
	// chain are not checked, since Ganeti's default certificate is
	// self-signed for CN=ganeti.example.com without SAN.
	PinnedSHA256 string
	// CAPEM holds PEM certificates trusted as roots in CA mode. Empty means
	// the system roots.
	CAPEM []byte
	// ServerName overrides the name checked against the certificate in CA
	// mode (default: the configured host).
	ServerName string
}

// FormatFingerprint formats a SHA-256 digest as uppercase hex bytes joined
// by colons, e.g. "AB:01:...".
func FormatFingerprint(sum []byte) string {
	const digits = "0123456789ABCDEF"
	if len(sum) == 0 {
		return ""
	}
	b := make([]byte, 0, len(sum)*3-1)
	for i, c := range sum {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[c>>4], digits[c&0x0f])
	}
	return string(b)
}

// CertFingerprint returns the SHA-256 fingerprint of a DER certificate in the
// FormatFingerprint form.
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return FormatFingerprint(sum[:])
}

// ParseFingerprint parses a SHA-256 fingerprint given as 64 hex digits,
// either plain or as colon-separated byte pairs, in any letter case, with
// optional surrounding spaces and an optional "sha256:" or "SHA256 " label.
func ParseFingerprint(s string) ([sha256.Size]byte, error) {
	var out [sha256.Size]byte
	t := strings.TrimSpace(s)
	lower := strings.ToLower(t)
	for _, label := range []string{"sha256:", "sha-256:", "sha256 ", "sha-256 ", "sha256="} {
		if strings.HasPrefix(lower, label) {
			t = strings.TrimSpace(t[len(label):])
			break
		}
	}
	if strings.Contains(t, ":") {
		parts := strings.Split(t, ":")
		if len(parts) != sha256.Size {
			return out, fmt.Errorf("%w: fingerprint %q: want %d colon-separated bytes", ErrInvalidArgument, s, sha256.Size)
		}
		for _, p := range parts {
			if len(p) != 2 {
				return out, fmt.Errorf("%w: fingerprint %q: bad byte %q", ErrInvalidArgument, s, p)
			}
		}
		t = strings.Join(parts, "")
	}
	if len(t) != 2*sha256.Size {
		return out, fmt.Errorf("%w: fingerprint %q: want %d hex digits", ErrInvalidArgument, s, 2*sha256.Size)
	}
	if _, err := hex.Decode(out[:], []byte(t)); err != nil {
		return out, fmt.Errorf("%w: fingerprint %q: %v", ErrInvalidArgument, s, err)
	}
	return out, nil
}

// NormalizeFingerprint parses s (see ParseFingerprint) and returns it in the
// canonical uppercase colon-separated form.
func NormalizeFingerprint(s string) (string, error) {
	sum, err := ParseFingerprint(s)
	if err != nil {
		return "", err
	}
	return FormatFingerprint(sum[:]), nil
}

// buildTLSConfig turns a TLSConfig into a *tls.Config for host.
func buildTLSConfig(c TLSConfig, host string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.PinnedSHA256 != "" {
		want, err := ParseFingerprint(c.PinnedSHA256)
		if err != nil {
			return nil, fmt.Errorf("rapi: tls pin: %w", err)
		}
		if len(c.CAPEM) > 0 {
			return nil, fmt.Errorf("%w: tls: set either a pinned fingerprint or a CA, not both", ErrInvalidArgument)
		}
		// The chain and host name are replaced by the pin check below, which
		// runs on every handshake, resumed ones included.
		conf.InsecureSkipVerify = true
		conf.VerifyConnection = pinVerifier(want)
		conf.ServerName = host
		return conf, nil
	}
	if len(c.CAPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.CAPEM) {
			return nil, fmt.Errorf("%w: tls: no certificate found in CA PEM", ErrInvalidArgument)
		}
		conf.RootCAs = pool
	}
	conf.ServerName = host
	if c.ServerName != "" {
		conf.ServerName = c.ServerName
	}
	return conf, nil
}

// pinVerifier returns a VerifyConnection callback accepting only a leaf
// certificate whose SHA-256 equals want.
func pinVerifier(want [sha256.Size]byte) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("rapi: tls: server presented no certificate")
		}
		leaf := cs.PeerCertificates[0]
		got := sha256.Sum256(leaf.Raw)
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return &PinMismatchError{
				Expected:  FormatFingerprint(want[:]),
				Presented: FormatFingerprint(got[:]),
				Subject:   leaf.Subject.String(),
			}
		}
		return nil
	}
}

// CertificateInfo describes the certificate a server presented, for an
// administrator to confirm before pinning it.
type CertificateInfo struct {
	// SHA256 is the fingerprint of the DER leaf certificate, uppercase hex
	// joined by colons; store it as TLSConfig.PinnedSHA256.
	SHA256 string
	// Subject and Issuer are the distinguished names.
	Subject string
	Issuer  string
	// NotBefore and NotAfter bound the validity period.
	NotBefore time.Time
	NotAfter  time.Time
	// DNSNames and IPAddresses are the subject alternative names.
	DNSNames    []string
	IPAddresses []string
	// SelfSigned is true when subject and issuer are equal and the
	// certificate's own key verifies its signature.
	SelfSigned bool
	// PEM is the leaf certificate in PEM form (it holds no private key).
	PEM []byte
	// Chain is the number of certificates the server sent.
	Chain int
}

// FetchCertificate connects to host:port with TLS, without trusting
// anything, and returns what the server presented. It sends no credentials
// and no HTTP request. Port 0 means DefaultPort; timeout 0 means
// DefaultConnectTimeout.
func FetchCertificate(ctx context.Context, host string, port int, timeout time.Duration) (*CertificateInfo, error) {
	h, err := normalizeHost(host)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		port = DefaultPort
	}
	if port < 1 || port > 65535 {
		return nil, invalidArg("port %d", port)
	}
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	addr := net.JoinHostPort(h, strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := &tls.Dialer{
		NetDialer: &net.Dialer{},
		Config: &tls.Config{
			// Only to read the certificate; no data is exchanged on this
			// connection and the result is shown to a human to confirm.
			InsecureSkipVerify: true, //nolint:gosec
			ServerName:         h,
			MinVersion:         tls.VersionTLS12,
		},
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &TransportError{Method: "TLS", Path: addr, Timeout: ctx.Err() == context.DeadlineExceeded, Err: err}
	}
	defer conn.Close()
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return nil, errors.New("rapi: fetch certificate: not a tls connection")
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("rapi: fetch certificate: server presented no certificate")
	}
	return describeCert(certs[0], len(certs)), nil
}

func describeCert(leaf *x509.Certificate, chain int) *CertificateInfo {
	info := &CertificateInfo{
		SHA256:    CertFingerprint(leaf.Raw),
		Subject:   leaf.Subject.String(),
		Issuer:    leaf.Issuer.String(),
		NotBefore: leaf.NotBefore,
		NotAfter:  leaf.NotAfter,
		DNSNames:  append([]string(nil), leaf.DNSNames...),
		PEM:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}),
		Chain:     chain,
	}
	for _, ip := range leaf.IPAddresses {
		info.IPAddresses = append(info.IPAddresses, ip.String())
	}
	if string(leaf.RawSubject) == string(leaf.RawIssuer) && leaf.CheckSignatureFrom(leaf) == nil {
		info.SelfSigned = true
	} else if string(leaf.RawSubject) == string(leaf.RawIssuer) {
		// CheckSignatureFrom requires CA basic constraints; Ganeti's
		// certificate may lack them, so check the signature directly.
		info.SelfSigned = leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil
	}
	return info
}
