package web

import (
	"bytes"
	"testing"
	"time"
)

// TestSessionCodec: encodings are deterministic, decodings are private
// copies, and an unchanged session re-encodes to its stored bytes while a
// changed one does not.
func TestSessionCodec(t *testing.T) {
	c := newSessionCodec()
	deadline := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	values := map[string]any{"uid": int64(7), "epoch": int32(2), "login_at": "2026-01-02T03:04:05Z", "lang": "el"}
	first, err := c.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b, err := newSessionCodec().Encode(deadline, values)
		if err != nil || !bytes.Equal(b, first) {
			t.Fatalf("encoding not deterministic: %v", err)
		}
	}
	d1, v1, err := c.Decode(first)
	if err != nil || !d1.Equal(deadline) || v1["uid"] != int64(7) || len(v1) != 4 {
		t.Fatalf("decode: %v %v %v", d1, v1, err)
	}
	if b, _ := c.Encode(d1, v1); !bytes.Equal(b, first) {
		t.Errorf("unchanged session encodes differently")
	}
	v1["uid"] = int64(8)
	_, v2, _ := c.Decode(first)
	if v2["uid"] != int64(7) {
		t.Errorf("a decoded map shares state with another: uid %v", v2["uid"])
	}
	b, err := c.Encode(d1, v1)
	if err != nil || bytes.Equal(b, first) {
		t.Errorf("changed session encodes like the old one")
	}
	if _, v, err := c.Decode(b); err != nil || v["uid"] != int64(8) {
		t.Errorf("changed session decodes to %v, %v", v, err)
	}
}
