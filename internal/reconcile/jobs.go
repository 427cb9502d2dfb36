package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// ErrRunning means another run of the connection is in progress: runs never overlap.
var ErrRunning = errors.New("a reconciliation of this connection is already running")

// errTakenOver: the job was written by someone else mid-run (another run took it for
// crashed and resumed it); this run must stop and leave the job to that one.
var errTakenOver = errors.New("the job was taken over by another run")

// DefaultStaleAfter is how long a running job may go without progress before it is taken
// for crashed and resumed. It must exceed the time one catalogue page takes.
const DefaultStaleAfter = 2 * time.Minute

// raceWindow is how many of a connection's newest jobs a fresh job looks through for a
// rival started at the same moment.
const raceWindow = 5

func (s *Service) staleAfter() time.Duration {
	if s.StaleAfter > 0 {
		return s.StaleAfter
	}
	return DefaultStaleAfter
}

// newJobID is time-sortable: "rec_" + UTC start time + a random suffix.
func newJobID(now time.Time) string {
	return "rec_" + now.UTC().Format("20060102T150405.000000000Z") + "_" + strings.ToLower(rand.Text()[:6])
}

// begin claims the connection's run: it resumes a crashed job of the same mode (dry or
// not) or creates a new one. A job still making progress means ErrRunning.
func (s *Service) begin(ctx context.Context, conn domain.Connection, rep *Report) (*store.Job, error) {
	now := s.now()
	newest, err := s.Store.ListJobs(ctx, conn.Tenant, store.JobReconcile, conn.ID, 1)
	if err != nil {
		return nil, fmt.Errorf("list reconcile jobs of %s: %w", conn.ID, err)
	}
	if len(newest) == 1 && newest[0].Status == store.JobRunning {
		j := newest[0]
		if age := now.Sub(j.UpdatedAt); age <= s.staleAfter() {
			return nil, fmt.Errorf("reconcile %s: job %s made progress %s ago: %w", conn.ID, j.ID, age.Round(time.Second), ErrRunning)
		}
		if j.DryRun == s.DryRun {
			return s.resume(ctx, j, rep, now)
		}
		// A crashed run of the other mode: close it, so it neither blocks nor is resumed as this one.
		j.Status, j.Error, j.FinishedAt = store.JobFailed, "interrupted; not resumed by a run of the other mode", &now
		j.UpdatedAt = now
		if err := s.put(ctx, &j); err != nil {
			return nil, fmt.Errorf("close crashed job %s: %w", j.ID, err)
		}
	}
	return s.create(ctx, conn, rep, now)
}

// resume continues a crashed job from its cursor with its counts; of two runs resuming
// the same job, the optimistic write lets one win.
func (s *Service) resume(ctx context.Context, j store.Job, rep *Report, now time.Time) (*store.Job, error) {
	if len(j.Report) > 0 {
		if err := json.Unmarshal(j.Report, rep); err != nil {
			return nil, fmt.Errorf("resume job %s: decode report: %w", j.ID, err)
		}
	}
	rep.Job, rep.StartedAt, rep.Error = j.ID, j.StartedAt, ""
	rep.Resumed++
	s.log().Info("reconcile resumes a crashed run", "connection", j.ConnectionID, "job", j.ID,
		"cursor", j.Cursor, "checked", rep.Checked, "idle", now.Sub(j.UpdatedAt).Round(time.Second))
	j.UpdatedAt = now
	if err := s.putReport(ctx, &j, rep); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("reconcile %s: job %s was resumed by another run: %w", j.ConnectionID, j.ID, ErrRunning)
		}
		return nil, fmt.Errorf("resume job %s: %w", j.ID, err)
	}
	return &j, nil
}

// create stores a new running job. Two runs starting together can both get here; each
// then looks for the other, and one that sees a rival steps back (at worst both do, and
// the next tick runs).
func (s *Service) create(ctx context.Context, conn domain.Connection, rep *Report, now time.Time) (*store.Job, error) {
	j := store.Job{Tenant: conn.Tenant, ID: newJobID(now), Kind: store.JobReconcile, ConnectionID: conn.ID,
		Status: store.JobRunning, DryRun: s.DryRun, StartedAt: now, UpdatedAt: now}
	rep.Job, rep.StartedAt = j.ID, now
	if err := s.putReport(ctx, &j, rep); err != nil {
		return nil, fmt.Errorf("create reconcile job of %s: %w", conn.ID, err)
	}
	recent, err := s.Store.ListJobs(ctx, conn.Tenant, store.JobReconcile, conn.ID, raceWindow)
	if err != nil {
		return nil, fmt.Errorf("list reconcile jobs of %s: %w", conn.ID, err)
	}
	for _, o := range recent {
		if o.ID == j.ID || o.Status != store.JobRunning || now.Sub(o.UpdatedAt) > s.staleAfter() {
			continue
		}
		j.Status, j.Error, j.FinishedAt = store.JobCanceled, "another run started at the same time: "+o.ID, &now
		if err := s.put(ctx, &j); err != nil {
			return nil, fmt.Errorf("cancel job %s: %w", j.ID, err)
		}
		return nil, fmt.Errorf("reconcile %s: job %s started at the same time: %w", conn.ID, o.ID, ErrRunning)
	}
	return &j, nil
}

// progress stores the report so far and the cursor of the next page after a page.
func (s *Service) progress(ctx context.Context, j *store.Job, rep *Report, next string) error {
	j.Done, j.Cursor, j.UpdatedAt = rep.Checked, next, s.now()
	if err := s.putReport(ctx, j, rep); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("save progress of job %s: %w", j.ID, errTakenOver)
		}
		return fmt.Errorf("save progress of job %s: %w", j.ID, err)
	}
	return nil
}

// finish stores the outcome. An interrupted run (ctx ended: a crash seen from inside)
// or one taken over stays as it is, running at its last page, for a later run to resume.
func (s *Service) finish(ctx context.Context, j *store.Job, rep *Report, runErr error) error {
	if runErr != nil && (ctx.Err() != nil || errors.Is(runErr, errTakenOver)) {
		return nil
	}
	now := rep.FinishedAt
	j.Status, j.Error, j.Done, j.UpdatedAt, j.FinishedAt = store.JobDone, "", rep.Checked, now, &now
	if runErr != nil {
		j.Status, j.Error = store.JobFailed, runErr.Error()
	} else {
		j.Cursor = ""
	}
	if err := s.putReport(ctx, j, rep); err != nil {
		return fmt.Errorf("finish job %s: %w", j.ID, err)
	}
	return nil
}

func (s *Service) putReport(ctx context.Context, j *store.Job, rep *Report) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	j.Report = b
	return s.put(ctx, j)
}

// put writes j as the next revision; j.Rev moves only when the write landed.
func (s *Service) put(ctx context.Context, j *store.Job) error {
	next := *j
	next.Rev++
	if err := s.Store.PutJob(ctx, next, j.Rev); err != nil {
		return err
	}
	*j = next
	return nil
}

// Reports returns a connection's newest reconciliation jobs, each with its report
// (limit <= 0 means 10; at most 100).
func (s *Service) Reports(ctx context.Context, tenant, connectionID string, limit int) ([]store.Job, error) {
	if limit <= 0 {
		limit = 10
	}
	jobs, err := s.Store.ListJobs(ctx, tenant, store.JobReconcile, connectionID, min(limit, 100))
	if err != nil {
		return nil, fmt.Errorf("reconcile reports of %s: %w", connectionID, err)
	}
	return jobs, nil
}
