package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// ErrRejected marks a mail the SMTP server refused for good (a 5xx reply
// to RCPT TO or to the message): retrying cannot help.
var ErrRejected = errors.New("mail: refused by the server")

// Sender delivers one stored mail. An error wrapping ErrRejected means the
// mail can never be delivered; any other error is worth a retry.
type Sender interface {
	Send(ctx context.Context, m *store.OutboxMail) error
}

// NewSender returns the sender the configuration asks for: an SMTPSender
// in config.MailModeSMTP, a LogSender writing to log in config.MailModeLog.
func NewSender(cfg config.Mail, log *slog.Logger) (Sender, error) {
	switch cfg.Mode {
	case config.MailModeSMTP:
		return NewSMTPSender(SMTPOptions{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password, TLS: cfg.SMTP.TLS, From: cfg.From})
	case config.MailModeLog:
		return NewLogSender(cfg.From, log), nil
	default:
		return nil, fmt.Errorf("mail: unknown mail mode %q", cfg.Mode)
	}
}

// SMTPOptions configure an SMTPSender.
type SMTPOptions struct {
	// Host and Port address the SMTP server.
	Host string
	Port int
	// Username and Password authenticate when Username is set.
	Username string
	Password string
	// TLS is "starttls" (required, the default), "tls" (implicit TLS) or
	// "none".
	TLS string
	// From is the sender of every mail, optionally with a display name.
	From string
	// TLSConfig replaces the TLS settings (the system's roots, TLS 1.2 or
	// newer); its ServerName defaults to Host. Tests use it to trust their
	// own certificate.
	TLSConfig *tls.Config
	// Timeout bounds each step of the SMTP conversation; 0 means 30s.
	Timeout time.Duration
}

// SMTPSender delivers mails through an SMTP server with go-mail, one
// connection per mail. It is safe for concurrent use.
type SMTPSender struct {
	opts SMTPOptions
	from *mail.Address
}

// String describes the sender without its password.
func (s *SMTPSender) String() string {
	return fmt.Sprintf("smtp://%s (tls %s, user %q)", net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port)), s.opts.TLS, s.opts.Username)
}

// NewSMTPSender checks o and returns the sender.
func NewSMTPSender(o SMTPOptions) (*SMTPSender, error) {
	if o.Host == "" || o.Port <= 0 || o.Port > 65535 {
		return nil, errors.New("mail: the SMTP server needs a host and a port")
	}
	if o.TLS == "" {
		o.TLS = "starttls"
	}
	if o.TLS != "starttls" && o.TLS != "tls" && o.TLS != "none" {
		return nil, fmt.Errorf("mail: unknown SMTP TLS mode %q", o.TLS)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("mail: sender address %q: %w", o.From, err)
	}
	return &SMTPSender{opts: o, from: from}, nil
}

// client returns a go-mail client for one delivery.
func (s *SMTPSender) client() (*gomail.Client, error) {
	o := s.opts
	opts := []gomail.Option{gomail.WithPort(o.Port), gomail.WithTimeout(o.Timeout)}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		tc = o.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = o.Host
	}
	opts = append(opts, gomail.WithTLSConfig(tc))
	switch o.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if o.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if o.TLS == "none" {
			// Only allowed (by the configuration) to a server on this
			// host, where PLAIN crosses no network.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(o.Username), gomail.WithPassword(o.Password))
	}
	c, err := gomail.NewClient(o.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp client: %w", err)
	}
	return c, nil
}

// message builds the MIME message of m.
func (s *SMTPSender) message(m *store.OutboxMail) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	if err := msg.AddToFormat(m.RecipientName, m.Recipient); err != nil {
		return nil, fmt.Errorf("%w: recipient %q: %w", ErrRejected, m.Recipient, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">"))
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetUserAgent("ganetimgr")
	msg.SetGenHeader(gomail.HeaderContentLang, m.Language)
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, m.TextBody)
	if m.HTMLBody != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTMLBody)
	}
	return msg, nil
}

// Send delivers m in one SMTP conversation. It returns nil once the server
// has accepted the message, even if the conversation fails afterwards.
// Cancelling ctx aborts the conversation at once.
func (s *SMTPSender) Send(ctx context.Context, m *store.OutboxMail) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("mail: connect to %s: %w", c.ServerAddr(), err)
	}
	// go-mail heeds ctx only while connecting: close the connection when
	// ctx ends, so a stalled server cannot hold the worker.
	stop := context.AfterFunc(ctx, func() { _ = sc.Close() })
	defer stop()
	err = c.SendWithSMTPClient(sc, msg)
	if msg.IsDelivered() {
		// Accepted: a failing RSET or QUIT afterwards changes nothing.
		_ = c.CloseWithSMTPClient(sc)
		return nil
	}
	_ = sc.Close()
	if err == nil {
		err = errors.New("not delivered")
	}
	if ctx.Err() != nil {
		return fmt.Errorf("mail: send via %s: %w (%w)", c.ServerAddr(), ctx.Err(), err)
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 &&
		(se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPData || se.Reason == gomail.ErrSMTPDataClose) {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return fmt.Errorf("mail: send via %s: %w", c.ServerAddr(), err)
}

// LogSender is the development mode: it writes every mail, body and links
// included, to the log instead of sending it. Do not use it in production,
// where the links would end up in the log.
type LogSender struct {
	from string
	log  *slog.Logger
}

// NewLogSender returns a LogSender writing to log.
func NewLogSender(from string, log *slog.Logger) *LogSender {
	return &LogSender{from: from, log: log}
}

// Send logs m at level info.
func (s *LogSender) Send(ctx context.Context, m *store.OutboxMail) error {
	s.log.InfoContext(ctx, "mail not sent: GANETIMGR_MAIL_MODE=log",
		"outbox_id", m.ID, "from", s.from, "to", m.Recipient, "template", m.Template, "language", m.Language,
		"message_id", m.MessageID, "subject", m.Subject, "body", m.TextBody)
	return nil
}
