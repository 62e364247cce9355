// Package rapi is a client for the Ganeti Remote API (RAPI), version 2.
//
// It knows nothing about the web application or the database: it turns
// typed Go calls into HTTPS requests to one cluster's ganeti-rapi daemon and
// typed responses back. Every method takes a context first.
//
// The shape follows Ganeti's own lib/rapi/client.py: one short method per
// resource and action on *Client, all going through a single request
// function that adds Basic authentication, JSON headers, a per-cluster cap on
// concurrent calls, timeouts and a bound on the response size.
//
// Mutations (create, start, shutdown, modify, tags, ...) return a JobID.
// Most logical failures only show in the finished job: WaitJob follows a job
// to its end and returns a *JobError when it failed or was canceled.
//
// TLS verification is never switched off. A cluster's certificate is either
// pinned by the SHA-256 fingerprint of its DER leaf certificate (Ganeti's
// default certificate is self-signed for CN=ganeti.example.com without SAN, so
// the host name is not checked in this mode), or verified against a CA pool
// with normal host name verification. FetchCertificate reads the certificate
// a server presents so that an administrator can confirm its fingerprint.
//
// Errors: HTTP failures are *APIError (see IsNotFound, IsUnauthorized,
// IsForbidden, IsUnavailable); network failures and timeouts are
// *TransportError (IsUnavailable reports true for them); a pinned certificate
// that does not match gives a *PinMismatchError (errors.Is ErrPinMismatch);
// a response larger than the configured bound gives a *ResponseTooLargeError.
//
// Decoding is lenient where Ganeti is loose: unknown fields are ignored, null
// gives the zero value, and a field of an unexpected type is left at its zero
// value instead of failing the whole response. Decoding never panics.
package rapi
