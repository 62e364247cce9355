package instanceops

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// Smallest prefixes of an "allow from" network (ganetimgr's
// WHITELIST_IP_MAX_SUBNET_V4 and _V6): at most 64 IPv4 addresses, at
// most a /64 of IPv6.
const (
	MinAllowFromBitsV4 = 26
	MinAllowFromBitsV6 = 64
)

// SetLock sets (on) or clears the instance's admin lock (tag
// <prefix>:adminlock), which blocks the owners' actions. It needs can_lock
// with view_instances (superusers hold both).
func (s *Service) SetLock(ctx context.Context, req Request, slug, name string, on bool) (*store.InstanceJob, error) {
	a := flagAction(Lock, s.codec.AdminLock(), on, func(in *store.CachedInstance) bool { return in.AdminLock })
	a.audit, a.detail = audit.InstanceUnlock, "unlock"
	if on {
		a.audit, a.detail = audit.InstanceLock, "lock"
	}
	return s.runAction(ctx, req, slug, name, a)
}

// SetIsolate sets (on) or clears the instance's isolation (tag
// <prefix>:isolate), which the nodes enforce on the network. It needs
// can_isolate with view_instances (superusers hold both).
func (s *Service) SetIsolate(ctx context.Context, req Request, slug, name string, on bool) (*store.InstanceJob, error) {
	a := flagAction(Isolate, s.codec.Isolate(), on, func(in *store.CachedInstance) bool { return in.Isolate })
	a.audit, a.detail = audit.InstanceDeisolate, "deisolate"
	if on {
		a.audit, a.detail = audit.InstanceIsolate, "isolate"
	}
	return s.runAction(ctx, req, slug, name, a)
}

// flagAction adds (on) or removes a flag tag; setting a flag already set
// (or clearing one not set) is WrongState.
func flagAction(k Kind, tag string, on bool, isSet func(*store.CachedInstance) bool) action {
	return action{kind: k,
		check: func(st State) *Refusal {
			if isSet(st.Instance) == on {
				if on {
					return refuse(WrongState, i18n.M("instance_ops.refusal.already_set"))
				}
				return refuse(WrongState, i18n.M("instance_ops.refusal.already_clear"))
			}
			return nil
		},
		call: func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error) {
			if on {
				return c.AddInstanceTags(ctx, in.Name, []string{tag})
			}
			return c.DeleteInstanceTags(ctx, in.Name, []string{tag})
		}}
}

// ParseAllowFrom checks an "allow from" address or network as typed: an
// IPv4 or IPv6 address or prefix, prefix length at least
// MinAllowFromBitsV4 (IPv4) or MinAllowFromBitsV6 (IPv6), not the
// unspecified address. An IPv4-mapped IPv6 address counts as IPv4.
func ParseAllowFrom(text string) (netip.Prefix, *Refusal) {
	p, err := tags.ParseWhitelist(text)
	if err != nil || p.Addr().Zone() != "" {
		return netip.Prefix{}, invalid("allow_from", i18n.M("instance_ops.invalid.allow_from"))
	}
	if p.Addr().Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			return netip.Prefix{}, invalid("allow_from", i18n.M("instance_ops.invalid.allow_from_v4_size"))
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), bits)
	}
	if p.Addr().IsUnspecified() {
		return netip.Prefix{}, invalid("allow_from", i18n.M("instance_ops.invalid.allow_from_unspecified"))
	}
	if p.Addr().Is4() && p.Bits() < MinAllowFromBitsV4 {
		return netip.Prefix{}, invalid("allow_from", i18n.M("instance_ops.invalid.allow_from_v4_size"))
	}
	if p.Addr().Is6() && p.Bits() < MinAllowFromBitsV6 {
		return netip.Prefix{}, invalid("allow_from", i18n.M("instance_ops.invalid.allow_from_v6_size"))
	}
	return p, nil
}

// SetAllowFrom sets the address or network allowed to reach the instance
// while it is isolated (ganetimgr's whitelist_ip; see ParseAllowFrom),
// stored compressed as the tag <prefix>:whitelist_ip:<ip/len> in place of
// any earlier one; prefix "" removes it. Owners and can_isolate holders
// may set it, only while the instance is isolated.
func (s *Service) SetAllowFrom(ctx context.Context, req Request, slug, name, prefix string) (*store.InstanceJob, error) {
	a := action{kind: AllowFrom, audit: audit.InstanceAllowFrom}
	var tag string
	prefix = strings.TrimSpace(prefix)
	if prefix == "" {
		a.detail = "remove"
	} else if p, r := ParseAllowFrom(prefix); r != nil {
		a.detail = "set " + prefix
		a.check = func(State) *Refusal { return r }
	} else if t, err := s.codec.WhitelistIP(p); err != nil {
		a.detail = "set " + prefix
		a.check = func(State) *Refusal { return invalid("allow_from", i18n.M("instance_ops.invalid.allow_from")) }
	} else {
		tag, a.detail = t, "set "+p.String()
	}
	old := func(in *store.CachedInstance) []string {
		var out []string
		for _, t := range in.Tags {
			if t != tag && len(s.codec.Parse([]string{t}).Whitelist) > 0 {
				out = append(out, t)
			}
		}
		return out
	}
	if a.check == nil {
		a.check = func(st State) *Refusal {
			if tag == "" && len(old(st.Instance)) == 0 {
				return refuse(WrongState, i18n.M("instance_ops.refusal.no_allow_from"))
			}
			if tag != "" && slices.Contains(st.Instance.Tags, tag) && len(old(st.Instance)) == 0 {
				return refuse(WrongState, i18n.M("instance_ops.refusal.already_set"))
			}
			return nil
		}
	}
	a.call = func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error) {
		remove := old(in)
		if tag == "" {
			return c.DeleteInstanceTags(ctx, in.Name, remove)
		}
		if len(remove) > 0 {
			// One address at a time: the old one goes first, so a failure
			// never leaves two.
			id, err := c.DeleteInstanceTags(ctx, in.Name, remove)
			if err != nil {
				return 0, err
			}
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if _, err := c.WaitJob(wctx, id); err != nil {
				return 0, err
			}
		}
		if slices.Contains(in.Tags, tag) {
			return 0, nil
		}
		return c.AddInstanceTags(ctx, in.Name, []string{tag})
	}
	return s.runAction(ctx, req, slug, name, a)
}
