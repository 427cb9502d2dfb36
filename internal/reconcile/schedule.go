package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// SettingInterval is the connection setting holding how often it is reconciled: a Go
// duration ("15m", "1h"); "0" or "off" disables scheduled runs (on-demand ones still work).
const SettingInterval = "reconcile_interval"

// DefaultInterval applies when a connection sets no interval (or an unreadable one).
const DefaultInterval = 15 * time.Minute

// dueLookback is how many of a connection's newest jobs Due reads to find its last real
// (not dry) run; a connection with only dry runs among them counts as never reconciled.
const dueLookback = 10

// Interval reads a connection's reconcile interval; 0 means disabled.
func Interval(conn domain.Connection) (time.Duration, error) {
	v := strings.TrimSpace(conn.Setting(SettingInterval, ""))
	switch strings.ToLower(v) {
	case "":
		return DefaultInterval, nil
	case "0", "off":
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return DefaultInterval, fmt.Errorf("connection %s: %s %q: %w", conn.ID, SettingInterval, v, err)
	}
	if d < 0 {
		return DefaultInterval, fmt.Errorf("connection %s: %s %q is negative", conn.ID, SettingInterval, v)
	}
	return d, nil
}

// slack lets a run count as due slightly early: a scheduler ticking on the interval
// itself finds the last run started a little after the previous tick, and without it
// every other tick would be skipped.
func slack(every time.Duration) time.Duration {
	return min(time.Minute, every/10)
}

// Due returns the enabled connections whose last real run started at least their
// interval ago (or that never ran), plus those whose run crashed and waits to be resumed.
// A tenant or connection that cannot be read is skipped and its error joined into the
// returned one, with the connections that could be read.
func (s *Service) Due(ctx context.Context, now time.Time) ([]domain.Connection, error) {
	conns, err := store.EnabledConnections(ctx, s.Store)
	if conns == nil {
		return nil, err
	}
	due := []domain.Connection{}
	errs := []error{err}
	for _, c := range conns {
		ok, err := s.isDue(ctx, c, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			due = append(due, c)
		}
	}
	return due, errors.Join(errs...)
}

func (s *Service) isDue(ctx context.Context, c domain.Connection, now time.Time) (bool, error) {
	every, err := Interval(c)
	if err != nil {
		// A typo must not silently stop reconciliation: warn and use the default.
		s.log().Warn("reconcile interval unreadable, using the default", "connection", c.ID, "default", DefaultInterval, "err", err)
	}
	if every == 0 {
		return false, nil
	}
	jobs, err := s.Store.ListJobs(ctx, c.Tenant, store.JobReconcile, c.ID, dueLookback)
	if err != nil {
		return false, fmt.Errorf("list reconcile jobs of %s: %w", c.ID, err)
	}
	if len(jobs) > 0 && jobs[0].Status == store.JobRunning && !jobs[0].DryRun && now.Sub(jobs[0].UpdatedAt) > s.staleAfter() {
		return true, nil // crashed: resume it now rather than an interval later
	}
	for _, j := range jobs {
		if !j.DryRun { // a dry run corrects nothing
			return now.Sub(j.StartedAt) >= every-slack(every), nil
		}
	}
	return true, nil
}

// RunDue runs every due connection, one after the other (see Due). A connection whose run
// is still in progress is skipped; one that fails does not stop the others, and the joined
// errors are returned with the reports. Only an unreadable tenant list returns no reports.
func (s *Service) RunDue(ctx context.Context) ([]Report, error) {
	conns, err := s.Due(ctx, s.now())
	if conns == nil {
		return nil, err
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	reports := []Report{}
	for _, c := range conns {
		if err := ctx.Err(); err != nil {
			return reports, errors.Join(append(errs, err)...)
		}
		rep, err := s.Run(ctx, c.ID)
		if errors.Is(err, ErrRunning) {
			s.log().Info("reconcile skipped: a run is in progress", "connection", c.ID, "err", err)
			continue
		}
		reports = append(reports, rep)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return reports, errors.Join(errs...)
}

// RunAll reconciles every enabled connection of every tenant, due or not, one after the
// other. A failed connection does not stop the others; the joined errors are returned
// with all the reports.
func (s *Service) RunAll(ctx context.Context) ([]Report, error) {
	conns, err := store.EnabledConnections(ctx, s.Store)
	if conns == nil {
		return nil, err
	}
	reports := []Report{}
	errs := []error{err}
	for _, c := range conns {
		if err := ctx.Err(); err != nil {
			return reports, errors.Join(append(errs, err)...)
		}
		rep, err := s.Run(ctx, c.ID)
		reports = append(reports, rep)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return reports, errors.Join(errs...)
}
