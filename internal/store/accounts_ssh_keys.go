package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MaxSSHKeysPerUser bounds how many SSH keys one account keeps.
const MaxSSHKeysPerUser = 100

// ErrTooManySSHKeys is returned when adding keys would give an account more
// than MaxSSHKeysPerUser. It matches ErrConflict.
var ErrTooManySSHKeys = fmt.Errorf("%w: too many SSH keys", ErrConflict)

// NewSSHKey is a validated SSH public key to store. It has the fields of
// sshkeys.Key, in the same order, so one converts to the other.
type NewSSHKey struct {
	Type        string // key type, e.g. "ssh-ed25519"
	Bits        int    // key size in bits
	Fingerprint string // "SHA256:" and the unpadded base64 of the key's SHA-256
	Comment     string
	Line        string // canonical authorized_keys line, no newline
}

// SSHKey is a stored SSH public key of an account.
type SSHKey struct {
	ID          int64
	UserID      int64
	Type        string
	Bits        int
	Fingerprint string
	Comment     string
	Line        string
	CreatedAt   time.Time
}

const sshKeyColumns = `id, user_id, key_type, bits, fingerprint, comment, key_line, created_at`

func scanSSHKey(row pgx.Row) (SSHKey, error) {
	var k SSHKey
	err := row.Scan(&k.ID, &k.UserID, &k.Type, &k.Bits, &k.Fingerprint, &k.Comment, &k.Line, &k.CreatedAt)
	return k, err
}

// AddSSHKeys stores keys for the account in one transaction. Keys whose
// fingerprint the account already has, or that repeat an earlier key of the
// same call, are skipped and returned in skipped; the others are returned
// as stored. More than MaxSSHKeysPerUser keys in all gives
// ErrTooManySSHKeys and stores nothing; an unknown account ErrNotFound.
func (s *Store) AddSSHKeys(ctx context.Context, userID int64, keys []NewSSHKey) (added []SSHKey, skipped []NewSSHKey, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		added, skipped = nil, nil
		// Lock the account so concurrent additions count each other.
		if err := lockRow(ctx, tx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return err
		}
		for _, k := range keys {
			row, err := scanSSHKey(tx.QueryRow(ctx, `INSERT INTO ssh_keys (user_id, key_type, bits, fingerprint, comment, key_line)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, fingerprint) DO NOTHING RETURNING `+sshKeyColumns,
				userID, k.Type, k.Bits, k.Fingerprint, k.Comment, k.Line))
			if errors.Is(err, pgx.ErrNoRows) {
				skipped = append(skipped, k)
				continue
			}
			if err != nil {
				return err
			}
			added = append(added, row)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM ssh_keys WHERE user_id = $1`, userID).Scan(&n); err != nil {
			return err
		}
		if n > MaxSSHKeysPerUser {
			return ErrTooManySSHKeys
		}
		return nil
	})
	if err != nil {
		return nil, nil, accountsErr("add ssh keys", err)
	}
	return added, skipped, nil
}

// SSHKeys returns the account's SSH keys, oldest first.
func (s *Store) SSHKeys(ctx context.Context, userID int64) ([]SSHKey, error) {
	return s.sshKeyList(ctx, "ssh keys", `SELECT `+sshKeyColumns+` FROM ssh_keys WHERE user_id = $1 ORDER BY created_at, id`, userID)
}

// SSHKeysOfUsers returns the SSH keys of several accounts (the owners of a
// new instance), ordered by account and age, each distinct key once per
// account.
func (s *Store) SSHKeysOfUsers(ctx context.Context, userIDs []int64) ([]SSHKey, error) {
	return s.sshKeyList(ctx, "ssh keys of users", `SELECT `+sshKeyColumns+` FROM ssh_keys
		WHERE user_id = ANY($1) ORDER BY user_id, created_at, id`, nonNil(userIDs))
}

func (s *Store) sshKeyList(ctx context.Context, op, sql string, arg any) ([]SSHKey, error) {
	rows, err := s.pool.Query(ctx, sql, arg)
	if err != nil {
		return nil, mapErr(op, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SSHKey, error) { return scanSSHKey(r) })
	return out, mapErr(op, err)
}

// DeleteSSHKey deletes the key keyID of the account userID. A key that does
// not exist or belongs to another account gives ErrNotFound.
func (s *Store) DeleteSSHKey(ctx context.Context, userID, keyID int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM ssh_keys WHERE id = $1 AND user_id = $2`, keyID, userID)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return mapErr("delete ssh key", err)
}
