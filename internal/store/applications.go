package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ApplicationStatus is the state of an instance application. Which changes
// are allowed, and to whom, is decided in internal/applications; the store
// only keeps states consistent (see migration 00008_applications.sql).
type ApplicationStatus string

// The application statuses, with ganetimgr's codes: 100 pending, 101
// approved, 102 submitted, 104 failed, 105 created, 106 refused, 107
// discarded (103 "processing" was never used).
const (
	AppPending   ApplicationStatus = "pending"
	AppApproved  ApplicationStatus = "approved"
	AppSubmitted ApplicationStatus = "submitted"
	AppFailed    ApplicationStatus = "failed"
	AppCreated   ApplicationStatus = "created"
	AppRefused   ApplicationStatus = "refused"
	AppDiscarded ApplicationStatus = "discarded"
)

// ApplicationStatuses returns every status in workflow order.
func ApplicationStatuses() []ApplicationStatus {
	return []ApplicationStatus{AppPending, AppApproved, AppSubmitted, AppFailed, AppCreated, AppRefused, AppDiscarded}
}

// Valid reports whether s is a known status.
func (s ApplicationStatus) Valid() bool {
	for _, x := range ApplicationStatuses() {
		if x == s {
			return true
		}
	}
	return false
}

// Open reports whether an application in status s holds its hostname
// (no other open application may ask for it): pending, approved, submitted
// and failed (which may be submitted again).
func (s ApplicationStatus) Open() bool {
	return s == AppPending || s == AppApproved || s == AppSubmitted || s == AppFailed
}

// Final reports whether nothing can happen to an application in status s
// any more: created, refused, discarded.
func (s ApplicationStatus) Final() bool {
	return s == AppCreated || s == AppRefused || s == AppDiscarded
}

// LegacyCode returns ganetimgr's numeric code of the status (100-107), 0
// for an unknown status.
func (s ApplicationStatus) LegacyCode() int {
	switch s {
	case AppPending:
		return 100
	case AppApproved:
		return 101
	case AppSubmitted:
		return 102
	case AppFailed:
		return 104
	case AppCreated:
		return 105
	case AppRefused:
		return 106
	case AppDiscarded:
		return 107
	}
	return 0
}

// Errors of the application functions. Both match ErrConflict.
var (
	// ErrStatusChanged is returned when an application is not (any more)
	// in the status a change expected: someone else acted first.
	ErrStatusChanged = fmt.Errorf("%w: the application's status changed", ErrConflict)
	// ErrImageInUse is returned when deleting an OS image applications use.
	ErrImageInUse = fmt.Errorf("%w: the image is used by applications", ErrConflict)
)

// ApplicationHostnameConstraint is the constraint an ErrConflict names when
// another open application already asks for the hostname.
const ApplicationHostnameConstraint = "applications_open_hostname_key"

// ApplicationRequest is what an applicant asks for; a reviewer may edit it.
type ApplicationRequest struct {
	// Hostname is the VM's fully qualified name, lowercase.
	Hostname string
	MemoryMB int
	VCPUs    int
	DiskGB   int
	// OSImage is the catalogue image (os_images.id); when empty, OSName is
	// an OS the cluster reports (set by reviewers only).
	OSImage string
	OSName  string
	// RequestedNetworkID is the declared network the applicant asked for,
	// 0 for no wish.
	RequestedNetworkID int64
	// OrganizationID is the applicant's organization, 0 for none.
	OrganizationID    int64
	AdminContactName  string
	AdminContactEmail string
	AdminContactPhone string
	HostsMailServer   bool
	Comments          string
}

// Placement is where a VM goes, chosen by a reviewer.
type Placement struct {
	ClusterID int64
	NodeGroup string
	// NetworkName names the gnt-network or declared network of the NIC;
	// NetworkLink and NetworkMode are its link and mode, or empty with
	// NetworkPool (an address from the gnt-network's pool). All empty: the
	// cluster's default NIC parameters.
	NetworkName  string
	NetworkLink  string
	NetworkMode  string
	NetworkPool  bool
	DiskTemplate string
	// VG is the volume group, "" for the cluster's default.
	VG string
}

