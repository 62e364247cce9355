package smtptest_test

import (
	"mime"
	"net"
	"net/smtp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
)

var message = "From: a@example.org\r\nTo: b@example.org\r\nSubject: " + mime.BEncoding.Encode("UTF-8", "Γεια") + "\r\n" +
	"Message-ID: <1@example.org>\r\nContent-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n\r\nsee https://example.org/x?y=1 and=\r\n http://example.org/z.\r\n"

func send(addr string) error {
	return smtp.SendMail(addr, nil, "a@example.org", []string{"b@example.org"}, []byte(message))
}

func TestReceiveAndParse(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	if err := send(srv.Addr()); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitMessages(t, 1, 5*time.Second)[0]
	if m.From != "a@example.org" || !slices.Equal(m.To, []string{"b@example.org"}) || m.MessageID != "<1@example.org>" ||
		m.Subject != "Γεια" || m.Text != "see https://example.org/x?y=1 and http://example.org/z.\n" {
		t.Errorf("parsed %+v", m)
	}
	if got := smtptest.Links(m.Text); !slices.Equal(got, []string{"https://example.org/x?y=1", "http://example.org/z"}) {
		t.Errorf("links %q", got)
	}
}

func TestDownAndUpOnTheSamePort(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	addr := srv.Addr()
	srv.Stop()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a stopped server accepts connections")
	}
	srv.Restart(t)
	if srv.Addr() != addr {
		t.Errorf("restarted on %s, want %s", srv.Addr(), addr)
	}
	if err := send(addr); err != nil {
		t.Fatal(err)
	}
	srv.WaitMessages(t, 1, 5*time.Second)
}

func TestFaults(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	for _, c := range []struct {
		f    smtptest.Fault
		code string
	}{{smtptest.TempFailRcpt, "451"}, {smtptest.RejectRcpt, "550"}, {smtptest.TempFailData, "451"}, {smtptest.RejectData, "554"}} {
		srv.SetFault(c.f)
		if err := send(srv.Addr()); err == nil || !strings.HasPrefix(err.Error(), c.code) {
			t.Errorf("fault %d: got %v, want %s", c.f, err, c.code)
		}
	}
	if n, r := len(srv.Messages()), len(srv.Refused()); n != 0 || r != 2 {
		t.Errorf("%d accepted, %d refused after DATA; want 0 and 2", n, r)
	}

	// A stall holds the message until lifted, then accepts it.
	srv.SetFault(smtptest.StallData)
	errc := make(chan error, 1)
	go func() { errc <- send(srv.Addr()) }()
	srv.WaitStalled(t, 5*time.Second)
	select {
	case err := <-errc:
		t.Fatalf("a stalled send returned: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	srv.SetFault(smtptest.NoFault)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	srv.WaitMessages(t, 1, 5*time.Second)
}

func TestAuthAndStartTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{TLS: true, Username: "u", Password: "p"})
	dial := func() *smtp.Client {
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	if err := dial().Mail("a@example.org"); err == nil {
		t.Error("MAIL accepted before STARTTLS")
	}
	tlsDial := func() *smtp.Client {
		c := dial()
		if err := c.StartTLS(srv.ClientTLSConfig()); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := tlsDial().Auth(smtp.PlainAuth("", "u", "wrong", srv.Host())); err == nil {
		t.Error("a wrong password was accepted")
	}
	c := tlsDial()
	if err := c.Mail("a@example.org"); err == nil {
		t.Error("MAIL accepted before AUTH")
	}
	if err := c.Auth(smtp.PlainAuth("", "u", "p", srv.Host())); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@example.org"); err != nil {
		t.Fatal(err)
	}
}
