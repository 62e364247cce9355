// Package config reads ganetimgr's configuration from environment variables
// once, at start, and validates it. Secrets may instead be read from a file
// named by the variable with a _FILE suffix (for example
// GANETIMGR_SECRET_KEY_FILE), which suits container secrets.
//
// Every variable is listed by Variables, which is also the source of the README's
// configuration table, so code and documentation cannot drift apart.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the validated configuration of one ganetimgr process.
type Config struct {
	// Listen is the address the web server listens on.
	Listen string
	// MetricsListen is the address of the Prometheus metrics listener; empty disables it.
	MetricsListen string
	// DatabaseURL is the PostgreSQL connection string; empty means "start a
	// private PostgreSQL under DataDir" (the embedded default for trying it out).
	DatabaseURL string
	// DataDir holds the private PostgreSQL and the generated secret key when
	// DatabaseURL is empty.
	DataDir string
	// AutoMigrate applies pending migrations when serving starts.
	AutoMigrate bool
	// BaseURL is the public address of the site, used in mailed links.
	BaseURL *url.URL
	// SecretKey is the key for session and encryption use (at least 32 bytes).
	// Empty only in embedded mode, where one is generated and kept in DataDir.
	SecretKey []byte
	// Mail holds the outgoing mail settings.
	Mail Mail
	// TagPrefix is the prefix of the Ganeti tags ganetimgr reads and writes.
	TagPrefix string
	// DefaultLanguage is the language used when nothing else decides ("en" or "el").
	DefaultLanguage string
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// LogFormat is "text" or "json".
	LogFormat string
	// TrustedProxies are the addresses whose X-Forwarded-For header is believed.
	TrustedProxies []netip.Prefix
	// SessionLifetime is the absolute lifetime of a session.
	SessionLifetime time.Duration
	// SessionIdleTimeout ends a session unused for this long; 0 disables it.
	SessionIdleTimeout time.Duration
	// ShutdownTimeout bounds the draining of in-flight requests at shutdown.
	ShutdownTimeout time.Duration
	// Demo registers the simulated demo cluster (embedded mode only).
	Demo bool
	// SyncInterval is the time between two background syncs of a cluster.
	SyncInterval time.Duration
	// SyncStaleAfter is the number of missed sync intervals after which a
	// cluster's data is shown as stale.
	SyncStaleAfter int
	// Accounts holds the registration and account-link settings.
	Accounts Accounts
	// Applications holds the limits of instance applications.
	Applications Applications
	// Instances holds the settings of instance actions.
	Instances Instances
	// AuditRetention is how long audit log entries are kept; 0 keeps them
	// forever.
	AuditRetention time.Duration
	// OAuth holds the OAuth2 provider and API settings.
	OAuth OAuth
}

// How destructive instance actions (reinstall, rename, destroy) are
// confirmed (Instances.Confirm).
const (
	// ConfirmMail mails a single-use link that expires (ganetimgr's way).
	ConfirmMail = "mail"
	// ConfirmPassword asks for the user's password on the action's form.
	ConfirmPassword = "password"
)

// Instances is the configuration of instance actions.
type Instances struct {
	// Confirm is ConfirmMail or ConfirmPassword.
	Confirm string
	// ConfirmTTL is how long a mailed confirmation link stays valid.
	ConfirmTTL time.Duration
}

// OAuth is the configuration of the OAuth2 provider and the JSON API.
type OAuth struct {
	// TokenLifetime is how long an access token stays valid.
	TokenLifetime time.Duration
	// CORSOrigins are the origins allowed to call the JSON API from a
	// browser (exact "scheme://host[:port]"); empty allows none.
	CORSOrigins []string
}

// Applications is the configuration of instance applications: what users
// may ask for, and how approved VMs are created.
type Applications struct {
	// MemoryChoicesMB are the memory sizes offered, in MB, ascending.
	MemoryChoicesMB []int
	// VCPUsMax is the most vCPUs a user may ask for (choices 1 to it).
	VCPUsMax int
	// DiskMinGB and DiskMaxGB bound the disk size a user may ask for.
	DiskMinGB int
	DiskMaxGB int
	// Contact is what the form asks for besides the applicant:
	// ContactEither, ContactOrganization or ContactAdmin.
	Contact string
	// StartInstances starts a VM once it is created.
	StartInstances bool
}

