// Package rapifake is an in-memory fake of the Ganeti Remote API (RAPI),
// version 2, as served by a real Ganeti 3.0.2 cluster.
//
// A Cluster holds the model of one fake cluster (nodes, node groups,
// networks, instances, jobs, tags, OS list) and serves it over HTTPS with a
// self-signed certificate, with the same resources, JSON field names and
// JSON types as the real daemon (recorded samples live in testdata/ and the
// tests compare every answer's shape against them). Mutating requests create
// jobs that go queued → running → success/error after a configurable delay
// and apply their effect to the model when they finish.
//
// NewCluster generates a deterministic, realistic model from Options (a
// seed, counts, owners for the ownership tags used by ganetimgr). Faults can
// be switched on at runtime: latency, hangs, 5xx answers, malformed JSON,
// connection resets and a certificate change; every request is counted, in
// total and per path, so tests can assert that something did not call the
// RAPI at all.
//
// Use a Cluster in-process through Start/Close (its own TLS listener) or
// Handler (for httptest), or run several through cmd/fakerapi.
package rapifake
