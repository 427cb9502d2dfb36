// Package reconcile reads stock and prices back from the platforms and corrects drift
// (DESIGN flow 6). Platforms lose updates: a run pages through a connection's catalogue,
// compares every mapped item with its desired state and, for each SKU that drifted,
// records what the platform really holds as the pushed state and queues a push, so the
// normal pusher writes the desired value again. A zero on a sold-out SKU is re-asserted
// like any other value (a lost 0 is the classic oversell).
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
)

// Store is the part of the Store port reconciliation needs.
type Store interface {
	ListTenants(ctx context.Context) ([]domain.Tenant, error)
	GetConnection(ctx context.Context, id string) (domain.Connection, error)
	ListConnections(ctx context.Context, tenant string) ([]domain.Connection, error)
	MappingByPlatformID(ctx context.Context, connectionID, productID, variantID string) (domain.Mapping, error)
	GetDesired(ctx context.Context, tenant, connectionID, sku string) (domain.DesiredState, error)
	GetPushed(ctx context.Context, tenant, connectionID, sku string) (domain.PushedState, error)
	PutPushed(ctx context.Context, p domain.PushedState) error
	store.JobStore
}

// Sender is the part of the Queue port reconciliation needs.
type Sender interface {
	Send(ctx context.Context, msgs ...queue.OutMessage) error
}

// Service is the reconciliation use case. Every run is a stored job (store.JobReconcile)
// carrying its progress, the cursor of the next page and the report so far.
type Service struct {
	Store Store
	// PushQueues holds one push queue per platform name.
	PushQueues map[string]Sender
	Connectors map[string]platform.Connector
	Now        func() time.Time
	Log        *slog.Logger
	// DryRun reports drift only: nothing is recorded and nothing queued (the job is stored).
	DryRun bool
	// StaleAfter overrides DefaultStaleAfter.
	StaleAfter time.Duration
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

// Run reconciles one connection as a job: it resumes the connection's crashed run if
// there is one, else starts a new one; a run still in progress makes it fail with
// ErrRunning. An error that stops the run (the connection cannot be read, a catalogue
// page fails, ctx ends) is returned with the report so far. A run stopped by its ctx
// stays stored as running, and the first Run after StaleAfter continues it.
func (s *Service) Run(ctx context.Context, connectionID string) (Report, error) {
	rep := Report{ConnectionID: connectionID, DryRun: s.DryRun, StartedAt: s.now()}
	err := s.runJob(ctx, connectionID, &rep)
	rep.FinishedAt = s.now()
	if err != nil {
		rep.Error = err.Error()
	}
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelWarn
	}
	s.log().Log(ctx, lvl, "reconcile", "connection", connectionID, "tenant", rep.Tenant, "platform", rep.Platform,
		"job", rep.Job, "resumed", rep.Resumed, "dry_run", rep.DryRun, "pages", rep.Pages, "checked", rep.Checked,
		"drifted", rep.Drifted, "corrected", rep.Corrected, "held", rep.Held, "failed", rep.Failed,
		"unmapped", rep.Unmapped, "err", err)
	return rep, err
}

func (s *Service) runJob(ctx context.Context, connectionID string, rep *Report) error {
	conn, err := s.Store.GetConnection(ctx, connectionID)
	if err != nil {
		return fmt.Errorf("read connection %s: %w", connectionID, err)
	}
	rep.Tenant, rep.Platform = conn.Tenant, conn.Platform
	j, err := s.begin(ctx, conn, rep)
	if err != nil {
		return err
	}
	err = s.run(ctx, conn, j, rep)
	rep.FinishedAt = s.now()
	if err != nil {
		rep.Error = err.Error()
	}
	if ferr := s.finish(ctx, j, rep, err); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

// run pages through the catalogue from the job's cursor, storing progress after each page.
// A crash between a page's corrections and its progress write re-checks that page on
// resume: the corrections repeat (pushes are idempotent) and its counts add twice.
func (s *Service) run(ctx context.Context, conn domain.Connection, j *store.Job, rep *Report) error {
	if !conn.Enabled {
		return fmt.Errorf("connection %s is disabled", conn.ID)
	}
	connector, ok := s.Connectors[conn.Platform]
	if !ok {
		return fmt.Errorf("no connector for platform %q (connection %s)", conn.Platform, conn.ID)
	}
	reader, ok := connector.(platform.CatalogReader)
	if !ok {
		return fmt.Errorf("platform %s cannot list its catalogue (connection %s)", conn.Platform, conn.ID)
	}
	var sender Sender
	if !s.DryRun {
		if sender, ok = s.PushQueues[conn.Platform]; !ok || sender == nil {
			return fmt.Errorf("no push queue for platform %q (connection %s)", conn.Platform, conn.ID)
		}
	}
	cursor := j.Cursor
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reconcile %s stopped after %d pages: %w", conn.ID, rep.Pages, err)
		}
		page, err := reader.ListCatalog(ctx, conn, cursor)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("reconcile %s stopped on page %d: %w (%v)", conn.ID, rep.Pages+1, cerr, err)
			}
			return fmt.Errorf("list catalogue of %s (page %d): %w", conn.ID, rep.Pages+1, err)
		}
		rep.Pages++
		var msgs []queue.OutMessage
		var queued []string
		for _, it := range page.Items {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("reconcile %s stopped on page %d: %w", conn.ID, rep.Pages, err)
			}
			msg, sku, err := s.check(ctx, conn, it, j.ID, rep)
			if err != nil {
				rep.Failed++
				rep.FailedSKUs = add(rep.FailedSKUs, sku)
				s.log().Warn("reconcile item failed", "connection", conn.ID, "sku", sku, "err", err)
				continue
			}
			if msg != nil {
				msgs = append(msgs, *msg)
				queued = append(queued, sku)
			}
		}
		if len(msgs) > 0 {
			if err := sender.Send(ctx, msgs...); err != nil {
				// The recorded pushed states make the next run (or the next change) push them.
				rep.Failed += len(queued)
				for _, sku := range queued {
					rep.FailedSKUs = add(rep.FailedSKUs, sku)
				}
				return fmt.Errorf("queue %d corrections for %s: %w", len(msgs), conn.ID, err)
			}
			rep.Corrected += len(msgs)
		}
		if page.Next == "" {
			return nil // finish stores the last page with the outcome
		}
		if page.Next == cursor {
			return fmt.Errorf("list catalogue of %s: cursor %q did not advance", conn.ID, cursor)
		}
		cursor = page.Next
		if err := s.progress(ctx, j, rep, cursor); err != nil {
			return err
		}
	}
}