// What an application must name besides the applicant (Applications.Contact).
const (
	// ContactEither asks for an organization or a full administrative
	// contact (name, e-mail, phone).
	ContactEither = "either"
	// ContactOrganization asks for an organization.
	ContactOrganization = "organization"
	// ContactAdmin asks for a full administrative contact.
	ContactAdmin = "contact"
)

// Accounts is the configuration of self-registration and of the links
// mailed to users.
type Accounts struct {
	// RegistrationOpen lets anyone register an account (which still needs a
	// confirmed address and an administrator's approval).
	RegistrationOpen bool
	// ActivationTTL is how long a registration's e-mail confirmation link
	// stays valid.
	ActivationTTL time.Duration
	// PasswordResetTTL is how long a password-reset link stays valid.
	PasswordResetTTL time.Duration
	// EmailChangeTTL is how long the confirmation link of a new e-mail
	// address stays valid.
	EmailChangeTTL time.Duration
	// PasswordMinLength is the minimum length of a new password, in
	// characters.
	PasswordMinLength int
}

// Mail modes (Mail.Mode).
const (
	// MailModeSMTP sends mail through the SMTP server.
	MailModeSMTP = "smtp"
	// MailModeLog writes each mail to the log instead of sending it
	// (development).
	MailModeLog = "log"
)

// Mail is the outgoing mail configuration.
type Mail struct {
	// Mode is MailModeSMTP or MailModeLog.
	Mode string
	// From is the sender address of every mail, as given (it may carry a
	// display name: "Ganeti Manager <ganetimgr@example.org>").
	From string
	// AdminEmails receive the administrator notifications (bare addresses).
	AdminEmails []string
	// SMTP is the server mail is sent through in MailModeSMTP.
	SMTP SMTP
}

// SMTP is the outgoing mail server.
type SMTP struct {
	// Host is the SMTP server (a host name or IP address, no port).
	Host string
	// Port is the SMTP server port.
	Port int
	// Username and Password authenticate to the server when Username is set.
	Username string
	Password string
	// TLS is "starttls", "tls" (implicit) or "none".
	TLS string
}

// Embedded reports whether ganetimgr runs its own private PostgreSQL.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// Secure reports whether the site is served over https (cookies get Secure).
func (c *Config) Secure() bool { return c.BaseURL.Scheme == "https" }

// Var documents one environment variable.
type Var struct {
	Name    string
	Default string
	Secret  bool // also read from NAME_FILE
	Doc     string
}

