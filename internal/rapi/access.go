package rapi

import (
	"context"
	"net/http"
)

// CanWrite reports whether the client's credentials have write access
// (ganeti-rapi's users file grants "write" or only read), without changing
// anything on the cluster and without queueing a job.
//
// It sends an instance-creation request that names no instance. ganeti-rapi
// checks a resource's access rights before it looks at the body, so a
// read-only user gets 403 Forbidden, while a user with write access gets
// 400 Bad Request from the opcode validation (the instance name is
// required), which happens before any job is submitted. Verified on Ganeti
// 3.0.2: no job appears in /2/jobs for either user.
//
// Any other error (401, unreachable, ...) is returned as is.
func (c *Client) CanWrite(ctx context.Context) (bool, error) {
	_, err := c.requestRaw(ctx, http.MethodPost, "/2/instances", nil, map[string]any{"__version__": 1})
	switch {
	case err == nil:
		// Not expected (the request is invalid), but it means write access.
		return true, nil
	case IsForbidden(err):
		return false, nil
	case statusOf(err) == http.StatusBadRequest:
		return true, nil
	default:
		return false, err
	}
}
