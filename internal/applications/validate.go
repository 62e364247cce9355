package applications

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Length limits of application fields, in characters.
const (
	MaxHostnameLength = 253
	MaxCommentsLength = 4000
	MaxContactName    = 255
)

// Bounds a reviewer may set (the cluster's instance policy is the real
// limit: Ganeti refuses what it does not allow, and the creation fails
// with its reason).
const (
	ReviewMinMemoryMB = 64
	ReviewMaxMemoryMB = 4 << 20
	ReviewMaxVCPUs    = 1024
	ReviewMaxDiskGB   = 1 << 16
)

// Form is an application as a user (or a reviewer editing it) fills it in.
// Numbers the page could not parse are 0, which fails validation.
type Form struct {
	Hostname string
	MemoryMB int
	VCPUs    int
	DiskGB   int
	// OSImage is a catalogue image id; reviewers may instead give OSName,
	// an OS the cluster reports.
	OSImage string
	OSName  string
	// NetworkID is the declared network asked for (0: no wish); only
	// networks offered to the user's groups are accepted.
	NetworkID         int64
	OrganizationID    int64
	AdminContactName  string
	AdminContactEmail string
	AdminContactPhone string
	HostsMailServer   bool
	Comments          string
	// AcceptTerms is the applicant's acceptance of the terms of service.
	AcceptTerms bool
}

// FormFromApplication returns the form of a stored request (what a
// reviewer edits).
func FormFromApplication(a *store.Application) Form {
	return Form{Hostname: a.Hostname, MemoryMB: a.MemoryMB, VCPUs: a.VCPUs, DiskGB: a.DiskGB, OSImage: a.OSImage,
		OSName: a.OSName, NetworkID: a.RequestedNetworkID, OrganizationID: a.OrganizationID,
		AdminContactName: a.AdminContactName, AdminContactEmail: a.AdminContactEmail,
		AdminContactPhone: a.AdminContactPhone, HostsMailServer: a.HostsMailServer, Comments: a.Comments,
		AcceptTerms: true}
}

// Limits are what a user may ask for (GANETIMGR_APP_*).
type Limits struct {
	MemoryChoicesMB []int
	VCPUsMax        int
	DiskMinGB       int
	DiskMaxGB       int
	// Contact is config.ContactEither, ContactOrganization or ContactAdmin.
	Contact string
}

// LimitsFrom returns the limits of the configuration.
func LimitsFrom(c config.Applications) Limits {
	return Limits{MemoryChoicesMB: slices.Clone(c.MemoryChoicesMB), VCPUsMax: c.VCPUsMax, DiskMinGB: c.DiskMinGB,
		DiskMaxGB: c.DiskMaxGB, Contact: c.Contact}
}

// DefaultLimits are ganetimgr's: 512 to 4096 MB, 1 to 4 vCPUs, 2 to 50 GB,
// an organization or an administrative contact.
func DefaultLimits() Limits {
	return Limits{MemoryChoicesMB: []int{512, 768, 1024, 1500, 2048, 3072, 4096}, VCPUsMax: 4, DiskMinGB: 2,
		DiskMaxGB: 50, Contact: config.ContactEither}
}

// Choices are what the form offers one user.
type Choices struct {
	// Images are the enabled catalogue images.
	Images []Image
	// Networks are the declared networks offered to the user's groups;
	// none means the form has no network field.
	Networks []*store.Network
	// Organizations are the organizations to choose from.
	Organizations []store.Organization
}

func (c *Choices) hasImage(id string) bool {
	return slices.ContainsFunc(c.Images, func(im Image) bool { return im.ID == id })
}

func (c *Choices) hasNetwork(id int64) bool {
	return slices.ContainsFunc(c.Networks, func(n *store.Network) bool { return n.ID == id })
}

func (c *Choices) hasOrganization(id int64) bool {
	return slices.ContainsFunc(c.Organizations, func(o store.Organization) bool { return o.ID == id })
}

// FieldError is what is wrong with one form field.
type FieldError struct {
	// Field is the form field: "hostname", "memory", "vcpus", "disk",
	// "os", "network", "organization", "admin_contact_name",
	// "admin_contact_email", "admin_contact_phone", "contact", "comments",
	// "accept_terms", "comment", "cluster", "node_group", "disk_template",
	// "vg".
	Field string
	// Message says what is wrong, translated by the page.
	Message i18n.Message
}

func fieldErr(field string, m i18n.Msg, args ...any) *FieldError {
	return &FieldError{Field: field, Message: i18n.Message{Msg: m, Args: args}}
}

// ValidationError lists what is wrong with a submitted form; pages show
// each message at its field.
type ValidationError struct {
	Fields []*FieldError
}

