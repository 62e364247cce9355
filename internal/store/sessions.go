package store

import "context"

// DeleteExpiredSessions removes web sessions past their expiry and returns
// how many were removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < now()`)
	if err != nil {
		return 0, mapErr("delete expired sessions", err)
	}
	return tag.RowsAffected(), nil
}
