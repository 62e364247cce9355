// Package auth holds ganetimgr's authentication and authorization rules:
// password hashing, login throttling, the named permissions and the one
// function that answers "may this user do that".
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultArgon2 returns the parameters ganetimgr uses. They follow the OWASP Password Storage Cheat Sheet's first
// argon2id configuration (m=19 MiB, t=2, p=1). On this project's reference
// machine (2 shared cores) one hash takes about 30 ms, which keeps a login
// well under 100 ms while making each guess of an offline attacker cost
// 19 MiB of memory. Parallelism 1 because the server handles many requests
// at once; the Hasher also caps concurrent hashes so a login flood cannot
// take more than a bounded amount of memory (slots × 19 MiB).
func DefaultArgon2() Argon2Params {
	return Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// ErrBadHash is returned for a stored hash that cannot be parsed.
var ErrBadHash = errors.New("auth: malformed password hash")

// Hasher hashes and verifies passwords with argon2id, at most Slots at a time.
type Hasher struct {
	params Argon2Params
	slots  chan struct{}
	dummy  string
}

// NewHasher returns a Hasher with the given parameters that runs at most
// slots hashes concurrently (others wait).
func NewHasher(p Argon2Params, slots int) *Hasher {
	if slots < 1 {
		slots = 1
	}
	h := &Hasher{params: p, slots: make(chan struct{}, slots)}
	h.dummy, _ = h.Hash(context.Background(), "dummy password for timing equalisation")
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting to hash: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC-format argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, and whether the hash
// should be replaced because it was made with other parameters. An empty
// encoded hash (an account without a password) never matches but still costs
// one hash, so its timing does not differ from a wrong password.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	if encoded == "" {
		encoded = h.dummy
		defer func() { ok, rehash = false, false }()
	}
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	h.release()
	ok = subtle.ConstantTimeCompare(got, want) == 1
	rehash = ok && (p.Memory != h.params.Memory || p.Time != h.params.Time || p.Threads != h.params.Threads || uint32(len(want)) != h.params.KeyLen)
	return ok, rehash, nil
}

// Burn spends the time of one verification; used for unknown usernames so
// that they cannot be told apart from wrong passwords by timing.
func (h *Hasher) Burn(ctx context.Context, password string) {
	_, _, _ = h.Verify(ctx, password, h.dummy)
}

func parseHash(s string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, ErrBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, ErrBadHash
	}
	// Refuse absurd costs from a tampered row rather than allocating them.
	if p.Memory < 8 || p.Memory > 1<<21 || p.Time < 1 || p.Time > 64 || p.Threads < 1 {
		return p, nil, nil, ErrBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, ErrBadHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, ErrBadHash
	}
	return p, salt, key, nil
}

// GeneratePassword returns a random password of about 120 bits, readable
// and safe to print.
func GeneratePassword() (string, error) {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidUsername reports whether s is an acceptable username: 1 to 150 ASCII
// letters, digits or _ . @ + - (the same rule as the users table). Usernames
// end up in Ganeti tags, so nothing else is allowed.
func ValidUsername(s string) bool {
	if len(s) == 0 || len(s) > 150 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.@+-", r)) {
			return false
		}
	}
	return true
}
