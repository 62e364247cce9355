package sshkeys_test

import (
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/ganetimgr/ganetimgr/internal/sshkeys"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// testKeys are real keys generated once for the package's tests.
type testKeys struct {
	ed25519, ecdsa256, ecdsa384, ecdsa521, rsa2048, rsa1024 ssh.PublicKey
	ed25519Priv                                             ed25519.PrivateKey
	rsaPriv                                                 *rsa.PrivateKey
	dsaLine                                                 string
	cert                                                    *ssh.Certificate
}

var keysOnce = sync.OnceValue(func() *testKeys {
	k := &testKeys{}
	must := func(p ssh.PublicKey, err error) ssh.PublicKey {
		if err != nil {
			panic(err)
		}
		return p
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	k.ed25519, k.ed25519Priv = must(ssh.NewPublicKey(pub)), priv
	for _, c := range []struct {
		curve elliptic.Curve
		dst   *ssh.PublicKey
	}{{elliptic.P256(), &k.ecdsa256}, {elliptic.P384(), &k.ecdsa384}, {elliptic.P521(), &k.ecdsa521}} {
		ec, err := ecdsa.GenerateKey(c.curve, rand.Reader)
		if err != nil {
			panic(err)
		}
		*c.dst = must(ssh.NewPublicKey(&ec.PublicKey))
	}
	r2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	k.rsa2048, k.rsaPriv = must(ssh.NewPublicKey(&r2048.PublicKey)), r2048
	r1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	k.rsa1024 = must(ssh.NewPublicKey(&r1024.PublicKey))

	// A real DSA key, in the wire format OpenSSH used (x/crypto no longer
	// marshals DSA).
	var params dsa.Parameters
	if err := dsa.GenerateParameters(&params, rand.Reader, dsa.L1024N160); err != nil {
		panic(err)
	}
	dk := dsa.PrivateKey{PublicKey: dsa.PublicKey{Parameters: params}}
	if err := dsa.GenerateKey(&dk, rand.Reader); err != nil {
		panic(err)
	}
	blob := ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{"ssh-dss", dk.P, dk.Q, dk.G, dk.Y})
	k.dsaLine = "ssh-dss " + base64.StdEncoding.EncodeToString(blob) + " old@host"

	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		panic(err)
	}
	k.cert = &ssh.Certificate{Key: k.ecdsa256, CertType: ssh.UserCert, ValidPrincipals: []string{"ann"},
		ValidBefore: ssh.CertTimeInfinity}
	if err := k.cert.SignCert(rand.Reader, signer); err != nil {
		panic(err)
	}
	return k
})

func line(p ssh.PublicKey, comment string) string {
	s := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(p)), "\n")
	if comment != "" {
		s += " " + comment
	}
	return s
}