// Variables lists every environment variable ganetimgr reads, in README order.
func Variables() []Var {
	return []Var{
		{"GANETIMGR_LISTEN", "127.0.0.1:8080", false, "Address the web server listens on."},
		{"GANETIMGR_BASE_URL", "http://<listen address>", false, "Public URL of the site (scheme, host, optional path), used in mailed links. With https, cookies are marked Secure."},
		{"DATABASE_URL", "(unset)", true, "PostgreSQL connection string. Unset: a private PostgreSQL is created and started under GANETIMGR_DATA_DIR (for trying ganetimgr out, not for production). The pool holds as many connections as there are CPUs (at least 4) unless the URL sets `pool_max_conns`."},
		{"GANETIMGR_DATA_DIR", "./data", false, "Directory of the private PostgreSQL and generated secret key, used only when DATABASE_URL is unset."},
		{"GANETIMGR_AUTO_MIGRATE", "true", false, "Apply pending database migrations when `serve` starts."},
		{"GANETIMGR_SECRET_KEY", "(required with DATABASE_URL)", true, "Secret for session and encryption use: at least 32 bytes, given as text, hex or base64. Generate one with `openssl rand -base64 48`."},
		{"GANETIMGR_MAIL_MODE", "`smtp` with GANETIMGR_SMTP_HOST, else `log`", false, "`smtp` sends mail through the SMTP server; `log` writes every mail to the log instead of sending it (for development). Either way mails go through the database outbox first."},
		{"GANETIMGR_MAIL_FROM", "ganetimgr@<host of GANETIMGR_BASE_URL>", false, "Sender address of the mails, optionally with a name: `Ganeti Manager <ganetimgr@example.org>`. The default uses `localhost` when the base URL's host is an IP address."},
		{"GANETIMGR_ADMIN_EMAILS", "(none)", false, "Comma-separated addresses that receive administrator notifications (such as accounts awaiting approval)."},
		{"GANETIMGR_SMTP_HOST", "(unset)", false, "SMTP server (host name or IP address, no port); required with `GANETIMGR_MAIL_MODE=smtp`."},
		{"GANETIMGR_SMTP_PORT", "587", false, "SMTP port."},
		{"GANETIMGR_SMTP_USERNAME", "(unset)", false, "SMTP user name; authentication is used when set."},
		{"GANETIMGR_SMTP_PASSWORD", "(unset)", true, "SMTP password. Never logged."},
		{"GANETIMGR_SMTP_TLS", "starttls", false, "`starttls` (required, usually port 587), `tls` (implicit TLS, usually port 465) or `none` (only without a user name, or to a server on the same host)."},
		{"GANETIMGR_TAG_PREFIX", "ganetimgr", false, "Prefix of the Ganeti tags ganetimgr reads and writes (`<prefix>:user:<name>` ...). Keep the one an existing deployment used."},
		{"GANETIMGR_DEFAULT_LANGUAGE", "en", false, "Language when neither the user's setting, a cookie nor the browser decides: `en` or `el`."},
		{"GANETIMGR_LOG_LEVEL", "info", false, "`debug`, `info`, `warn` or `error`."},
		{"GANETIMGR_LOG_FORMAT", "text", false, "`text` or `json`."},
		{"GANETIMGR_TRUSTED_PROXIES", "(none)", false, "Comma-separated addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For is trusted, e.g. `127.0.0.1,10.0.0.0/8`."},
		{"GANETIMGR_SESSION_LIFETIME", "3h", false, "Absolute lifetime of a login session (Go duration)."},
		{"GANETIMGR_SESSION_IDLE_TIMEOUT", "1h", false, "A session unused this long ends; `0` disables the idle timeout."},
		{"GANETIMGR_METRICS_LISTEN", "(unset)", false, "Address of the Prometheus `/metrics` listener, e.g. `127.0.0.1:9464`. Unset: no metrics listener."},
		{"GANETIMGR_SHUTDOWN_TIMEOUT", "15s", false, "How long in-flight requests may take to finish at shutdown."},
		{"GANETIMGR_DEMO", "true", false, "With the private PostgreSQL only: register a simulated demo cluster so there is something to look at."},
		{"GANETIMGR_SYNC_INTERVAL", "30s", false, "Time between two background syncs of each cluster (Go duration, 5s to 1h; spread by ±10%). Pages read the synced data and never wait on a cluster."},
		{"GANETIMGR_SYNC_STALE_AFTER", "3", false, "Number of missed sync intervals after which a cluster's data is shown as stale (1 to 100)."},
		{"GANETIMGR_REGISTRATION", "open", false, "`open`: anyone may register an account, which can log in once its e-mail address is confirmed and an administrator approved it; `closed`: no registration page."},
		{"GANETIMGR_ACCOUNT_ACTIVATION_DAYS", "10", false, "Days the e-mail confirmation link of a new registration stays valid; a registration still unconfirmed after that is deleted, freeing its username and address (1 to 365)."},
		{"GANETIMGR_PASSWORD_RESET_HOURS", "24", false, "Hours a password-reset link stays valid (1 to 168)."},
		{"GANETIMGR_EMAIL_CHANGE_HOURS", "48", false, "Hours the confirmation link sent to a new e-mail address stays valid (1 to 168)."},
		{"GANETIMGR_PASSWORD_MIN_LENGTH", "10", false, "Minimum length of a new password in characters (8 to 128). New passwords are also checked against a list of common passwords."},
		{"GANETIMGR_APP_MEMORY_CHOICES", "512,768,1024,1500,2048,3072,4096", false, "Memory sizes in MB a user may ask for in an instance application (comma-separated, 64 to 1048576). Reviewers may set any size the cluster's policy allows."},
		{"GANETIMGR_APP_VCPUS_MAX", "4", false, "Most vCPUs a user may ask for in an application (1 to 256)."},
		{"GANETIMGR_APP_DISK_MIN_GB", "2", false, "Smallest disk in GB a user may ask for in an application (1 to 65536)."},
		{"GANETIMGR_APP_DISK_MAX_GB", "50", false, "Largest disk in GB a user may ask for in an application (at least GANETIMGR_APP_DISK_MIN_GB, at most 65536)."},
		{"GANETIMGR_APP_CONTACT", "either", false, "What an application names besides the applicant: `either` an organization or an administrative contact (name, e-mail, phone), `organization`, or `contact`."},
		{"GANETIMGR_APP_START", "true", false, "Start a VM as soon as it is created from an approved application."},
		{"GANETIMGR_ACTION_CONFIRM", "mail", false, "How reinstall, rename and destroy are confirmed: `mail` sends a single-use link to the user's address, `password` asks for the user's password on the action's form."},
		{"GANETIMGR_ACTION_CONFIRM_DAYS", "7", false, "Days a mailed confirmation link of reinstall, rename or destroy stays valid (1 to 30)."},
		{"GANETIMGR_AUDIT_RETENTION_DAYS", "365", false, "Days audit log entries are kept (0 keeps them forever, at most 3650)."},
		{"GANETIMGR_OAUTH_TOKEN_DAYS", "70", false, "Days an OAuth2 access token stays valid (1 to 3650)."},
		{"GANETIMGR_API_CORS_ORIGINS", "(none)", false, "Comma-separated origins (`https://tools.example.org`) whose pages may call the JSON API (`/instances/list/`, `/user/details/`) from a browser."},
	}
}

