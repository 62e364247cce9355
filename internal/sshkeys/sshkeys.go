// Package sshkeys parses the SSH public keys users paste into their profile,
// one per line in OpenSSH's authorized_keys format (the contents of an
// id_*.pub file), and decides which ones new instances may receive.
//
// Accepted: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa of
// MinRSABits bits or more, and the FIDO security-key types
// sk-ssh-ed25519@openssh.com and sk-ecdsa-sha2-nistp256@openssh.com. A
// public key in the RFC 4716 format PuTTYgen shows ("---- BEGIN SSH2 PUBLIC
// KEY ----") is accepted too and stored in OpenSSH's format.
//
// Refused, each with its own reason: DSA keys (ssh-dss; broken, and no
// longer accepted by OpenSSH), short RSA keys, certificates (an
// authorized_keys line holds a plain key; a certificate expires and is
// trusted through its authority, not by being listed), lines with
// authorized_keys options (they would be dropped silently, and a dropped
// from="..." restriction widens access), other key types, malformed lines,
// and private keys pasted by mistake. A private key block is reported once,
// by its first line, and nothing of it is ever quoted back.
//
// Every reason is an i18n message id (locales/accounts.*.json), so pages
// show it in the user's language.
package sshkeys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// Limits of what Parse accepts.
const (
	// MinRSABits is the smallest RSA modulus accepted.
	MinRSABits = 2048
	// MaxKeys is the most keys one call of Parse accepts; lines after that
	// are refused.
	MaxKeys = 100
	// MaxLineLength bounds one line in bytes (a 16384-bit RSA key with a
	// long comment fits easily).
	MaxLineLength = 16 * 1024
	// MaxInput bounds the whole text in bytes; longer text is refused
	// without parsing.
	MaxInput = 512 * 1024
	// MaxCommentLength is the longest comment kept, in characters; longer
	// comments are shortened.
	MaxCommentLength = 255
	// excerptLength is how many characters of a refused line are quoted.
	excerptLength = 40
)

// Key is an accepted public key. Its fields are those of store.NewSSHKey,
// in the same order, so one converts to the other.
type Key struct {
	// Type is the key type, e.g. "ssh-ed25519".
	Type string
	// Bits is the key size: the RSA modulus length, the curve size, 256
	// for Ed25519.
	Bits int
	// Fingerprint is the SHA-256 fingerprint as ssh-keygen -l shows it:
	// "SHA256:" and unpadded base64.
	Fingerprint string
	// Comment is the text after the key, with control characters removed.
	Comment string
	// Line is the canonical authorized_keys line: type, base64 key and,
	// when there is one, the comment, separated by single spaces; no
	// options and no newline.
	Line string
}

// Result is the outcome for one key (or one refused line) of the input.
type Result struct {
	// Line is the 1-based line number where the key or block starts.
	Line int
	// Key is the accepted key; nil when refused.
	Key *Key
	// Problem says why the line was refused; its Msg is zero for a key.
	Problem i18n.Message
	// Excerpt is the start of the refused line, safe to show (control
	// characters removed, shortened); always empty for private keys.
	Excerpt string
}

// OK reports whether the result is an accepted key.
func (r Result) OK() bool { return r.Key != nil }

// Keys returns the accepted keys of results, in order.
func Keys(results []Result) []Key {
	var out []Key
	for _, r := range results {
		if r.Key != nil {
			out = append(out, *r.Key)
		}
	}
	return out
}

// accepted reports whether typ is a key type new instances may receive.
func accepted(typ string) bool {
	switch typ {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSA, ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKECDSA256:
		return true
	}
	return false
}

