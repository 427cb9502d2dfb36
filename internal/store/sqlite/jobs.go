package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ponte-hub/ponte/internal/store"
)

// GetJob reads one of a tenant's jobs.
func (s *Store) GetJob(ctx context.Context, tenant, id string) (store.Job, error) {
	var j store.Job
	if err := s.getJSON(ctx, &j, `SELECT data FROM jobs WHERE tenant = ? AND id = ?`, tenant, id); err != nil {
		return store.Job{}, fmt.Errorf("get job %s/%s: %w", tenant, id, err)
	}
	return j, nil
}

// PutJob is an insert when expectedRev is 0, else an update conditional on the stored rev;
// no row touched means someone else wrote first.
func (s *Store) PutJob(ctx context.Context, j store.Job, expectedRev int64) error {
	if err := store.ValidateJobWrite(j, expectedRev); err != nil {
		return err
	}
	data, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("put job %s/%s: encode: %w", j.Tenant, j.ID, err)
	}
	var res sql.Result
	if expectedRev == 0 {
		res, err = s.execW(ctx, `INSERT INTO jobs (tenant, id, rev, kind, connection_id, started_at_ns, data)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING`,
			j.Tenant, j.ID, j.Rev, j.Kind, j.ConnectionID, j.StartedAt.UnixNano(), string(data))
	} else {
		res, err = s.execW(ctx, `UPDATE jobs SET rev = ?, kind = ?, connection_id = ?, started_at_ns = ?, data = ?
			WHERE tenant = ? AND id = ? AND rev = ?`,
			j.Rev, j.Kind, j.ConnectionID, j.StartedAt.UnixNano(), string(data), j.Tenant, j.ID, expectedRev)
	}
	if err != nil {
		return fmt.Errorf("put job %s/%s: %w", j.Tenant, j.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("put job %s/%s: %w", j.Tenant, j.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("put job %s/%s at rev %d: %w", j.Tenant, j.ID, expectedRev, store.ErrConflict)
	}
	return nil
}

// ListJobs returns a tenant's jobs newest first, filtered by kind and connection when set.
func (s *Store) ListJobs(ctx context.Context, tenant, kind, connectionID string, limit int) ([]store.Job, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list jobs of %s: limit %d must be positive", tenant, limit)
	}
	where := []string{"tenant = ?"}
	args := []any{tenant}
	if kind != "" {
		where = append(where, "kind = ?")
		args = append(args, kind)
	}
	if connectionID != "" {
		where = append(where, "connection_id = ?")
		args = append(args, connectionID)
	}
	args = append(args, limit)
	rows, err := s.queryR(ctx, `SELECT data FROM jobs WHERE `+strings.Join(where, " AND ")+
		` ORDER BY started_at_ns DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs of %s: %w", tenant, err)
	}
	jobs, err := scanJSON[store.Job](rows)
	if err != nil {
		return nil, fmt.Errorf("list jobs of %s: %w", tenant, err)
	}
	return jobs, nil
}
