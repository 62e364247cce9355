package app

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// minAdminPassword is the shortest password createadmin accepts.
const minAdminPassword = 10

// CreateAdmin creates an active superuser. An empty password means "generate
// one"; the password used is returned so the caller can print it once.
func CreateAdmin(ctx context.Context, st *store.Store, h *auth.Hasher, username, email, password string) (string, error) {
	username = normalizeUsername(username)
	if !auth.ValidUsername(username) {
		return "", errors.New("app: username must be 1-150 letters, digits or _ . @ + -")
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return "", fmt.Errorf("app: %q is not a mail address", email)
	}
	if password == "" {
		var err error
		if password, err = auth.GeneratePassword(); err != nil {
			return "", err
		}
	} else if len([]rune(password)) < minAdminPassword {
		return "", fmt.Errorf("app: the password must have at least %d characters", minAdminPassword)
	}
	hash, err := h.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	_, err = st.CreateUser(ctx, store.NewUser{Username: username, Email: email, PasswordHash: hash, IsActive: true, IsSuperuser: true})
	if errors.Is(err, store.ErrConflict) {
		return "", fmt.Errorf("app: a user named %q or with address %q already exists", username, email)
	}
	if err != nil {
		return "", err
	}
	return password, nil
}

// EnsureAdmin creates the account "admin" with a generated password when
// there is no active superuser yet, and returns that password ("" when an
// administrator already existed). Used by the embedded mode only.
func EnsureAdmin(ctx context.Context, st *store.Store, h *auth.Hasher) (string, error) {
	n, err := st.CountSuperusers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	return CreateAdmin(ctx, st, h, "admin", "admin@localhost.localdomain", "")
}
