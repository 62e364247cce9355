package instanceops

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestConfigureValidation checks the configuration form's rules: changed
// values must be choices of the form, unchanged ones pass as they are, a
// CD-ROM address is checked by its syntax only, booting from the CD-ROM
// needs an image, and nothing changed is refused.
func TestConfigureValidation(t *testing.T) {
	t.Parallel()
	cur := HVConfig{BootOrder: "disk", NICType: "paravirtual", DiskType: "paravirtual"}
	odd := HVConfig{BootOrder: "network", CDROMURL: "/srv/iso/local.iso", NICType: "virtio-net-pci", DiskType: "sd"}
	cases := []struct {
		name  string
		cur   HVConfig
		in    HVConfig
		field string // "" with ok
		ok    bool
		want  map[string]any
	}{
		{"boot from an image", cur, HVConfig{BootOrder: "cdrom", CDROMURL: "https://mirror.example.org/debian.iso",
			NICType: "paravirtual", DiskType: "paravirtual"}, "", true,
			map[string]any{"boot_order": "cdrom", "cdrom_image_path": "https://mirror.example.org/debian.iso"}},
		{"every setting", cur, HVConfig{BootOrder: "disk", CDROMURL: "http://[2001:db8::1]:8080/x.iso?v=1",
			NICType: "e1000", DiskType: "scsi", UseLocalTime: true}, "", true,
			map[string]any{"cdrom_image_path": "http://[2001:db8::1]:8080/x.iso?v=1", "nic_type": "e1000",
				"disk_type": "scsi", "use_localtime": true}},
		{"trimmed", cur, HVConfig{BootOrder: " disk ", NICType: "rtl8139 ", DiskType: "paravirtual"}, "", true,
			map[string]any{"nic_type": "rtl8139"}},
		{"unchanged odd values pass", odd, HVConfig{BootOrder: "network", CDROMURL: "/srv/iso/local.iso",
			NICType: "virtio-net-pci", DiskType: "sd", UseLocalTime: true}, "", true, map[string]any{"use_localtime": true}},
		{"removing the image", HVConfig{BootOrder: "disk", CDROMURL: "https://example.org/a.iso", NICType: "e1000",
			DiskType: "ide"}, HVConfig{BootOrder: "disk", NICType: "e1000", DiskType: "ide"}, "", true,
			map[string]any{"cdrom_image_path": ""}},
		{"nothing changed", cur, cur, "", false, nil},
		{"unknown boot order", cur, HVConfig{BootOrder: "network", NICType: "paravirtual", DiskType: "paravirtual"}, FieldBootOrder, false, nil},
		{"unknown nic", cur, HVConfig{BootOrder: "disk", NICType: "virtio", DiskType: "paravirtual"}, FieldNICType, false, nil},
		{"unknown disk", cur, HVConfig{BootOrder: "disk", NICType: "paravirtual", DiskType: "sata"}, FieldDiskType, false, nil},
		{"cdrom without image", cur, HVConfig{BootOrder: "cdrom", NICType: "paravirtual", DiskType: "paravirtual"}, FieldCDROMURL, false, nil},
		{"ftp", cur, HVConfig{BootOrder: "disk", CDROMURL: "ftp://example.org/a.iso", NICType: "paravirtual", DiskType: "paravirtual"}, FieldCDROMURL, false, nil},
		{"local file", cur, HVConfig{BootOrder: "disk", CDROMURL: "file:///etc/shadow", NICType: "paravirtual", DiskType: "paravirtual"}, FieldCDROMURL, false, nil},
		{"a path is not a URL", cur, HVConfig{BootOrder: "disk", CDROMURL: "/srv/iso/a.iso", NICType: "paravirtual", DiskType: "paravirtual"}, FieldCDROMURL, false, nil},
	}
	for _, tc := range cases {
		changes, r := configChanges(tc.cur, tc.in)
		if tc.ok {
			if r != nil {
				t.Errorf("%s: refused %v", tc.name, r)
				continue
			}
			got := hvParams(changes)
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(tc.want)
			if string(a) != string(b) {
				t.Errorf("%s: hvparams %s, want %s", tc.name, a, b)
			}
			continue
		}
		if r == nil || r.Code != Invalid || r.Field != tc.field {
			t.Errorf("%s: got %v, want Invalid of field %q", tc.name, r, tc.field)
		}
	}
	changes, _ := configChanges(cur, HVConfig{BootOrder: "cdrom", CDROMURL: "https://example.org/a.iso",
		NICType: "paravirtual", DiskType: "paravirtual", UseLocalTime: true})
	if d := describeChanges(changes); d != "boot_order: disk -> cdrom, cdrom_image_path: '' -> https://example.org/a.iso, use_localtime: false -> true" {
		t.Errorf("describe: %q", d)
	}
}

