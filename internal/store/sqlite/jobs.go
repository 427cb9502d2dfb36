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
	expires := expiryNanos(store.JobExpiry(j, s.retention()))
	var res sql.Result
	if expectedRev == 0 {
		res, err = s.execW(ctx, `INSERT INTO jobs (tenant, id, rev, kind, connection_id, started_at_ns, expires_at_ns, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING`,
			j.Tenant, j.ID, j.Rev, j.Kind, j.ConnectionID, j.StartedAt.UnixNano(), expires, string(data))
	} else {
		// Kind, connection and start are fixed at creation (as on DynamoDB, where they
		// are the job's key): an update changing one matches no row.
		res, err = s.execW(ctx, `UPDATE jobs SET rev = ?, expires_at_ns = ?, data = ?
			WHERE tenant = ? AND id = ? AND rev = ? AND kind = ? AND connection_id = ? AND started_at_ns = ?`,
			j.Rev, expires, string(data), j.Tenant, j.ID, expectedRev, j.Kind, j.ConnectionID, j.StartedAt.UnixNano())
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

// ListJobs returns a tenant's jobs newest first, filtered by kind and connection when
// set. Each combination walks the index that starts with its filters and is sorted by
// start, so the query stops after limit rows (jobs_query_test.go checks the plans).
func (s *Store) ListJobs(ctx context.Context, tenant, kind, connectionID string, limit int) ([]store.Job, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list jobs of %s: limit %d must be positive", tenant, limit)
	}
	query, args := listJobsQuery(tenant, kind, connectionID, limit)
	rows, err := s.queryR(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs of %s: %w", tenant, err)
	}
	jobs, err := scanJSON[store.Job](rows)
	if err != nil {
		return nil, fmt.Errorf("list jobs of %s: %w", tenant, err)
	}
	return jobs, nil
}

// listJobsQuery is ListJobs' statement. INDEXED BY makes SQLite fail the statement
// rather than fall back to reading the tenant's every job.
func listJobsQuery(tenant, kind, connectionID string, limit int) (string, []any) {
	index := "jobs_started"
	where := []string{"tenant = ?"}
	args := []any{tenant}
	if connectionID != "" {
		index = "jobs_connection"
		where = append(where, "connection_id = ?")
		args = append(args, connectionID)
	}
	if kind != "" {
		index = map[bool]string{true: "jobs_connection_kind", false: "jobs_kind"}[connectionID != ""]
		where = append(where, "kind = ?")
		args = append(args, kind)
	}
	args = append(args, limit)
	return `SELECT data FROM jobs INDEXED BY ` + index + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY started_at_ns DESC, id DESC LIMIT ?`, args
}
