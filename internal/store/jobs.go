package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Job kinds.
const (
	JobReconcile = "reconcile"
	JobFirstSync = "first_sync"
)

// JobKinds is every kind a job may have. The set is closed: a listing across kinds is
// one bounded query per kind, merged.
var JobKinds = []string{JobReconcile, JobFirstSync}

// Job statuses.
const (
	JobRunning  = "running"
	JobDone     = "done"
	JobFailed   = "failed"
	JobCanceled = "canceled"
)

// Job is one background run over a connection's catalogue (reconciliation, first sync):
// its progress, the cursor it can resume from after a crash, and its report.
type Job struct {
	Tenant       string `json:"tenant"`
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	ConnectionID string `json:"connection_id"`
	Status       string `json:"status"`
	DryRun       bool   `json:"dry_run,omitempty"`
	// Done and Total are the progress (Total 0 when unknown yet).
	Done  int `json:"done"`
	Total int `json:"total"`
	// Cursor is where a resumed run continues ("" = from the start).
	Cursor string `json:"cursor,omitempty"`
	// Report is the kind's report so far (JSON), complete when Status is done.
	Report     json.RawMessage `json:"report,omitempty"`
	Error      string          `json:"error,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	// Rev guards optimistic writes like an order's: PutJob with ExpectedRev.
	Rev int64 `json:"rev"`
}

// JobStore keeps background jobs (embedded in Store). A finished job is history: it
// expires after the store's retention (see JobExpiry); a running one never does.
type JobStore interface {
	// PutJob writes j if the stored Rev equals expectedRev (0: must not exist); else
	// ErrConflict. j.Rev must be expectedRev+1. Kind, ConnectionID and StartedAt are fixed
	// at creation (they place the job in its listing): an update that changes one is
	// ErrConflict too.
	PutJob(ctx context.Context, j Job, expectedRev int64) error
	GetJob(ctx context.Context, tenant, id string) (Job, error)
	// ListJobs returns a tenant's jobs, newest StartedAt first (ties by ID, descending),
	// of one kind and/or connection when those are not "", at most limit. Its cost
	// follows limit, not how many jobs are stored: with a connection it reads at most
	// limit rows per kind, strongly consistent; without one (the operator's listing) it
	// may be eventually consistent on backends with secondary indexes.
	ListJobs(ctx context.Context, tenant, kind, connectionID string, limit int) ([]Job, error)
}

// ValidateJobWrite checks the shape every backend requires of a job write.
func ValidateJobWrite(j Job, expectedRev int64) error {
	switch {
	case j.Tenant == "" || j.ID == "" || j.Kind == "":
		return errors.New("job write: tenant, id and kind are required")
	case !slices.Contains(JobKinds, j.Kind):
		return fmt.Errorf("job %s: kind %q is not one of %v", j.ID, j.Kind, JobKinds)
	case j.Rev != expectedRev+1:
		return fmt.Errorf("job %s: rev %d must be expected rev %d + 1", j.ID, j.Rev, expectedRev)
	}
	return nil
}

// NewestJobFirst orders jobs as ListJobs returns them: StartedAt descending, then ID
// descending. Backends that merge per-kind listings sort with it.
func NewestJobFirst(a, b Job) int {
	if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}
