// Package applications is the workflow of instance applications: users
// apply for a virtual machine, reviewers approve (choosing where it goes)
// or refuse, and a durable background job creates the approved VM on its
// cluster through the RAPI.
//
// # Pieces
//
//   - status.go: the one table of allowed status changes (Rules) and who
//     may make them (applicant, reviewer, ganetimgr itself).
//   - validate.go: the application form's rules (hostname, sizes within the
//     configured limits, operating system from the catalogue, network,
//     organization or administrative contact, terms), as message ids.
//   - placement.go: the placements a reviewer may choose, computed from the
//     cluster cache by a pure function (BuildOptions).
//   - request.go: the RAPI creation request of an approved application,
//     built by a pure function (BuildCreate).
//   - catalogue.go: the operating system images administrators offer;
//     their secret OS parameters are sealed and never shown.
//   - service.go: the Service the web pages call, which checks permissions
//     and keeps every status change, its history entry, its mails and the
//     submission job in one transaction.
//   - worker.go: SubmitWorker, the river worker that creates the VM.
//
// # Creating a VM exactly once
//
// Approving an application moves it to approved and then submitted, with
// a new submission attempt number, and inserts the job SubmitArgs{id,
// attempt} with river's InsertTx: the status change and the job commit
// together. The job may run more than once (a process dies, the cluster is
// unreachable, a run ends while the Ganeti job still runs), so each run
// first looks for work an earlier run did:
//
//  1. If the attempt's Ganeti job id is recorded, it only follows that job.
//  2. Otherwise it lists the cluster's jobs (/2/jobs?bulk=1) and looks for
//     an OP_INSTANCE_CREATE of the hostname whose reason trail holds the
//     attempt's marker (Marker: "ganetimgr:application:<id>/<attempt>",
//     sent as the request's reason, which Ganeti records in the job), and
//     records and follows it. A dry run or an earlier attempt's job never
//     matches.
//  3. Otherwise it reads the instance (/2/instances/<name>): if it exists
//     and carries the tag <prefix>:application:<id>, the VM was created and
//     its job archived already, so the application is created; an instance
//     of that name without the tag belongs to someone else and fails the
//     application.
//  4. Only then does it send the creation request (carrying the marker and
//     the tags) and record the returned job id.
//
// A crash between the request and the recording of the job id therefore
// leaves a job step 2 finds, and one archived by then leaves a VM step 3
// finds; the next run never sends a second request. Ganeti itself refuses
// a second instance of one name on a cluster, so even a mistake could not
// create a second VM; the steps above make the retry end in the right
// status instead of a failure. Runs of one job never overlap: river runs a
// job once at a time, and a run's timeout is shorter than the time after
// which river rescues a job whose process died.
//
// Following the job: a run waits for the Ganeti job for at most the
// Service's FollowTimeout, then snoozes (without using up an attempt). A
// finished job settles the application, with the status change and its
// mails in one transaction: created (applicant and administrators mailed,
// the instance refreshed in the cluster cache) or failed with Ganeti's
// message (administrators mailed; a reviewer may submit it again, which
// starts a new attempt). A cluster that cannot be reached makes the run
// fail and river retry it with backoff; after the last attempt the
// application fails with the error.
//
// # SSH keys
//
// When an image names an SSH-key OS parameter, each submission gets a new
// random token; its SHA-256 is stored, and the URL <base>/applications/
// keys/<token> goes into that parameter. Service.AuthorizedKeys serves the
// applicant's keys for the token while the application is submitted or
// created and the URL is young (DefaultKeyURLLifetime). Images may also
// name img_personality accounts, which get the keys as authorized_keys
// files, as ganetimgr did.
//
// # Audit
//
// With Deps.Audit every filing, decision (approve, refuse with its reason,
// discard, submit and submit again, fast creation) and the submission
// job's result (by the system, with the Ganeti job id) is written to the
// audit log in the transaction of its status change, with the actor and
// the client address the web layer put in the context (audit.WithAddr).
// A reviewer's action tried without the permission is recorded as refused
// (audit.go).
package applications
