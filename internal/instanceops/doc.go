// Package instanceops carries out what owners, helpdesk and administrators
// do to an instance: start, shut down, reboot, reinstall, rename, destroy,
// configure, manage its owners, admin-lock it, isolate it and set the
// address allowed while isolated.
//
// Every action is decided on the server (Decide, a pure function of the
// principal and the instance's state as the cluster cache last saw it: its
// tags, its node group's maintenance lock and its unfinished tracked job),
// and every attempt is audited, refused ones included; a refused attempt
// on an instance the user may not see also mails the administrators.
//
// An allowed action claims the instance in PostgreSQL (table
// instance_jobs: at most one unfinished job per instance, so a double
// submit starts one Ganeti job), calls the RAPI with a reason marker
// "ganetimgr:<username>:<kind>:<tracked id>" in the job's reason trail,
// records the Ganeti job id together with the audit entry and a durable
// follow job (river, queue Queue), and returns at once. FollowWorker then
// follows the Ganeti job, stores its status and log lines as they come,
// and when it ends finishes the row, refreshes the instance in the cluster
// cache at once and audits the outcome. A process that dies during the
// RAPI call leaves a "submitting" row; its follow job, scheduled for
// later, finds the Ganeti job by its marker or, after a grace period,
// finishes the row as lost.
package instanceops
