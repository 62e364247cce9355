package secretbox

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b, err := New(key, "rapi-password")
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := b.Seal("hunter2 πάσσ")
	s2, _ := b.Seal("hunter2 πάσσ")
	if bytes.Equal(s1, s2) {
		t.Error("two seals of the same value are equal (nonce reuse)")
	}
	if bytes.Contains(s1, []byte("hunter2")) {
		t.Error("plaintext visible in sealed value")
	}
	if got, err := b.Open(s1); err != nil || got != "hunter2 πάσσ" {
		t.Errorf("Open = %q, %v", got, err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32), "rapi-password")
	if _, err := other.Open(s1); !errors.Is(err, ErrOpen) {
		t.Errorf("other key: %v", err)
	}
	purpose, _ := New(key, "something-else")
	if _, err := purpose.Open(s1); !errors.Is(err, ErrOpen) {
		t.Errorf("other purpose: %v", err)
	}
	tampered := append([]byte(nil), s1...)
	tampered[len(tampered)-1] ^= 1
	for _, bad := range [][]byte{nil, {1}, tampered, append([]byte{2}, s1[1:]...)} {
		if _, err := b.Open(bad); !errors.Is(err, ErrOpen) {
			t.Errorf("Open(%x): %v", bad, err)
		}
	}
	if _, err := New([]byte(strings.Repeat("k", 31)), "x"); err == nil {
		t.Error("short key accepted")
	}
}
