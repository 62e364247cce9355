// Package smtptest runs a real SMTP server in the test process, so mail is
// tested through a real SMTP conversation rather than a stubbed sender.
//
// The server (go-smtp) listens on 127.0.0.1 on a free port, accepts every
// message and keeps it parsed with net/mail: envelope, headers, decoded
// subject and decoded text and HTML bodies. It can require STARTTLS (or
// speak implicit TLS) and authentication, and it can fail the ways real
// servers do: go down (Stop: connections are refused until Restart, on the
// same port), answer with temporary (4xx) or permanent (5xx) errors, or
// stall after receiving a message without ever accepting it.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server received.
type Message struct {
	// From and To are the envelope (MAIL FROM, RCPT TO).
	From string
	To   []string
	// Header is the parsed header.
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// MessageID is the Message-ID header.
	MessageID string
	// Text and HTML are the decoded text/plain and text/html parts.
	Text string
	HTML string
	// Raw is the message as received.
	Raw []byte
}

// Fault makes the server fail the way SMTP servers do.
type Fault int

const (
	// NoFault accepts every message.
	NoFault Fault = iota
	// TempFailRcpt answers RCPT TO with 451: try again later.
	TempFailRcpt
	// RejectRcpt answers RCPT TO with 550: no such mailbox.
	RejectRcpt
	// TempFailData reads the message, then answers 451: not accepted, try
	// again later.
	TempFailData
	// RejectData reads the message, then answers 554: refused for good.
	RejectData
	// StallData reads the message and never answers, until the client
	// hangs up or the server stops (or SetFault lifts the stall, which
	// then accepts the message). WaitStalled reports when it happens.
	StallData
)

// Options configure a Server.
type Options struct {
	// TLS offers STARTTLS with a self-signed certificate for 127.0.0.1,
	// which ClientTLSConfig trusts.
	TLS bool
	// ImplicitTLS speaks TLS from the first byte (like port 465), with the
	// same certificate; it implies TLS.
	ImplicitTLS bool
	// Username and Password, when set, are required (AUTH PLAIN, after
	// STARTTLS when TLS is on).
	Username, Password string
}

// Server is a running test SMTP server. Its methods are safe for
// concurrent use.
type Server struct {
	opts    Options
	addr    string
	tlsConf *tls.Config
	roots   *x509.CertPool

	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	stopped  chan struct{} // closed by Stop; a stalled DATA gives up
	fault    Fault
	faultSet chan struct{} // closed when the fault changes
	received []Message
	refused  []Message
	changed  chan struct{} // closed and replaced on every new message or stall
	stalls   int
}

// Start starts a server on 127.0.0.1 on a free port; it stops when the test
// ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	opts.TLS = opts.TLS || opts.ImplicitTLS
	s := &Server{opts: opts, changed: make(chan struct{}), faultSet: make(chan struct{})}
	if opts.TLS {
		if err := s.makeCertificate(); err != nil {
			t.Fatalf("smtptest: %v", err)
		}
	}
	if err := s.listen("127.0.0.1:0"); err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Addr returns the server's address, host:port.
func (s *Server) Addr() string { return s.addr }

// Host returns the server's IP address.
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.addr)
	return h
}

// Port returns the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// ClientTLSConfig returns a TLS configuration that trusts the server's
// certificate (nil without Options.TLS).
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.roots == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.roots, ServerName: s.Host(), MinVersion: tls.VersionTLS12}
}

func (s *Server) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if s.opts.ImplicitTLS {
		ln = tls.NewListener(ln, s.tlsConf)
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "smtptest.localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.TLSConfig = s.tlsConf
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.srv, s.ln = srv, ln
	s.stopped = make(chan struct{})
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// Stop closes the listener and every connection: the server is down and
// connections are refused until Restart. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	if srv != nil {
		close(s.stopped)
	}
	s.mu.Unlock()
	if srv != nil {
		// Close the listener too: Serve may not have registered it with
		// the server yet.
		_ = ln.Close()
		_ = srv.Close()
	}
}

// Restart brings a stopped server back on the same address.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	running := s.srv != nil
	s.mu.Unlock()
	if running {
		t.Fatal("smtptest: Restart of a running server")
	}
	var err error
	for range 50 { // the port can take a moment to be free again
		if err = s.listen(s.addr); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("smtptest: restart: %v", err)
}

// SetFault makes the server fail from now on (NoFault: succeed again).
// Lifting StallData lets a stalled message through.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
	close(s.faultSet)
	s.faultSet = make(chan struct{})
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.received...)
}

// Refused returns the messages that were received whole but not accepted
// (TempFailData, RejectData, a stall that ended without acceptance).
func (s *Server) Refused() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.refused...)
}

// WaitMessages waits until at least n messages were accepted and returns
// them; it fails the test after timeout.
func (s *Server) WaitMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	if !s.wait(timeout, func() bool { return len(s.received) >= n }) {
		t.Fatalf("smtptest: %d message(s) accepted within %s, want %d", len(s.Messages()), timeout, n)
	}
	return s.Messages()
}

// WaitStalled waits until a message is held by StallData; it fails the
// test after timeout.
func (s *Server) WaitStalled(t testing.TB, timeout time.Duration) {
	t.Helper()
	if !s.wait(timeout, func() bool { return s.stalls > 0 }) {
		t.Fatalf("smtptest: no message stalled within %s", timeout)
	}
}