// Error reports one invalid setting, naming the variable.
type Error struct {
	Var     string
	Problem string
}

func (e *Error) Error() string { return e.Var + ": " + e.Problem }

// Load reads the configuration through getenv (os.Getenv in production) and
// readFile (os.ReadFile) and validates it. The returned error joins one
// *Error per invalid variable.
func Load(getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	l := loader{getenv: getenv, readFile: readFile}
	c := &Config{}
	c.Listen = l.str("GANETIMGR_LISTEN", "127.0.0.1:8080")
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		l.fail("GANETIMGR_LISTEN", "must be host:port, e.g. 127.0.0.1:8080")
	}
	c.MetricsListen = l.str("GANETIMGR_METRICS_LISTEN", "")
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			l.fail("GANETIMGR_METRICS_LISTEN", "must be host:port, e.g. 127.0.0.1:9464")
		} else if c.MetricsListen == c.Listen {
			l.fail("GANETIMGR_METRICS_LISTEN", "must differ from GANETIMGR_LISTEN")
		}
	}
	c.DatabaseURL = l.secret("DATABASE_URL")
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			l.fail("DATABASE_URL", "must be a postgres:// or postgresql:// URL")
		}
	}
	c.DataDir = l.str("GANETIMGR_DATA_DIR", "./data")
	c.AutoMigrate = l.boolean("GANETIMGR_AUTO_MIGRATE", true)

	base := l.str("GANETIMGR_BASE_URL", "")
	if base == "" {
		base = "http://" + c.Listen
	}
	u, err := url.Parse(base)
	switch {
	case err != nil, u.Host == "", u.Scheme != "http" && u.Scheme != "https":
		l.fail("GANETIMGR_BASE_URL", "must be an absolute http:// or https:// URL, e.g. https://ganetimgr.example.org")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		l.fail("GANETIMGR_BASE_URL", "must not contain user info, a query or a fragment")
	default:
		u.Path = strings.TrimSuffix(u.Path, "/")
		c.BaseURL = u
	}

	if key := l.secret("GANETIMGR_SECRET_KEY"); key != "" {
		if k, ok := decodeKey(key); ok {
			c.SecretKey = k
		} else {
			l.fail("GANETIMGR_SECRET_KEY", "must be at least 32 bytes (as text, hex or base64); generate one with `openssl rand -base64 48`")
		}
	} else if c.DatabaseURL != "" {
		l.fail("GANETIMGR_SECRET_KEY", "is required when DATABASE_URL is set; generate one with `openssl rand -base64 48`")
	}

	c.Mail = l.mail(c.BaseURL)

	c.TagPrefix = l.str("GANETIMGR_TAG_PREFIX", "ganetimgr")
	if !validTagPrefix(c.TagPrefix) {
		l.fail("GANETIMGR_TAG_PREFIX", "must be 1-64 characters of letters, digits, '.', '_', '-' (no ':')")
	}
	c.DefaultLanguage = l.oneOf("GANETIMGR_DEFAULT_LANGUAGE", "en", "en", "el")
	switch lv := l.oneOf("GANETIMGR_LOG_LEVEL", "info", "debug", "info", "warn", "error"); lv {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		c.LogLevel = slog.LevelInfo
	}
	c.LogFormat = l.oneOf("GANETIMGR_LOG_FORMAT", "text", "text", "json")
	c.TrustedProxies = l.prefixes("GANETIMGR_TRUSTED_PROXIES")
	c.SessionLifetime = l.duration("GANETIMGR_SESSION_LIFETIME", 3*time.Hour, time.Minute)
	c.SessionIdleTimeout = l.duration("GANETIMGR_SESSION_IDLE_TIMEOUT", time.Hour, 0)
	if c.SessionIdleTimeout != 0 && c.SessionIdleTimeout < time.Minute {
		l.fail("GANETIMGR_SESSION_IDLE_TIMEOUT", "must be 0 (off) or at least 1m")
	}
	c.ShutdownTimeout = l.duration("GANETIMGR_SHUTDOWN_TIMEOUT", 15*time.Second, time.Second)
	c.Demo = l.boolean("GANETIMGR_DEMO", true)
	c.SyncInterval = l.duration("GANETIMGR_SYNC_INTERVAL", 30*time.Second, 5*time.Second)
	if c.SyncInterval > time.Hour {
		l.fail("GANETIMGR_SYNC_INTERVAL", "must be between 5s and 1h")
		c.SyncInterval = 30 * time.Second
	}
	c.SyncStaleAfter = l.integer("GANETIMGR_SYNC_STALE_AFTER", 3, 1, 100)
	c.Accounts = l.accounts()
	c.Applications = l.applications()
	c.Instances = Instances{
		Confirm:    l.oneOf("GANETIMGR_ACTION_CONFIRM", ConfirmMail, ConfirmMail, ConfirmPassword),
		ConfirmTTL: time.Duration(l.integer("GANETIMGR_ACTION_CONFIRM_DAYS", 7, 1, 30)) * 24 * time.Hour,
	}
	c.AuditRetention = time.Duration(l.integer("GANETIMGR_AUDIT_RETENTION_DAYS", 365, 0, 3650)) * 24 * time.Hour
	c.OAuth = OAuth{
		TokenLifetime: time.Duration(l.integer("GANETIMGR_OAUTH_TOKEN_DAYS", 70, 1, 3650)) * 24 * time.Hour,
		CORSOrigins:   l.origins("GANETIMGR_API_CORS_ORIGINS"),
	}
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return c, nil
}

