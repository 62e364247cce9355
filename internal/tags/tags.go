// Package tags implements ganetimgr's scheme of Ganeti tags, which carries
// instance ownership and flags on the cluster itself so that an existing
// ganetimgr deployment is picked up unchanged.
//
// Instance tags, with P the configurable prefix (default "ganetimgr"):
//
//	P:user:<username>        owner user (several allowed)
//	P:group:<group>          owner group: every member owns the instance
//	P:org:<org tag>          organization
//	P:application:<id>       originating application
//	P:service:<name>         service hosted (ganetimgr writes "mail")
//	P:vg:<vg>                volume group chosen at creation
//	P:adminlock              user actions disabled by an administrator
//	P:isolate                network-isolated
//	P:needsreboot            hypervisor parameters changed while running
//	P:whitelist_ip:<cidr>    address allowed while isolated (compressed form)
//
// Cluster tags P:ext:<provider> and P:ext:<provider>:params:<key>:<value>
// declare extstorage providers; node group tags "locked" (maintenance) and
// "vg:<name>" (volume groups offered) are not prefixed.
//
// Tags of other prefixes or other software are ignored when parsing.
// Builders validate against Ganeti's tag rules (see Validate).
package tags

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultPrefix is ganetimgr's default tag prefix (GANETI_TAG_PREFIX).
const DefaultPrefix = "ganetimgr"

// Ganeti's limits on tags (lib/objects.py, lib/constants.py).
const (
	// MaxTagLen is the longest tag Ganeti accepts, in characters.
	MaxTagLen = 128
	// MaxTagsPerObject is the most tags one object may carry.
	MaxTagsPerObject = 4096
)

// Kinds of ganetimgr instance tags (the part after the prefix).
const (
	KindUser        = "user"
	KindGroup       = "group"
	KindOrg         = "org"
	KindApplication = "application"
	KindService     = "service"
	KindVG          = "vg"
	KindAdminLock   = "adminlock"
	KindIsolate     = "isolate"
	KindNeedsReboot = "needsreboot"
	KindWhitelistIP = "whitelist_ip"
	KindExt         = "ext"
)

// ServiceMail is the service ganetimgr tags mail-server instances with.
const ServiceMail = "mail"

// Node group tags (not prefixed).
const (
	// GroupLocked marks a node group under maintenance.
	GroupLocked = "locked"
	// GroupVGPrefix starts a node group tag naming an offered volume group.
	GroupVGPrefix = "vg:"
)

// ErrInvalid matches every validation error of this package.
var ErrInvalid = errors.New("tags: invalid tag")

// Validate checks a whole tag against Ganeti's rules: 1 to 128 characters,
// each a letter, digit or one of "_.+*/:@-" (Ganeti's ^[\w.+*/:@-]+$; Ganeti
// 3 runs on Python 3, where \w includes non-ASCII letters and digits).
func Validate(tag string) error {
	return validate(tag, false)
}

// ValidateASCII is Validate restricted to ASCII, as Ganeti 2.x (Python 2)
// enforces.
func ValidateASCII(tag string) error {
	return validate(tag, true)
}

func validate(tag string, asciiOnly bool) error {
	if tag == "" {
		return fmt.Errorf("%w: empty", ErrInvalid)
	}
	if !utf8.ValidString(tag) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
	}
	if n := utf8.RuneCountInString(tag); n > MaxTagLen {
		return fmt.Errorf("%w: %d characters, at most %d allowed", ErrInvalid, n, MaxTagLen)
	}
	for _, r := range tag {
		if !tagRune(r, asciiOnly) {
			return fmt.Errorf("%w: %q contains %q", ErrInvalid, tag, r)
		}
	}
	return nil
}

// tagRune reports whether r may appear in a tag.
func tagRune(r rune, asciiOnly bool) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case strings.ContainsRune("_.+*/:@-", r):
		return true
	case r < utf8.RuneSelf || asciiOnly:
		return false
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// Codec builds and parses tags with one prefix.
type Codec struct {
	// Prefix defaults to DefaultPrefix when empty.
	Prefix string
	// ASCIIOnly restricts built values to ASCII (for Ganeti 2.x clusters).
	ASCIIOnly bool
}

// New returns a codec for prefix ("" means DefaultPrefix) after checking it:
// a valid tag without ':'.
func New(prefix string) (Codec, error) {
	c := Codec{Prefix: prefix}
	if err := c.check(); err != nil {
		return Codec{}, err
	}
	return c, nil
}

func (c Codec) prefix() string {
	if c.Prefix == "" {
		return DefaultPrefix
	}
	return c.Prefix
}

func (c Codec) check() error {
	p := c.prefix()
	if strings.Contains(p, ":") {
		return fmt.Errorf("%w: prefix %q must not contain ':'", ErrInvalid, p)
	}
	if err := validate(p, c.ASCIIOnly); err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	return nil
}

