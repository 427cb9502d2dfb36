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
}

// Sender is the part of the Queue port reconciliation needs.
type Sender interface {
	Send(ctx context.Context, msgs ...queue.OutMessage) error
}

// MaxListed caps each SKU list of a report.
const MaxListed = 100

// Report is the outcome of one connection's run.
type Report struct {
	ConnectionID string    `json:"connection"`
	Tenant       string    `json:"tenant,omitempty"`
	Platform     string    `json:"platform,omitempty"`
	DryRun       bool      `json:"dry_run,omitempty"`
	StartedAt    time.Time `json:"started_at"`
	FinishedAt   time.Time `json:"finished_at"`
	Pages        int       `json:"pages"`
	// Checked counts the catalogue items read (mapped or not).
	Checked int `json:"checked"`
	// Drifted counts mapped items whose stock or price differs from the desired state.
	Drifted int `json:"drifted"`
	// Corrected counts drifted SKUs whose correction was queued.
	Corrected int `json:"corrected"`
	// Failed counts items that could not be compared or corrected.
	Failed   int `json:"failed"`
	Unmapped int `json:"unmapped"`
	// The lists hold at most MaxListed entries each; the counts are complete.
	DriftedSKUs   []string `json:"drifted_skus,omitempty"`
	FailedSKUs    []string `json:"failed_skus,omitempty"`
	UnmappedItems []string `json:"unmapped_items,omitempty"`
	// Error is the error that stopped the run, if any (the counts are those so far).
	Error string `json:"error,omitempty"`
}

func add(list []string, v string) []string {
	if len(list) >= MaxListed {
		return list
	}
	return append(list, v)
}

// Service is the reconciliation use case.
type Service struct {
	Store Store
	// PushQueues holds one push queue per platform name.
	PushQueues map[string]Sender
	Connectors map[string]platform.Connector
	Now        func() time.Time
	Log        *slog.Logger
	// DryRun reports drift only: nothing is recorded and nothing queued.
	DryRun bool
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

// Run reconciles one connection. An error that stops the run (the connection cannot be
// read, a catalogue page fails, ctx ends) is returned with the report so far.
func (s *Service) Run(ctx context.Context, connectionID string) (Report, error) {
	rep := Report{ConnectionID: connectionID, DryRun: s.DryRun, StartedAt: s.now()}
	err := s.run(ctx, connectionID, &rep)
	rep.FinishedAt = s.now()
	if err != nil {
		rep.Error = err.Error()
	}
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelWarn
	}
	s.log().Log(ctx, lvl, "reconcile", "connection", connectionID, "tenant", rep.Tenant, "platform", rep.Platform,
		"dry_run", rep.DryRun, "pages", rep.Pages, "checked", rep.Checked, "drifted", rep.Drifted, "corrected", rep.Corrected,
		"failed", rep.Failed, "unmapped", rep.Unmapped, "err", err)
	return rep, err
}

func (s *Service) run(ctx context.Context, connectionID string, rep *Report) error {
	conn, err := s.Store.GetConnection(ctx, connectionID)
	if err != nil {
		return fmt.Errorf("read connection %s: %w", connectionID, err)
	}
	rep.Tenant, rep.Platform = conn.Tenant, conn.Platform
	if !conn.Enabled {
		return fmt.Errorf("connection %s is disabled", connectionID)
	}
	connector, ok := s.Connectors[conn.Platform]
	if !ok {
		return fmt.Errorf("no connector for platform %q (connection %s)", conn.Platform, connectionID)
	}
	reader, ok := connector.(platform.CatalogReader)
	if !ok {
		return fmt.Errorf("platform %s cannot list its catalogue (connection %s)", conn.Platform, connectionID)
	}
	var sender Sender
	if !s.DryRun {
		if sender, ok = s.PushQueues[conn.Platform]; !ok || sender == nil {
			return fmt.Errorf("no push queue for platform %q (connection %s)", conn.Platform, connectionID)
		}
	}
	runID := rep.StartedAt.Format(time.RFC3339Nano)
	cursor := ""
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reconcile %s stopped after %d pages: %w", connectionID, rep.Pages, err)
		}
		page, err := reader.ListCatalog(ctx, conn, cursor)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("reconcile %s stopped on page %d: %w (%v)", connectionID, rep.Pages+1, cerr, err)
			}
			return fmt.Errorf("list catalogue of %s (page %d): %w", connectionID, rep.Pages+1, err)
		}
		rep.Pages++
		var msgs []queue.OutMessage
		var queued []string
		for _, it := range page.Items {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("reconcile %s stopped on page %d: %w", connectionID, rep.Pages, err)
			}
			msg, sku, err := s.check(ctx, conn, it, runID, rep)
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
				return fmt.Errorf("queue %d corrections for %s: %w", len(msgs), connectionID, err)
			}
			rep.Corrected += len(msgs)
		}
		if page.Next == "" {
			return nil
		}
		if page.Next == cursor {
			return fmt.Errorf("list catalogue of %s: cursor %q did not advance", connectionID, cursor)
		}
		cursor = page.Next
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

// RunAll reconciles every enabled connection of every tenant, one after the other. A
// failed connection does not stop the others; the joined errors are returned with all
// the reports.
func (s *Service) RunAll(ctx context.Context) ([]Report, error) {
	tenants, err := s.Store.ListTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	reports := []Report{}
	var errs []error
	for _, t := range tenants {
		conns, err := s.Store.ListConnections(ctx, t.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("list connections of %s: %w", t.ID, err))
			continue
		}
		for _, c := range conns {
			if !c.Enabled {
				continue
			}
			if err := ctx.Err(); err != nil {
				return reports, errors.Join(append(errs, err)...)
			}
			rep, err := s.Run(ctx, c.ID)
			reports = append(reports, rep)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return reports, errors.Join(errs...)
}