// FromEnv loads the configuration from the process environment.
func FromEnv() (*Config, error) { return Load(os.Getenv, os.ReadFile) }

// DecodeKey interprets a secret key given as hex, base64 or plain text and
// reports whether it is long enough (32 bytes).
func DecodeKey(s string) ([]byte, bool) { return decodeKey(s) }

func decodeKey(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) >= 32 {
		return b, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= 32 {
			return b, true
		}
	}
	if len(s) >= 32 {
		return []byte(s), true
	}
	return nil, false
}

func validTagPrefix(p string) bool {
	if p == "" || len(p) > 64 {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

type loader struct {
	getenv   func(string) string
	readFile func(string) ([]byte, error)
	errs     []error
}

func (l *loader) fail(name, problem string) {
	l.errs = append(l.errs, &Error{Var: name, Problem: problem})
}

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

// secret reads NAME, or the file named by NAME_FILE; setting both is an error.
func (l *loader) secret(name string) string {
	v, file := l.getenv(name), strings.TrimSpace(l.getenv(name+"_FILE"))
	if file == "" {
		return strings.TrimSpace(v)
	}
	if v != "" {
		l.fail(name, "set either "+name+" or "+name+"_FILE, not both")
		return ""
	}
	b, err := l.readFile(file)
	if err != nil {
		l.fail(name+"_FILE", "cannot read "+strconv.Quote(file)+": "+unwrapPathError(err))
		return ""
	}
	return strings.TrimSpace(string(b))
}

func unwrapPathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (l *loader) boolean(name string, def bool) bool {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, "must be true or false, not "+strconv.Quote(v))
		return def
	}
	return b
}