// wait waits for cond, evaluated under the lock, to hold.
func (s *Server) wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// notify wakes the waiters; call with s.mu held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// linkRE matches http and https URLs in a text body.
func linkRE() *regexp.Regexp { return regexp.MustCompile(`https?://[^\s<>"]+`) }

// Links returns the http and https URLs in a text body, in order, without
// trailing sentence punctuation.
func Links(body string) []string {
	var out []string
	for _, l := range linkRE().FindAllString(body, -1) {
		out = append(out, strings.TrimRight(l, ".,;:!?)'"))
	}
	return out
}

// session is one SMTP connection's state.
type session struct {
	s     *Server
	conn  *smtp.Conn
	authd bool
	from  string
	to    []string
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

func (ss *session) needAuth() error {
	if ss.s.opts.Username != "" && !ss.authd {
		return smtp.ErrAuthRequired
	}
	if ss.s.opts.TLS {
		if _, ok := ss.conn.TLSConnectionState(); !ok {
			return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
		}
	}
	return nil
}

// AuthMechanisms offers PLAIN when a user is configured.
func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks the configured user and password.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.authd = true
		return nil
	}), nil
}

// Mail records the envelope sender.
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := ss.needAuth(); err != nil {
		return err
	}
	ss.from = from
	return nil
}

// Rcpt records a recipient, or fails as the fault says.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.needAuth(); err != nil {
		return err
	}
	switch ss.s.currentFault() {
	case TempFailRcpt:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Mailbox temporarily unavailable"}
	case RejectRcpt:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (s *Server) currentFault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault
}

// Data reads and parses the message, then accepts, refuses or holds it as
// the fault says.
func (ss *session) Data(r io.Reader) error {
	if err := ss.needAuth(); err != nil {
		return err
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := parse(ss.from, ss.to, raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Unparsable message: " + err.Error()}
	}
	s := ss.s
	var hangup *hangupWatch
	defer func() {
		if hangup != nil {
			hangup.stop(ss.conn.Conn())
		}
	}()
	for {
		s.mu.Lock()
		fault, faultSet, stopped := s.fault, s.faultSet, s.stopped
		switch fault {
		case TempFailData, RejectData:
			s.refused = append(s.refused, msg)
			s.notify()
			s.mu.Unlock()
			if fault == TempFailData {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
			}
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message refused"}
		case StallData:
			s.stalls++
			s.notify()
			s.mu.Unlock()
			if hangup == nil {
				hangup = watchHangup(ss.conn.Conn())
			}
			select {
			case <-faultSet:
				continue // the fault changed: decide again
			case <-stopped:
			case <-hangup.done:
			}
			s.mu.Lock()
			s.refused = append(s.refused, msg)
			s.notify()
			s.mu.Unlock()
			return errors.New("connection closed while stalled")
		default:
			s.received = append(s.received, msg)
			s.notify()
			s.mu.Unlock()
			return nil
		}
	}
}

// hangupWatch notices a client hanging up while its message stalls. It
// reads the connection, which is idle while the client waits for the reply
// to DATA.
type hangupWatch struct{ done chan struct{} }

func watchHangup(c net.Conn) *hangupWatch {
	w := &hangupWatch{done: make(chan struct{})}
	_ = c.SetReadDeadline(time.Time{})
	go func() {
		defer close(w.done)
		buf := make([]byte, 1)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	return w
}

// stop ends the watch and gives the connection back to the server.
func (w *hangupWatch) stop(c net.Conn) {
	_ = c.SetReadDeadline(time.Now())
	<-w.done
	_ = c.SetReadDeadline(time.Time{})
}

// Reset forgets the envelope.
func (ss *session) Reset() { ss.from, ss.to = "", nil }

// Logout ends the session.
func (ss *session) Logout() error { return nil }

// parse reads a received message.
func parse(from string, to []string, raw []byte) (Message, error) {
	mm, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{From: from, To: append([]string(nil), to...), Header: mm.Header, Raw: raw,
		MessageID: mm.Header.Get("Message-Id")}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(mm.Header.Get("Subject")); err != nil {
		return Message{}, fmt.Errorf("subject: %w", err)
	}
	if err := m.readPart(mm.Header, mm.Body); err != nil {
		return Message{}, err
	}
	return m, nil
}

// readPart decodes a (possibly multipart) body into m.Text and m.HTML.
func (m *Message) readPart(h map[string][]string, body io.Reader) error {
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	ct := get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := m.readPart(p.Header, p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &newlineSkipper{r: body})
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
		return fmt.Errorf("unexpected charset %q", cs)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mt {
	case "text/plain":
		m.Text += text
	case "text/html":
		m.HTML += text
	}
	return nil
}

// newlineSkipper drops CR and LF, which base64 bodies carry between lines.
type newlineSkipper struct{ r io.Reader }

// Read reads from the underlying reader without CR and LF.
func (n *newlineSkipper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// makeCertificate creates the self-signed certificate for STARTTLS.
func (s *Server) makeCertificate() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	s.roots = x509.NewCertPool()
	s.roots.AddCert(cert)
	s.tlsConf = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}, MinVersion: tls.VersionTLS12}
	return nil
}
