package mail

// The mails of instance actions (internal/instanceops).

// InstanceRefused tells the administrators that a user attempted an action
// on an instance that is not theirs (sent with EnqueueAdminsTx, at most
// once an hour per user and instance).
type InstanceRefused struct {
	Username string
	// Cluster is the cluster's slug, Instance the instance's name.
	Cluster  string
	Instance string
	// Action is the attempted action's code (start, destroy, owners ...).
	Action string
	// Detail says what was asked (a new name, an owner ...); optional.
	Detail string
	// Addr is the address the attempt came from; optional.
	Addr string
	// Path is the instance's page.
	Path string
}

// Template returns "instance_refused".
func (InstanceRefused) Template() string { return "instance_refused" }

func (InstanceRefused) mail() {}

// instanceTemplateNames lists the templates of the instance action mails
// (part of templateNames).
func instanceTemplateNames() []string {
	return []string{InstanceRefused{}.Template()}
}