// Application is a stored instance application.
type Application struct {
	ID                int64
	ApplicantID       int64
	ApplicantUsername string
	Status            ApplicationStatus
	ApplicationRequest
	TermsAcceptedAt time.Time
	// FastCreate marks a VM an administrator created directly.
	FastCreate bool
	// ReviewerID is who approved, refused or discarded it (0: nobody yet).
	ReviewerID       int64
	ReviewerUsername string
	// AdminComments are the reviewer's words to the applicant.
	AdminComments string
	Placement
	// ClusterSlug is the placement's cluster ("" when none or deleted).
	ClusterSlug string
	// SubmitAttempt counts submissions; each one marks its Ganeti job.
	SubmitAttempt int
	// JobID is the Ganeti job creating the VM, 0 until known.
	JobID int64
	// BackendMessage is Ganeti's message of a failed creation.
	BackendMessage string
	// SSHKeysUntil is until when the SSH-key URL serves the applicant's
	// keys; zero when there is no URL.
	SSHKeysUntil time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// SubmittedAt is the last submission, FinishedAt when a final status
	// was reached; zero when not.
	SubmittedAt time.Time
	FinishedAt  time.Time
}

const applicationSelect = `SELECT a.id, a.applicant_id, u.username, a.status, a.hostname, a.memory_mb, a.vcpus,
	a.disk_gb, coalesce(a.os_image, ''), coalesce(a.os_name, ''), coalesce(a.requested_network_id, 0),
	coalesce(a.organization_id, 0), a.admin_contact_name, a.admin_contact_email, a.admin_contact_phone,
	a.hosts_mail_server, a.comments, a.terms_accepted_at, a.fast_create, coalesce(a.reviewer_id, 0),
	coalesce(r.username, ''), a.admin_comments, coalesce(a.cluster_id, 0), coalesce(c.slug, ''), a.node_group,
	a.network_name, a.network_link, a.network_mode, a.network_pool, a.disk_template, a.vg, a.submit_attempt,
	coalesce(a.job_id, 0), a.backend_message, a.ssh_keys_until, a.created_at, a.updated_at, a.submitted_at,
	a.finished_at
	FROM applications a JOIN users u ON u.id = a.applicant_id
	LEFT JOIN users r ON r.id = a.reviewer_id LEFT JOIN clusters c ON c.id = a.cluster_id`

func scanApplication(row pgx.Row) (*Application, error) {
	a := &Application{}
	var keysUntil, submitted, finished *time.Time
	err := row.Scan(&a.ID, &a.ApplicantID, &a.ApplicantUsername, &a.Status, &a.Hostname, &a.MemoryMB, &a.VCPUs,
		&a.DiskGB, &a.OSImage, &a.OSName, &a.RequestedNetworkID, &a.OrganizationID, &a.AdminContactName,
		&a.AdminContactEmail, &a.AdminContactPhone, &a.HostsMailServer, &a.Comments, &a.TermsAcceptedAt,
		&a.FastCreate, &a.ReviewerID, &a.ReviewerUsername, &a.AdminComments, &a.ClusterID, &a.ClusterSlug,
		&a.NodeGroup, &a.NetworkName, &a.NetworkLink, &a.NetworkMode, &a.NetworkPool, &a.DiskTemplate, &a.VG,
		&a.SubmitAttempt, &a.JobID, &a.BackendMessage, &keysUntil, &a.CreatedAt, &a.UpdatedAt, &submitted, &finished)
	if err != nil {
		return nil, err
	}
	a.SSHKeysUntil, a.SubmittedAt, a.FinishedAt = scanTime(keysUntil), scanTime(submitted), scanTime(finished)
	return a, nil
}

// NewApplication is an application to file.
type NewApplication struct {
	ApplicantID int64
	Request     ApplicationRequest
	// TermsAcceptedAt is when the applicant accepted the terms (zero: now).
	TermsAcceptedAt time.Time
	// FastCreate files the application of an administrator creating a VM
	// directly: it is stored approved, reviewed by the applicant, with
	// Placement (otherwise ignored).
	FastCreate bool
	Placement  Placement
	// Comment goes into the history with the filing.
	Comment string
}

