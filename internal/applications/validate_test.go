package applications

import (
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

func TestNormalizeHostname(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{"vm1.example.org", "vm1.example.org", ""},
		{"  VM1.Example.ORG. ", "vm1.example.org", ""},
		{"a-b.c-d.e1", "a-b.c-d.e1", ""},
		{"web-01.dept.example.org", "web-01.dept.example.org", ""},
		{"xn--nxasmq6b.example.gr", "xn--nxasmq6b.example.gr", ""},
		{"", "", "applications.required"},
		{"vm1", "", "applications.hostname.not_fqdn"},
		{"vm1..example.org", "", "applications.hostname.invalid"},
		{".vm1.example.org", "", "applications.hostname.invalid"},
		{"-vm1.example.org", "", "applications.hostname.invalid"},
		{"vm1-.example.org", "", "applications.hostname.invalid"},
		{"vm_1.example.org", "", "applications.hostname.invalid"},
		{"vm 1.example.org", "", "applications.hostname.invalid"},
		{"βm1.example.org", "", "applications.hostname.invalid"},
		{"10.0.0.1", "", "applications.hostname.invalid"},
		{strings.Repeat("a", 64) + ".example.org", "", "applications.hostname.invalid"},
		{strings.Repeat("abcdefghi.", 26) + "org", "", "applications.too_long"},
	}
	for _, tc := range cases {
		got, fe := NormalizeHostname(tc.in)
		gotErr := ""
		if fe != nil {
			gotErr = fe.Message.Msg.ID()
			if fe.Field != "hostname" {
				t.Errorf("%q: field %q", tc.in, fe.Field)
			}
		}
		if got != tc.want || gotErr != tc.err {
			t.Errorf("%q: got %q, %q; want %q, %q", tc.in, got, gotErr, tc.want, tc.err)
		}
	}
}

func validForm() Form {
	return Form{Hostname: "web.example.org", MemoryMB: 1024, VCPUs: 2, DiskGB: 10, OSImage: "debian-12",
		OrganizationID: 3, Comments: "A web server for the lab.", AcceptTerms: true}
}

func testChoices() Choices {
	return Choices{
		Images:        []Image{{ID: "debian-12", Enabled: true}},
		Networks:      []*store.Network{{ID: 7, Link: "br7", Mode: "bridged"}},
		Organizations: []store.Organization{{ID: 3, Title: "GRNET"}},
	}
}