// Error lists the fields and message ids (for logs).
func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Message.Msg.ID())
	}
	return "applications: invalid form: " + strings.Join(parts, ", ")
}

// Field returns the error of one field, nil when it is fine.
func (e *ValidationError) Field(name string) *FieldError {
	if e == nil {
		return nil
	}
	for _, f := range e.Fields {
		if f.Field == name {
			return f
		}
	}
	return nil
}

func (e *ValidationError) add(f *FieldError) {
	if f != nil && e.Field(f.Field) == nil {
		e.Fields = append(e.Fields, f)
	}
}

// orNil returns e, or nil when it holds nothing.
func (e *ValidationError) orNil() *ValidationError {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

func invalidForm(fields ...*FieldError) *ValidationError {
	e := &ValidationError{}
	for _, f := range fields {
		e.add(f)
	}
	return e
}

// NormalizeHostname checks a VM's name and returns it as stored: trimmed,
// lowercased, without a trailing dot. It must be a fully qualified domain
// name: at least two labels of 1 to 63 letters, digits or hyphens (not at
// either end of a label), at most 253 characters, the last label starting
// with a letter (so an IP address is not a name).
func NormalizeHostname(s string) (string, *FieldError) {
	const f = "hostname"
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if s == "" {
		return "", fieldErr(f, i18n.M("applications.required"))
	}
	if len(s) > MaxHostnameLength {
		return "", fieldErr(f, i18n.M("applications.too_long"), "Max", MaxHostnameLength)
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "", fieldErr(f, i18n.M("applications.hostname.not_fqdn"))
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", fieldErr(f, i18n.M("applications.hostname.invalid"))
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fieldErr(f, i18n.M("applications.hostname.invalid"))
			}
		}
	}
	if last := labels[len(labels)-1]; last[0] < 'a' || last[0] > 'z' {
		return "", fieldErr(f, i18n.M("applications.hostname.invalid"))
	}
	return s, nil
}

// checkText trims a free text field and checks its length and characters
// (newlines and tabs allowed when multiline).
func checkText(field, s string, max int, multiline bool) (string, *FieldError) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t'))
	}) {
		return "", fieldErr(field, i18n.M("applications.control"))
	}
	if utf8.RuneCountInString(s) > max {
		return "", fieldErr(field, i18n.M("applications.too_long"), "Max", max)
	}
	return s, nil
}

// ValidateApplication checks a user's application against the limits and
// the user's choices and returns the request to store. The hostname's
// uniqueness is checked by the Service, which sees the clusters.
func ValidateApplication(f Form, lim Limits, ch Choices) (store.ApplicationRequest, *ValidationError) {
	errs := &ValidationError{}
	r := validateCommon(f, errs)

	if !slices.Contains(lim.MemoryChoicesMB, f.MemoryMB) {
		errs.add(fieldErr("memory", i18n.M("applications.memory.choice")))
	}
	if f.VCPUs < 1 || f.VCPUs > lim.VCPUsMax {
		errs.add(fieldErr("vcpus", i18n.M("applications.vcpus.range"), "Min", 1, "Max", lim.VCPUsMax))
	}
	if f.DiskGB < lim.DiskMinGB || f.DiskGB > lim.DiskMaxGB {
		errs.add(fieldErr("disk", i18n.M("applications.disk.range"), "Min", lim.DiskMinGB, "Max", lim.DiskMaxGB))
	}
	switch {
	case f.OSName != "":
		errs.add(fieldErr("os", i18n.M("applications.os.unknown")))
	case f.OSImage == "":
		errs.add(fieldErr("os", i18n.M("applications.os.required")))
	case !ch.hasImage(f.OSImage):
		errs.add(fieldErr("os", i18n.M("applications.os.unknown")))
	}
	if f.NetworkID != 0 && !ch.hasNetwork(f.NetworkID) {
		errs.add(fieldErr("network", i18n.M("applications.network.unknown")))
	}
	if f.OrganizationID != 0 && !ch.hasOrganization(f.OrganizationID) {
		errs.add(fieldErr("organization", i18n.M("applications.organization.unknown")))
	}
	// Who answers for the VM besides the applicant, as configured.
	hasOrg := f.OrganizationID != 0
	hasContact := r.AdminContactName != "" && r.AdminContactEmail != "" && r.AdminContactPhone != ""
	partial := !hasContact && (r.AdminContactName != "" || r.AdminContactEmail != "" || r.AdminContactPhone != "")
	switch lim.Contact {
	case config.ContactOrganization:
		if !hasOrg {
			errs.add(fieldErr("organization", i18n.M("applications.organization.required")))
		}
	case config.ContactAdmin:
		if !hasContact {
			errs.add(fieldErr("contact", i18n.M("applications.contact.incomplete")))
		}
	default:
		switch {
		case partial && !hasOrg:
			errs.add(fieldErr("contact", i18n.M("applications.contact.incomplete")))
		case !hasOrg && !hasContact:
			errs.add(fieldErr("contact", i18n.M("applications.contact.required")))
		}
	}
	if r.Comments == "" {
		errs.add(fieldErr("comments", i18n.M("applications.comments.required")))
	}
	if !f.AcceptTerms {
		errs.add(fieldErr("accept_terms", i18n.M("applications.terms.required")))
	}
	return r, errs.orNil()
}