func (l *loader) integer(name string, def, lo, hi int) int {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		l.fail(name, fmt.Sprintf("must be a whole number from %d to %d, not %q", lo, hi, v))
		return def
	}
	return n
}

func (l *loader) duration(name string, def, min time.Duration) time.Duration {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		l.fail(name, "must be a duration such as 90s, 30m or 3h, not "+strconv.Quote(v))
		return def
	}
	if d < min || d > 30*24*time.Hour {
		l.fail(name, fmt.Sprintf("must be between %s and 720h", min))
		return def
	}
	return d
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, fmt.Sprintf("must be one of %s, not %q", strings.Join(allowed, ", "), v))
	return def
}

func (l *loader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, part := range strings.Split(l.str(name, ""), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			l.fail(name, fmt.Sprintf("%q is neither an IP address nor a CIDR prefix", part))
			continue
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out
}

// mail reads the GANETIMGR_MAIL_* and GANETIMGR_SMTP_* variables. base is
// the validated base URL (nil when it was invalid).
func (l *loader) mail(base *url.URL) Mail {
	var m Mail
	if l.getenv("GANETIMGR_SMTP_FROM") != "" {
		l.fail("GANETIMGR_SMTP_FROM", "was renamed GANETIMGR_MAIL_FROM; set that instead")
	}
	m.SMTP.Host = l.str("GANETIMGR_SMTP_HOST", "")
	if h := m.SMTP.Host; h != "" {
		if _, _, err := net.SplitHostPort(h); err == nil || strings.ContainsAny(h, "/@ ") {
			l.fail("GANETIMGR_SMTP_HOST", "must be a host name or IP address without a port or scheme (set the port with GANETIMGR_SMTP_PORT), not "+strconv.Quote(h))
		}
	}
	m.SMTP.Port = l.integer("GANETIMGR_SMTP_PORT", 587, 1, 65535)
	m.SMTP.Username = l.str("GANETIMGR_SMTP_USERNAME", "")
	m.SMTP.Password = l.secret("GANETIMGR_SMTP_PASSWORD")
	if m.SMTP.Password != "" && m.SMTP.Username == "" {
		l.fail("GANETIMGR_SMTP_PASSWORD", "is set but GANETIMGR_SMTP_USERNAME is not")
	}
	m.SMTP.TLS = l.oneOf("GANETIMGR_SMTP_TLS", "starttls", "starttls", "tls", "none")
	if m.SMTP.TLS == "none" && m.SMTP.Username != "" && !loopbackHost(m.SMTP.Host) {
		l.fail("GANETIMGR_SMTP_TLS", "must be starttls or tls when GANETIMGR_SMTP_USERNAME is set and the server is not on this host: the password would cross the network in clear text")
	}

	def := MailModeLog
	if m.SMTP.Host != "" {
		def = MailModeSMTP
	}
	m.Mode = l.oneOf("GANETIMGR_MAIL_MODE", def, MailModeSMTP, MailModeLog)
	if m.Mode == MailModeSMTP && m.SMTP.Host == "" {
		l.fail("GANETIMGR_SMTP_HOST", "is required when GANETIMGR_MAIL_MODE is smtp")
	}

	m.From = l.str("GANETIMGR_MAIL_FROM", "ganetimgr@"+mailDomain(base))
	if a, err := mail.ParseAddress(m.From); err != nil || !strings.Contains(a.Address, "@") {
		l.fail("GANETIMGR_MAIL_FROM", "must be a mail address, e.g. ganetimgr@example.org or \"Ganeti Manager <ganetimgr@example.org>\"")
	}

	for _, part := range strings.Split(l.str("GANETIMGR_ADMIN_EMAILS", ""), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, err := mail.ParseAddress(part)
		if err != nil || !strings.Contains(a.Address, "@") {
			l.fail("GANETIMGR_ADMIN_EMAILS", fmt.Sprintf("%q is not a mail address", part))
			continue
		}
		m.AdminEmails = append(m.AdminEmails, a.Address)
	}
	return m
}

// mailDomain is the domain of the default sender address: the base URL's
// host name, or localhost when that is an IP address (or unknown).
func mailDomain(base *url.URL) string {
	if base == nil {
		return "localhost"
	}
	h := base.Hostname()
	if h == "" {
		return "localhost"
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return "localhost"
	}
	return strings.ToLower(h)
}

// loopbackHost reports whether host names this machine.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// origins reads a comma-separated list of web origins
// ("scheme://host[:port]", http or https, nothing after the host).
func (l *loader) origins(name string) []string {
	v := l.str(name, "")
	if v == "" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		u, err := url.Parse(part)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			l.fail(name, fmt.Sprintf("%q is not an origin such as https://tools.example.org", part))
			continue
		}
		out = append(out, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	return out
}

// accounts reads the registration and account-link variables.
func (l *loader) accounts() Accounts {
	day := 24 * time.Hour
	return Accounts{
		RegistrationOpen:  l.oneOf("GANETIMGR_REGISTRATION", "open", "open", "closed") == "open",
		ActivationTTL:     time.Duration(l.integer("GANETIMGR_ACCOUNT_ACTIVATION_DAYS", 10, 1, 365)) * day,
		PasswordResetTTL:  time.Duration(l.integer("GANETIMGR_PASSWORD_RESET_HOURS", 24, 1, 168)) * time.Hour,
		EmailChangeTTL:    time.Duration(l.integer("GANETIMGR_EMAIL_CHANGE_HOURS", 48, 1, 168)) * time.Hour,
		PasswordMinLength: l.integer("GANETIMGR_PASSWORD_MIN_LENGTH", 10, 8, 128),
	}
}

// applications reads the GANETIMGR_APP_* variables.
func (l *loader) applications() Applications {
	a := Applications{
		VCPUsMax:       l.integer("GANETIMGR_APP_VCPUS_MAX", 4, 1, 256),
		DiskMinGB:      l.integer("GANETIMGR_APP_DISK_MIN_GB", 2, 1, 65536),
		DiskMaxGB:      l.integer("GANETIMGR_APP_DISK_MAX_GB", 50, 1, 65536),
		Contact:        l.oneOf("GANETIMGR_APP_CONTACT", ContactEither, ContactEither, ContactOrganization, ContactAdmin),
		StartInstances: l.boolean("GANETIMGR_APP_START", true),
	}
	if a.DiskMaxGB < a.DiskMinGB {
		l.fail("GANETIMGR_APP_DISK_MAX_GB", fmt.Sprintf("must be at least GANETIMGR_APP_DISK_MIN_GB (%d)", a.DiskMinGB))
		a.DiskMinGB, a.DiskMaxGB = 2, 50
	}
	const name = "GANETIMGR_APP_MEMORY_CHOICES"
	a.MemoryChoicesMB = []int{512, 768, 1024, 1500, 2048, 3072, 4096}
	if v := l.str(name, ""); v != "" {
		var choices []int
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			n, err := strconv.Atoi(part)
			if err != nil || n < 64 || n > 1048576 {
				l.fail(name, fmt.Sprintf("%q is not a memory size in MB from 64 to 1048576", part))
				return a
			}
			if len(choices) > 0 && n <= choices[len(choices)-1] {
				l.fail(name, "must list the sizes in ascending order without repeats")
				return a
			}
			choices = append(choices, n)
		}
		a.MemoryChoicesMB = choices
	}
	return a
}