// CreateApplication files an application (pending, or approved for
// FastCreate) and records the filing in its history. then runs inside the
// transaction afterwards (typically to queue the mails that announce it,
// or for FastCreate to submit it); an error from it undoes everything.
// Another open application for the hostname gives ErrConflict naming
// ApplicationHostnameConstraint; an unknown applicant, image, network,
// organization or cluster gives ErrNotFound.
func (s *Store) CreateApplication(ctx context.Context, n NewApplication, then ...TxFunc) (*Application, error) {
	var a *Application
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		status, reviewer := AppPending, int64(0)
		p := Placement{}
		if n.FastCreate {
			status, reviewer, p = AppApproved, n.ApplicantID, n.Placement
		}
		accepted := n.TermsAcceptedAt
		if accepted.IsZero() {
			accepted = time.Now()
		}
		r := n.Request
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO applications (applicant_id, status, hostname, memory_mb, vcpus, disk_gb,
			os_image, os_name, requested_network_id, organization_id, admin_contact_name, admin_contact_email,
			admin_contact_phone, hosts_mail_server, comments, terms_accepted_at, fast_create, reviewer_id,
			cluster_id, node_group, network_name, network_link, network_mode, network_pool, disk_template, vg)
			VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''), NULLIF($8, ''), NULLIF($9, 0), NULLIF($10, 0), $11, $12,
			$13, $14, $15, $16, $17, NULLIF($18, 0), NULLIF($19, 0), $20, $21, $22, $23, $24, $25, $26)
			RETURNING id`,
			n.ApplicantID, status, r.Hostname, r.MemoryMB, r.VCPUs, r.DiskGB, r.OSImage, r.OSName,
			r.RequestedNetworkID, r.OrganizationID, r.AdminContactName, r.AdminContactEmail, r.AdminContactPhone,
			r.HostsMailServer, r.Comments, accepted, n.FastCreate, reviewer, p.ClusterID, p.NodeGroup,
			p.NetworkName, p.NetworkLink, p.NetworkMode, p.NetworkPool, p.DiskTemplate, p.VG).Scan(&id)
		if err != nil {
			return err
		}
		if err := insertApplicationEvent(ctx, tx, id, "", status, n.ApplicantID, n.Comment); err != nil {
			return err
		}
		if err := runTx(ctx, tx, then); err != nil {
			return err
		}
		a, err = scanApplication(tx.QueryRow(ctx, applicationSelect+` WHERE a.id = $1`, id))
		return err
	})
	if err != nil {
		return nil, applicationErr("create application", err)
	}
	return a, nil
}

// NewApplicationIDTx returns the id of the application CreateApplication
// inserted in tx (for its then functions, which run before it returns).
func (s *Store) NewApplicationIDTx(ctx context.Context, tx pgx.Tx) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT currval(pg_get_serial_sequence('applications', 'id'))`).Scan(&id)
	return id, mapErr("new application id", err)
}

// applicationErr passes the package's sentinels through and maps the rest.
func applicationErr(op string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	return mapErr(op, err)
}

func insertApplicationEvent(ctx context.Context, tx pgx.Tx, id int64, from, to ApplicationStatus, actor int64, comment string) error {
	_, err := tx.Exec(ctx, `INSERT INTO application_events (application_id, from_status, to_status, actor_id, comment)
		VALUES ($1, NULLIF($2, ''), $3, NULLIF($4, 0), $5)`, id, string(from), string(to), actor, comment)
	return err
}

// Application returns one application.
func (s *Store) Application(ctx context.Context, id int64) (*Application, error) {
	a, err := scanApplication(s.pool.QueryRow(ctx, applicationSelect+` WHERE a.id = $1`, id))
	return a, mapErr("application", err)
}

// ApplicationTx is Application inside a transaction (for TxFuncs).
func (s *Store) ApplicationTx(ctx context.Context, tx pgx.Tx, id int64) (*Application, error) {
	a, err := scanApplication(tx.QueryRow(ctx, applicationSelect+` WHERE a.id = $1`, id))
	return a, mapErr("application", err)
}

// MaxApplicationPage bounds ApplicationQuery.Limit.
const MaxApplicationPage = 200

// ApplicationQuery selects a page of applications, newest first.
type ApplicationQuery struct {
	// ApplicantID, when positive, keeps one applicant's applications.
	ApplicantID int64
	// Statuses, when not empty, keeps applications in these statuses.
	Statuses []ApplicationStatus
	// Before continues a listing: only applications with a smaller id
	// (ApplicationPage.Next of the previous page); 0 starts at the newest.
	Before int64
	// Limit is the page size: 1 to MaxApplicationPage, default 50.
	Limit int
}

// ApplicationPage is one page of applications.
type ApplicationPage struct {
	Items []*Application
	// Next is the Before of the following page, 0 on the last page.
	Next int64
}

