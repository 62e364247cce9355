package mail

import "time"

// The actions an InstanceConfirm asks to confirm.
const (
	ConfirmReinstall = "reinstall"
	ConfirmRename    = "rename"
	ConfirmDestroy   = "destroy"
)

// InstanceConfirm asks the owner who requested a reinstall, rename or
// destroy of an instance to confirm it with a single-use link
// (internal/instanceops, confirmation mode "mail").
type InstanceConfirm struct {
	// Action is ConfirmReinstall, ConfirmRename or ConfirmDestroy; any
	// other value fails to render.
	Action string
	// Username is the account that must be logged in to confirm.
	Username string
	Instance string
	// Cluster is the cluster's slug.
	Cluster string
	// OS is the operating system a reinstall installs ("" keeps the
	// current one).
	OS string
	// NewName is the new name of a rename.
	NewName string
	// Path is the confirmation link.
	Path string
	// Expiry is how long the link works.
	Expiry time.Duration
}

// Template returns "instance_confirm".
func (InstanceConfirm) Template() string { return "instance_confirm" }

func (InstanceConfirm) mail() {}

// instanceConfirmTemplateNames lists the templates of the confirmation
// mails of instance actions (part of templateNames).
func instanceConfirmTemplateNames() []string {
	return []string{InstanceConfirm{}.Template()}
}