// build joins prefix, kind and value and validates the result.
func (c Codec) build(kind, value string) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	if value == "" {
		return "", fmt.Errorf("%w: empty %s", ErrInvalid, kind)
	}
	tag := c.prefix() + ":" + kind + ":" + value
	if err := validate(tag, c.ASCIIOnly); err != nil {
		return "", fmt.Errorf("%s %q: %w", kind, value, err)
	}
	return tag, nil
}

// flag builds a value-less tag.
func (c Codec) flag(kind string) string {
	return c.prefix() + ":" + kind
}

// User returns "<prefix>:user:<username>".
func (c Codec) User(username string) (string, error) { return c.build(KindUser, username) }

// Group returns "<prefix>:group:<group>".
func (c Codec) Group(group string) (string, error) { return c.build(KindGroup, group) }

// Org returns "<prefix>:org:<org tag>".
func (c Codec) Org(org string) (string, error) { return c.build(KindOrg, org) }

// Application returns "<prefix>:application:<id>"; id must be positive.
func (c Codec) Application(id int64) (string, error) {
	if id <= 0 {
		return "", fmt.Errorf("%w: application id %d", ErrInvalid, id)
	}
	return c.build(KindApplication, strconv.FormatInt(id, 10))
}

// Service returns "<prefix>:service:<name>".
func (c Codec) Service(name string) (string, error) { return c.build(KindService, name) }

// VG returns "<prefix>:vg:<vg>".
func (c Codec) VG(vg string) (string, error) { return c.build(KindVG, vg) }

// AdminLock returns "<prefix>:adminlock".
func (c Codec) AdminLock() string { return c.flag(KindAdminLock) }

// Isolate returns "<prefix>:isolate".
func (c Codec) Isolate() string { return c.flag(KindIsolate) }

// NeedsReboot returns "<prefix>:needsreboot".
func (c Codec) NeedsReboot() string { return c.flag(KindNeedsReboot) }

// WhitelistIP returns "<prefix>:whitelist_ip:<cidr>" with the prefix in its
// compressed text form (RFC 5952 for IPv6, e.g. "2001:db8::/64"), host bits
// kept as given. A prefix without zone is required.
func (c Codec) WhitelistIP(p netip.Prefix) (string, error) {
	if !p.IsValid() {
		return "", fmt.Errorf("%w: invalid whitelist prefix", ErrInvalid)
	}
	return c.build(KindWhitelistIP, p.String())
}