// Parse parses text, one key per line; blank lines and lines starting with
// # are ignored. It returns one Result per key or refused line, in input
// order.
func Parse(text string) []Result {
	if len(text) > MaxInput {
		return []Result{{Line: 1, Problem: i18n.Message{Msg: i18n.M("sshkeys.error.input_too_long"),
			Args: []any{"Max", MaxInput / 1024}}}}
	}
	text = strings.TrimPrefix(text, "\ufeff")
	lines := splitLines(text)
	var out []Result
	keys := 0
	for i := 0; i < len(lines); i++ {
		s := strings.TrimSpace(lines[i])
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		r := Result{Line: i + 1}
		switch {
		case len(lines[i]) > MaxLineLength:
			r.Problem = problem(i18n.M("sshkeys.error.line_too_long"))
			r.Excerpt = excerpt(s)
		case isPrivateKeyStart(s):
			r.Problem = problem(i18n.M("sshkeys.error.private_key"))
			i = skipBlock(lines, i)
		case isPEMPublicKeyStart(s):
			r.Problem = problem(i18n.M("sshkeys.error.pem_public_key"))
			r.Excerpt = excerpt(s)
			i = skipBlock(lines, i)
		case s == rfc4716Begin:
			var end int
			r.Key, r.Problem, end = parseRFC4716(lines, i)
			if r.Key == nil && r.Problem.Msg.ID() != "sshkeys.error.private_key" {
				r.Excerpt = excerpt(s)
			}
			i = end
		default:
			r.Key, r.Problem = parseLine(s)
			if r.Key == nil && r.Problem.Msg.ID() != "sshkeys.error.private_key" {
				r.Excerpt = excerpt(s)
			}
		}
		if r.Key != nil {
			if keys == MaxKeys {
				r.Key, r.Problem, r.Excerpt = nil, i18n.Message{Msg: i18n.M("sshkeys.error.too_many"),
					Args: []any{"Max", MaxKeys}}, excerpt(s)
			} else {
				keys++
			}
		}
		out = append(out, r)
	}
	return out
}

// splitLines splits on \n, \r\n and lone \r.
func splitLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n")
}

func problem(m i18n.Msg) i18n.Message { return i18n.Message{Msg: m} }

// ParseLine parses one authorized_keys line (the one-line OpenSSH format
// only; Parse also reads RFC 4716 blocks). It returns the key, or nil and
// the reason it is refused.
func ParseLine(line string) (*Key, i18n.Message) {
	s := strings.TrimSpace(line)
	switch {
	case len(line) > MaxLineLength:
		return nil, problem(i18n.M("sshkeys.error.line_too_long"))
	case s == "" || strings.HasPrefix(s, "#"):
		return nil, problem(i18n.M("sshkeys.error.malformed"))
	case isPrivateKeyStart(s):
		return nil, problem(i18n.M("sshkeys.error.private_key"))
	}
	return parseLine(s)
}

// parseLine parses a trimmed, non-empty line.
func parseLine(s string) (*Key, i18n.Message) {
	var typ, rest string
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		typ, rest = s[:i], strings.TrimLeft(s[i:], " \t")
	} else {
		typ, rest = s, ""
	}
	if rest == "" {
		// A lone base64 blob: the body of a private key, or a public key
		// without its type.
		if blob, ok := decodeBase64(typ); ok {
			if isPrivateBlob(blob) {
				return nil, problem(i18n.M("sshkeys.error.private_key"))
			}
			if _, err := ssh.ParsePublicKey(blob); err == nil || blobType(blob) != "" {
				return nil, problem(i18n.M("sshkeys.error.missing_type"))
			}
		}
		return nil, problem(i18n.M("sshkeys.error.malformed"))
	}
	if !looksLikeKeyType(typ) {
		if hasOptions(s) {
			return nil, problem(i18n.M("sshkeys.error.options"))
		}
		return nil, problem(i18n.M("sshkeys.error.malformed"))
	}
	if typ == ssh.InsecureKeyAlgoDSA {
		return nil, problem(i18n.M("sshkeys.error.dsa"))
	}
	b64, comment := rest, ""
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		b64, comment = rest[:i], rest[i+1:]
	}
	blob, ok := decodeBase64(b64)
	if !ok {
		if hasOptions(s) {
			return nil, problem(i18n.M("sshkeys.error.options"))
		}
		return nil, problem(i18n.M("sshkeys.error.malformed"))
	}
	return parseBlob(typ, blob, comment)
}