// ValidateReview checks a reviewer's (or a fast creation's) request: sizes
// within wide bounds (the cluster's policy decides the rest), an image of
// the catalogue (images lists them, enabled or not) or an OS name, and the
// formats of the other fields; no contact or terms rules.
func ValidateReview(f Form, images []Image, organizations []store.Organization) (store.ApplicationRequest, *ValidationError) {
	errs := &ValidationError{}
	r := validateCommon(f, errs)
	if f.MemoryMB < ReviewMinMemoryMB || f.MemoryMB > ReviewMaxMemoryMB {
		errs.add(fieldErr("memory", i18n.M("applications.memory.range"), "Min", ReviewMinMemoryMB, "Max", ReviewMaxMemoryMB))
	}
	if f.VCPUs < 1 || f.VCPUs > ReviewMaxVCPUs {
		errs.add(fieldErr("vcpus", i18n.M("applications.vcpus.range"), "Min", 1, "Max", ReviewMaxVCPUs))
	}
	if f.DiskGB < 1 || f.DiskGB > ReviewMaxDiskGB {
		errs.add(fieldErr("disk", i18n.M("applications.disk.range"), "Min", 1, "Max", ReviewMaxDiskGB))
	}
	ch := Choices{Images: images, Organizations: organizations}
	switch {
	case f.OSImage != "" && f.OSName != "":
		errs.add(fieldErr("os", i18n.M("applications.os.required")))
	case f.OSImage != "":
		if !ch.hasImage(f.OSImage) {
			errs.add(fieldErr("os", i18n.M("applications.os.unknown")))
		}
	case f.OSName != "":
		if !validOSName(f.OSName) {
			errs.add(fieldErr("os", i18n.M("applications.os.unknown")))
		}
	default:
		errs.add(fieldErr("os", i18n.M("applications.os.required")))
	}
	if f.OrganizationID != 0 && !ch.hasOrganization(f.OrganizationID) {
		errs.add(fieldErr("organization", i18n.M("applications.organization.unknown")))
	}
	return r, errs.orNil()
}

// validateCommon checks what every form shares and builds the request.
func validateCommon(f Form, errs *ValidationError) store.ApplicationRequest {
	r := store.ApplicationRequest{MemoryMB: f.MemoryMB, VCPUs: f.VCPUs, DiskGB: f.DiskGB, OSImage: f.OSImage,
		OSName: f.OSName, RequestedNetworkID: f.NetworkID, OrganizationID: f.OrganizationID,
		HostsMailServer: f.HostsMailServer}
	var fe *FieldError
	r.Hostname, fe = NormalizeHostname(f.Hostname)
	errs.add(fe)
	r.AdminContactName, fe = checkText("admin_contact_name", f.AdminContactName, MaxContactName, false)
	errs.add(fe)
	if s := strings.TrimSpace(f.AdminContactEmail); s != "" {
		addr, e := accounts.NormalizeEmail(s)
		if e != nil {
			errs.add(&FieldError{Field: "admin_contact_email", Message: e.Message})
		}
		r.AdminContactEmail = addr
	}
	if s := strings.TrimSpace(f.AdminContactPhone); s != "" {
		phone, e := accounts.NormalizePhone(s)
		if e != nil {
			errs.add(&FieldError{Field: "admin_contact_phone", Message: e.Message})
		}
		r.AdminContactPhone = phone
	}
	r.Comments, fe = checkText("comments", f.Comments, MaxCommentsLength, true)
	errs.add(fe)
	return r
}

// validOSName matches a Ganeti OS name, "name" or "name+variant".
func validOSName(s string) bool {
	name, variant, hasVariant := strings.Cut(s, "+")
	ok := func(p string) bool {
		if p == "" || len(p) > 64 {
			return false
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
				return false
			}
		}
		return true
	}
	return ok(name) && (!hasVariant || ok(variant))
}

// CheckComment checks a reviewer's comment; required says it must not be
// empty (a refusal's reason).
func CheckComment(s string, required bool) (string, *FieldError) {
	s, fe := checkText("comment", s, MaxCommentsLength, true)
	if fe != nil {
		return "", fe
	}
	if required && s == "" {
		return "", fieldErr("comment", i18n.M("applications.comment.required"))
	}
	return s, nil
}
