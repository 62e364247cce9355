package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// What the account pages (account_*.go) share: the policy, the mailed
// links' tokens, the notice page, and the mails queued in the transaction
// of the change they report.

// tokenRoutePrefixes are the paths of the routes whose last segment is the
// secret token of a mailed link (see routes.go); logPath cuts the token out
// of logged paths.
func tokenRoutePrefixes() []string {
	return []string{"/accounts/verify/", "/accounts/password/reset/", "/profile/email/confirm/", "/applications/keys/",
		"/instances/confirm/"}
}

// Paths of the mailed links (with the token appended) and of the pages
// mails point to.
const (
	verifyPath       = "/accounts/verify/"
	resetPath        = "/accounts/password/reset/"
	resetRequestPath = "/accounts/password/reset"
	emailConfirmPath = "/profile/email/confirm/"
	keysPath         = "/profile/keys"
	profilePath      = "/profile"
)

// tokenPage guards the pages of mailed links. Their URL holds a secret
// token: the browser must not pass it on to another site in a Referer
// header, nor keep the page in its cache.
func tokenPage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// urlTokenHash returns the SHA-256 of the URL's {token}; false for text
// that cannot be a token (no lookup needed).
func urlTokenHash(r *http.Request) ([]byte, bool) {
	return accounts.HashToken(chi.URLParam(r, "token"))
}

// accountPolicy returns the configured account rules.
func (s *Server) accountPolicy() accounts.Policy { return accounts.NewPolicy(s.cfg.Accounts) }

// accountNotice is the content of a page that only tells something: a
// form was sent, a link is invalid or used up.
type accountNotice struct {
	Title   i18n.Msg
	Message i18n.Message
	// LinkPath and LinkText: where to go next ("" for nowhere).
	LinkPath string
	LinkText i18n.Msg
}

func (s *Server) renderNotice(w http.ResponseWriter, r *http.Request, status int, n accountNotice) {
	s.render(w, r, status, "account_notice", n)
}

// tokenFailed answers a mailed link the store refused, and reports whether
// it answered: 404 for a token that does not exist (mistyped, tampered,
// another purpose or another user's), 410 for one used or expired, with
// expired as the message and again, when set, as the page to ask for a
// new link. Anything else is a 500.
func (s *Server) tokenFailed(w http.ResponseWriter, r *http.Request, err error, expired i18n.Msg, again string) bool {
	n := accountNotice{Title: i18n.M("account.link.title")}
	status := http.StatusGone
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrTokenUsed):
		n.Message = i18n.Message{Msg: i18n.M("account.link.used")}
	case errors.Is(err, store.ErrTokenExpired):
		n.Message = i18n.Message{Msg: expired}
		if again != "" {
			n.LinkPath, n.LinkText = again, i18n.M("account.link.again")
		}
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
		n.Message = i18n.Message{Msg: i18n.M("account.link.invalid")}
	default:
		s.serverError(w, r, err)
		return true
	}
	s.renderNotice(w, r, status, n)
	return true
}

// invalidToken answers a link whose token cannot be one.
func (s *Server) invalidToken(w http.ResponseWriter, r *http.Request) {
	s.tokenFailed(w, r, store.ErrNotFound, i18n.Msg{}, "")
}

// throttled answers a request refused by a per-address limit with 429 and
// a Retry-After header.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, left time.Duration, what string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(left.Seconds()))))
	s.log.Warn(what+" throttled", "client", clientAddrFrom(r).String(), "request_id", requestIDFrom(r))
	s.renderNotice(w, r, http.StatusTooManyRequests, accountNotice{Title: i18n.M("error.429.title"),
		Message: i18n.Message{Msg: i18n.M("account.throttled"), Args: []any{"Minutes", int(math.Ceil(left.Minutes()))}}})
}

// accountRecipient is the owner of an account as a mail recipient, in the
// account's language.
func accountRecipient(u *store.User) mail.Recipient {
	return mail.Recipient{Address: u.Email, Name: i18n.FormatName(u.FirstName, u.LastName), Lang: u.Language}
}

// mailTo returns the work that queues m to `to` inside a store function's
// transaction, so the mail exists exactly when the change does; nil
// (nothing to do) when the site sends no mail.
func (s *Server) mailTo(to mail.Recipient, m mail.Mail) store.TxFunc {
	if s.outbox == nil {
		return nil
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := s.outbox.EnqueueTx(ctx, tx, to, m)
		return err
	}
}

// mailAdmins is mailTo for every administrator address
// (GANETIMGR_ADMIN_EMAILS).
func (s *Server) mailAdmins(m mail.Mail) store.TxFunc {
	if s.outbox == nil {
		return nil
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := s.outbox.EnqueueAdminsTx(ctx, tx, m)
		return err
	}
}

// addAccountErrors adds the account rules' rejections to a form's errors.
func addAccountErrors(e fieldErrors, errs ...*accounts.FieldError) fieldErrors {
	for _, fe := range errs {
		if fe != nil {
			e = e.add(fe.Field, fe.Message.Msg, fe.Message.Args...)
		}
	}
	return e
}

// formOrganization reads the organization field: 0 for none, else the id
// of one of orgs; false for anything else.
func formOrganization(r *http.Request, orgs []store.Organization) (int64, bool) {
	v := r.PostForm.Get("organization")
	if v == "" {
		return 0, true
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false
	}
	for _, o := range orgs {
		if o.ID == id {
			return id, true
		}
	}
	return 0, false
}

// organizationTitle returns the title of the account's organization, ""
// for none.
func (s *Server) organizationTitle(ctx context.Context, id *int64) (string, error) {
	if id == nil {
		return "", nil
	}
	o, err := s.store.OrganizationByID(ctx, *id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return o.Title, nil
}
