package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// DeleteExpiredSessions removes web sessions past their expiry and returns
// how many were removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < now()`)
	if err != nil {
		return 0, mapErr("delete expired sessions", err)
	}
	return tag.RowsAffected(), nil
}

// TouchSession moves the expiry of an existing, unexpired web session (the
// idle-timeout refresh of a session whose data did not change). Unlike a
// full save it never re-creates a session deleted meanwhile (a logout on
// another replica): found is false then.
func (s *Store) TouchSession(ctx context.Context, token string, expiry time.Time) (found bool, err error) {
	tag, err := s.pool.Exec(ctx, `UPDATE sessions SET expiry = $2 WHERE token = $1 AND expiry > now()`, token, expiry)
	if err != nil {
		return false, mapErr("touch session", err)
	}
	return tag.RowsAffected() > 0, nil
}

// SessionByToken returns an unexpired web session's data and its expiry;
// found is false for a missing or expired one.
func (s *Store) SessionByToken(ctx context.Context, token string) (data []byte, expiry time.Time, found bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT data, expiry FROM sessions WHERE token = $1 AND expiry > now()`, token).
		Scan(&data, &expiry)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, mapErr("session by token", err)
	}
	return data, expiry, true, nil
}
