package web

import (
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// jobStatuses are Ganeti's job statuses, in the order of the filter.
var jobStatuses = []string{"queued", "waiting", "running", "canceling", "success", "error", "canceled"}

// opWords puts an opcode and its target into words: OP_INSTANCE_STARTUP on
// vm1 is "start instance vm1". Opcodes without a phrase of their own read
// as their humanized name ("node evacuate node1").
func opWords(opID, target string) i18n.Message {
	args := []any{"Target", target}
	var m i18n.Msg
	switch opID {
	case "OP_INSTANCE_STARTUP":
		m = i18n.M("job.op.startup")
	case "OP_INSTANCE_SHUTDOWN":
		m = i18n.M("job.op.shutdown")
	case "OP_INSTANCE_REBOOT":
		m = i18n.M("job.op.reboot")
	case "OP_INSTANCE_CREATE":
		m = i18n.M("job.op.create")
	case "OP_INSTANCE_REMOVE":
		m = i18n.M("job.op.remove")
	case "OP_INSTANCE_REINSTALL":
		m = i18n.M("job.op.reinstall")
	case "OP_INSTANCE_RENAME":
		m = i18n.M("job.op.rename")
	case "OP_INSTANCE_SET_PARAMS":
		m = i18n.M("job.op.modify")
	case "OP_INSTANCE_MIGRATE":
		m = i18n.M("job.op.migrate")
	case "OP_INSTANCE_FAILOVER":
		m = i18n.M("job.op.failover")
	case "OP_TAGS_SET":
		m = i18n.M("job.op.tagsset")
	case "OP_TAGS_DEL":
		m = i18n.M("job.op.tagsdel")
	case "OP_CLUSTER_VERIFY", "OP_CLUSTER_VERIFY_CONFIG", "OP_CLUSTER_VERIFY_GROUP":
		m = i18n.M("job.op.verify")
	default:
		name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(opID, "OP_"), "_", " "))
		if name == "" {
			name = "?"
		}
		m, args = i18n.M("job.op.other"), append(args, "Op", name)
	}
	return i18n.Message{Msg: m, Args: args}
}

// summaryTarget returns what an opcode summary such as
// "INSTANCE_STARTUP(vm1.example.org)" names, "" when nothing.
func summaryTarget(summary string) string {
	i, j := strings.IndexByte(summary, '('), strings.LastIndexByte(summary, ')')
	if i < 0 || j <= i {
		return ""
	}
	return summary[i+1 : j]
}

// jobOp is one opcode of a job prepared for the templates.
type jobOp struct {
	ID      string
	Words   i18n.Message
	Status  string
	Summary string
}

// jobView is one job prepared for the templates.
type jobView struct {
	*store.ListedJob
	URL   string
	Ops   []jobOp
	Words i18n.Message // of the first opcode
	More  int          // further opcodes
}

func (s *Server) jobView(j *store.ListedJob) *jobView {
	v := &jobView{ListedJob: j, URL: s.path("/jobs/" + pathEscape(j.ClusterSlug) + "/" + itoa64(j.ID) + "/")}
	for i, id := range j.OpIDs {
		op := jobOp{ID: id}
		if i < len(j.Summary) {
			op.Summary = j.Summary[i]
		}
		target := summaryTarget(op.Summary)
		if target == "" && len(j.Instances) == 1 {
			target = j.Instances[0]
		}
		op.Words = opWords(id, target)
		if i < len(j.OpStatus) {
			op.Status = j.OpStatus[i]
		}
		v.Ops = append(v.Ops, op)
	}
	if len(v.Ops) > 0 {
		v.Words, v.More = v.Ops[0].Words, len(v.Ops)-1
	} else {
		v.Words = opWords("", "")
	}
	return v
}
