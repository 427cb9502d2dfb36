package catalog

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// ErrRunning means a first sync of the connection is already running (or waiting for a
// worker): runs never overlap.
var ErrRunning = errors.New("a first sync of this connection is already running")

// errTakenOver: another worker wrote the job mid-run (it took this run for crashed); this
// run stops and leaves the job to that one.
var errTakenOver = errors.New("the job was taken over by another run")

// errExhausted: the job was worked MaxRuns times without finishing; it ends as failed.
var errExhausted = errors.New("too many attempts")

// DefaultStaleAfter is how long a running job may go without progress before it is taken
// for crashed and resumed. It must exceed the time one catalogue page takes.
const DefaultStaleAfter = 2 * time.Minute

// MaxRuns bounds how many Runs may work on one job: a job whose pages keep failing ends
// as failed instead of being resumed for ever.
const MaxRuns = 5

// raceWindow is how many of a connection's newest jobs a new job looks through for a
// rival created at the same moment.
const raceWindow = 5

func (s *Service) staleAfter() time.Duration {
	if s.StaleAfter > 0 {
		return s.StaleAfter
	}
	return DefaultStaleAfter
}

// newJobID is time-sortable: "fs_" + UTC start time + a random suffix.
func newJobID(now time.Time) string {
	return "fs_" + now.UTC().Format("20060102T150405.000000000Z") + "_" + strings.ToLower(rand.Text()[:6])
}

// create stores a new pending job. Two Starts at the same moment can both get here; each
// then looks for the other, and one that sees a rival steps back.
func (s *Service) create(ctx context.Context, tenant, connectionID, platformName string) (store.Job, error) {
	now := s.now()
	j := store.Job{Tenant: tenant, ID: newJobID(now), Kind: store.JobFirstSync, ConnectionID: connectionID,
		Status: store.JobRunning, StartedAt: now, UpdatedAt: now}
	rep := Report{ConnectionID: connectionID, Platform: platformName, Pending: true, UpdatedAt: now}
	if err := s.putReport(ctx, &j, &rep); err != nil {
		return store.Job{}, fmt.Errorf("create first sync job of %s: %w", connectionID, err)
	}
	recent, err := s.Store.ListJobs(ctx, tenant, store.JobFirstSync, connectionID, raceWindow)
	if err != nil {
		return store.Job{}, fmt.Errorf("list first sync jobs of %s: %w", connectionID, err)
	}
	for _, o := range recent {
		if o.ID == j.ID || o.Status != store.JobRunning || now.Sub(o.UpdatedAt) > s.staleAfter() {
			continue
		}
		j.Status, j.Error, j.FinishedAt = store.JobCanceled, "another first sync started at the same time: "+o.ID, &now
		if err := s.put(ctx, &j); err != nil {
			return store.Job{}, fmt.Errorf("cancel job %s: %w", j.ID, err)
		}
		return store.Job{}, fmt.Errorf("first sync of %s: job %s started at the same time: %w", connectionID, o.ID, ErrRunning)
	}
	return j, nil
}

// requeue marks a stale job as waiting for a worker again (Start on a crashed run).
func (s *Service) requeue(ctx context.Context, j store.Job) (store.Job, error) {
	rep, err := ParseReport(j)
	if err != nil {
		return store.Job{}, err
	}
	rep.Pending, rep.UpdatedAt = true, s.now()
	j.UpdatedAt = rep.UpdatedAt
	if err := s.putReport(ctx, &j, &rep); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Job{}, fmt.Errorf("first sync of %s: job %s was resumed meanwhile: %w", j.ConnectionID, j.ID, ErrRunning)
		}
		return store.Job{}, fmt.Errorf("requeue job %s: %w", j.ID, err)
	}
	return j, nil
}

// claim makes this Run the job's worker. Of two workers claiming the same revision, the
// optimistic write lets one win; the other gets ErrRunning.
func (s *Service) claim(ctx context.Context, j *store.Job, rep *Report) error {
	if j.Status != store.JobRunning || j.Kind != store.JobFirstSync {
		return fmt.Errorf("job %s is a %s job that is %s, not a running first sync", j.ID, j.Kind, j.Status)
	}
	r, err := ParseReport(*j)
	if err != nil {
		return err
	}
	*rep = r
	if rep.Runs >= MaxRuns {
		return fmt.Errorf("first sync %s: tried %d times (last error: %s): %w", j.ID, rep.Runs, rep.LastError, errExhausted)
	}
	rep.Pending, rep.LastError = false, ""
	rep.Runs++
	rep.UpdatedAt = s.now()
	j.UpdatedAt = rep.UpdatedAt
	if err := s.putReport(ctx, j, rep); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("first sync %s was claimed by another worker: %w", j.ID, ErrRunning)
		}
		return fmt.Errorf("claim job %s: %w", j.ID, err)
	}
	return nil
}

// progress stores the report so far and where the next page starts.
func (s *Service) progress(ctx context.Context, j *store.Job, rep *Report, next string) error {
	rep.UpdatedAt = s.now()
	j.Done, j.Total, j.Cursor, j.UpdatedAt = done(rep), done(rep), next, rep.UpdatedAt
	if err := s.putReport(ctx, j, rep); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("save progress of job %s: %w", j.ID, errTakenOver)
		}
		return fmt.Errorf("save progress of job %s: %w", j.ID, err)
	}
	return nil
}

// done counts the items handled: catalogue items, then customers.
func done(rep *Report) int {
	n := rep.Products.Checked
	if rep.Customers != nil {
		n += rep.Customers.Checked
	}
	return n
}

// finish stores the outcome. A run stopped by its ctx (a crash seen from inside) or taken
// over stays as it is; one stopped by a failing page stays running with the error noted,
// so RunPending resumes it from its cursor once stale (until MaxRuns). fatal errors (the
// connection cannot sync at all) end the job as failed.
func (s *Service) finish(ctx context.Context, j *store.Job, rep *Report, runErr error, fatal bool) error {
	if runErr != nil && (ctx.Err() != nil || errors.Is(runErr, errTakenOver)) {
		return nil
	}
	now := s.now()
	rep.UpdatedAt = now
	j.UpdatedAt = now
	switch {
	case runErr == nil:
		j.Status, j.Error, j.FinishedAt, j.Cursor = store.JobDone, "", &now, ""
		j.Done, j.Total = done(rep), done(rep)
	case fatal || rep.Runs >= MaxRuns:
		rep.LastError = runErr.Error()
		j.Status, j.Error, j.FinishedAt = store.JobFailed, runErr.Error(), &now
	default:
		rep.LastError = runErr.Error()
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
