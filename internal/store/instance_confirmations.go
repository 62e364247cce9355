package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// InstanceConfirmation is a reinstall, rename or destroy waiting for its
// owner to open the single-use link mailed to them (table
// instance_confirmations). Only the SHA-256 of the link's token is
// stored.
type InstanceConfirmation struct {
	ID          int64
	UserID      int64
	Username    string // filled by the queries (join), read only
	ClusterID   int64
	ClusterSlug string // filled by the queries (join), read only
	Instance    string
	// Kind is "reinstall", "rename" or "destroy".
	Kind string
	// Value is the action's argument: the OS image of a reinstall ("" keeps
	// the current one), the new name of a rename, "" for a destroy.
	Value     string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when the link was used, nil while it was not.
	UsedAt *time.Time
}

// Usable reports whether the link may still be used at now: not used and
// not expired.
func (c *InstanceConfirmation) Usable(now time.Time) bool {
	return c.UsedAt == nil && now.Before(c.ExpiresAt)
}

// NewInstanceConfirmation is a confirmation to store.
type NewInstanceConfirmation struct {
	// TokenHash is the SHA-256 of the token (32 bytes).
	TokenHash []byte
	UserID    int64
	ClusterID int64
	Instance  string
	Kind      string
	Value     string
	ExpiresAt time.Time
}

const instanceConfirmationSelect = `SELECT ic.id, ic.user_id, u.username, ic.cluster_id, c.slug, ic.instance,
	ic.kind, ic.value, ic.created_at, ic.expires_at, ic.used_at
	FROM instance_confirmations ic JOIN users u ON u.id = ic.user_id JOIN clusters c ON c.id = ic.cluster_id`

func scanInstanceConfirmation(row pgx.Row) (*InstanceConfirmation, error) {
	c := &InstanceConfirmation{}
	err := row.Scan(&c.ID, &c.UserID, &c.Username, &c.ClusterID, &c.ClusterSlug, &c.Instance, &c.Kind, &c.Value,
		&c.CreatedAt, &c.ExpiresAt, &c.UsedAt)
	return c, err
}

// CreateInstanceConfirmation stores a confirmation and runs then (the
// mail with the link, the audit entry) in the same transaction, so the
// link exists exactly when its mail is queued. The user's earlier usable
// links for the same instance and kind stop working (marked used): only
// the newest one does. A token hash that exists already gives
// ErrConflict; an unknown user or cluster ErrNotFound.
func (s *Store) CreateInstanceConfirmation(ctx context.Context, n NewInstanceConfirmation, then ...TxFunc) (*InstanceConfirmation, error) {
	var out *InstanceConfirmation
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE instance_confirmations SET used_at = now()
			WHERE user_id = $1 AND cluster_id = $2 AND instance = $3 AND kind = $4
			AND used_at IS NULL AND expires_at > now()`, n.UserID, n.ClusterID, n.Instance, n.Kind); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO instance_confirmations
			(token_hash, user_id, cluster_id, instance, kind, value, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			n.TokenHash, n.UserID, n.ClusterID, n.Instance, n.Kind, n.Value, n.ExpiresAt).Scan(&id)
		if err != nil {
			return err
		}
		if err := runTx(ctx, tx, then); err != nil {
			return err
		}
		out, err = scanInstanceConfirmation(tx.QueryRow(ctx, instanceConfirmationSelect+` WHERE ic.id = $1`, id))
		return err
	})
	if err != nil {
		return nil, mapErr("create instance confirmation", err)
	}
	return out, nil
}

// InstanceConfirmationByHash returns the confirmation whose token has the
// given SHA-256, used or expired alike (the caller decides).
func (s *Store) InstanceConfirmationByHash(ctx context.Context, hash []byte) (*InstanceConfirmation, error) {
	c, err := scanInstanceConfirmation(s.pool.QueryRow(ctx, instanceConfirmationSelect+` WHERE ic.token_hash = $1`, hash))
	return c, mapErr("instance confirmation", err)
}

// UseInstanceConfirmation marks the confirmation id used at now, if it is
// still usable then (not used, not expired), and returns it. Of two
// concurrent uses one wins; the other, like any unusable link, gets
// ErrNotFound.
func (s *Store) UseInstanceConfirmation(ctx context.Context, id int64, now time.Time) (*InstanceConfirmation, error) {
	c, err := scanInstanceConfirmation(s.pool.QueryRow(ctx, `WITH used AS (
		UPDATE instance_confirmations SET used_at = $2
		WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING *)
		SELECT ic.id, ic.user_id, u.username, ic.cluster_id, c.slug, ic.instance,
		ic.kind, ic.value, ic.created_at, ic.expires_at, ic.used_at
		FROM used ic JOIN users u ON u.id = ic.user_id JOIN clusters c ON c.id = ic.cluster_id`, id, now))
	return c, mapErr("use instance confirmation", err)
}

// ReleaseInstanceConfirmation makes a confirmation that UseInstanceConfirmation
// marked used at usedAt usable again (until it expires): the action it
// carried was refused before anything was done, so the owner may try the
// link again. A confirmation used at another time is left alone.
func (s *Store) ReleaseInstanceConfirmation(ctx context.Context, id int64, usedAt time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE instance_confirmations SET used_at = NULL WHERE id = $1 AND used_at = $2`, id, usedAt)
	return mapErr("release instance confirmation", err)
}

// PurgeInstanceConfirmations deletes the confirmations that expired
// before cutoff (used or not: a used link expires like any other) and
// returns how many.
func (s *Store) PurgeInstanceConfirmations(ctx context.Context, cutoff time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM instance_confirmations WHERE expires_at < $1`, cutoff)
	if err != nil {
		return 0, mapErr("purge instance confirmations", err)
	}
	return int(tag.RowsAffected()), nil
}

// RenewApplicationKeyToken gives the SSH-key URL of a created application
// a new token (its SHA-256) that serves the applicant's keys until until:
// a reinstall of the application's VM delivers the keys again the way
// its creation did. An application that is not created gives
// ErrStatusChanged; an unknown one ErrNotFound.
func (s *Store) RenewApplicationKeyToken(ctx context.Context, id int64, hash []byte, until time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE applications SET ssh_key_token_hash = $2, ssh_keys_until = $3, updated_at = now()
		WHERE id = $1 AND status = 'created'`, id, hash, until)
	if err != nil {
		return mapErr("renew application key token", err)
	}
	if tag.RowsAffected() == 0 {
		return s.statusChangedOrMissing(ctx, id)
	}
	return nil
}
