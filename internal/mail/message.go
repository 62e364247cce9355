package mail

import "time"

// Mail is one of the messages ganetimgr sends; the types of this package
// (VerifyEmail, ApprovalRequest, ...) are its implementations. Each one is
// rendered by templates/mail/<Template()>.txt.
//
// Links are given as paths under the site (such as "/accounts/verify/TOKEN",
// with an optional query); the outbox turns them into absolute URLs with
// the configured base URL (GANETIMGR_BASE_URL). Fields named Expiry say how
// long a link works; they must be positive.
type Mail interface {
	// Template returns the name of the mail's template.
	Template() string
	mail()
}

// VerifyEmail asks a newly registered user to confirm their address.
type VerifyEmail struct {
	Username string
	// Path is the verification link.
	Path string
	// Expiry is how long the link works.
	Expiry time.Duration
}

// ApprovalRequest tells the administrators that an account awaits their
// decision (sent with EnqueueAdminsTx).
type ApprovalRequest struct {
	Username string
	// Name is the applicant's full name; optional.
	Name  string
	Email string
	// Organization, Phone and Comments are optional; Comments may span lines.
	Organization string
	Phone        string
	Comments     string
	// Path is the page where the account is approved or rejected.
	Path string
}

// AccountApproved tells a user that their account was approved.
type AccountApproved struct {
	Username string
	// Path is the login page.
	Path string
}

// AccountRejected tells an applicant that their account was not approved.
type AccountRejected struct {
	Username string
	// Reason is the administrator's explanation; optional, may span lines.
	Reason string
}

// PasswordReset carries a password reset link.
type PasswordReset struct {
	Username string
	// Path is the reset link.
	Path string
	// Expiry is how long the link works.
	Expiry time.Duration
}

// PasswordChanged tells a user that their password was changed, with a
// link for the case that it was not them.
type PasswordChanged struct {
	Username string
	// Path is where to reset the password (the password reset request page).
	Path string
}

// EmailChangeConfirm goes to the new address of a requested address change
// and carries the confirmation link.
type EmailChangeConfirm struct {
	Username string
	// Path is the confirmation link.
	Path string
	// Expiry is how long the link works.
	Expiry time.Duration
}

// EmailChangeNotice goes to the old address when an address change is
// requested, so the owner learns of a change they did not ask for.
type EmailChangeNotice struct {
	Username string
	// NewAddress is the requested new address.
	NewAddress string
	// Path is where to secure the account (the password reset request page).
	Path string
}

// Template returns "verify_email".
func (VerifyEmail) Template() string { return "verify_email" }

// Template returns "approval_request".
func (ApprovalRequest) Template() string { return "approval_request" }

// Template returns "account_approved".
func (AccountApproved) Template() string { return "account_approved" }

// Template returns "account_rejected".
func (AccountRejected) Template() string { return "account_rejected" }

// Template returns "password_reset".
func (PasswordReset) Template() string { return "password_reset" }

// Template returns "password_changed".
func (PasswordChanged) Template() string { return "password_changed" }

// Template returns "email_change_confirm".
func (EmailChangeConfirm) Template() string { return "email_change_confirm" }

// Template returns "email_change_notice".
func (EmailChangeNotice) Template() string { return "email_change_notice" }

func (VerifyEmail) mail()        {}
func (ApprovalRequest) mail()    {}
func (AccountApproved) mail()    {}
func (AccountRejected) mail()    {}
func (PasswordReset) mail()      {}
func (PasswordChanged) mail()    {}
func (EmailChangeConfirm) mail() {}
func (EmailChangeNotice) mail()  {}

// templateNames lists every mail's template, checked at start.
func templateNames() []string {
	return append([]string{
		VerifyEmail{}.Template(), ApprovalRequest{}.Template(), AccountApproved{}.Template(),
		AccountRejected{}.Template(), PasswordReset{}.Template(), PasswordChanged{}.Template(),
		EmailChangeConfirm{}.Template(), EmailChangeNotice{}.Template(),
	}, append(append(applicationTemplateNames(), instanceConfirmTemplateNames()...), instanceTemplateNames()...)...)
}
