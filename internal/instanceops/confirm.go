package instanceops

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Confirmation of reinstall, rename and destroy.
//
// These actions lose data or break what points at the instance, so each
// needs a confirmation, configured by GANETIMGR_ACTION_CONFIRM:
//
//   - "mail" (ganetimgr's way, the default): RequestConfirmation checks the
//     request now (Decide and its value) and mails the user a single-use
//     link, ConfirmPath(token), that expires after
//     GANETIMGR_ACTION_CONFIRM_DAYS (7 by default). Only the token's
//     SHA-256 is stored. The link's page shows Confirmation and posts to
//     Confirm, which checks everything again and starts the action. A
//     newer request of the same action replaces the older link.
//   - "password": the action's form asks for the user's password, which
//     the page checks (counting wrong ones against the account like failed
//     logins) before calling Reinstall, Rename or Destroy.
//
// A link opened by another user than the one it was mailed to, or by a
// user who no longer owns the instance, is refused as if it did not
// exist; the attempt is audited and the administrators are mailed.

// DefaultConfirmTTL is how long a mailed confirmation link works when
// the configuration does not say.
const DefaultConfirmTTL = 7 * 24 * time.Hour

// keepExpiredConfirmations is how long expired links are kept before
// they are purged (they only ever answer "no longer available").
const keepExpiredConfirmations = 24 * time.Hour

// ConfirmPath is the page of a mailed confirmation link.
func ConfirmPath(token string) string { return "/instances/confirm/" + token }

// ConfirmByMail reports whether reinstall, rename and destroy are
// confirmed by a mailed link (RequestConfirmation, then Confirm) rather
// than by the user's password.
func (s *Service) ConfirmByMail() bool { return s.cfg.Confirm != config.ConfirmPassword }

// confirmTTL is how long a mailed link works.
func (s *Service) confirmTTL() time.Duration {
	if s.cfg.ConfirmTTL > 0 {
		return s.cfg.ConfirmTTL
	}
	return DefaultConfirmTTL
}

// confirmed reports whether k is an action that needs a confirmation.
func confirmed(k Kind) bool { return k == Reinstall || k == Rename || k == Destroy }

// gone is the refusal of a link that is unknown, used, expired, or not
// the user's to use.
func gone() *Refusal { return refuse(NotFound, i18n.M("instance_ops.confirm.gone")) }

// RequestConfirmation asks for the confirmation of a reinstall (value:
// the OS image, "" keeps the current one), rename (value: the new name)
// or destroy (value ""), in mail mode. It checks now what the action
// will check (Decide, then the value: an enabled image; a valid, unused
// new name), stores a single-use token (its SHA-256 only) that expires
// after the configured time, and queues the mail with the link
// BaseURL + ConfirmPath(token) to the user, in their language, together
// with the audit entry (InstanceConfirmReq) in one transaction. A refusal
// is audited like the action's.
func (s *Service) RequestConfirmation(ctx context.Context, req Request, slug, name string, k Kind, value string) error {
	if !confirmed(k) {
		return fmt.Errorf("instanceops: %s needs no confirmation", k)
	}
	if !s.ConfirmByMail() {
		return errors.New("instanceops: actions are confirmed by password, not by mail")
	}
	p := req.Principal
	t, err := s.load(ctx, p, slug, name)
	if err != nil {
		return err
	}
	value = strings.TrimSpace(value)
	a := action{kind: k, audit: audit.InstanceConfirmReq, detail: string(k)}
	if r := s.decide(p, t, k); r != nil {
		return s.refused(ctx, req, t, &a, r)
	}
	in := t.state.Instance
	m := mail.InstanceConfirm{Action: string(k), Username: p.User.Username, Instance: in.Name, Cluster: t.slug,
		Expiry: s.confirmTTL()}
	switch k {
	case Reinstall:
		if value == "" {
			a.detail = "reinstall, os: current"
			break
		}
		a.detail = "reinstall, os: " + value
		im, err := s.st.OSImage(ctx, value)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !im.Enabled):
			return s.refused(ctx, req, t, &a, invalid(FieldOS, i18n.M("instance_ops.reinstall.unknown_os")))
		case err != nil:
			return fmt.Errorf("instanceops: %w", err)
		}
		m.OS = im.Description
	case Rename:
		nn, r := normalizeNewName(value)
		a.detail = "rename to " + nn
		if r == nil {
			r = s.checkNewName(ctx, in, nn)
		}
		if r != nil {
			return s.refused(ctx, req, t, &a, r)
		}
		value, m.NewName = nn, nn
	case Destroy:
		value = ""
	}

	token, hash, err := newToken()
	if err != nil {
		return err
	}
	m.Path = ConfirmPath(token)
	u := p.User
	to := mail.Recipient{Address: u.Email, Name: i18n.FormatName(u.FirstName, u.LastName), Lang: u.Language}
	now := s.now()
	_, err = s.st.CreateInstanceConfirmation(ctx, store.NewInstanceConfirmation{TokenHash: hash, UserID: u.ID,
		ClusterID: t.cluster.ID, Instance: in.Name, Kind: string(k), Value: value, ExpiresAt: now.Add(s.confirmTTL())},
		func(ctx context.Context, tx pgx.Tx) error {
			_, err := s.mail.EnqueueTx(ctx, tx, to, m)
			return err
		},
		s.audit.Then(s.entry(req, t, &a, audit.OK, 0, a.detail+"; confirmation link mailed")))
	if err != nil {
		return fmt.Errorf("instanceops: request confirmation: %w", err)
	}
	if _, err := s.st.PurgeInstanceConfirmations(ctx, now.Add(-keepExpiredConfirmations)); err != nil {
		s.log.WarnContext(ctx, "purging expired confirmation links failed", "error", err)
	}
	return nil
}