// ListApplications returns a page of applications (keyset pagination on
// the id, newest first).
func (s *Store) ListApplications(ctx context.Context, q ApplicationQuery) (*ApplicationPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxApplicationPage)
	statuses := make([]string, 0, len(q.Statuses))
	for _, st := range q.Statuses {
		statuses = append(statuses, string(st))
	}
	rows, err := s.pool.Query(ctx, applicationSelect+`
		WHERE ($1::bigint = 0 OR a.applicant_id = $1)
		  AND (cardinality($2::text[]) = 0 OR a.status = ANY($2))
		  AND ($3::bigint = 0 OR a.id < $3)
		ORDER BY a.id DESC LIMIT $4`, q.ApplicantID, statuses, q.Before, limit+1)
	if err != nil {
		return nil, mapErr("list applications", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Application, error) { return scanApplication(r) })
	if err != nil {
		return nil, mapErr("list applications", err)
	}
	page := &ApplicationPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.Next = items[limit-1].ID
	}
	return page, nil
}

// PendingApplicationCount returns the number of applications awaiting a
// review.
func (s *Store) PendingApplicationCount(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM applications WHERE status = 'pending'`).Scan(&n)
	return n, mapErr("pending application count", err)
}

// ApplicationTransition is one status change of an application, with the
// changes that come with it.
type ApplicationTransition struct {
	ID int64
	// From is the status the application must be in (optimistic check:
	// ErrStatusChanged otherwise); To the new one.
	From, To ApplicationStatus
	// Attempt, when positive, must equal the application's submit attempt
	// (ErrStatusChanged otherwise), so a late worker cannot settle a newer
	// submission.
	Attempt int
	// ActorID is who makes the change, 0 for ganetimgr itself.
	ActorID int64
	// Comment is recorded in the history; for a refusal it is also the
	// reason given to the applicant (AdminComments).
	Comment string
	// Request and Placement, when set, replace the application's (the
	// reviewer's edits and choice).
	Request   *ApplicationRequest
	Placement *Placement
	// AdminComments, when set, replaces the words to the applicant.
	AdminComments *string
	// BackendMessage is Ganeti's message, for To = failed.
	BackendMessage string
}

// TransitionApplication changes an application's status in a transaction:
// it checks (and locks) the expected status, applies the transition's
// changes, records the event, then runs then (to queue mails and the
// submission job in the same transaction; an error undoes everything).
//
// What each target status does besides: approved sets the reviewer (the
// actor) and clears the previous submission's job, message and SSH-key
// token; submitted starts a new attempt (SubmitAttempt+1, SubmittedAt) with
// no job yet; failed stores BackendMessage; refused stores Comment as the
// reason and sets the reviewer; discarded sets the reviewer; created,
// refused and discarded set FinishedAt. Rules the database enforces (a
// placement for approved and later, a reason for refused and failed, the
// hostname unique among open applications) give an error naming them.
func (s *Store) TransitionApplication(ctx context.Context, t ApplicationTransition, then ...TxFunc) (*Application, error) {
	var a *Application
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if a, err = s.TransitionApplicationTx(ctx, tx, t); err != nil {
			return err
		}
		if len(then) == 0 {
			return nil
		}
		if err := runTx(ctx, tx, then); err != nil {
			return err
		}
		a, err = s.ApplicationTx(ctx, tx, t.ID)
		return err
	})
	if err != nil {
		// The errors of TransitionApplicationTx are mapped already, and
		// then's are the caller's own; only the commit's are left.
		if a == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
			return nil, err
		}
		return nil, mapErr("transition application", err)
	}
	return a, nil
}

// TransitionApplicationTx is TransitionApplication inside the caller's
// transaction (to chain transitions, e.g. approved then submitted).
func (s *Store) TransitionApplicationTx(ctx context.Context, tx pgx.Tx, t ApplicationTransition) (*Application, error) {
	const op = "transition application"
	if !t.From.Valid() || !t.To.Valid() || t.From == t.To {
		return nil, fmt.Errorf("store: %s: invalid transition %q -> %q", op, t.From, t.To)
	}
	var cur ApplicationStatus
	var attempt int
	if err := tx.QueryRow(ctx, `SELECT status, submit_attempt FROM applications WHERE id = $1 FOR UPDATE`, t.ID).
		Scan(&cur, &attempt); err != nil {
		return nil, mapErr(op, err)
	}
	if cur != t.From || (t.Attempt > 0 && attempt != t.Attempt) {
		return nil, ErrStatusChanged
	}
	if r := t.Request; r != nil {
		if _, err := tx.Exec(ctx, `UPDATE applications SET hostname = $2, memory_mb = $3, vcpus = $4, disk_gb = $5,
			os_image = NULLIF($6, ''), os_name = NULLIF($7, ''), requested_network_id = NULLIF($8, 0),
			organization_id = NULLIF($9, 0), admin_contact_name = $10, admin_contact_email = $11,
			admin_contact_phone = $12, hosts_mail_server = $13, comments = $14 WHERE id = $1`,
			t.ID, r.Hostname, r.MemoryMB, r.VCPUs, r.DiskGB, r.OSImage, r.OSName, r.RequestedNetworkID,
			r.OrganizationID, r.AdminContactName, r.AdminContactEmail, r.AdminContactPhone, r.HostsMailServer,
			r.Comments); err != nil {
			return nil, mapErr(op, err)
		}
	}
	if p := t.Placement; p != nil {
		if _, err := tx.Exec(ctx, `UPDATE applications SET cluster_id = NULLIF($2, 0), node_group = $3,
			network_name = $4, network_link = $5, network_mode = $6, network_pool = $7, disk_template = $8, vg = $9
			WHERE id = $1`, t.ID, p.ClusterID, p.NodeGroup, p.NetworkName, p.NetworkLink, p.NetworkMode,
			p.NetworkPool, p.DiskTemplate, p.VG); err != nil {
			return nil, mapErr(op, err)
		}
	}
	if t.AdminComments != nil {
		if _, err := tx.Exec(ctx, `UPDATE applications SET admin_comments = $2 WHERE id = $1`, t.ID, *t.AdminComments); err != nil {
			return nil, mapErr(op, err)
		}
	}
	// One statement per target status: what the transition does besides
	// the status (the statuses are this package's constants).
	set := "status = '" + string(t.To) + "', updated_at = now()"
	args := []any{t.ID}
	switch t.To {
	case AppApproved:
		set += `, reviewer_id = coalesce(NULLIF($2::bigint, 0), reviewer_id), job_id = NULL, backend_message = '',
			ssh_key_token_hash = NULL, ssh_keys_until = NULL`
		args = append(args, t.ActorID)
	case AppSubmitted:
		set += `, submit_attempt = submit_attempt + 1, submitted_at = now(), job_id = NULL, backend_message = '',
			ssh_key_token_hash = NULL, ssh_keys_until = NULL`
	case AppFailed:
		set += `, backend_message = $2`
		args = append(args, t.BackendMessage)
	case AppCreated:
		set += `, finished_at = now()`
	case AppRefused:
		set += `, reviewer_id = coalesce(NULLIF($2::bigint, 0), reviewer_id), admin_comments = $3, finished_at = now()`
		args = append(args, t.ActorID, t.Comment)
	case AppDiscarded:
		set += `, reviewer_id = coalesce(NULLIF($2::bigint, 0), reviewer_id), finished_at = now()`
		args = append(args, t.ActorID)
	case AppPending:
		set += `, finished_at = NULL`
	}
	if _, err := tx.Exec(ctx, `UPDATE applications SET `+set+` WHERE id = $1`, args...); err != nil {
		return nil, mapErr(op, err)
	}
	if err := insertApplicationEvent(ctx, tx, t.ID, t.From, t.To, t.ActorID, t.Comment); err != nil {
		return nil, mapErr(op, err)
	}
	return s.ApplicationTx(ctx, tx, t.ID)
}

// SetApplicationKeyToken records the SHA-256 of a new SSH-key URL token of
// a submitted application's attempt and until when the URL serves the
// keys, replacing an earlier one. A changed status or attempt gives
// ErrStatusChanged.
func (s *Store) SetApplicationKeyToken(ctx context.Context, id int64, attempt int, hash []byte, until time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE applications SET ssh_key_token_hash = $3, ssh_keys_until = $4, updated_at = now()
		WHERE id = $1 AND status = 'submitted' AND submit_attempt = $2`, id, attempt, hash, until)
	if err != nil {
		return mapErr("set application key token", err)
	}
	if tag.RowsAffected() == 0 {
		return s.statusChangedOrMissing(ctx, id)
	}
	return nil
}

