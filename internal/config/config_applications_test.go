package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestApplicationsDefaults(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Applications
	if !slices.Equal(a.MemoryChoicesMB, []int{512, 768, 1024, 1500, 2048, 3072, 4096}) || a.VCPUsMax != 4 ||
		a.DiskMinGB != 2 || a.DiskMaxGB != 50 || a.Contact != ContactEither || !a.StartInstances {
		t.Errorf("got %+v, want ganetimgr's defaults", a)
	}
}

func TestApplicationsSettings(t *testing.T) {
	c, err := load(map[string]string{
		"GANETIMGR_APP_MEMORY_CHOICES": " 256, 1024,8192",
		"GANETIMGR_APP_VCPUS_MAX":      "8",
		"GANETIMGR_APP_DISK_MIN_GB":    "10",
		"GANETIMGR_APP_DISK_MAX_GB":    "10",
		"GANETIMGR_APP_CONTACT":        "Organization",
		"GANETIMGR_APP_START":          "false",
	})
	if err != nil {
		t.Fatal(err)
	}
	a := c.Applications
	if !slices.Equal(a.MemoryChoicesMB, []int{256, 1024, 8192}) || a.VCPUsMax != 8 || a.DiskMinGB != 10 ||
		a.DiskMaxGB != 10 || a.Contact != ContactOrganization || a.StartInstances {
		t.Errorf("got %+v", a)
	}
}

func TestApplicationsInvalidSettings(t *testing.T) {
	cases := []struct {
		env     map[string]string
		name    string
		problem string
	}{
		{map[string]string{"GANETIMGR_APP_MEMORY_CHOICES": "512,lots"}, "GANETIMGR_APP_MEMORY_CHOICES", `"lots"`},
		{map[string]string{"GANETIMGR_APP_MEMORY_CHOICES": "32"}, "GANETIMGR_APP_MEMORY_CHOICES", "64 to 1048576"},
		{map[string]string{"GANETIMGR_APP_MEMORY_CHOICES": "1024,512"}, "GANETIMGR_APP_MEMORY_CHOICES", "ascending"},
		{map[string]string{"GANETIMGR_APP_VCPUS_MAX": "0"}, "GANETIMGR_APP_VCPUS_MAX", "1 to 256"},
		{map[string]string{"GANETIMGR_APP_DISK_MIN_GB": "20", "GANETIMGR_APP_DISK_MAX_GB": "10"}, "GANETIMGR_APP_DISK_MAX_GB", "at least"},
		{map[string]string{"GANETIMGR_APP_CONTACT": "phone"}, "GANETIMGR_APP_CONTACT", "one of either, organization, contact"},
		{map[string]string{"GANETIMGR_APP_START": "maybe"}, "GANETIMGR_APP_START", "true or false"},
	}
	for _, tc := range cases {
		_, err := load(tc.env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != tc.name || !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("%v: got %v, want an error for %s mentioning %q", tc.env, err, tc.name, tc.problem)
		}
	}
}
