package rapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults used for zero Config fields.
const (
	// DefaultPort is ganeti-rapi's port.
	DefaultPort = 5080
	// DefaultConnectTimeout bounds TCP connect plus TLS handshake.
	DefaultConnectTimeout = 8 * time.Second
	// DefaultResponseTimeout bounds one whole call once a concurrency slot
	// is held (connect, send, wait, read).
	DefaultResponseTimeout = 15 * time.Second
	// DefaultMaxConcurrent caps calls in flight to one cluster. ganeti-rapi
	// serves 20 connections at most and silently queues the rest.
	DefaultMaxConcurrent = 8
	// DefaultMaxResponseBytes bounds a response body.
	DefaultMaxResponseBytes = 64 << 20
	// DefaultUserAgent is sent when Config.UserAgent is empty.
	DefaultUserAgent = "ganetimgr-go-rapi/1"
)

// Config describes how to reach one cluster's RAPI.
type Config struct {
	// Host is the cluster name, master IP or any name the RAPI answers on.
	// IPv6 literals may be given with or without brackets.
	Host string
	// Port defaults to DefaultPort (5080).
	Port int
	// Username and Password are sent with HTTP Basic authentication on
	// every request (Debian runs ganeti-rapi with --require-authentication,
	// so even /version needs them).
	Username string
	Password string
	// TLS selects certificate pinning or CA verification.
	TLS TLSConfig
	// ConnectTimeout bounds TCP connect plus TLS handshake (default 8 s).
	ConnectTimeout time.Duration
	// ResponseTimeout bounds a whole call once it holds a concurrency slot
	// (default 15 s). Ganeti's job wait long-poll lasts about 10 s.
	ResponseTimeout time.Duration
	// MaxConcurrent caps calls in flight to this cluster (default 8).
	// Waiting for a slot respects the caller's context.
	MaxConcurrent int
	// MaxResponseBytes bounds a response body (default 64 MiB); a larger
	// one fails with *ResponseTooLargeError.
	MaxResponseBytes int64
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
}

// Client talks to one cluster's RAPI. It is safe for concurrent use.
type Client struct {
	cfg     Config
	base    string // https://host:port
	authHdr string
	http    *http.Client
	sem     chan struct{}

	createReqV1    atomic.Bool // instance-create-reqv1 seen
	reinstallReqV1 atomic.Bool // instance-reinstall-reqv1 seen
}

// New validates cfg, fills in defaults and returns a client. No connection
// is made.
func New(cfg Config) (*Client, error) {
	host, err := normalizeHost(cfg.Host)
	if err != nil {
		return nil, err
	}
	cfg.Host = host
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, invalidArg("port %d out of range", cfg.Port)
	}
	if cfg.Username == "" {
		return nil, invalidArg("username is required (ganeti-rapi requires authentication)")
	}
	if strings.ContainsAny(cfg.Username, ":\r\n") {
		return nil, invalidArg("username must not contain a colon or newline")
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = DefaultResponseTimeout
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	tlsConf, err := buildTLSConfig(cfg.TLS, host)
	if err != nil {
		return nil, err
	}
	connectTimeout := cfg.ConnectTimeout
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil, // talk to the cluster directly; never through an env proxy
		// One deadline covers TCP connect and TLS handshake.
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeoutCause(ctx, connectTimeout, errConnectTimeout)
			defer cancel()
			raw, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, connectErr(ctx, err)
			}
			tc := tls.Client(raw, tlsConf)
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, connectErr(ctx, err)
			}
			return tc, nil
		},
		MaxConnsPerHost:       cfg.MaxConcurrent,
		MaxIdleConnsPerHost:   cfg.MaxConcurrent,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: cfg.ResponseTimeout,
		ForceAttemptHTTP2:     false,
	}
	c := &Client{
		cfg:     cfg,
		base:    "https://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port)),
		authHdr: "Basic " + basicAuth(cfg.Username, cfg.Password),
		http: &http.Client{
			Transport: tr,
			// The RAPI never redirects; following one could leak credentials.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		sem: make(chan struct{}, cfg.MaxConcurrent),
	}
	return c, nil
}

// BaseURL returns the client's base URL, e.g. "https://[2001:db8::1]:5080".
func (c *Client) BaseURL() string { return c.base }

// Host returns the configured host (without brackets).
func (c *Client) Host() string { return c.cfg.Host }

// Close releases idle connections. The client stays usable.
func (c *Client) Close() {
	c.http.CloseIdleConnections()
}

// normalizeHost checks a host name or IP literal and strips IPv6 brackets.
func normalizeHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if h == "" {
		return "", invalidArg("host is required")
	}
	if len(h) > 255 || strings.ContainsAny(h, "/?#@ \t\r\n[]%") {
		return "", invalidArg("host %q is not a host name or IP address", h)
	}
	if strings.Contains(h, ":") {
		if a, err := netip.ParseAddr(h); err != nil || !a.Is6() {
			return "", invalidArg("host %q: give the port in Config.Port, not in the host", h)
		}
	}
	return h, nil
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// Internal timeout causes, to tell client timeouts from caller cancellation.
var (
	errConnectTimeout  = errors.New("connect timeout")
	errResponseTimeout = errors.New("response timeout")
)

