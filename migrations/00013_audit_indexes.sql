-- +goose Up
-- The history page's filters (internal/store/audit_query.go): each starts
-- from an index in the log's order (newest first), so a page of a filter
-- matching few entries (a user, a small cluster, a rare action, the refused
-- attempts) reads only those entries instead of walking the whole log.
-- The time, own-entries and instance filters use the indexes of 00009.
CREATE INDEX audit_log_username_idx ON audit_log (lower(username), at DESC, id DESC);
CREATE INDEX audit_log_cluster_idx ON audit_log (cluster_slug, at DESC, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, at DESC, id DESC);
-- Outcomes other than ok are few; the query names them as literals, which
-- the planner matches to this predicate.
CREATE INDEX audit_log_outcome_idx ON audit_log (outcome, at DESC, id DESC) WHERE outcome <> 'ok';

-- +goose Down
DROP INDEX audit_log_outcome_idx;
DROP INDEX audit_log_action_idx;
DROP INDEX audit_log_cluster_idx;
DROP INDEX audit_log_username_idx;
