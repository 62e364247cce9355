package rapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrUnavailable matches errors meaning the cluster could not be reached
	// or did not answer in time (see IsUnavailable).
	ErrUnavailable = errors.New("rapi: cluster unavailable")
	// ErrTimeout matches transport errors caused by the connect or response
	// timeout of the client (not by the caller's own context).
	ErrTimeout = errors.New("rapi: timeout")
	// ErrPinMismatch matches *PinMismatchError.
	ErrPinMismatch = errors.New("rapi: certificate pin mismatch")
	// ErrResponseTooLarge matches *ResponseTooLargeError.
	ErrResponseTooLarge = errors.New("rapi: response too large")
	// ErrInvalidArgument matches errors about arguments rejected by the
	// client before anything is sent (a bad name, reboot type, ...).
	ErrInvalidArgument = errors.New("rapi: invalid argument")
	// ErrUnsupported matches errors about a feature the cluster does not
	// announce in /2/features (for example instance-create-reqv1).
	ErrUnsupported = errors.New("rapi: feature not supported by cluster")
	// ErrJobCanceled matches a *JobError of a job that ended "canceled"
	// (for example rejected by a job filter).
	ErrJobCanceled = errors.New("rapi: job canceled")
)

// maxErrorBody bounds how much of an error response body is read.
const maxErrorBody = 64 << 10

// APIError is a non-200 answer from the RAPI daemon.
type APIError struct {
	// Method and Path identify the request (path without query string).
	Method string
	Path   string
	// Code is the HTTP status code of the response.
	Code int
	// Message is Ganeti's specific message, HTML-unescaped. For a body that
	// is not Ganeti's JSON error object it is the start of the body text, or
	// the HTTP status text when the body is empty.
	Message string
	// Explain is Ganeti's generic explanation of the status, if any.
	Explain string
}

// Error formats the error as "rapi: METHOD PATH: CODE MESSAGE: EXPLAIN".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("rapi: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d %s", e.Code, e.Message)
	if e.Explain != "" && e.Explain != e.Message {
		b.WriteString(": ")
		b.WriteString(e.Explain)
	}
	return b.String()
}

// Is lets errors.Is(err, ErrUnavailable) match 502, 503 and 504 answers.
func (e *APIError) Is(target error) bool {
	return target == ErrUnavailable && isUnavailableCode(e.Code)
}

func isUnavailableCode(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable ||
		code == http.StatusGatewayTimeout
}

// errorBody is Ganeti's JSON error object.
type errorBody struct {
	Code    json.RawMessage `json:"code"`
	Message json.RawMessage `json:"message"`
	Explain json.RawMessage `json:"explain"`
}

// parseAPIError builds an *APIError from an HTTP status and a (bounded)
// response body. It never fails: a body that is not Ganeti's JSON error
// object still gives a useful message.
func parseAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, Code: status}
	var eb errorBody
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") && json.Unmarshal(body, &eb) == nil {
		e.Message = cleanText(rawText(eb.Message))
		e.Explain = cleanText(rawText(eb.Explain))
	} else if trimmed != "" {
		e.Message = cleanText(trimmed)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "unexpected status"
		}
	}
	return e
}

