package rapi

import "testing"

// TestJobErrorSummary: the failure people read names Ganeti's class,
// message and code, or says the job was canceled.
func TestJobErrorSummary(t *testing.T) {
	for _, c := range []struct {
		e    JobError
		want string
	}{
		{JobError{Status: JobStatusError, Class: "OpPrereqError", Message: "Instance 'x' already exists", Code: "already_exists"},
			"OpPrereqError: Instance 'x' already exists (already_exists)"},
		{JobError{Status: JobStatusError, Message: "boom"}, "boom"},
		{JobError{Status: JobStatusCanceled, Message: "Job canceled by filter 3"}, "The Ganeti job was canceled: Job canceled by filter 3"},
		{JobError{Status: JobStatusCanceled}, "The Ganeti job was canceled."},
	} {
		if got := c.e.Summary(); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.e, got, c.want)
		}
	}
}
