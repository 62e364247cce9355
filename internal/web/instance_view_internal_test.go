package web

import (
	"net/netip"
	"testing"
)

// TestEUI64 checks the derivation against ganetimgr's algorithm (strip the
// separators, insert "fffe" after the third octet, flip bit 0x02 of the
// first octet, append to the /64 prefix).
func TestEUI64(t *testing.T) {
	cases := []struct {
		prefix, mac, want string
		ok                bool
	}{
		{"2001:db8:1::/64", "aa:00:00:12:34:56", "2001:db8:1:0:a800:ff:fe12:3456", true},
		{"2001:db8:1::/64", "AA-00-00-12-34-56", "2001:db8:1:0:a800:ff:fe12:3456", true},
		{"2001:648:2ffc:1225::/64", "00:16:3e:7a:bc:01", "2001:648:2ffc:1225:216:3eff:fe7a:bc01", true},
		{"2001:db8::/48", "02:00:00:00:00:01", "2001:db8::ff:fe00:1", true}, // U/L bit cleared
		{"2001:db8:1:2::/56", "aa:00:00:12:34:56", "2001:db8:1:0:a800:ff:fe12:3456", true},
		{"2001:db8:1::/96", "aa:00:00:12:34:56", "", false},
		{"10.0.0.0/8", "aa:00:00:12:34:56", "", false},
		{"2001:db8:1::/64", "aa:00:00:12:34", "", false},
		{"2001:db8:1::/64", "zz:00:00:12:34:56", "", false},
	}
	for _, c := range cases {
		got, ok := eui64(netip.MustParsePrefix(c.prefix), c.mac)
		if ok != c.ok || (ok && got.String() != c.want) {
			t.Errorf("eui64(%s, %s) = %v, %v; want %s, %v", c.prefix, c.mac, got, ok, c.want, c.ok)
		}
	}
}

func TestStateOf(t *testing.T) {
	cases := []struct {
		status, admin string
		oper          bool
		want          instanceState
	}{
		{"running", "up", true, stateRunning},
		{"ADMIN_down", "down", false, stateStopped},
		{"ADMIN_offline", "offline", false, stateStopped},
		{"ERROR_up", "down", true, stateShouldStop},
		{"ERROR_down", "up", false, stateShouldRun},
		{"USER_down", "up", false, stateShouldRun},
		{"ERROR_nodedown", "up", false, stateNodeDown},
		{"ERROR_nodeoffline", "up", false, stateNodeDown},
		{"ERROR_wrongnode", "up", true, stateError},
		{"SOMETHING_new", "up", true, stateError},
		{"", "up", true, stateRunning},
		{"", "up", false, stateShouldRun},
		{"", "down", true, stateShouldStop},
		{"", "down", false, stateStopped},
	}
	for _, c := range cases {
		if got := stateOf(c.status, c.admin, c.oper); got != c.want {
			t.Errorf("stateOf(%q, %q, %v) = %s, want %s", c.status, c.admin, c.oper, got, c.want)
		}
		// The status filter selects exactly the statuses shown as a state.
		if c.status != "" && c.status != "SOMETHING_new" {
			found := false
			for _, s := range stateOf(c.status, c.admin, c.oper).ganetiStatuses() {
				found = found || s == c.status
			}
			if !found {
				t.Errorf("filter for %s does not select status %s", c.want, c.status)
			}
		}
	}
}

func TestOpWords(t *testing.T) {
	if got := summaryTarget("INSTANCE_STARTUP(vm1.example.org)"); got != "vm1.example.org" {
		t.Errorf("summaryTarget = %q", got)
	}
	if got := summaryTarget("CLUSTER_VERIFY"); got != "" {
		t.Errorf("summaryTarget without target = %q", got)
	}
	m := opWords("OP_INSTANCE_STARTUP", "vm1")
	if m.Msg.ID() != "job.op.startup" {
		t.Errorf("startup message %q", m.Msg.ID())
	}
	m = opWords("OP_NODE_EVACUATE", "node1")
	if m.Msg.ID() != "job.op.other" || m.Args[3] != "node evacuate" {
		t.Errorf("fallback words %v", m)
	}
}

func TestParseIPolicy(t *testing.T) {
	raw := []byte(`{"minmax":[{"min":{"memory-size":128,"cpu-count":1},"max":{"memory-size":32768,"cpu-count":8}}],
		"std":{"memory-size":1024,"cpu-count":1},"vcpu-ratio":4.0}`)
	got := parseIPolicy(raw)
	if len(got) != 2 || got[1].Name != "memory-size" || got[1].Min != "128" || got[1].Std != "1024" || got[1].Max != "32768" {
		t.Errorf("parseIPolicy = %+v", got)
	}
	if parseIPolicy([]byte(`not json`)) != nil || parseIPolicy(nil) != nil {
		t.Error("bad policy parsed")
	}
}
