// Package secretbox encrypts small secrets (RAPI passwords) for storage in
// the database with a key derived from ganetimgr's secret key.
//
// Sealed values are: one version byte, a 12-byte random nonce, then the
// AES-256-GCM ciphertext and tag. The purpose string is bound in as
// additional data, so a value sealed for one purpose cannot be replayed as
// another.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

const version1 = 1

// ErrOpen is returned for a value that was not sealed with this key and
// purpose, or was altered.
var ErrOpen = errors.New("secretbox: cannot decrypt (wrong secret key or damaged value)")

// Box seals and opens values for one purpose.
type Box struct {
	aead    cipher.AEAD
	purpose []byte
}

// New derives a key for purpose from the secret key (at least 32 bytes).
func New(secretKey []byte, purpose string) (*Box, error) {
	if len(secretKey) < 32 {
		return nil, errors.New("secretbox: secret key shorter than 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, secretKey, nil, "ganetimgr secretbox v1 "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("secretbox: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead, purpose: []byte(purpose)}, nil
}

// Seal encrypts plaintext.
func (b *Box) Seal(plaintext string) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	out[0] = version1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("secretbox: nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], []byte(plaintext), b.purpose), nil
}

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed []byte) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version1 {
		return "", ErrOpen
	}
	pt, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], b.purpose)
	if err != nil {
		return "", ErrOpen
	}
	return string(pt), nil
}