// parseBlob checks the wire-format key blob declared as typ.
func parseBlob(typ string, blob []byte, comment string) (*Key, i18n.Message) {
	if isPrivateBlob(blob) {
		return nil, problem(i18n.M("sshkeys.error.private_key"))
	}
	inner := blobType(blob)
	switch {
	case typ == ssh.InsecureKeyAlgoDSA || inner == ssh.InsecureKeyAlgoDSA:
		return nil, problem(i18n.M("sshkeys.error.dsa"))
	case strings.Contains(typ, "-cert-v01@") || strings.Contains(inner, "-cert-v01@"):
		return nil, problem(i18n.M("sshkeys.error.certificate"))
	case inner == "":
		return nil, problem(i18n.M("sshkeys.error.malformed"))
	case inner != typ:
		return nil, problem(i18n.M("sshkeys.error.type_mismatch"))
	case !accepted(typ):
		return nil, i18n.Message{Msg: i18n.M("sshkeys.error.unsupported_type"), Args: []any{"Type", clean(typ, 64)}}
	}
	pub, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return nil, problem(i18n.M("sshkeys.error.malformed"))
	}
	if _, ok := pub.(*ssh.Certificate); ok || pub.Type() != typ {
		return nil, problem(i18n.M("sshkeys.error.type_mismatch"))
	}
	bits := keyBits(pub)
	if typ == ssh.KeyAlgoRSA && bits < MinRSABits {
		return nil, i18n.Message{Msg: i18n.M("sshkeys.error.rsa_too_short"), Args: []any{"Bits", bits, "Min", MinRSABits}}
	}
	k := &Key{
		Type:        pub.Type(),
		Bits:        bits,
		Fingerprint: ssh.FingerprintSHA256(pub),
		Comment:     clean(comment, MaxCommentLength),
	}
	k.Line = strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n")
	if k.Comment != "" {
		k.Line += " " + k.Comment
	}
	return k, i18n.Message{}
}

// keyBits returns the size of a parsed key.
func keyBits(pub ssh.PublicKey) int {
	if c, ok := pub.(ssh.CryptoPublicKey); ok {
		switch k := c.CryptoPublicKey().(type) {
		case *rsa.PublicKey:
			return k.N.BitLen()
		case *ecdsa.PublicKey:
			return k.Curve.Params().BitSize
		}
	}
	// Ed25519 and the security-key types (Ed25519 or P-256).
	return 256
}

// blobType returns the key type named at the start of a wire-format blob,
// or "" when the blob does not start with a plausible one.
func blobType(blob []byte) string {
	if len(blob) < 4 {
		return ""
	}
	n := binary.BigEndian.Uint32(blob)
	if n == 0 || n > 128 || int(n) > len(blob)-4 {
		return ""
	}
	t := string(blob[4 : 4+n])
	if !looksLikeKeyType(t) {
		return ""
	}
	return t
}

// looksLikeKeyType reports whether s could be an SSH key type name.
func looksLikeKeyType(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '@' || r == '.') {
			return false
		}
	}
	return strings.ContainsAny(s, "-") || strings.Contains(s, "@")
}

// hasOptions reports whether the line looks like "options keytype base64",
// the authorized_keys form with options.
func hasOptions(s string) bool {
	fields := splitOptionFields(s)
	for i := 1; i+1 < len(fields); i++ {
		if looksLikeKeyType(fields[i]) {
			if blob, ok := decodeBase64(fields[i+1]); ok && blobType(blob) != "" {
				return true
			}
		}
	}
	return false
}