// rawText returns a JSON string's value, or the JSON text of any other value
// (Ganeti sometimes puts a tuple in "message"); null gives "".
func rawText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// cleanText HTML-unescapes Ganeti's message, drops invalid UTF-8 and bounds
// its length so that an error string stays printable.
func cleanText(s string) string {
	s = html.UnescapeString(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	const max = 2048
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.TrimSpace(s)
}

// statusOf returns the HTTP status of an *APIError in err's chain, or 0.
func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

// IsNotFound reports whether err is a 404 answer (unknown instance, node,
// group, network or path), an unknown job, or the 500 that Ganeti 3.0.2
// gives for the tags of an unknown object, whose message is the prerequisite
// error tuple ending in 'unknown_entity'.
func IsNotFound(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Code == http.StatusNotFound ||
		ae.Code == http.StatusInternalServerError && strings.HasSuffix(ae.Message, "'"+ECodeNoEnt+"')")
}

// IsUnauthorized reports whether err is a 401 answer: missing or wrong
// credentials.
func IsUnauthorized(err error) bool { return statusOf(err) == http.StatusUnauthorized }

// IsForbidden reports whether err is a 403 answer: the user lacks the needed
// access (typically a read-only user attempting a write).
func IsForbidden(err error) bool { return statusOf(err) == http.StatusForbidden }

// IsUnavailable reports whether err means the cluster cannot serve the
// request now: a 502, 503 or 504 answer (master daemon down, job queue full,
// console of a stopped instance), or a transport failure or timeout (the
// cluster is unreachable). The caller's own context cancellation is not
// included, nor is a certificate pin mismatch.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// TransportError is a failure to talk to the cluster at all: connection
// refused, DNS failure, TLS handshake failure, connect or response timeout,
// a connection dropped mid-response.
type TransportError struct {
	// Method and Path identify the request.
	Method string
	Path   string
	// Timeout is true when the client's connect or response timeout expired.
	Timeout bool
	// Err is the underlying error.
	Err error
}

// Error describes the failure.
func (e *TransportError) Error() string {
	what := "cluster unreachable"
	if e.Timeout {
		what = "cluster did not answer in time"
	}
	return fmt.Sprintf("rapi: %s %s: %s: %v", e.Method, e.Path, what, e.Err)
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// Is matches ErrUnavailable always and ErrTimeout for timeouts.
func (e *TransportError) Is(target error) bool {
	return target == ErrUnavailable || (target == ErrTimeout && e.Timeout)
}

// PinMismatchError reports that the server presented a certificate whose
// SHA-256 fingerprint differs from the pinned one.
type PinMismatchError struct {
	// Expected is the pinned fingerprint, Presented the server's, both in
	// the uppercase colon-separated form.
	Expected  string
	Presented string
	// Subject is the presented certificate's subject, for display.
	Subject string
}

// Error names both fingerprints.
func (e *PinMismatchError) Error() string {
	return fmt.Sprintf("rapi: certificate pin mismatch: expected SHA-256 %s, server presented %s (subject %q)",
		e.Expected, e.Presented, e.Subject)
}

// Is matches ErrPinMismatch.
func (e *PinMismatchError) Is(target error) bool { return target == ErrPinMismatch }

// ResponseTooLargeError reports a response body larger than the client's
// MaxResponseBytes.
type ResponseTooLargeError struct {
	// Method and Path identify the request.
	Method string
	Path   string
	// Limit is the configured bound in bytes.
	Limit int64
}

// Error names the limit.
func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("rapi: %s %s: response larger than %d bytes", e.Method, e.Path, e.Limit)
}

// Is matches ErrResponseTooLarge.
func (e *ResponseTooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// JobError is a finished job that did not succeed: status "error" (with
// Ganeti's error class, message and code from the failed opcode's result) or
// "canceled".
type JobError struct {
	// JobID is the failed job.
	JobID JobID
	// Status is the job's final status: JobStatusError or JobStatusCanceled.
	Status JobStatus
	// OpIndex is the index of the failed opcode, -1 when unknown.
	OpIndex int
	// OpID is the failed opcode's OP_ID (e.g. "OP_INSTANCE_CREATE") if known.
	OpID string
	// Class is Ganeti's error class, e.g. "OpPrereqError", "OpExecError".
	Class string
	// Message is Ganeti's error message.
	Message string
	// Code is Ganeti's error code when given, e.g. "wrong_input",
	// "insufficient_resources", "resolver_error" (see the ECode constants).
	Code string
}

// Summary is the failure as a person reads it, without the package
// prefix: Ganeti's error class, message and code ("OpPrereqError: ...
// (wrong_input)"), or that the job was canceled.
func (e *JobError) Summary() string {
	if e.Status == JobStatusCanceled {
		if e.Message != "" {
			return "The Ganeti job was canceled: " + e.Message
		}
		return "The Ganeti job was canceled."
	}
	var b strings.Builder
	if e.Class != "" {
		b.WriteString(e.Class)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	return b.String()
}

// Error formats the failure for logs and flash messages.
func (e *JobError) Error() string {
	if e.Status == JobStatusCanceled {
		if e.Message != "" {
			return fmt.Sprintf("rapi: job %s canceled: %s", e.JobID, e.Message)
		}
		return fmt.Sprintf("rapi: job %s canceled", e.JobID)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rapi: job %s failed", e.JobID)
	if e.Class != "" {
		b.WriteString(": ")
		b.WriteString(e.Class)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	return b.String()
}

// Is matches ErrJobCanceled for canceled jobs.
func (e *JobError) Is(target error) bool {
	return target == ErrJobCanceled && e.Status == JobStatusCanceled
}

// Ganeti error codes found as the second element of an opcode error.
const (
	ECodeResolver  = "resolver_error"
	ECodeNoRes     = "insufficient_resources"
	ECodeTempNoRes = "temp_insufficient_resources"
	ECodeInval     = "wrong_input"
	ECodeState     = "wrong_state"
	ECodeNoEnt     = "unknown_entity"
	ECodeExists    = "already_exists"
	ECodeNotUnique = "resource_not_unique"
	ECodeFault     = "internal_error"
	ECodeEnviron   = "environment_error"
)

func invalidArg(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}