func skBlob(typ string, parts ...any) string {
	var b []byte
	b = append(b, ssh.Marshal(struct{ S string }{typ})...)
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b = append(b, ssh.Marshal(struct{ S string }{v})...)
		case []byte:
			b = append(b, ssh.Marshal(struct{ S []byte }{v})...)
		}
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestAcceptedKeys(t *testing.T) {
	t.Parallel()
	k := keysOnce()
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecdhKey, err := p256.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	ecPoint := ecdhKey.Bytes() // the uncompressed point, as SSH encodes it
	edPub := k.ed25519Priv.Public().(ed25519.PublicKey)
	cases := []struct {
		name, in, typ, comment string
		bits                   int
	}{
		{"ed25519", line(k.ed25519, "ann@laptop"), "ssh-ed25519", "ann@laptop", 256},
		{"ecdsa p256", line(k.ecdsa256, ""), "ecdsa-sha2-nistp256", "", 256},
		{"ecdsa p384", line(k.ecdsa384, "x"), "ecdsa-sha2-nistp384", "x", 384},
		{"ecdsa p521", line(k.ecdsa521, "y"), "ecdsa-sha2-nistp521", "y", 521},
		{"rsa 2048", line(k.rsa2048, "rsa key"), "ssh-rsa", "rsa key", 2048},
		{"comment spaces kept, tabs made spaces", line(k.ed25519, "my  work\tkey"), "ssh-ed25519", "my  work key", 256},
		{"tab separated", strings.Replace(line(k.ed25519, "c"), " ", "\t", -1), "ssh-ed25519", "c", 256},
		{"crlf and spaces around", "  " + line(k.ed25519, "c") + " \r", "ssh-ed25519", "c", 256},
		{"control characters removed", line(k.ed25519, "a\x01b\u200ec"), "ssh-ed25519", "abc", 256},
		{"greek comment", line(k.ed25519, "κλειδί"), "ssh-ed25519", "κλειδί", 256},
		{"sk ed25519", "sk-ssh-ed25519@openssh.com " + skBlob("sk-ssh-ed25519@openssh.com", []byte(edPub), "ssh:") + " yubikey",
			"sk-ssh-ed25519@openssh.com", "yubikey", 256},
		{"sk ecdsa", "sk-ecdsa-sha2-nistp256@openssh.com " + skBlob("sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", ecPoint, "ssh:"),
			"sk-ecdsa-sha2-nistp256@openssh.com", "", 256},
	}
	for _, c := range cases {
		rs := sshkeys.Parse(c.in)
		if len(rs) != 1 || !rs[0].OK() {
			t.Errorf("%s: got %+v, want one key", c.name, rs)
			continue
		}
		got := rs[0].Key
		wantComment := c.comment
		if got.Type != c.typ || got.Bits != c.bits || got.Comment != wantComment {
			t.Errorf("%s: got type %q bits %d comment %q, want %q %d %q", c.name, got.Type, got.Bits, got.Comment, c.typ, c.bits, wantComment)
		}
		// The canonical line parses back to the same key, and its
		// fingerprint is ssh-keygen's.
		pub, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(got.Line))
		if err != nil {
			t.Errorf("%s: canonical line %q does not parse: %v", c.name, got.Line, err)
			continue
		}
		if ssh.FingerprintSHA256(pub) != got.Fingerprint || comment != got.Comment {
			t.Errorf("%s: canonical line gives %s %q, want %s %q", c.name, ssh.FingerprintSHA256(pub), comment, got.Fingerprint, got.Comment)
		}
		if strings.ContainsAny(got.Line, "\r\n") || (got.Comment == "") != (strings.Count(got.Line, " ") == 1) {
			t.Errorf("%s: canonical line %q", c.name, got.Line)
		}
	}
	if rs := sshkeys.Parse(line(k.ed25519, "")); rs[0].Key.Fingerprint != ssh.FingerprintSHA256(k.ed25519) ||
		!strings.HasPrefix(rs[0].Key.Fingerprint, "SHA256:") {
		t.Errorf("fingerprint %q, want %q", rs[0].Key.Fingerprint, ssh.FingerprintSHA256(k.ed25519))
	}
}

func TestRefusedKeys(t *testing.T) {
	t.Parallel()
	k := keysOnce()
	edLine := line(k.ed25519, "c")
	edB64 := strings.Fields(edLine)[1]
	opensshPriv, err := ssh.MarshalPrivateKey(k.ed25519Priv, "ann@laptop")
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.rsaPriv)})
	pkcs8der, _ := x509.MarshalPKCS8PrivateKey(k.ed25519Priv)
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8der})
	pkixDER, _ := x509.MarshalPKIXPublicKey(&k.rsaPriv.PublicKey)
	pkix := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER})
	opensshBody := strings.Split(string(pem.EncodeToMemory(opensshPriv)), "\n")[1]
	unknown := "ssh-foo " + skBlob("ssh-foo", "data")
	cases := []struct {
		name, in, reason string
	}{
		{"dsa", k.dsaLine, "sshkeys.error.dsa"},
		{"dsa blob declared as rsa", "ssh-rsa " + strings.Fields(k.dsaLine)[1], "sshkeys.error.dsa"},
		{"rsa 1024", line(k.rsa1024, "weak"), "sshkeys.error.rsa_too_short"},
		{"certificate", line(k.cert, "cert"), "sshkeys.error.certificate"},
		{"openssh private key", string(pem.EncodeToMemory(opensshPriv)), "sshkeys.error.private_key"},
		{"pkcs1 private key", string(pkcs1), "sshkeys.error.private_key"},
		{"pkcs8 private key", string(pkcs8), "sshkeys.error.private_key"},
		{"private key body alone", opensshBody, "sshkeys.error.private_key"},
		{"putty private key", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 2\nAAAA\nBBBB\nPrivate-Lines: 1\nCCCC\nPrivate-MAC: 00ff", "sshkeys.error.private_key"},
		{"pem public key", string(pkix), "sshkeys.error.pem_public_key"},
		{"options", `from="10.0.0.0/8",no-pty ` + edLine, "sshkeys.error.options"},
		{"option with spaces", `command="echo hi there" ` + edLine, "sshkeys.error.options"},
		{"restrict", "restrict " + edLine, "sshkeys.error.options"},
		{"type mismatch", "ssh-rsa " + edB64, "sshkeys.error.type_mismatch"},
		{"missing type", edB64, "sshkeys.error.missing_type"},
		{"missing type with comment", edB64 + " c", "sshkeys.error.malformed"},
		{"unsupported", unknown, "sshkeys.error.unsupported_type"},
		{"bad base64", "ssh-ed25519 AAAA!!!! c", "sshkeys.error.malformed"},
		{"truncated", "ssh-ed25519 " + edB64[:30], "sshkeys.error.malformed"},
		{"type only", "ssh-ed25519", "sshkeys.error.malformed"},
		{"prose", "this is my key", "sshkeys.error.malformed"},
		{"fingerprint", "256 SHA256:abc ann@laptop (ED25519)", "sshkeys.error.malformed"},
		{"long line", "ssh-rsa " + strings.Repeat("A", sshkeys.MaxLineLength), "sshkeys.error.line_too_long"},
	}
	for _, c := range cases {
		rs := sshkeys.Parse(c.in)
		if len(rs) != 1 || rs[0].OK() || rs[0].Problem.Msg.ID() != c.reason || rs[0].Line != 1 {
			t.Errorf("%s: got %+v, want one refusal %s on line 1", c.name, rs, c.reason)
			continue
		}
		if strings.HasSuffix(c.reason, "private_key") && rs[0].Excerpt != "" {
			t.Errorf("%s: a private key is quoted back: %q", c.name, rs[0].Excerpt)
		}
	}
	rs := sshkeys.Parse(line(k.rsa1024, ""))
	if args := rs[0].Problem.Args; len(args) != 4 || args[1] != 1024 || args[3] != 2048 {
		t.Errorf("rsa arguments %v", args)
	}
	rs = sshkeys.Parse(unknown)
	if args := rs[0].Problem.Args; len(args) != 2 || args[1] != "ssh-foo" {
		t.Errorf("unsupported type arguments %v", args)
	}
}

