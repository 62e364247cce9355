package mail

// The mails of instance applications (internal/applications). Every one is
// enqueued in the transaction of the status change it reports.

// ApplicationReceived tells the reviewers that a user applied for a VM.
type ApplicationReceived struct {
	ID       int64
	Hostname string
	// Username and Name are the applicant's (Name optional).
	Username string
	Name     string
	Email    string
	MemoryMB int
	VCPUs    int
	DiskGB   int
	// OS is the operating system's description.
	OS string
	// Network is the network asked for; optional.
	Network string
	// Organization and AdminContact ("name, e-mail, phone") are optional.
	Organization    string
	AdminContact    string
	HostsMailServer bool
	// Comments are the applicant's; optional, may span lines.
	Comments string
	// Path is the application's review page.
	Path string
}

// ApplicationRefused tells an applicant that their application was refused.
type ApplicationRefused struct {
	ID       int64
	Hostname string
	// Reason is the reviewer's explanation; may span lines.
	Reason string
	// Path is the application's page.
	Path string
}

// ApplicationCreated tells that the VM of an application is ready: to the
// applicant, and to the administrators with ApprovedBy set.
type ApplicationCreated struct {
	ID       int64
	Hostname string
	// Cluster is the cluster's slug.
	Cluster string
	// Comments are the reviewer's words to the applicant; optional.
	Comments string
	// ApprovedBy is the reviewer, for the administrators' copy ("" in the
	// applicant's).
	ApprovedBy string
	// Path is the instance's page.
	Path string
}

// ApplicationFailed tells the administrators that creating the VM of an
// application failed.
type ApplicationFailed struct {
	ID       int64
	Hostname string
	Cluster  string
	// JobID is the failed Ganeti job, 0 when there was none.
	JobID int64
	// Message is Ganeti's (or the cluster's) error message.
	Message string
	// Path is the application's review page (to submit it again).
	Path string
}

// Template returns "application_received".
func (ApplicationReceived) Template() string { return "application_received" }

// Template returns "application_refused".
func (ApplicationRefused) Template() string { return "application_refused" }

// Template returns "application_created".
func (ApplicationCreated) Template() string { return "application_created" }

// Template returns "application_failed".
func (ApplicationFailed) Template() string { return "application_failed" }

func (ApplicationReceived) mail() {}
func (ApplicationRefused) mail()  {}
func (ApplicationCreated) mail()  {}
func (ApplicationFailed) mail()   {}

// applicationTemplateNames lists the templates of the application mails
// (part of templateNames).
func applicationTemplateNames() []string {
	return []string{
		ApplicationReceived{}.Template(), ApplicationRefused{}.Template(),
		ApplicationCreated{}.Template(), ApplicationFailed{}.Template(),
	}
}
