// Package catalog is the first sync of a connection (DESIGN flow 7): it imports the
// store's catalogue and links each item to the ERP product it is (by SKU, then EAN, then
// additional codes) without touching the ERP's data, creates hub products for unmatched
// items where the connection's rules allow, links the store's customers to ERP customers
// where the platform lists them, and reports what is ambiguous or unmatched.
//
// A first sync is a stored job (store.JobFirstSync): Start creates it, Run works it page
// by page from its cursor, saving progress after each page, and RunPending (the
// scheduler's tick) works jobs nobody has claimed and resumes crashed ones. Every write is
// idempotent or guarded, so running twice or resuming a crash links and creates nothing twice.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
)

// ErrUnsupported means the connection's platform cannot list its catalogue.
var ErrUnsupported = errors.New("the platform cannot list its catalogue")

// DefaultPageSize is how many ERP products (or customers) one store read pages through.
const DefaultPageSize = 500

// Store is the part of the Store port the first sync needs.
type Store interface {
	ListTenants(ctx context.Context) ([]domain.Tenant, error)
	GetConnection(ctx context.Context, id string) (domain.Connection, error)
	ListConnections(ctx context.Context, tenant string) ([]domain.Connection, error)

	ListSKUs(ctx context.Context, tenant, cursor string, limit int) ([]domain.SKUState, string, error)
	GetSKUs(ctx context.Context, tenant string, skus []string) (map[string]domain.SKUState, error)
	PutSKUs(ctx context.Context, writes []store.SKUWrite) ([]error, error)

	PutMapping(ctx context.Context, m domain.Mapping) error
	GetMapping(ctx context.Context, tenant, connectionID, sku string) (domain.Mapping, error)
	MappingByPlatformID(ctx context.Context, connectionID, productID, variantID string) (domain.Mapping, error)

	ListCustomers(ctx context.Context, tenant, cursor string, limit int) ([]store.CustomerRecord, string, error)
	GetCustomerLink(ctx context.Context, tenant, connectionID, customerID string) (store.CustomerLink, error)
	PutCustomerLink(ctx context.Context, l store.CustomerLink) error

	store.JobStore
}

// Service is the first-sync use case.
type Service struct {
	Store      Store
	Connectors map[string]platform.Connector
	Now        func() time.Time
	Log        *slog.Logger
	// StaleAfter overrides DefaultStaleAfter.
	StaleAfter time.Duration
	// PageSize overrides DefaultPageSize for the store reads.
	PageSize int
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) pageSize() int {
	if s.PageSize > 0 {
		return s.PageSize
	}
	return DefaultPageSize
}

// Start creates a connection's first sync as a job waiting for a worker (Run, or the next
// RunPending). A crashed job (no progress for StaleAfter) is handed back instead of a new
// one, to continue from its cursor; one still running or waiting means ErrRunning.
func (s *Service) Start(ctx context.Context, tenant, connectionID string) (store.Job, error) {
	conn, err := s.Store.GetConnection(ctx, connectionID)
	if err != nil {
		return store.Job{}, fmt.Errorf("first sync: read connection %s: %w", connectionID, err)
	}
	if conn.Tenant != tenant {
		return store.Job{}, fmt.Errorf("first sync: connection %s: %w", connectionID, store.ErrNotFound)
	}
	if _, err := s.reader(conn); err != nil {
		return store.Job{}, err
	}
	newest, err := s.Store.ListJobs(ctx, tenant, store.JobFirstSync, connectionID, 1)
	if err != nil {
		return store.Job{}, fmt.Errorf("list first sync jobs of %s: %w", connectionID, err)
	}
	if len(newest) == 1 && newest[0].Status == store.JobRunning {
		j := newest[0]
		if age := s.now().Sub(j.UpdatedAt); age <= s.staleAfter() {
			return store.Job{}, fmt.Errorf("first sync of %s: job %s moved %s ago: %w", connectionID, j.ID, age.Round(time.Second), ErrRunning)
		}
		return s.requeue(ctx, j)
	}
	return s.create(ctx, tenant, connectionID, conn.Platform)
}

