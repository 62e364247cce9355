package config

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"
)

func load(env map[string]string) (*Config, error) {
	return Load(func(k string) string { return env[k] }, func(p string) ([]byte, error) {
		if v, ok := env["file:"+p]; ok {
			return []byte(v), nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
	})
}

func TestDefaults(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.BaseURL.String() != "http://127.0.0.1:8080" || !c.Embedded() ||
		c.TagPrefix != "ganetimgr" || c.DefaultLanguage != "en" || c.SessionLifetime != 3*time.Hour ||
		c.Mail.SMTP.Port != 587 || c.Mail.SMTP.TLS != "starttls" || c.Mail.Mode != MailModeLog ||
		c.Mail.From != "ganetimgr@localhost" || len(c.Mail.AdminEmails) != 0 || !c.AutoMigrate || c.Secure() ||
		c.SyncInterval != 30*time.Second || c.SyncStaleAfter != 3 {
		t.Errorf("unexpected defaults: %+v", c)
	}
}

func TestProduction(t *testing.T) {
	c, err := load(map[string]string{
		"DATABASE_URL":              "postgres://u@db/ganetimgr",
		"GANETIMGR_SECRET_KEY_FILE": "/run/secrets/key",
		"file:/run/secrets/key":     strings.Repeat("ab", 32) + "\n",
		"GANETIMGR_BASE_URL":        "https://ganetimgr.example.org/portal/",
		"GANETIMGR_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8 ,::1",
		"GANETIMGR_SMTP_USERNAME":   "mailer",
		"GANETIMGR_SMTP_PASSWORD":   "s3cret",
		"GANETIMGR_LOG_FORMAT":      "JSON",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SecretKey) != 32 || !c.Secure() || c.BaseURL.Path != "/portal" || len(c.TrustedProxies) != 3 ||
		c.Mail.SMTP.Password != "s3cret" || c.LogFormat != "json" || c.Embedded() {
		t.Errorf("unexpected config: %+v", c)
	}
}

func TestInvalidSettingsNameTheVariable(t *testing.T) {
	cases := []struct {
		env     map[string]string
		varName string
		problem string
	}{
		{map[string]string{"GANETIMGR_LISTEN": "8080"}, "GANETIMGR_LISTEN", "host:port"},
		{map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL", "postgres://"},
		{map[string]string{"DATABASE_URL": "postgres://x/y"}, "GANETIMGR_SECRET_KEY", "required"},
		{map[string]string{"GANETIMGR_SECRET_KEY": "short"}, "GANETIMGR_SECRET_KEY", "at least 32 bytes"},
		{map[string]string{"GANETIMGR_SECRET_KEY": strings.Repeat("x", 40), "GANETIMGR_SECRET_KEY_FILE": "/k"}, "GANETIMGR_SECRET_KEY", "not both"},
		{map[string]string{"GANETIMGR_SECRET_KEY_FILE": "/missing"}, "GANETIMGR_SECRET_KEY_FILE", "cannot read"},
		{map[string]string{"GANETIMGR_BASE_URL": "ftp://x"}, "GANETIMGR_BASE_URL", "http"},
		{map[string]string{"GANETIMGR_BASE_URL": "https://x/?a=1"}, "GANETIMGR_BASE_URL", "query"},
		{map[string]string{"GANETIMGR_SMTP_PORT": "70000"}, "GANETIMGR_SMTP_PORT", "1 to 65535"},
		{map[string]string{"GANETIMGR_SMTP_TLS": "ssl"}, "GANETIMGR_SMTP_TLS", "one of"},
		{map[string]string{"GANETIMGR_MAIL_FROM": "not an address"}, "GANETIMGR_MAIL_FROM", "mail address"},
		{map[string]string{"GANETIMGR_SMTP_FROM": "a@example.org"}, "GANETIMGR_SMTP_FROM", "GANETIMGR_MAIL_FROM"},
		{map[string]string{"GANETIMGR_MAIL_MODE": "smtp"}, "GANETIMGR_SMTP_HOST", "required"},
		{map[string]string{"GANETIMGR_MAIL_MODE": "sendmail"}, "GANETIMGR_MAIL_MODE", "smtp, log"},
		{map[string]string{"GANETIMGR_SMTP_HOST": "mail.example.org:25"}, "GANETIMGR_SMTP_HOST", "without a port"},
		{map[string]string{"GANETIMGR_SMTP_HOST": "smtp://mail.example.org"}, "GANETIMGR_SMTP_HOST", "without a port"},
		{map[string]string{"GANETIMGR_SMTP_PASSWORD": "pw"}, "GANETIMGR_SMTP_PASSWORD", "GANETIMGR_SMTP_USERNAME is not"},
		{map[string]string{"GANETIMGR_SMTP_PASSWORD": "pw", "GANETIMGR_SMTP_PASSWORD_FILE": "/pw", "GANETIMGR_SMTP_USERNAME": "u"}, "GANETIMGR_SMTP_PASSWORD", "not both"},
		{map[string]string{"GANETIMGR_SMTP_HOST": "mail.example.org", "GANETIMGR_SMTP_USERNAME": "u", "GANETIMGR_SMTP_TLS": "none"}, "GANETIMGR_SMTP_TLS", "clear text"},
		{map[string]string{"GANETIMGR_ADMIN_EMAILS": "root@example.org, nobody"}, "GANETIMGR_ADMIN_EMAILS", `"nobody"`},
		{map[string]string{"GANETIMGR_TAG_PREFIX": "a:b"}, "GANETIMGR_TAG_PREFIX", "no ':'"},
		{map[string]string{"GANETIMGR_DEFAULT_LANGUAGE": "de"}, "GANETIMGR_DEFAULT_LANGUAGE", "en, el"},
		{map[string]string{"GANETIMGR_LOG_LEVEL": "loud"}, "GANETIMGR_LOG_LEVEL", "one of"},
		{map[string]string{"GANETIMGR_TRUSTED_PROXIES": "10.0.0.0/8,nope"}, "GANETIMGR_TRUSTED_PROXIES", `"nope"`},
		{map[string]string{"GANETIMGR_SESSION_LIFETIME": "3 hours"}, "GANETIMGR_SESSION_LIFETIME", "duration"},
		{map[string]string{"GANETIMGR_SESSION_IDLE_TIMEOUT": "5s"}, "GANETIMGR_SESSION_IDLE_TIMEOUT", "at least 1m"},
		{map[string]string{"GANETIMGR_AUTO_MIGRATE": "maybe"}, "GANETIMGR_AUTO_MIGRATE", "true or false"},
		{map[string]string{"GANETIMGR_METRICS_LISTEN": "127.0.0.1:8080"}, "GANETIMGR_METRICS_LISTEN", "differ"},
		{map[string]string{"GANETIMGR_SYNC_INTERVAL": "thirty"}, "GANETIMGR_SYNC_INTERVAL", "duration"},
		{map[string]string{"GANETIMGR_SYNC_INTERVAL": "1s"}, "GANETIMGR_SYNC_INTERVAL", "between 5s"},
		{map[string]string{"GANETIMGR_SYNC_INTERVAL": "2h"}, "GANETIMGR_SYNC_INTERVAL", "between 5s and 1h"},
		{map[string]string{"GANETIMGR_SYNC_STALE_AFTER": "0"}, "GANETIMGR_SYNC_STALE_AFTER", "1 to 100"},
		{map[string]string{"GANETIMGR_SYNC_STALE_AFTER": "x"}, "GANETIMGR_SYNC_STALE_AFTER", "1 to 100"},
		{map[string]string{"GANETIMGR_ACTION_CONFIRM": "none"}, "GANETIMGR_ACTION_CONFIRM", "mail, password"},
		{map[string]string{"GANETIMGR_ACTION_CONFIRM_DAYS": "31"}, "GANETIMGR_ACTION_CONFIRM_DAYS", "1 to 30"},
		{map[string]string{"GANETIMGR_AUDIT_RETENTION_DAYS": "-1"}, "GANETIMGR_AUDIT_RETENTION_DAYS", "0 to 3650"},
		{map[string]string{"GANETIMGR_OAUTH_TOKEN_DAYS": "0"}, "GANETIMGR_OAUTH_TOKEN_DAYS", "1 to 3650"},
		{map[string]string{"GANETIMGR_API_CORS_ORIGINS": "https://ok.example.org,https://x.example.org/path"}, "GANETIMGR_API_CORS_ORIGINS", "https://x.example.org/path"},
		{map[string]string{"GANETIMGR_API_CORS_ORIGINS": "*"}, "GANETIMGR_API_CORS_ORIGINS", "not an origin"},
	}
	for _, tc := range cases {
		_, err := load(tc.env)
		if err == nil {
			t.Errorf("%v: no error", tc.env)
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != tc.varName || !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("%v: got %q, want an error for %s mentioning %q", tc.env, err, tc.varName, tc.problem)
		}
	}
}

func TestMailSettings(t *testing.T) {
	c, err := load(map[string]string{
		"GANETIMGR_BASE_URL":           "https://Ganeti.Example.org:8443/portal",
		"GANETIMGR_SMTP_HOST":          "mail.example.org",
		"GANETIMGR_SMTP_PORT":          "465",
		"GANETIMGR_SMTP_TLS":           "TLS",
		"GANETIMGR_SMTP_USERNAME":      "mailer",
		"GANETIMGR_SMTP_PASSWORD_FILE": "/run/secrets/smtp",
		"file:/run/secrets/smtp":       "pa ss\n",
		"GANETIMGR_ADMIN_EMAILS":       "root@example.org, Ops Team <ops@example.org>,",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := c.Mail
	if m.Mode != MailModeSMTP || m.From != "ganetimgr@ganeti.example.org" || m.SMTP.Host != "mail.example.org" ||
		m.SMTP.Port != 465 || m.SMTP.TLS != "tls" || m.SMTP.Username != "mailer" || m.SMTP.Password != "pa ss" ||
		strings.Join(m.AdminEmails, ",") != "root@example.org,ops@example.org" {
		t.Errorf("unexpected mail settings: %+v", m)
	}

	// log mode wins over a configured server; a loopback relay may take a
	// password without TLS.
	c, err = load(map[string]string{
		"GANETIMGR_MAIL_MODE":     "log",
		"GANETIMGR_MAIL_FROM":     "Ganeti Manager <noreply@example.org>",
		"GANETIMGR_SMTP_HOST":     "127.0.0.1",
		"GANETIMGR_SMTP_TLS":      "none",
		"GANETIMGR_SMTP_USERNAME": "u",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Mail.Mode != MailModeLog || c.Mail.From != "Ganeti Manager <noreply@example.org>" {
		t.Errorf("got mode %q, from %q", c.Mail.Mode, c.Mail.From)
	}
}

func TestSyncSettings(t *testing.T) {
	c, err := load(map[string]string{"GANETIMGR_SYNC_INTERVAL": "1m", "GANETIMGR_SYNC_STALE_AFTER": "5"})
	if err != nil {
		t.Fatal(err)
	}
	if c.SyncInterval != time.Minute || c.SyncStaleAfter != 5 {
		t.Errorf("got interval %s, stale after %d; want 1m0s, 5", c.SyncInterval, c.SyncStaleAfter)
	}
}

func TestAllErrorsReportedAtOnce(t *testing.T) {
	_, err := load(map[string]string{"GANETIMGR_LISTEN": "x", "GANETIMGR_LOG_LEVEL": "x", "GANETIMGR_SMTP_PORT": "x"})
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("want three errors, got %v", err)
	}
}

// TestREADMEConfigTable keeps the README's table equal to Variables.
func TestREADMEConfigTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString("| Variable | Default | Description |\n|---|---|---|\n")
	for _, v := range Variables() {
		name := "`" + v.Name + "`"
		if v.Secret {
			name += " (or `" + v.Name + "_FILE`)"
		}
		def := strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(v.Default)
		want.WriteString("| " + name + " | " + def + " | " + v.Doc + " |\n")
	}
	if !strings.Contains(string(b), want.String()) {
		t.Errorf("README.md's configuration table is out of date; it should read:\n%s", want.String())
	}
}

func TestInstanceAuditAndOAuthSettings(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	if c.Instances.Confirm != ConfirmMail || c.Instances.ConfirmTTL != 7*day || c.AuditRetention != 365*day ||
		c.OAuth.TokenLifetime != 70*day || len(c.OAuth.CORSOrigins) != 0 {
		t.Errorf("defaults: %+v %v %+v", c.Instances, c.AuditRetention, c.OAuth)
	}
	c, err = load(map[string]string{
		"GANETIMGR_ACTION_CONFIRM":       "password",
		"GANETIMGR_ACTION_CONFIRM_DAYS":  "2",
		"GANETIMGR_AUDIT_RETENTION_DAYS": "0",
		"GANETIMGR_OAUTH_TOKEN_DAYS":     "1",
		"GANETIMGR_API_CORS_ORIGINS":     "https://Tools.Example.org, http://127.0.0.1:3000/",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Instances.Confirm != ConfirmPassword || c.Instances.ConfirmTTL != 2*day || c.AuditRetention != 0 ||
		c.OAuth.TokenLifetime != day ||
		strings.Join(c.OAuth.CORSOrigins, " ") != "https://tools.example.org http://127.0.0.1:3000" {
		t.Errorf("settings: %+v %v %+v", c.Instances, c.AuditRetention, c.OAuth)
	}
}
