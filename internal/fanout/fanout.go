// Package fanout turns a changed SKU into per-connection desired states and queues a push
// for every connection whose store does not hold that state yet (DESIGN flow 2).
package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

// Store is the part of the Store port fan-out needs.
type Store interface {
	GetSKUs(ctx context.Context, tenant string, skus []string) (map[string]domain.SKUState, error)
	ListConnections(ctx context.Context, tenant string) ([]domain.Connection, error)
	ListMappings(ctx context.Context, tenant, sku string) ([]domain.Mapping, error)
	GetDesired(ctx context.Context, tenant, connectionID, sku string) (domain.DesiredState, error)
	PutDesired(ctx context.Context, d domain.DesiredState) error
	GetPushed(ctx context.Context, tenant, connectionID, sku string) (domain.PushedState, error)
}

// Sender is the part of the Queue port fan-out needs.
type Sender interface {
	Send(ctx context.Context, msgs ...queue.OutMessage) error
}

// PushMessage is the body of a push message: keys only (see ingest.SKUMessage on Rev).
type PushMessage struct {
	Tenant       string `json:"tenant"`
	ConnectionID string `json:"connection"`
	SKU          string `json:"sku"`
	Rev          int64  `json:"rev"`
}

// Service is the fan-out use case.
type Service struct {
	Store Store
	// PushQueues holds one push queue per platform name.
	PushQueues map[string]Sender
	Now        func() time.Time
	Log        *slog.Logger
	// ConnectionTTL caches a tenant's connections this long (0: read every time).
	ConnectionTTL time.Duration

	mu    sync.Mutex
	conns map[string]cachedConns
}

type cachedConns struct {
	at    time.Time
	conns map[string]domain.Connection
}

// Handle processes one fan-out message.
func (s *Service) Handle(ctx context.Context, msg queue.Message) error {
	var m ingest.SKUMessage
	if err := json.Unmarshal(msg.Body, &m); err != nil || m.Tenant == "" || m.SKU == "" {
		return worker.Dead("fan-out message is not {tenant, sku}: %q", truncate(msg.Body))
	}
	return s.FanOut(ctx, m.Tenant, m.SKU)
}

// FanOut recomputes one SKU's desired state on every connection that sells it.
func (s *Service) FanOut(ctx context.Context, tenant, sku string) error {
	states, err := s.Store.GetSKUs(ctx, tenant, []string{sku})
	if err != nil {
		return fmt.Errorf("read SKU %s: %w", sku, err)
	}
	st, ok := states[sku]
	if !ok {
		return nil // nothing known yet; a later change will queue it again
	}
	mappings, err := s.Store.ListMappings(ctx, tenant, sku)
	if err != nil {
		return fmt.Errorf("read mappings of %s: %w", sku, err)
	}
	if len(mappings) == 0 {
		return nil
	}
	conns, err := s.connections(ctx, tenant)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	for _, mp := range mappings {
		conn, ok := conns[mp.ConnectionID]
		if !ok {
			continue
		}
		if err := s.fanOutOne(ctx, conn, st, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) fanOutOne(ctx context.Context, conn domain.Connection, st domain.SKUState, now time.Time) error {
	d, skip := domain.ComputeDesired(conn, st, now)
	if skip != "" {
		return nil
	}
	prev, err := s.Store.GetDesired(ctx, st.Tenant, conn.ID, st.SKU)
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = s.Store.PutDesired(ctx, d)
	case err != nil:
		return fmt.Errorf("read desired %s/%s: %w", conn.ID, st.SKU, err)
	case prev.Rev >= d.Rev || sameTarget(prev, d):
		// Stored state is as new, or asks for the same values: no write, but still check
		// below that it reached the store (a crash may have cut the previous run short).
		d = prev
	default:
		err = s.Store.PutDesired(ctx, d)
	}
	if errors.Is(err, store.ErrStale) {
		return nil // a newer computation won the race and queues its own push
	}
	if err != nil {
		return fmt.Errorf("write desired %s/%s: %w", conn.ID, st.SKU, err)
	}
	pushed, err := s.Store.GetPushed(ctx, st.Tenant, conn.ID, st.SKU)
	var last *domain.PushedState
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("read pushed %s/%s: %w", conn.ID, st.SKU, err)
	default:
		last = &pushed
	}
	if !d.Pending(last).Any() {
		return nil
	}
	q, ok := s.PushQueues[conn.Platform]
	if !ok {
		s.Log.Error("no push queue for platform", "platform", conn.Platform, "connection", conn.ID)
		return nil
	}
	body, err := json.Marshal(PushMessage{Tenant: st.Tenant, ConnectionID: conn.ID, SKU: st.SKU, Rev: d.Rev})
	if err != nil {
		return fmt.Errorf("encode push message: %w", err)
	}
	if err := q.Send(ctx, queue.OutMessage{Body: body, Group: conn.ID, Key: conn.ID + "|" + st.SKU}); err != nil {
		return fmt.Errorf("queue push %s/%s: %w", conn.ID, st.SKU, err)
	}
	return nil
}

// sameTarget reports whether two desired states ask the store for the same values.
func sameTarget(a, b domain.DesiredState) bool {
	return ptrEq(a.Stock, b.Stock) && domain.MoneyPtrEqual(a.Price, b.Price) &&
		domain.MoneyPtrEqual(a.Cost, b.Cost) && domain.MoneyPtrEqual(a.ListPrice, b.ListPrice) &&
		reflect.DeepEqual(a.Product, b.Product) && a.Versions == b.Versions
}

func ptrEq(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func (s *Service) connections(ctx context.Context, tenant string) (map[string]domain.Connection, error) {
	now := time.Now()
	if s.ConnectionTTL > 0 {
		s.mu.Lock()
		c, ok := s.conns[tenant]
		s.mu.Unlock()
		if ok && now.Sub(c.at) < s.ConnectionTTL {
			return c.conns, nil
		}
	}
	list, err := s.Store.ListConnections(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("list connections of %s: %w", tenant, err)
	}
	m := make(map[string]domain.Connection, len(list))
	for _, c := range list {
		if c.Enabled {
			m[c.ID] = c
		}
	}
	if s.ConnectionTTL > 0 {
		s.mu.Lock()
		if s.conns == nil {
			s.conns = map[string]cachedConns{}
		}
		s.conns[tenant] = cachedConns{at: now, conns: m}
		s.mu.Unlock()
	}
	return m, nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
