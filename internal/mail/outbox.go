package mail

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Queue is the river queue the mail jobs run in.
const Queue = "mail"

// DefaultMaxAttempts bounds the delivery attempts of a mail when
// Options.MaxAttempts is zero.
const DefaultMaxAttempts = 20

// Recipient is who a mail goes to.
type Recipient struct {
	// Address is the bare mail address ("ann@example.org").
	Address string
	// Name is the display name, used in the To header and the greeting;
	// optional.
	Name string
	// Lang is the language to write in ("en", "el"); empty or unsupported
	// means the default language.
	Lang string
}

// Options configure an Outbox.
type Options struct {
	// BaseURL is the site's public address (GANETIMGR_BASE_URL); every link
	// in a mail is built on it. Required.
	BaseURL *url.URL
	// From is the sender (GANETIMGR_MAIL_FROM); the domain of its address
	// ends every Message-ID. Required.
	From string
	// Admins are the addresses EnqueueAdminsTx writes to
	// (GANETIMGR_ADMIN_EMAILS); they get the default language.
	Admins []string
	// MaxAttempts bounds the delivery attempts of each mail; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// Templates holds mail/layout.txt and mail/<name>.txt; nil means the
	// templates embedded in the binary.
	Templates fs.FS
}

// TxMailer queues mails in the caller's transaction, so a mail exists
// exactly when the change it reports does; *Outbox is one. The services
// that mail (applications, instance actions) depend on this.
type TxMailer interface {
	EnqueueTx(ctx context.Context, tx pgx.Tx, to Recipient, m Mail) (int64, error)
	EnqueueAdminsTx(ctx context.Context, tx pgx.Tx, m Mail) ([]int64, error)
}

// Outbox renders mails and enqueues them for delivery: an outbox row and a
// river job, in the caller's transaction. It is safe for concurrent use.
type Outbox struct {
	store       *store.Store
	queue       *river.Client[pgx.Tx]
	render      *renderer
	bundle      *i18n.Bundle
	admins      []string
	idDomain    string
	maxAttempts int
}

// NewOutbox returns an Outbox that stores mails with st and inserts their
// jobs with queue (a started client or an insert-only one). It fails when
// a template is missing or broken.
func NewOutbox(st *store.Store, queue *river.Client[pgx.Tx], bundle *i18n.Bundle, o Options) (*Outbox, error) {
	if st == nil || queue == nil || bundle == nil {
		return nil, errors.New("mail: NewOutbox needs a store, a queue client and a bundle")
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("mail: sender address %q: %w", o.From, err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	if at < 0 || at == len(from.Address)-1 {
		return nil, fmt.Errorf("mail: sender address %q has no domain", o.From)
	}
	fsys := o.Templates
	if fsys == nil {
		fsys = ganetimgr.Templates()
	}
	r, err := newRenderer(fsys, bundle, o.BaseURL)
	if err != nil {
		return nil, err
	}
	ob := &Outbox{store: st, queue: queue, render: r, bundle: bundle,
		idDomain: strings.ToLower(from.Address[at+1:]), maxAttempts: o.MaxAttempts}
	if ob.maxAttempts <= 0 {
		ob.maxAttempts = DefaultMaxAttempts
	}
	for _, a := range o.Admins {
		addr, err := mail.ParseAddress(a)
		if err != nil {
			return nil, fmt.Errorf("mail: administrator address %q: %w", a, err)
		}
		ob.admins = append(ob.admins, addr.Address)
	}
	return ob, nil
}

// Render renders m for to without enqueueing it (for previews and tests).
func (o *Outbox) Render(to Recipient, m Mail) (Rendered, error) {
	r, _, err := o.render.render(to, m)
	return r, err
}

// Admins returns the recipients of the administrator notifications, in the
// default language; empty when GANETIMGR_ADMIN_EMAILS is not set.
func (o *Outbox) Admins() []Recipient {
	out := make([]Recipient, 0, len(o.admins))
	for _, a := range o.admins {
		out = append(out, Recipient{Address: a, Lang: o.bundle.Default()})
	}
	return out
}

// EnqueueTx renders m for to and adds it to the outbox, with the job that
// delivers it, inside tx: the mail is sent if and only if tx commits. It
// returns the outbox row's id.
func (o *Outbox) EnqueueTx(ctx context.Context, tx pgx.Tx, to Recipient, m Mail) (int64, error) {
	addr, err := mail.ParseAddress(to.Address)
	if err != nil || addr.Address != strings.TrimSpace(to.Address) {
		return 0, fmt.Errorf("mail: %q is not a bare mail address", to.Address)
	}
	to.Name = oneLine(to.Name)
	r, lang, err := o.render.render(to, m)
	if err != nil {
		return 0, err
	}
	msgID, err := o.newMessageID()
	if err != nil {
		return 0, err
	}
	row, err := o.store.InsertOutboxMail(ctx, tx, store.NewOutboxMail{
		Recipient: addr.Address, RecipientName: to.Name, Language: lang, Template: m.Template(),
		Subject: r.Subject, TextBody: r.Text, MessageID: msgID,
	})
	if err != nil {
		return 0, fmt.Errorf("mail: enqueue %s: %w", m.Template(), err)
	}
	if _, err := o.queue.InsertTx(ctx, tx, SendArgs{OutboxID: row.ID}, &river.InsertOpts{Queue: Queue, MaxAttempts: o.maxAttempts}); err != nil {
		return 0, fmt.Errorf("mail: enqueue %s: insert job: %w", m.Template(), err)
	}
	return row.ID, nil
}

// Enqueue is EnqueueTx in a transaction of its own.
func (o *Outbox) Enqueue(ctx context.Context, to Recipient, m Mail) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, o.store.Pool(), func(tx pgx.Tx) error {
		var err error
		id, err = o.EnqueueTx(ctx, tx, to, m)
		return err
	})
	return id, err
}

// EnqueueAdminsTx enqueues m, inside tx, once for every administrator
// recipient (Admins) and returns the outbox ids; none when no
// administrator address is configured.
func (o *Outbox) EnqueueAdminsTx(ctx context.Context, tx pgx.Tx, m Mail) ([]int64, error) {
	var ids []int64
	for _, to := range o.Admins() {
		id, err := o.EnqueueTx(ctx, tx, to, m)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// newMessageID returns a fresh, globally unique Message-ID:
// <random.ganetimgr@sender domain>.
func (o *Outbox) newMessageID() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("mail: message id: %w", err)
	}
	enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	return "<" + enc.EncodeToString(b) + ".ganetimgr@" + o.idDomain + ">", nil
}