// TestValidateApplication: each case changes a valid form and names the
// fields that must be reported (nil: valid).
func TestValidateApplication(t *testing.T) {
	lim := DefaultLimits()
	cases := []struct {
		name    string
		limits  func(*Limits)
		mod     func(*Form)
		invalid map[string]string // field -> message id
	}{
		{"valid", nil, func(*Form) {}, nil},
		{"network of the user's groups", nil, func(f *Form) { f.NetworkID = 7 }, nil},
		{"contact instead of organization", nil, func(f *Form) {
			f.OrganizationID, f.AdminContactName, f.AdminContactEmail, f.AdminContactPhone = 0, "Ann Smith", "ann@example.org", "+30 210 0000000"
		}, nil},
		{"everything wrong", nil, func(f *Form) {
			*f = Form{Hostname: "x", MemoryMB: 1000, VCPUs: 9, DiskGB: 1, NetworkID: 8, OrganizationID: 99}
		}, map[string]string{
			"hostname": "applications.hostname.not_fqdn", "memory": "applications.memory.choice",
			"vcpus": "applications.vcpus.range", "disk": "applications.disk.range", "os": "applications.os.required",
			"network": "applications.network.unknown", "organization": "applications.organization.unknown",
			"comments": "applications.comments.required", "accept_terms": "applications.terms.required",
		}},
		{"too much disk", nil, func(f *Form) { f.DiskGB = 51 }, map[string]string{"disk": "applications.disk.range"}},
		{"zero vcpus", nil, func(f *Form) { f.VCPUs = 0 }, map[string]string{"vcpus": "applications.vcpus.range"}},
		{"image not offered", nil, func(f *Form) { f.OSImage = "windows" }, map[string]string{"os": "applications.os.unknown"}},
		{"raw OS by a user", nil, func(f *Form) { f.OSImage, f.OSName = "", "noop" }, map[string]string{"os": "applications.os.unknown"}},
		{"neither organization nor contact", nil, func(f *Form) { f.OrganizationID = 0 },
			map[string]string{"contact": "applications.contact.required"}},
		{"partial contact", nil, func(f *Form) { f.OrganizationID, f.AdminContactName = 0, "Ann" },
			map[string]string{"contact": "applications.contact.incomplete"}},
		{"bad contact formats", nil, func(f *Form) { f.AdminContactEmail, f.AdminContactPhone = "not-an-address", "call me" },
			map[string]string{"admin_contact_email": "accounts.email.invalid", "admin_contact_phone": "accounts.phone.invalid"}},
		{"organization required", func(l *Limits) { l.Contact = config.ContactOrganization },
			func(f *Form) {
				f.OrganizationID, f.AdminContactName, f.AdminContactEmail, f.AdminContactPhone = 0, "A", "a@example.org", "2100000000"
			},
			map[string]string{"organization": "applications.organization.required"}},
		{"contact required", func(l *Limits) { l.Contact = config.ContactAdmin }, func(*Form) {},
			map[string]string{"contact": "applications.contact.incomplete"}},
		{"configured memory", func(l *Limits) { l.MemoryChoicesMB = []int{256, 8192} }, func(f *Form) { f.MemoryMB = 8192 }, nil},
		{"long comments", nil, func(f *Form) { f.Comments = strings.Repeat("x", MaxCommentsLength+1) },
			map[string]string{"comments": "applications.too_long"}},
		{"control characters", nil, func(f *Form) { f.Comments = "a\x00b" }, map[string]string{"comments": "applications.control"}},
	}
	for _, tc := range cases {
		l := lim
		if tc.limits != nil {
			tc.limits(&l)
		}
		f := validForm()
		tc.mod(&f)
		req, verr := ValidateApplication(f, l, testChoices())
		if tc.invalid == nil {
			if verr != nil {
				t.Errorf("%s: %v", tc.name, verr)
			}
			continue
		}
		if verr == nil {
			t.Errorf("%s: accepted %+v", tc.name, req)
			continue
		}
		for field, id := range tc.invalid {
			if fe := verr.Field(field); fe == nil || fe.Message.Msg.ID() != id {
				t.Errorf("%s: field %s: got %v, want %s", tc.name, field, fe, id)
			}
		}
		if len(verr.Fields) != len(tc.invalid) {
			t.Errorf("%s: %d errors, want %d: %v", tc.name, len(verr.Fields), len(tc.invalid), verr)
		}
	}

	req, verr := ValidateApplication(Form{Hostname: " Web.Example.org ", MemoryMB: 512, VCPUs: 1, DiskGB: 2, OSImage: "debian-12",
		AdminContactName: " Ann ", AdminContactEmail: "ann@EXAMPLE.org", AdminContactPhone: "+30 210 000 0000",
		Comments: "  lab\r\nserver ", HostsMailServer: true, AcceptTerms: true}, lim, testChoices())
	if verr != nil {
		t.Fatal(verr)
	}
	want := store.ApplicationRequest{Hostname: "web.example.org", MemoryMB: 512, VCPUs: 1, DiskGB: 2, OSImage: "debian-12",
		AdminContactName: "Ann", AdminContactEmail: "ann@example.org", AdminContactPhone: "+30 210 000 0000",
		HostsMailServer: true, Comments: "lab\nserver"}
	if req != want {
		t.Errorf("normalized request:\n got %+v\nwant %+v", req, want)
	}
}

func TestValidateReview(t *testing.T) {
	images := []Image{{ID: "debian-12"}, {ID: "old", Enabled: false}}
	f := validForm()
	f.MemoryMB, f.VCPUs, f.DiskGB, f.AcceptTerms, f.OrganizationID, f.Comments = 65536, 16, 200, false, 0, ""
	if _, verr := ValidateReview(f, images, nil); verr != nil {
		t.Errorf("reviewer sizes beyond the user limits: %v", verr)
	}
	f.OSImage, f.OSName = "", "debootstrap+default"
	if req, verr := ValidateReview(f, images, nil); verr != nil || req.OSName != "debootstrap+default" {
		t.Errorf("cluster OS: %+v %v", req, verr)
	}
	cases := []struct {
		mod   func(*Form)
		field string
	}{
		{func(f *Form) { f.MemoryMB = 32 }, "memory"},
		{func(f *Form) { f.VCPUs = 0 }, "vcpus"},
		{func(f *Form) { f.DiskGB = 0 }, "disk"},
		{func(f *Form) { f.OSName = "bad name" }, "os"},
		{func(f *Form) { f.OSImage = "debian-12" }, "os"},
		{func(f *Form) { f.OSName = "" }, "os"},
		{func(f *Form) { f.Hostname = "nope" }, "hostname"},
	}
	for i, tc := range cases {
		g := f
		tc.mod(&g)
		if _, verr := ValidateReview(g, images, nil); verr.Field(tc.field) == nil {
			t.Errorf("case %d: no error for %s (%v)", i, tc.field, verr)
		}
	}
	if _, fe := CheckComment("  ", true); fe == nil || fe.Message.Msg.ID() != "applications.comment.required" {
		t.Errorf("empty refusal reason: %v", fe)
	}
	if c, fe := CheckComment(" fine\n", true); fe != nil || c != "fine" {
		t.Errorf("comment: %q %v", c, fe)
	}
}
