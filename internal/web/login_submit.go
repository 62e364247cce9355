package web

import (
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// loginSubmit checks a username and password. Unknown user and wrong
// password get the same message (and cost the same time); why an account
// may not log in (address unconfirmed, awaiting approval, rejected,
// inactive) is said only after a correct password. Failures are throttled
// per account and per client address. The first login shows a welcome
// that points to the SSH keys page.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	username, okU := field(r, "username", 150)
	password := r.PostForm.Get("password")
	next := s.safeNext(r.PostForm.Get("next"), s.path("/"))
	form := loginForm{Username: username, Next: r.PostForm.Get("next"), RegistrationOpen: s.cfg.Accounts.RegistrationOpen}
	if !okU {
		form.Username = ""
	}
	if username == "" || password == "" || !okU || len(password) > 1024 {
		form.Error = i18n.M("login.failed")
		s.render(w, r, http.StatusUnprocessableEntity, "login", form)
		return
	}

	acctKey, addrKey := strings.ToLower(username), addressKey(clientAddrFrom(r))
	blockedA, leftA := s.acctLimit.Blocked(acctKey)
	blockedB, leftB := s.ipLimit.Blocked(addrKey)
	if blockedA || blockedB {
		left := max(leftA, leftB)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(left.Seconds()))))
		form.Error = i18n.M("login.throttled")
		form.Args = []any{"Minutes", int(math.Ceil(left.Minutes()))}
		s.log.Warn("login throttled", "client", clientAddrFrom(r).String(), "request_id", requestIDFrom(r))
		s.render(w, r, http.StatusTooManyRequests, "login", form)
		return
	}

	ctx := r.Context()
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	ok, rehash := false, false
	if u == nil {
		s.hasher.Burn(ctx, password)
	} else if ok, rehash, err = s.hasher.Verify(ctx, password, u.PasswordHash); err != nil {
		if ctx.Err() != nil {
			return // the client went away while waiting for a hashing slot
		}
		s.log.Error("password hash unreadable", "user_id", u.ID, "err", err)
	}
	if !ok {
		s.acctLimit.Fail(acctKey)
		s.ipLimit.Fail(addrKey)
		s.log.Info("login failed", "client", clientAddrFrom(r).String(), "request_id", requestIDFrom(r))
		form.Error = i18n.M("login.failed")
		s.render(w, r, http.StatusUnprocessableEntity, "login", form)
		return
	}
	if ok, why := accounts.CanLogIn(u); !ok {
		form.Error = why
		s.render(w, r, http.StatusForbidden, "login", form)
		return
	}

	newHash := ""
	if rehash {
		if newHash, err = s.hasher.Hash(ctx, password); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if err := s.store.RecordLogin(ctx, u.ID, newHash); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.acctLimit.Reset(acctKey)
	s.principals.forget(u.ID)
	// A new token at every privilege change: a token planted before login
	// (session fixation) is worthless afterwards.
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.sessions.Put(ctx, keyUserID, u.ID)
	s.sessions.Put(ctx, keyEpoch, u.SessionEpoch)
	s.sessions.Put(ctx, keyLoginAt, s.now().UTC().Format(time.RFC3339))
	welcome, err := s.store.MarkWelcomed(ctx, u.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if welcome {
		s.addFlash(ctx, flashWelcome, accounts.WelcomeMessage())
	}
	s.log.Info("login", "user_id", u.ID, "client", clientAddrFrom(r).String(), "request_id", requestIDFrom(r))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// addressKey throttles IPv6 clients by /64, since one client usually holds a
// whole /64.
func addressKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