// TestConfigureCDROMURL checks the CD-ROM address by its syntax only
// (the server never fetches it).
func TestConfigureCDROMURL(t *testing.T) {
	t.Parallel()
	good := []string{"http://example.org/a.iso", "https://mirror.example.org:8443/debian/netinst.iso",
		"https://192.0.2.7/x.iso", "http://[2001:db8::7]/x.iso", "https://example.org/iso?name=a.iso&v=2",
		"https://ex_ample.org/a%20b.iso", "http://localhost/x.iso"}
	bad := []string{"", "example.org/a.iso", "ftp://example.org/a.iso", "file:///etc/passwd", "gopher://x/",
		"https://user:secret@example.org/a.iso", "https://user@example.org/a.iso", "https:///a.iso", "https://",
		"https://example.org/a b.iso", "https://example.org/a,b.iso", "https://example.org/a.iso#frag",
		"https://exa mple.org/", "https://-bad.example.org/", "https://example.org:/a.iso", "http://[::1/x",
		"https://example.org/\u00e9.iso", "javascript:alert(1)", "https:example.org/a.iso",
		"https://example.org/" + strings.Repeat("a", MaxCDROMURL), "https://example.org/\x00"}
	for _, s := range good {
		if r := checkCDROMURL(s); r != nil {
			t.Errorf("%q refused: %v", s, r)
		}
	}
	for _, s := range bad {
		if r := checkCDROMURL(s); r == nil || r.Field != FieldCDROMURL {
			t.Errorf("%q accepted (%v)", s, r)
		}
	}
}

// TestConfigureConfigOf reads the form's values from cached hypervisor
// parameters; only kvm instances have them.
func TestConfigureConfigOf(t *testing.T) {
	t.Parallel()
	in := &store.CachedInstance{Hypervisor: "kvm", HVParams: json.RawMessage(`{"boot_order": "cdrom",
		"cdrom_image_path": "https://example.org/a.iso", "nic_type": "e1000", "disk_type": "scsi",
		"use_localtime": true, "kernel_path": "/boot/vmlinuz"}`)}
	c, ok := ConfigOf(in)
	if !ok || c != (HVConfig{BootOrder: "cdrom", CDROMURL: "https://example.org/a.iso", NICType: "e1000",
		DiskType: "scsi", UseLocalTime: true}) {
		t.Errorf("kvm: %+v %v", c, ok)
	}
	if c, ok := ConfigOf(&store.CachedInstance{Hypervisor: "kvm"}); !ok || c != (HVConfig{}) {
		t.Errorf("kvm before a sync: %+v %v", c, ok)
	}
	for _, in := range []*store.CachedInstance{nil, {Hypervisor: "fake", HVParams: json.RawMessage(`{}`)},
		{Hypervisor: "xen-pvm"}, {Hypervisor: "kvm", HVParams: json.RawMessage(`[1]`)}} {
		if _, ok := ConfigOf(in); ok {
			t.Errorf("%+v has a configuration", in)
		}
	}
}

// TestRenameNameRules checks new names as new VMs' names are checked.
func TestRenameNameRules(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Web-2.Example.ORG.": "web-2.example.org", " a.b ": "a.b",
		"x1.sub.example.org": "x1.sub.example.org"} {
		if got, r := normalizeNewName(in); r != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, r, want)
		}
	}
	for in, msg := range map[string]string{"": "instance_ops.rename.required", "web": "instance_ops.rename.invalid",
		"a..b": "instance_ops.rename.invalid", "-a.b": "instance_ops.rename.invalid", "a_b.org": "instance_ops.rename.invalid",
		"10.0.0.1": "instance_ops.rename.invalid", "a.b c": "instance_ops.rename.invalid",
		strings.Repeat("a.", 130) + "org": "instance_ops.rename.too_long"} {
		if _, r := normalizeNewName(in); r == nil || r.Field != FieldNewName || r.Msg.ID() != msg {
			t.Errorf("%q: %v, want %s", in, r, msg)
		}
	}
}

// TestReinstallVersion checks the Ganeti version test deciding
// clear_osparams (2.16 and later).
func TestReinstallVersion(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"2.16.0": true, "2.16": true, "3.0.2": true, "2.15.2": false,
		"2.9.1": false, "10.1": true, "": false, "x.y": false, "2": false, "2.16~rc1": true} {
		if got := versionAtLeast(v, 2, 16); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

// TestConfirmTokenForm checks the tokens of confirmation links: random,
// of the form validToken accepts, stored as their SHA-256.
func TestConfirmTokenForm(t *testing.T) {
	t.Parallel()
	a, ha, err := newToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := newToken()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(a))
	if a == b || !validToken(a) || string(ha) != string(sum[:]) || ConfirmPath(a) != "/instances/confirm/"+a {
		t.Errorf("tokens %q %q", a, b)
	}
	for _, s := range []string{"", a[:42], a + "A", strings.Repeat("+", 43), strings.Repeat("a", 42) + "/", "../" + a[3:]} {
		if validToken(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
