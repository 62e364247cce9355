package web_test

import (
	"context"
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// authorizedKey returns the authorized_keys line of a public key.
func authorizedKey(t *testing.T, pub any, comment string) (line, fingerprint string) {
	t.Helper()
	p, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(p))) + " " + comment, ssh.FingerprintSHA256(p)
}

// dsaLine returns a real ssh-dss public key line (x/crypto no longer
// marshals DSA keys, so the wire format is built here).
func dsaLine(t *testing.T) string {
	t.Helper()
	var params dsa.Parameters
	if err := dsa.GenerateParameters(&params, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	k := dsa.PrivateKey{PublicKey: dsa.PublicKey{Parameters: params}}
	if err := dsa.GenerateKey(&k, rand.Reader); err != nil {
		t.Fatal(err)
	}
	blob := ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{"ssh-dss", k.P, k.Q, k.G, k.Y})
	return "ssh-dss " + base64.StdEncoding.EncodeToString(blob) + " old@host"
}

// TestSSHKeys: several keys at once, shown with their SHA256 fingerprints
// and comments; a known key is skipped with a message; DSA keys, short RSA
// keys and private keys are refused with their reasons and nothing is
// saved (a private key is never shown back); deleting is a POST, and only
// of one's own keys.
func TestSSHKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("xena", "correct horse battery", false)
	h.user("yuri", "correct horse battery", false)
	c := h.client()
	c.mustLogin("xena", "correct horse battery")

	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	edLine, edFP := authorizedKey(t, edPub, "xena@laptop")
	ecLine, ecFP := authorizedKey(t, &ec.PublicKey, "xena@desk")
	rsaLine, rsaFP := authorizedKey(t, &rsa2048.PublicKey, "xena@old")
	shortLine, _ := authorizedKey(t, &rsa1024.PublicKey, "weak")

	if r := c.get("/profile/keys"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="keys-none"`) {
		t.Fatalf("empty keys page: %d", r.StatusCode)
	}
	r := c.post("/profile/keys", url.Values{"keys": {edLine + "\r\n\n# a comment line\n" + ecLine + "\n"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile/keys" {
		t.Fatalf("add two keys: %d\n%s", r.StatusCode, r.body)
	}
	page := c.get("/profile/keys")
	for _, want := range []string{"The keys were added", edFP, ecFP, "xena@laptop", "xena@desk", "ssh-ed25519", "ecdsa-sha2-nistp256"} {
		if !strings.Contains(html.UnescapeString(page.body), want) {
			t.Errorf("keys page lacks %q", want)
		}
	}

	// A known key is skipped and named; the new one is added.
	r = c.post("/profile/keys", url.Values{"keys": {edLine + "\n" + rsaLine}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "skipped because you had already added them") ||
		!strings.Contains(r.body, "Keys added: 1.") {
		t.Fatalf("known key: %d\n%s", r.StatusCode, r.body)
	}
	if skipped := html.UnescapeString(r.body[strings.Index(r.body, `id="keys-skipped"`):strings.Index(r.body, `id="keys"`)]); !strings.Contains(skipped, edFP) || strings.Contains(skipped, rsaFP) {
		t.Errorf("skipped list: %s", skipped)
	}
	keys, err := h.store.SSHKeys(context.Background(), mustUser(t, h, "xena").ID)
	if err != nil || len(keys) != 3 {
		t.Fatalf("stored keys: %d %v, want 3", len(keys), err)
	}

	privPEM, err := ssh.MarshalPrivateKey(edPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	private := string(pem.EncodeToMemory(privPEM))
	privBody := strings.Split(private, "\n")[1]
	newEC, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	newLine, _ := authorizedKey(t, &newEC.PublicKey, "new")
	refusals := []struct {
		name, text, want string
	}{
		{"dsa", dsaLine(t), "DSA keys (ssh-dss) are insecure"},
		{"short rsa", shortLine, "1024 bits"},
		{"private key", private, "This is a PRIVATE key"},
		{"garbage", "hello world", "not an OpenSSH public key"},
	}
	for _, tc := range refusals {
		// A good key beside the bad one is not saved either.
		r := c.post("/profile/keys", url.Values{"keys": {newLine + "\n" + tc.text}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Nothing was saved") ||
			!strings.Contains(r.body, tc.want) || !strings.Contains(r.body, "Line 2") {
			t.Errorf("%s: %d\n%s", tc.name, r.StatusCode, r.body)
		}
		if tc.name == "private key" && (strings.Contains(html.UnescapeString(r.body), privBody) || strings.Contains(r.body, "BEGIN OPENSSH")) {
			t.Error("a pasted private key was shown back")
		}
		if tc.name == "dsa" && !strings.Contains(r.body, "ssh-dss AAAA") {
			t.Error("the refused line is not quoted back")
		}
	}
	if r := c.post("/profile/keys", url.Values{"keys": {"  \n"}}); r.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(r.body, "Paste at least one public key") {
		t.Errorf("empty: %d", r.StatusCode)
	}
	if keys2, _ := h.store.SSHKeys(context.Background(), mustUser(t, h, "xena").ID); len(keys2) != 3 {
		t.Fatalf("refused additions saved keys: %d", len(keys2))
	}

	// Deleting: POST only, own keys only.
	victim := keys[0]
	path := fmt.Sprintf("/profile/keys/%d/delete", victim.ID)
	if r := c.get(path); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET delete: %d, want 405", r.StatusCode)
	}
	yuri := h.client()
	yuri.mustLogin("yuri", "correct horse battery")
	if r := yuri.post(path, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("deleting another user's key: %d, want 404", r.StatusCode)
	}
	if r := c.post("/profile/keys/99999999/delete", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("deleting a missing key: %d", r.StatusCode)
	}
	if r := c.post(path, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	page = c.get("/profile/keys")
	if !strings.Contains(page.body, "The key was deleted") || strings.Contains(html.UnescapeString(page.body), victim.Fingerprint) {
		t.Error("key still listed after deleting it")
	}
	if r := c.post(path, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("deleting twice: %d", r.StatusCode)
	}
}