func TestParseSeveralLines(t *testing.T) {
	t.Parallel()
	k := keysOnce()
	opensshPriv, _ := ssh.MarshalPrivateKey(k.ed25519Priv, "")
	in := strings.Join([]string{
		"# my keys",
		line(k.ed25519, "one"),
		"",
		"garbage here",
		strings.TrimSpace(string(pem.EncodeToMemory(opensshPriv))),
		line(k.ecdsa256, "two"),
		line(k.ed25519, "one again"), // duplicates are for the store to skip
		"---- BEGIN SSH2 PUBLIC KEY ----",
		`Comment: "rsa-key-20240101 \`,
		`continued"`,
		"x-private: yes",
		wrap(strings.Fields(line(k.rsa2048, ""))[1], 64),
		"---- END SSH2 PUBLIC KEY ----",
		"   ",
	}, "\r\n")
	rs := sshkeys.Parse(in)
	type want struct {
		line   int
		ok     bool
		reason string
	}
	var wants []want
	// Lines: 1 comment, 2 key, 3 blank, 4 garbage, 5.. private key.
	privLines := strings.Count(strings.TrimSpace(string(pem.EncodeToMemory(opensshPriv))), "\n") + 1
	next := 5 + privLines
	wants = append(wants, want{2, true, ""}, want{4, false, "sshkeys.error.malformed"}, want{5, false, "sshkeys.error.private_key"},
		want{next, true, ""}, want{next + 1, true, ""}, want{next + 2, true, ""})
	if len(rs) != len(wants) {
		t.Fatalf("got %d results %+v, want %d", len(rs), rs, len(wants))
	}
	for i, w := range wants {
		if rs[i].Line != w.line || rs[i].OK() != w.ok || rs[i].Problem.Msg.ID() != w.reason {
			t.Errorf("result %d: got line %d ok %v %q, want line %d ok %v %q", i, rs[i].Line, rs[i].OK(), rs[i].Problem.Msg.ID(), w.line, w.ok, w.reason)
		}
	}
	if rs[1].Excerpt != "garbage here" {
		t.Errorf("excerpt %q", rs[1].Excerpt)
	}
	rfc := rs[5].Key
	if rfc == nil || rfc.Type != "ssh-rsa" || rfc.Comment != "rsa-key-20240101 continued" || rfc.Fingerprint != ssh.FingerprintSHA256(k.rsa2048) {
		t.Errorf("RFC 4716 key %+v", rfc)
	}
	if got := sshkeys.Keys(rs); len(got) != 4 {
		t.Errorf("Keys gave %d keys, want 4", len(got))
	}
	// The store takes the keys as they are.
	_ = store.NewSSHKey(*rs[0].Key)
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestLimits(t *testing.T) {
	t.Parallel()
	k := keysOnce()
	var b strings.Builder
	for range sshkeys.MaxKeys + 2 {
		b.WriteString(line(k.ed25519, "same") + "\n")
	}
	rs := sshkeys.Parse(b.String())
	if len(rs) != sshkeys.MaxKeys+2 || !rs[sshkeys.MaxKeys-1].OK() || rs[sshkeys.MaxKeys].OK() ||
		rs[sshkeys.MaxKeys].Problem.Msg.ID() != "sshkeys.error.too_many" {
		t.Errorf("over the limit: %d results, last %+v", len(rs), rs[len(rs)-1])
	}
	rs = sshkeys.Parse(strings.Repeat("x", sshkeys.MaxInput+1))
	if len(rs) != 1 || rs[0].Problem.Msg.ID() != "sshkeys.error.input_too_long" {
		t.Errorf("huge input: %+v", rs)
	}
	long := line(k.ed25519, strings.Repeat("é", 300))
	rs = sshkeys.Parse(long)
	if !rs[0].OK() || len([]rune(rs[0].Key.Comment)) != sshkeys.MaxCommentLength {
		t.Errorf("long comment: %+v", rs[0])
	}
	if rs := sshkeys.Parse("\n\n# only comments\n   \n"); len(rs) != 0 {
		t.Errorf("blank input: %+v", rs)
	}
	if key, p := sshkeys.ParseLine(line(k.ecdsa384, "c")); key == nil || !p.Msg.IsZero() {
		t.Errorf("ParseLine: %v %v", key, p)
	}
	if key, p := sshkeys.ParseLine("# comment"); key != nil || p.Msg.ID() != "sshkeys.error.malformed" {
		t.Errorf("ParseLine of a comment: %v %v", key, p)
	}
	if rs := sshkeys.Parse("x " + strings.Repeat("é", 100)); rs[0].Excerpt != "x "+strings.Repeat("é", 38)+"…" {
		t.Errorf("excerpt %q", rs[0].Excerpt)
	}
}

func FuzzParse(f *testing.F) {
	k := keysOnce()
	opensshPriv, _ := ssh.MarshalPrivateKey(k.ed25519Priv, "c")
	for _, s := range []string{
		line(k.ed25519, "a b"), line(k.rsa2048, ""), line(k.ecdsa521, "x"), k.dsaLine, line(k.cert, ""),
		string(pem.EncodeToMemory(opensshPriv)), "---- BEGIN SSH2 PUBLIC KEY ----\nComment: x\nAAAA\n---- END SSH2 PUBLIC KEY ----",
		`from="a b" ` + line(k.ed25519, ""), "ssh-ed25519 AAAA", "#", "\r\r\n", "ssh-rsa \x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rs := sshkeys.Parse(in)
		prev := 0
		for _, r := range rs {
			if r.Line <= prev {
				t.Fatalf("line numbers not increasing: %+v", rs)
			}
			prev = r.Line
			if r.OK() != r.Problem.Msg.IsZero() {
				t.Fatalf("result both key and problem, or neither: %+v", r)
			}
			if !r.OK() {
				if r.Key != nil || len([]rune(r.Excerpt)) > 41 {
					t.Fatalf("bad refusal %+v", r)
				}
				continue
			}
			key := r.Key
			if strings.ContainsAny(key.Line, "\r\n\x00") || !strings.HasPrefix(key.Line, key.Type+" ") ||
				len([]rune(key.Comment)) > sshkeys.MaxCommentLength {
				t.Fatalf("bad key line %q", key.Line)
			}
			pub, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(key.Line))
			if err != nil || ssh.FingerprintSHA256(pub) != key.Fingerprint || comment != key.Comment || pub.Type() != key.Type {
				t.Fatalf("key line %q does not round-trip: %v", key.Line, err)
			}
			if key.Type == "ssh-rsa" && key.Bits < sshkeys.MinRSABits || key.Type == "ssh-dss" {
				t.Fatalf("weak key accepted: %+v", key)
			}
			// Parsing the canonical line again gives the same key.
			again := sshkeys.Parse(key.Line)
			if len(again) != 1 || !again[0].OK() || *again[0].Key != *key {
				t.Fatalf("canonical line %q parses to %+v", key.Line, again)
			}
		}
	})
}