// ParseWhitelist parses a whitelist address as an administrator or user
// types it: a CIDR prefix, or a bare address (taken as /32 or /128).
func ParseWhitelist(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%w: %q is not an IP address or prefix", ErrInvalid, s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Ext returns the cluster tag "<prefix>:ext:<provider>".
func (c Codec) Ext(provider string) (string, error) {
	if strings.Contains(provider, ":") {
		return "", fmt.Errorf("%w: provider %q must not contain ':'", ErrInvalid, provider)
	}
	return c.build(KindExt, provider)
}

// ExtParam returns the cluster tag
// "<prefix>:ext:<provider>:params:<key>:<value>".
func (c Codec) ExtParam(provider, key, value string) (string, error) {
	for _, s := range []string{provider, key} {
		if s == "" || strings.Contains(s, ":") {
			return "", fmt.Errorf("%w: ext provider and key must be non-empty without ':'", ErrInvalid)
		}
	}
	if value == "" {
		return "", fmt.Errorf("%w: empty ext parameter value", ErrInvalid)
	}
	return c.build(KindExt, provider+":params:"+key+":"+value)
}

// Parsed is what ganetimgr's tags on one instance say. Slices keep the
// order of the tags, without duplicates.
type Parsed struct {
	Users    []string
	Groups   []string
	Orgs     []string
	Services []string
	VGs      []string
	// Application is the originating application id, 0 when none.
	Application int64
	AdminLock   bool
	Isolate     bool
	NeedsReboot bool
	Whitelist   []netip.Prefix
	// Unknown holds tags with this prefix that were not understood (an
	// unknown kind, an unparsable value); Other holds all other tags.
	Unknown []string
	Other   []string
}

// Org returns the first organization, or "".
func (p *Parsed) Org() string {
	if len(p.Orgs) == 0 {
		return ""
	}
	return p.Orgs[0]
}

// HasService reports whether the service tag name is present.
func (p *Parsed) HasService(name string) bool {
	for _, s := range p.Services {
		if s == name {
			return true
		}
	}
	return false
}

// OwnedBy reports whether username owns the instance, directly or through
// one of groups (the names of the groups the user belongs to).
func (p *Parsed) OwnedBy(username string, groups []string) bool {
	for _, u := range p.Users {
		if u == username {
			return true
		}
	}
	for _, g := range p.Groups {
		for _, ug := range groups {
			if g == ug {
				return true
			}
		}
	}
	return false
}

// Parse reads an instance's tags.
func (c Codec) Parse(tags []string) Parsed {
	var p Parsed
	head := c.prefix() + ":"
	for _, t := range tags {
		rest, ok := strings.CutPrefix(t, head)
		if !ok {
			p.Other = append(p.Other, t)
			continue
		}
		kind, value, hasValue := strings.Cut(rest, ":")
		known := true
		switch kind {
		case KindUser:
			p.Users, known = addValue(p.Users, value, hasValue)
		case KindGroup:
			p.Groups, known = addValue(p.Groups, value, hasValue)
		case KindOrg:
			p.Orgs, known = addValue(p.Orgs, value, hasValue)
		case KindService:
			p.Services, known = addValue(p.Services, value, hasValue)
		case KindVG:
			p.VGs, known = addValue(p.VGs, value, hasValue)
		case KindApplication:
			id, err := strconv.ParseInt(value, 10, 64)
			known = hasValue && err == nil && id > 0 && (p.Application == 0 || p.Application == id)
			if known {
				p.Application = id
			}
		case KindAdminLock:
			p.AdminLock, known = true, !hasValue
		case KindIsolate:
			p.Isolate, known = true, !hasValue
		case KindNeedsReboot:
			p.NeedsReboot, known = true, !hasValue
		case KindWhitelistIP:
			pf, err := ParseWhitelist(value)
			known = hasValue && err == nil
			if known && !containsPrefix(p.Whitelist, pf) {
				p.Whitelist = append(p.Whitelist, pf)
			}
		default:
			known = false
		}
		if !known {
			p.Unknown = append(p.Unknown, t)
		}
	}
	return p
}

// addValue appends a non-empty value once.
func addValue(list []string, v string, hasValue bool) ([]string, bool) {
	if !hasValue || v == "" {
		return list, false
	}
	for _, x := range list {
		if x == v {
			return list, true
		}
	}
	return append(list, v), true
}

func containsPrefix(list []netip.Prefix, p netip.Prefix) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

// Tags builds the tag list for p (users, groups, orgs, application,
// services, vgs, flags, whitelist, in that order). Unknown and Other are
// not included.
func (c Codec) Tags(p Parsed) ([]string, error) {
	var out []string
	add := func(t string, err error) error {
		if err != nil {
			return err
		}
		out = append(out, t)
		return nil
	}
	for _, u := range p.Users {
		if err := add(c.User(u)); err != nil {
			return nil, err
		}
	}
	for _, g := range p.Groups {
		if err := add(c.Group(g)); err != nil {
			return nil, err
		}
	}
	for _, o := range p.Orgs {
		if err := add(c.Org(o)); err != nil {
			return nil, err
		}
	}
	if p.Application != 0 {
		if err := add(c.Application(p.Application)); err != nil {
			return nil, err
		}
	}
	for _, s := range p.Services {
		if err := add(c.Service(s)); err != nil {
			return nil, err
		}
	}
	for _, v := range p.VGs {
		if err := add(c.VG(v)); err != nil {
			return nil, err
		}
	}
	if p.AdminLock {
		out = append(out, c.AdminLock())
	}
	if p.Isolate {
		out = append(out, c.Isolate())
	}
	if p.NeedsReboot {
		out = append(out, c.NeedsReboot())
	}
	for _, w := range p.Whitelist {
		if err := add(c.WhitelistIP(w)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ExtProvider is an extstorage provider declared in cluster tags.
type ExtProvider struct {
	Name string
	// Params are extra disk parameters for disks of this provider.
	Params map[string]string
}

// ParseCluster reads the extstorage providers declared in cluster tags, in
// order of first appearance. ganetimgr offers each as disk template
// "<provider>[ext]".
func (c Codec) ParseCluster(tags []string) []ExtProvider {
	head := c.prefix() + ":" + KindExt + ":"
	var out []ExtProvider
	index := map[string]int{}
	get := func(name string) *ExtProvider {
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, ExtProvider{Name: name, Params: map[string]string{}})
		}
		return &out[i]
	}
	for _, t := range tags {
		rest, ok := strings.CutPrefix(t, head)
		if !ok || rest == "" {
			continue
		}
		name, tail, hasTail := strings.Cut(rest, ":")
		if name == "" {
			continue
		}
		if !hasTail {
			get(name)
			continue
		}
		kv, ok := strings.CutPrefix(tail, "params:")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(kv, ":")
		if !ok || k == "" || v == "" || !extParamOK(k) || !extParamOK(v) {
			continue
		}
		get(name).Params[k] = v
	}
	return out
}

// extParamOK matches ganetimgr's [\w+*/@-]+ for ext parameter keys/values.
func extParamOK(s string) bool {
	for _, r := range s {
		if !(r == '_' || r == '+' || r == '*' || r == '/' || r == '@' || r == '-' ||
			unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}

// GroupTags is what ganetimgr's tags on a node group say.
type GroupTags struct {
	// Locked means maintenance: actions on instances whose primary node is
	// in the group are disabled.
	Locked bool
	// VGs are the volume groups offered for the group.
	VGs []string
}

// ParseGroup reads a node group's tags.
func ParseGroup(tags []string) GroupTags {
	var g GroupTags
	for _, t := range tags {
		if t == GroupLocked {
			g.Locked = true
			continue
		}
		if vg, ok := strings.CutPrefix(t, GroupVGPrefix); ok && vg != "" {
			g.VGs, _ = addValue(g.VGs, vg, true)
		}
	}
	return g
}