// Confirmation returns the action a mailed link confirms, for the link's
// page, when req's user may still use it: the link is the user's, not
// used, not expired, and the user still owns the instance (or is a
// superuser). Anything else is a NotFound *Refusal ("no longer
// available"); a link of another user, or of a user who no longer owns
// the instance, is audited as refused and mailed to the administrators.
// Whether the action is allowed right now (maintenance, a running job,
// the state a rename needs) is for the page to show (View) and for
// Confirm to check.
func (s *Service) Confirmation(ctx context.Context, req Request, token string) (*store.InstanceConfirmation, error) {
	c, err := s.confirmation(ctx, req, token)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Confirm uses a mailed link: after the checks of Confirmation it marks
// the link used (of two concurrent uses one wins) and starts the action,
// with the rules of every action checked again. A refused action (say, a
// job still running on the instance) leaves the link usable; once the
// action's RAPI call was made, or may have been, the link is spent.
func (s *Service) Confirm(ctx context.Context, req Request, token string) (*store.InstanceJob, error) {
	c, err := s.confirmation(ctx, req, token)
	if err != nil {
		return nil, err
	}
	used, err := s.st.UseInstanceConfirmation(ctx, c.ID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, gone()
	}
	if err != nil {
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	var job *store.InstanceJob
	switch Kind(used.Kind) {
	case Reinstall:
		job, err = s.Reinstall(ctx, req, used.ClusterSlug, used.Instance, used.Value)
	case Rename:
		job, err = s.Rename(ctx, req, used.ClusterSlug, used.Instance, used.Value)
	case Destroy:
		job, err = s.Destroy(ctx, req, used.ClusterSlug, used.Instance)
	default:
		err = fmt.Errorf("instanceops: confirmation %d has an unknown action %q", used.ID, used.Kind)
	}
	var r *Refusal
	if errors.As(err, &r) && r.Code != Unavailable && used.UsedAt != nil {
		// Nothing was sent to the cluster: the link may be tried again.
		if rerr := s.st.ReleaseInstanceConfirmation(context.WithoutCancel(ctx), used.ID, *used.UsedAt); rerr != nil {
			s.log.ErrorContext(ctx, "releasing a confirmation link failed", "confirmation", used.ID, "error", rerr)
		}
	}
	return job, err
}

// confirmation checks a link for req's user (see Confirmation).
func (s *Service) confirmation(ctx context.Context, req Request, token string) (*store.InstanceConfirmation, error) {
	p := req.Principal
	if !validToken(token) || p == nil || p.User == nil || !p.User.IsActive {
		return nil, gone()
	}
	sum := sha256.Sum256([]byte(token))
	c, err := s.st.InstanceConfirmationByHash(ctx, sum[:])
	if errors.Is(err, store.ErrNotFound) {
		return nil, gone()
	}
	if err != nil {
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	k := Kind(c.Kind)
	if !c.Usable(s.now()) || !confirmed(k) {
		return nil, gone()
	}
	t, err := s.load(ctx, p, c.ClusterSlug, c.Instance)
	if err != nil {
		return nil, err
	}
	a := action{kind: k, audit: auditAction(k), detail: confirmDetail(c)}
	if c.UserID != p.User.ID {
		a.detail += "; the confirmation link of " + c.Username + " used by another user"
		return nil, s.refused(ctx, req, t, &a, gone())
	}
	if r := s.decide(p, t, k); r != nil && (r.Code == NotFound || r.Code == ReadOnly) {
		a.detail += "; the confirmation link used by a user who no longer owns the instance"
		return nil, s.refused(ctx, req, t, &a, gone())
	}
	return c, nil
}

// confirmDetail says what a confirmation asks for, for the audit log.
func confirmDetail(c *store.InstanceConfirmation) string {
	switch Kind(c.Kind) {
	case Reinstall:
		if c.Value == "" {
			return "os: current"
		}
		return "os: " + c.Value
	case Rename:
		return c.Value
	}
	return ""
}

// validToken reports whether s has the form of newToken's tokens (43
// base64url characters), so that nothing else reaches the database.
func validToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