// SetApplicationJob records the Ganeti job creating the VM of a submitted
// application's attempt. A changed status or attempt gives
// ErrStatusChanged.
func (s *Store) SetApplicationJob(ctx context.Context, id int64, attempt int, jobID int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE applications SET job_id = $3, updated_at = now()
		WHERE id = $1 AND status = 'submitted' AND submit_attempt = $2`, id, attempt, jobID)
	if err != nil {
		return mapErr("set application job", err)
	}
	if tag.RowsAffected() == 0 {
		return s.statusChangedOrMissing(ctx, id)
	}
	return nil
}

func (s *Store) statusChangedOrMissing(ctx context.Context, id int64) error {
	if _, err := s.Application(ctx, id); err != nil {
		return err
	}
	return ErrStatusChanged
}

// ApplicationByKeyToken returns the application whose SSH-key URL token
// has the given SHA-256 (whatever its status and expiry: the caller
// decides).
func (s *Store) ApplicationByKeyToken(ctx context.Context, hash []byte) (*Application, error) {
	a, err := scanApplication(s.pool.QueryRow(ctx, applicationSelect+` WHERE a.ssh_key_token_hash = $1`, hash))
	return a, mapErr("application by key token", err)
}

// ApplicationEvent is one entry of an application's history.
type ApplicationEvent struct {
	ID            int64
	ApplicationID int64
	// From is "" for the filing.
	From ApplicationStatus
	To   ApplicationStatus
	// ActorID is 0 for ganetimgr itself (or a deleted account).
	ActorID       int64
	ActorUsername string
	Comment       string
	At            time.Time
}

// ApplicationEvents returns an application's history, oldest first.
func (s *Store) ApplicationEvents(ctx context.Context, id int64) ([]ApplicationEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.id, e.application_id, coalesce(e.from_status, ''), e.to_status,
		coalesce(e.actor_id, 0), coalesce(u.username, ''), e.comment, e.created_at
		FROM application_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.application_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, mapErr("application events", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ApplicationEvent, error) {
		var e ApplicationEvent
		err := r.Scan(&e.ID, &e.ApplicationID, &e.From, &e.To, &e.ActorID, &e.ActorUsername, &e.Comment, &e.At)
		return e, err
	})
	return out, mapErr("application events", err)
}

// HostnameUse says what already uses a hostname.
type HostnameUse struct {
	// ClusterSlug is a cluster with an instance of that name (from the
	// cluster cache), "" when none.
	ClusterSlug string
	// ApplicationID is an open application asking for it, 0 when none.
	ApplicationID int64
}

// InUse reports whether anything uses the hostname.
func (u HostnameUse) InUse() bool { return u.ClusterSlug != "" || u.ApplicationID != 0 }

// HostnameInUse looks a hostname up among the cached instances of every
// cluster and the open applications other than exceptApplication (0 for
// none). The check is advisory for instances (the cache may lag; Ganeti
// refuses a duplicate name itself) and race-safe for applications through
// the unique index behind ApplicationHostnameConstraint.
func (s *Store) HostnameInUse(ctx context.Context, hostname string, exceptApplication int64) (HostnameUse, error) {
	var u HostnameUse
	err := s.pool.QueryRow(ctx, `SELECT
		coalesce((SELECT c.slug FROM cluster_instances i JOIN clusters c ON c.id = i.cluster_id
			WHERE i.name = $1 ORDER BY c.slug LIMIT 1), ''),
		coalesce((SELECT a.id FROM applications a WHERE a.hostname = $1 AND a.id <> $2
			AND a.status IN ('pending', 'approved', 'submitted', 'failed') LIMIT 1), 0)`,
		hostname, exceptApplication).Scan(&u.ClusterSlug, &u.ApplicationID)
	return u, mapErr("hostname in use", err)
}

// ApplicationReviewers returns the active accounts that review
// applications (superusers and holders of change_application, directly or
// through a group), by username.
func (s *Store) ApplicationReviewers(ctx context.Context) ([]*User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.is_active AND (u.is_superuser
		OR EXISTS (SELECT 1 FROM user_permissions p WHERE p.user_id = u.id AND p.permission = 'change_application')
		OR EXISTS (SELECT 1 FROM group_members m JOIN group_permissions p ON p.group_id = m.group_id
			WHERE m.user_id = u.id AND p.permission = 'change_application'))
		ORDER BY lower(u.username)`)
	if err != nil {
		return nil, mapErr("application reviewers", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*User, error) { return scanUser(r) })
	return out, mapErr("application reviewers", err)
}