// check compares one item; it returns the push message of a correction (nil when in
// sync, unmapped, without desired state or in a dry run) and the item's SKU.
func (s *Service) check(ctx context.Context, conn domain.Connection, it platform.CatalogItem, runID string, rep *Report) (*queue.OutMessage, string, error) {
	rep.Checked++
	label := it.SKU
	if label == "" {
		label = it.ProductID
		if it.VariantID != "" {
			label += "/" + it.VariantID
		}
	}
	m, err := s.Store.MappingByPlatformID(ctx, conn.ID, it.ProductID, it.VariantID)
	if errors.Is(err, store.ErrNotFound) {
		rep.Unmapped++
		item := "product " + it.ProductID
		if it.VariantID != "" {
			item += " variant " + it.VariantID
		}
		if it.SKU != "" {
			item += " (sku " + it.SKU + ")"
		}
		rep.UnmappedItems = add(rep.UnmappedItems, item)
		return nil, "", nil
	}
	if err != nil {
		return nil, label, fmt.Errorf("read mapping: %w", err)
	}
	sku := m.SKU
	d, err := s.Store.GetDesired(ctx, conn.Tenant, conn.ID, sku)
	if errors.Is(err, store.ErrNotFound) {
		return nil, sku, nil
	}
	if err != nil {
		return nil, sku, fmt.Errorf("read desired: %w", err)
	}
	stockDrift := d.Stock != nil && (it.Stock == nil || *it.Stock != *d.Stock)
	priceDrift := d.Price != nil && (it.Price == nil || !it.Price.Equal(*d.Price))
	if !stockDrift && !priceDrift {
		return nil, sku, nil
	}
	rep.Drifted++
	rep.DriftedSKUs = add(rep.DriftedSKUs, sku)
	if priceDrift && it.Price != nil {
		// The pusher compares the desired price with the pushed one, which is about to
		// become the platform's: the same check tells now whether it will hold the price.
		if err := domain.CheckPriceDrop(conn.Rules, *it.Price, *d.Price); err != nil {
			rep.Held++
			rep.HeldSKUs = add(rep.HeldSKUs, HeldSKU{SKU: sku, Reason: ReasonPriceDrop + ": " + err.Error()})
		}
	}
	s.log().Info("drift", "connection", conn.ID, "sku", sku, "stock_drift", stockDrift, "price_drift", priceDrift,
		"platform_stock", it.Stock, "desired_stock", d.Stock, "platform_price", it.Price, "desired_price", d.Price)
	if s.DryRun {
		return nil, sku, nil
	}
	if err := s.recordPlatform(ctx, conn, sku, it, stockDrift, priceDrift); err != nil {
		return nil, sku, err
	}
	body, err := json.Marshal(correction{
		PushMessage: fanout.PushMessage{Tenant: conn.Tenant, ConnectionID: conn.ID, SKU: sku, Rev: d.Rev},
		Reconcile:   runID,
	})
	if err != nil {
		return nil, sku, fmt.Errorf("encode push message: %w", err)
	}
	return &queue.OutMessage{Body: body, Group: conn.ID, Key: conn.ID + "|" + sku}, sku, nil
}

// correction is a push message marked with the run that queued it: the pusher reads it as
// a fanout.PushMessage, and the mark keeps FIFO queues (which deduplicate on a hash of the
// body) from dropping a correction as a repeat of a recent fan-out message.
type correction struct {
	fanout.PushMessage
	Reconcile string `json:"reconcile"`
}

// recordAttempts bounds the re-reads when the pusher records a newer state meanwhile.
const recordAttempts = 3

// recordPlatform stores what the platform really holds for the drifted parts as the
// pushed state, keeping its Rev (PutPushed overwrites an equal Rev), so the pusher sees
// the difference and writes the desired value again.
func (s *Service) recordPlatform(ctx context.Context, conn domain.Connection, sku string, it platform.CatalogItem, stock, price bool) error {
	var err error
	for range recordAttempts {
		var p domain.PushedState
		p, err = s.Store.GetPushed(ctx, conn.Tenant, conn.ID, sku)
		switch {
		case errors.Is(err, store.ErrNotFound):
			p = domain.PushedState{Tenant: conn.Tenant, ConnectionID: conn.ID, SKU: sku}
		case err != nil:
			return fmt.Errorf("read pushed: %w", err)
		}
		if stock {
			p.Stock = it.Stock
		}
		if price {
			p.Price = it.Price
		}
		err = s.Store.PutPushed(ctx, p)
		if !errors.Is(err, store.ErrStale) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("record platform state: %w", err)
	}
	return nil
}
