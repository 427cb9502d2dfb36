// Package push carries desired states to the stores (DESIGN flow 3). A message names a
// (connection, SKU); the pusher reads the newest desired state and calls the platform only
// for the parts that differ from what was last pushed, so duplicates, retries and
// out-of-order deliveries can only ever push the newest state.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

// Store is the part of the Store port the pusher needs.
type Store interface {
	GetConnection(ctx context.Context, id string) (domain.Connection, error)
	GetMapping(ctx context.Context, tenant, connectionID, sku string) (domain.Mapping, error)
	GetDesired(ctx context.Context, tenant, connectionID, sku string) (domain.DesiredState, error)
	GetPushed(ctx context.Context, tenant, connectionID, sku string) (domain.PushedState, error)
	PutPushed(ctx context.Context, p domain.PushedState) error
}

// Observer hears about every platform call outcome (metrics, traces, bench).
type Observer interface {
	Pushed(conn domain.Connection, sku string, d domain.DesiredState, parts domain.Pending, took time.Duration, err error)
}

// Service is the push use case.
type Service struct {
	Store      Store
	Connectors map[string]platform.Connector
	Now        func() time.Time
	Log        *slog.Logger
	Observer   Observer
}

// Handle processes one push message.
func (s *Service) Handle(ctx context.Context, msg queue.Message) error {
	var m fanout.PushMessage
	if err := json.Unmarshal(msg.Body, &m); err != nil || m.Tenant == "" || m.ConnectionID == "" || m.SKU == "" {
		return worker.Dead("push message is not {tenant, connection, sku}: %.200q", msg.Body)
	}
	return s.Push(ctx, m.Tenant, m.ConnectionID, m.SKU)
}

// Push brings one SKU on one connection up to its desired state.
func (s *Service) Push(ctx context.Context, tenant, connID, sku string) error {
	conn, err := s.Store.GetConnection(ctx, connID)
	if errors.Is(err, store.ErrNotFound) {
		return worker.Dead("connection %s no longer exists", connID)
	}
	if err != nil {
		return fmt.Errorf("read connection %s: %w", connID, err)
	}
	if conn.Tenant != tenant {
		return worker.Dead("connection %s does not belong to tenant %s", connID, tenant)
	}
	if !conn.Enabled {
		return nil
	}
	connector, ok := s.Connectors[conn.Platform]
	if !ok {
		return worker.Dead("no connector for platform %q (connection %s)", conn.Platform, connID)
	}
	desired, err := s.Store.GetDesired(ctx, tenant, connID, sku)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read desired %s/%s: %w", connID, sku, err)
	}
	var last *domain.PushedState
	pushed, err := s.Store.GetPushed(ctx, tenant, connID, sku)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("read pushed %s/%s: %w", connID, sku, err)
	default:
		last = &pushed
	}
	parts := desired.Pending(last)
	if !parts.Any() {
		return nil
	}
	mapping, err := s.Store.GetMapping(ctx, tenant, connID, sku)
	if errors.Is(err, store.ErrNotFound) {
		return worker.Dead("SKU %s is not mapped to a product on connection %s", sku, connID)
	}
	if err != nil {
		return fmt.Errorf("read mapping %s/%s: %w", connID, sku, err)
	}
	upd := platform.Update{Target: platform.Target{SKU: sku, ProductID: mapping.ProductID, VariantID: mapping.VariantID}}
	var guard error
	if parts.Stock {
		upd.Stock = desired.Stock
	}
	if parts.Price {
		if last != nil && last.Price != nil && desired.Price != nil {
			guard = domain.CheckPriceDrop(conn.Rules, *last.Price, *desired.Price)
		}
		if guard == nil {
			upd.Price, upd.Cost, upd.ListPrice = desired.Price, desired.Cost, desired.ListPrice
		} else {
			parts.Price = false
		}
	}
	if parts.Product {
		upd.Product = desired.Product
	}
	if parts.Any() {
		if err := s.call(ctx, connector, conn, sku, desired, parts, upd); err != nil {
			return err
		}
		if err := s.record(ctx, conn, sku, desired, last, parts); err != nil {
			return err
		}
	}
	if guard != nil {
		// The rest went out; the price waits for a person (or a price that passes the guard).
		return worker.Dead("price not pushed for SKU %s on %s: %v", sku, connID, guard)
	}
	return nil
}

func (s *Service) call(ctx context.Context, c platform.Connector, conn domain.Connection, sku string, d domain.DesiredState, parts domain.Pending, upd platform.Update) error {
	start := time.Now()
	errs := c.Push(ctx, conn, []platform.Update{upd})
	var err error
	if len(errs) > 0 {
		err = errs[0]
	}
	if s.Observer != nil {
		s.Observer.Pushed(conn, sku, d, parts, time.Since(start), err)
	}
	if err == nil {
		return nil
	}
	pe := platform.AsError(err)
	what := describe(parts)
	s.Log.Warn("push failed", "tenant", conn.Tenant, "connection", conn.ID, "platform", conn.Platform, "sku", sku,
		"parts", what, "kind", pe.Kind.String(), "status", pe.StatusCode, "err", err)
	if pe.Kind == platform.Permanent {
		return worker.Dead("%s push of %s for SKU %s on %s refused: %v", conn.Platform, what, sku, conn.ID, err)
	}
	return worker.Retry(pe.RetryAfter, fmt.Errorf("%s push of %s for SKU %s on %s: %w", conn.Platform, what, sku, conn.ID, err))
}

// record stores what the platform now holds: the pushed parts from desired, the rest as before.
func (s *Service) record(ctx context.Context, conn domain.Connection, sku string, d domain.DesiredState, last *domain.PushedState, parts domain.Pending) error {
	p := domain.PushedState{Tenant: d.Tenant, ConnectionID: conn.ID, SKU: sku}
	if last != nil {
		p = *last
	}
	if parts.Stock {
		p.Stock = d.Stock
		p.Versions.Stock = d.Versions.Stock
	}
	if parts.Price {
		p.Price, p.Cost, p.ListPrice = d.Price, d.Cost, d.ListPrice
		p.Versions.Price = d.Versions.Price
	}
	if parts.Product {
		p.Product = d.Product
		p.Versions.Product = d.Versions.Product
	}
	if d.Rev > p.Rev {
		p.Rev = d.Rev
	}
	p.PushedAt = s.Now().UTC()
	if err := s.Store.PutPushed(ctx, p); err != nil && !errors.Is(err, store.ErrStale) {
		// The platform has the value; a retry re-reads and, finding no difference, does nothing more.
		return fmt.Errorf("record pushed %s/%s: %w", conn.ID, sku, err)
	}
	return nil
}

func describe(p domain.Pending) string {
	var parts []string
	if p.Stock {
		parts = append(parts, "stock")
	}
	if p.Price {
		parts = append(parts, "price")
	}
	if p.Product {
		parts = append(parts, "product")
	}
	return strings.Join(parts, "+")
}