// connectErr marks an error from connecting as a connect timeout when the
// connect deadline caused it.
func connectErr(ctx context.Context, err error) error {
	if context.Cause(ctx) == errConnectTimeout {
		return fmt.Errorf("%w: %w", errConnectTimeout, err)
	}
	return err
}

type reasonKey struct{}

// WithReason returns a context whose mutating RAPI calls (PUT, POST, DELETE)
// carry reason as Ganeti's "reason" query parameter, which ends up in the
// job's reason trail (for example "ganetimgr:alice").
func WithReason(ctx context.Context, reason string) context.Context {
	return context.WithValue(ctx, reasonKey{}, reason)
}

// request is the single function every call goes through. body, when not
// nil, is sent as JSON; out, when not nil, receives the decoded 200 body.
func (c *Client) request(ctx context.Context, method, path string, query url.Values, body, out any) error {
	raw, err := c.requestRaw(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := decodeJSON(raw, out); err != nil {
		return fmt.Errorf("rapi: %s %s: decode response: %w", method, path, err)
	}
	return nil
}

// requestRaw performs one call and returns the raw 200 body.
func (c *Client) requestRaw(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("rapi: %s %s: encode body: %w", method, path, err)
		}
	}
	if method != http.MethodGet {
		if r, _ := ctx.Value(reasonKey{}).(string); r != "" {
			q := url.Values{}
			for k, v := range query {
				q[k] = v
			}
			q.Set("reason", r)
			query = q
		}
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}

	// Wait for a slot; this wait is not part of the response timeout.
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("rapi: %s %s: waiting for a free connection slot: %w", method, path, ctx.Err())
	}
	defer func() { <-c.sem }()

	tctx, cancel := context.WithTimeoutCause(ctx, c.cfg.ResponseTimeout, errResponseTimeout)
	defer cancel()

	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(tctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("rapi: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Authorization", c.authHdr)

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportErr(ctx, tctx, method, path, err)
	}
	defer resp.Body.Close()
	// A response racing with the deadline (the server answered because we
	// hung up) is not trusted.
	if tctx.Err() != nil {
		return nil, c.transportErr(ctx, tctx, method, path, tctx.Err())
	}

	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, parseAPIError(method, path, resp.StatusCode, b)
	}
	limit := c.cfg.MaxResponseBytes
	if resp.ContentLength > limit {
		return nil, &ResponseTooLargeError{Method: method, Path: path, Limit: limit}
	}
	var buf []byte
	if resp.ContentLength > 0 {
		buf = make([]byte, 0, resp.ContentLength+1)
	}
	bb := bytes.NewBuffer(buf)
	n, err := bb.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, c.transportErr(ctx, tctx, method, path, err)
	}
	if n > limit {
		return nil, &ResponseTooLargeError{Method: method, Path: path, Limit: limit}
	}
	if tctx.Err() != nil {
		return nil, c.transportErr(ctx, tctx, method, path, tctx.Err())
	}
	return bb.Bytes(), nil
}

// transportErr classifies an error from sending a request or reading its
// response.
func (c *Client) transportErr(parent, tctx context.Context, method, path string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	// The caller gave up: report that, not an unreachable cluster.
	if parent.Err() != nil {
		return fmt.Errorf("rapi: %s %s: %w", method, path, parent.Err())
	}
	// Certificate problems are not "unreachable": they need an admin.
	var pm *PinMismatchError
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &pm) || errors.As(err, &certErr) {
		return fmt.Errorf("rapi: %s %s: %w", method, path, err)
	}
	timeout := errors.Is(err, errConnectTimeout) || context.Cause(tctx) == errResponseTimeout
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		timeout = true
	}
	return &TransportError{Method: method, Path: path, Timeout: timeout, Err: err}
}

// decodeJSON unmarshals data into out. Fields whose JSON type does not match
// the Go type are left at their zero value instead of failing the whole
// response, unless the mismatch is at the top level (the response is not the
// expected kind of value at all).
func decodeJSON(data []byte, out any) error {
	err := json.Unmarshal(data, out)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return nil
	}
	return err
}

// lenientUnmarshal is decodeJSON for nested custom decoders: only a syntax
// error fails (it cannot happen inside an already validated document).
func lenientUnmarshal(data []byte, out any) error {
	err := json.Unmarshal(data, out)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return nil
	}
	return err
}

// pathEscape joins path segments, escaping each.
func pathEscape(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// checkName validates an object name used in a URL path. Ganeti's URL
// patterns accept [\w._-]+.
func checkName(kind, name string) error {
	if name == "" {
		return invalidArg("empty %s name", kind)
	}
	if len(name) > 255 || name == "." || name == ".." {
		return invalidArg("%s name %q", kind, name)
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return invalidArg("%s name %q contains %q", kind, name, r)
		}
	}
	return nil
}

// flag adds key=1 to q when b is true.
func flag(q url.Values, key string, b bool) url.Values {
	if !b {
		return q
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set(key, "1")
	return q
}

// seconds converts a duration to whole seconds, rounding up.
func seconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