// Run works job (as Start or Jobs returned it) to its end: it claims the job (ErrRunning
// when another worker got it first), continues from its cursor and returns it as stored.
// A run stopped by its ctx stays running at its last saved page; one stopped by a failing
// page stays running with the error in its report, for RunPending to resume once stale.
func (s *Service) Run(ctx context.Context, j store.Job) (store.Job, error) {
	var rep Report
	if err := s.claim(ctx, &j, &rep); err != nil {
		if errors.Is(err, errExhausted) {
			ferr := s.finish(ctx, &j, &rep, err, true)
			return j, errors.Join(err, ferr)
		}
		return j, err
	}
	s.log().Info("first sync starts", "tenant", j.Tenant, "connection", j.ConnectionID, "job", j.ID,
		"run", rep.Runs, "cursor", j.Cursor, "done", j.Done)
	fatal, err := s.run(ctx, &j, &rep)
	if ferr := s.finish(ctx, &j, &rep, err, fatal); ferr != nil {
		err = errors.Join(err, ferr)
	}
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelWarn
	}
	p := rep.Products
	s.log().Log(ctx, lvl, "first sync", "tenant", j.Tenant, "connection", j.ConnectionID, "job", j.ID,
		"status", j.Status, "pages", rep.Pages, "checked", p.Checked, "already_linked", p.AlreadyLinked,
		"linked_by_sku", p.LinkedBySKU, "linked_by_ean", p.LinkedByEAN, "linked_by_code", p.LinkedByCode,
		"imported", p.Imported, "ambiguous", p.Ambiguous, "unmatched", p.Unmatched, "failed", p.Failed, "err", err)
	return j, err
}

// RunPending works every connection's first sync that waits for a worker or whose worker
// stopped making progress StaleAfter ago, one after the other (the scheduler's tick).
// Jobs another worker claims first are skipped.
func (s *Service) RunPending(ctx context.Context) error {
	tenants, err := s.Store.ListTenants(ctx)
	if err != nil {
		return fmt.Errorf("first sync: list tenants: %w", err)
	}
	var errs []error
	for _, t := range tenants {
		conns, err := s.Store.ListConnections(ctx, t.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("first sync: list connections of %s: %w", t.ID, err))
			continue
		}
		for _, c := range conns {
			if err := ctx.Err(); err != nil {
				return errors.Join(append(errs, err)...)
			}
			jobs, err := s.Store.ListJobs(ctx, t.ID, store.JobFirstSync, c.ID, 1)
			if err != nil {
				errs = append(errs, fmt.Errorf("first sync: list jobs of %s: %w", c.ID, err))
				continue
			}
			if len(jobs) == 0 || !s.due(jobs[0]) {
				continue
			}
			if _, err := s.Run(ctx, jobs[0]); err != nil && !errors.Is(err, ErrRunning) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// due: the job runs and nobody works it (never claimed, or silent for StaleAfter).
func (s *Service) due(j store.Job) bool {
	if j.Status != store.JobRunning {
		return false
	}
	if s.now().Sub(j.UpdatedAt) > s.staleAfter() {
		return true
	}
	rep, err := ParseReport(j)
	return err == nil && rep.Pending
}

// Jobs returns a connection's newest first syncs, each with its report (limit <= 0
// means 10; at most 100). ParseReport reads a report.
func (s *Service) Jobs(ctx context.Context, tenant, connectionID string, limit int) ([]store.Job, error) {
	if limit <= 0 {
		limit = 10
	}
	jobs, err := s.Store.ListJobs(ctx, tenant, store.JobFirstSync, connectionID, min(limit, 100))
	if err != nil {
		return nil, fmt.Errorf("first sync jobs of %s: %w", connectionID, err)
	}
	return jobs, nil
}

func (s *Service) reader(conn domain.Connection) (platform.CatalogReader, error) {
	connector, ok := s.Connectors[conn.Platform]
	if !ok {
		return nil, fmt.Errorf("first sync of %s: no connector for platform %q: %w", conn.ID, conn.Platform, ErrUnsupported)
	}
	r, ok := connector.(platform.CatalogReader)
	if !ok {
		return nil, fmt.Errorf("first sync of %s: platform %s: %w", conn.ID, conn.Platform, ErrUnsupported)
	}
	return r, nil
}