// splitOptionFields splits at spaces and tabs outside double quotes.
func splitOptionFields(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' && (i == 0 || s[i-1] != '\\'):
			quoted = !quoted
			cur.WriteByte(c)
		case (c == ' ' || c == '\t') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// decodeBase64 decodes standard base64, with or without padding.
func decodeBase64(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}

// isPrivateBlob reports whether a decoded blob is an OpenSSH private key.
func isPrivateBlob(b []byte) bool {
	return bytes.HasPrefix(b, []byte("openssh-key-v1\x00"))
}

// isPrivateKeyStart reports whether a trimmed line starts a private key:
// a PEM block of any private key (OpenSSH, PKCS#1, PKCS#8, SEC 1, PGP) or
// a PuTTY key file.
func isPrivateKeyStart(s string) bool {
	if strings.HasPrefix(s, "-----BEGIN ") && strings.Contains(s, "PRIVATE KEY") {
		return true
	}
	if strings.HasPrefix(s, "PuTTY-User-Key-File-") {
		return true
	}
	// A base64 body line of an OpenSSH private key without its header
	// ("openssh-key-v1" encodes to this).
	return strings.HasPrefix(s, "b3BlbnNzaC1rZXktdjE")
}

// isPEMPublicKeyStart reports whether a trimmed line starts a PEM public
// key (PKIX or PKCS#1), which OpenSSH does not read in authorized_keys.
func isPEMPublicKeyStart(s string) bool {
	return s == "-----BEGIN PUBLIC KEY-----" || s == "-----BEGIN RSA PUBLIC KEY-----"
}

// skipBlock returns the index of the last line of the PEM block or
// PuTTY key file starting at lines[i]: its END line (PEM), its Private-MAC
// line (PuTTY), or the last line that looks like part of it.
func skipBlock(lines []string, i int) int {
	start := strings.TrimSpace(lines[i])
	for j := i + 1; j < len(lines); j++ {
		s := strings.TrimSpace(lines[j])
		switch {
		case strings.HasPrefix(start, "-----BEGIN ") && strings.HasPrefix(s, "-----END "):
			return j
		case strings.HasPrefix(start, "PuTTY-User-Key-File-") && strings.HasPrefix(s, "Private-MAC:"):
			return j
		case s == "" || strings.HasPrefix(s, "#") || startsKeyLine(s):
			return j - 1
		}
	}
	return len(lines) - 1
}

// startsKeyLine reports whether s looks like the start of a public key
// line or block (so a private key block without its end stops there).
func startsKeyLine(s string) bool {
	if s == rfc4716Begin {
		return true
	}
	typ, rest, ok := strings.Cut(s, " ")
	return ok && rest != "" && looksLikeKeyType(typ) && strings.ContainsAny(typ, "-")
}

// clean turns tabs into spaces, removes other control and format
// characters and invalid UTF-8, trims, and shortens s to at most max
// characters.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = strings.TrimSpace(string([]rune(s)[:max]))
	}
	return s
}

// excerpt returns the start of a refused line, safe to show. A line that
// is one long word (base64 perhaps: a piece of a private key) is not
// quoted.
func excerpt(s string) string {
	if len(s) >= 32 && !strings.ContainsAny(s, " \t") {
		return ""
	}
	c := clean(s, excerptLength)
	if utf8.RuneCountInString(clean(s, MaxLineLength)) > excerptLength {
		c += "…"
	}
	return c
}

// The first and last lines of an RFC 4716 public key.
const (
	rfc4716Begin = "---- BEGIN SSH2 PUBLIC KEY ----"
	rfc4716End   = "---- END SSH2 PUBLIC KEY ----"
	// maxRFC4716Header bounds one header, continuation lines included
	// (RFC 4716 allows 1024 bytes).
	maxRFC4716Header = 1024
)

// parseRFC4716 parses the RFC 4716 public key starting at lines[i] and
// returns the index of its last line. Without an END line it refuses the
// BEGIN line alone and the lines after it are parsed on their own.
func parseRFC4716(lines []string, i int) (*Key, i18n.Message, int) {
	var body strings.Builder
	comment := ""
	inHeader := true
	continued := false
	header := ""
	for j := i + 1; j < len(lines); j++ {
		s := strings.TrimSpace(lines[j])
		switch {
		case s == rfc4716End:
			blob, ok := decodeBase64(body.String())
			if !ok {
				return nil, problem(i18n.M("sshkeys.error.malformed")), j
			}
			typ := blobType(blob)
			if typ == "" {
				return nil, problem(i18n.M("sshkeys.error.malformed")), j
			}
			k, p := parseBlob(typ, blob, comment)
			return k, p, j
		case inHeader && (continued || strings.Contains(s, ":")):
			if continued {
				header += s
			} else {
				header = s
			}
			if len(header) > maxRFC4716Header {
				return nil, problem(i18n.M("sshkeys.error.malformed")), i
			}
			continued = strings.HasSuffix(header, "\\")
			if continued {
				header = strings.TrimSuffix(header, "\\")
				continue
			}
			if tag, value, ok := strings.Cut(header, ":"); ok && strings.EqualFold(strings.TrimSpace(tag), "Comment") {
				value = strings.TrimSpace(value)
				if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
					value = value[1 : len(value)-1]
				}
				comment = value
			}
		case s == "" || strings.ContainsAny(s, " \t:") || body.Len()+len(s) > MaxLineLength:
			return nil, problem(i18n.M("sshkeys.error.malformed")), i
		default:
			inHeader = false
			body.WriteString(s)
		}
	}
	return nil, problem(i18n.M("sshkeys.error.malformed")), i
}
