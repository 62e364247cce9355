package main

import (
	"slices"
	"testing"
)

func TestAddresses(t *testing.T) {
	got, err := addresses([]string{"127.0.0.1:5080"}, 3)
	if err != nil || !slices.Equal(got, []string{"127.0.0.1:5080", "127.0.0.1:5081", "127.0.0.1:5082"}) {
		t.Errorf("consecutive: %v %v", got, err)
	}
	got, _ = addresses([]string{"127.0.0.1:7000", "127.0.0.1:9000"}, 3)
	if !slices.Equal(got, []string{"127.0.0.1:7000", "127.0.0.1:9000", "127.0.0.1:9001"}) {
		t.Errorf("explicit then consecutive: %v", got)
	}
	got, _ = addresses([]string{"127.0.0.1:0"}, 2)
	if !slices.Equal(got, []string{"127.0.0.1:0", "127.0.0.1:0"}) {
		t.Errorf("free ports: %v", got)
	}
}

func TestParseUsers(t *testing.T) {
	u, err := parseUsers("admin:pw:write, ro:pw2")
	if err != nil || len(u) != 2 || !u[0].Write || u[1].Write || u[1].Password != "pw2" {
		t.Errorf("users %+v %v", u, err)
	}
	for _, bad := range []string{"x", "a:b:admin", ":p"} {
		if _, err := parseUsers(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
