package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
)

// TokenBytes is the number of random bytes of a token (256 bits).
const TokenBytes = 32

// TokenLength is the length of a token as text: unpadded base64url of
// TokenBytes bytes.
const TokenLength = 43

// NewToken returns a new random token, to put in a mailed link, and its
// SHA-256, the only form that is stored (store.NewAccountToken.Hash).
//
// Tokens are looked up by their hash with an ordinary index. That is safe
// against timing attacks: what the lookup's timing could reveal is how
// much of a stored hash matches the hash of a guess, and an attacker
// cannot choose a guess whose hash starts with given bytes, nor learn a
// token from its hash.
func NewToken() (token string, hash []byte, err error) {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("accounts: new token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

// HashToken returns the SHA-256 of a token taken from a link, to look the
// token up. ok is false for text that cannot be a token (wrong length or
// alphabet), which needs no lookup.
func HashToken(token string) (hash []byte, ok bool) {
	if len(token) != TokenLength {
		return nil, false
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(token); err != nil || len(b) != TokenBytes {
		return nil, false
	}
	sum := sha256.Sum256([]byte(token))
	return sum[:], true
}

// TokenMatches reports in constant time whether token hashes to hash, for
// a caller that holds a stored hash and a token to compare.
func TokenMatches(token string, hash []byte) bool {
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], hash) == 1
}
