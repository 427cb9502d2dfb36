package dynamodb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ponte-hub/ponte/internal/store"
)

const (
	skJob    = "JOB#"
	attrKind = "kind"
)

func jobsPK(tenant string) string { return "T#" + esc(tenant) + "#JOBS" }
func jobSK(id string) string      { return skJob + esc(id) }

// GetJob reads one job strongly consistently.
func (s *Store) GetJob(ctx context.Context, tenant, id string) (store.Job, error) {
	var j store.Job
	if _, err := s.getItem(ctx, jobsPK(tenant), jobSK(id), &j); err != nil {
		return store.Job{}, fmt.Errorf("get job %s/%s: %w", tenant, id, err)
	}
	return j, nil
}

// PutJob is one conditional PutItem on rev. Kind and connection are top-level
// attributes so ListJobs can filter on them server-side.
func (s *Store) PutJob(ctx context.Context, j store.Job, expectedRev int64) error {
	if err := store.ValidateJobWrite(j, expectedRev); err != nil {
		return err
	}
	it, err := newItem(jobsPK(j.Tenant), jobSK(j.ID), j.Rev, j)
	if err != nil {
		return fmt.Errorf("put job %s/%s: %w", j.Tenant, j.ID, err)
	}
	extra := map[string]types.AttributeValue{
		attrKind: &types.AttributeValueMemberS{Value: j.Kind},
		attrConn: &types.AttributeValueMemberS{Value: j.ConnectionID},
	}
	cond := expression.AttributeNotExists(expression.Name("pk"))
	if expectedRev != 0 {
		cond = expression.Name("rev").Equal(expression.Value(expectedRev))
	}
	err = s.putRowIf(ctx, it, extra, cond)
	if isConditionFailed(err) {
		return fmt.Errorf("job %s/%s at rev %d: %w", j.Tenant, j.ID, expectedRev, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put job %s/%s: %w", j.Tenant, j.ID, err)
	}
	return nil
}

// ListJobs queries the tenant's job partition (strongly consistent), filtered by kind
// and connection, and sorts in Go: a tenant keeps few jobs, and sorting by start time in
// the key would need a second GSI or a key that changes with every resume.
func (s *Store) ListJobs(ctx context.Context, tenant, kind, connectionID string, limit int) ([]store.Job, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list jobs of %s: limit %d must be positive", tenant, limit)
	}
	rows, err := s.queryRows(ctx, expression.Key("pk").Equal(expression.Value(jobsPK(tenant))), attrKind, kind, attrConn, connectionID)
	if err != nil {
		return nil, fmt.Errorf("list jobs of %s: %w", tenant, err)
	}
	jobs := make([]store.Job, 0, len(rows))
	for _, av := range rows {
		var j store.Job
		if _, err := decode(av, &j); err != nil {
			return nil, fmt.Errorf("list jobs of %s: %w", tenant, err)
		}
		jobs = append(jobs, j)
	}
	// Newest first; equal start times fall back to id, descending, as the SQLite store does.
	slices.SortFunc(jobs, func(a, b store.Job) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return jobs[:min(limit, len(jobs))], nil
}
