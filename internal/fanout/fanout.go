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

// push is a push message bound for a platform's queue.
type push struct {
	platform string
	msg      queue.OutMessage
}

// HandleBatch fans out a batch of changed SKUs and queues their pushes together, one
// send per platform: far fewer queue writes than one per (connection, SKU).
func (s *Service) HandleBatch(ctx context.Context, msgs []queue.Message) []error {
	errs := make([]error, len(msgs))
	planned := make([][]push, len(msgs))
	// SKUs are independent: plan them side by side (reads run in parallel on the store).
	sem := make(chan struct{}, planConcurrency)
	var wg sync.WaitGroup
	for i, msg := range msgs {
		var m ingest.SKUMessage
		if err := json.Unmarshal(msg.Body, &m); err != nil || m.Tenant == "" || m.SKU == "" {
			errs[i] = worker.Dead("fan-out message is not {tenant, sku}: %q", truncate(msg.Body))
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			planned[i], errs[i] = s.plan(ctx, m.Tenant, m.SKU)
		}()
	}
	wg.Wait()
	var out []push
	for i := range msgs {
		if errs[i] == nil {
			out = append(out, planned[i]...)
		}
	}
	if err := s.send(ctx, out); err != nil {
		for i := range msgs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	return errs
}

// planConcurrency bounds the SKUs of one batch planned at once.
const planConcurrency = 16

// Handle processes one fan-out message.
func (s *Service) Handle(ctx context.Context, msg queue.Message) error {
	return s.HandleBatch(ctx, []queue.Message{msg})[0]
}

// FanOut recomputes one SKU's desired state on every connection that sells it and queues
// the pushes it needs.
func (s *Service) FanOut(ctx context.Context, tenant, sku string) error {
	pushes, err := s.plan(ctx, tenant, sku)
	if err != nil {
		return err
	}
	return s.send(ctx, pushes)
}

func (s *Service) send(ctx context.Context, pushes []push) error {
	byPlatform := map[string][]queue.OutMessage{}
	for _, p := range pushes {
		byPlatform[p.platform] = append(byPlatform[p.platform], p.msg)
	}
	for name, msgs := range byPlatform {
		q, ok := s.PushQueues[name]
		if !ok {
			s.Log.Error("no push queue for platform", "platform", name)
			continue
		}
		if err := q.Send(ctx, msgs...); err != nil {
			return fmt.Errorf("queue %d pushes for %s: %w", len(msgs), name, err)
		}
	}
	return nil
}

// plan writes one SKU's desired states and returns the pushes they need.
func (s *Service) plan(ctx context.Context, tenant, sku string) ([]push, error) {
	states, err := s.Store.GetSKUs(ctx, tenant, []string{sku})
	if err != nil {
		return nil, fmt.Errorf("read SKU %s: %w", sku, err)
	}
	st, ok := states[sku]
	if !ok {
		return nil, nil // nothing known yet; a later change will queue it again
	}
	mappings, err := s.Store.ListMappings(ctx, tenant, sku)
	if err != nil {
		return nil, fmt.Errorf("read mappings of %s: %w", sku, err)
	}
	if len(mappings) == 0 {
		return nil, nil
	}
	conns, err := s.connections(ctx, tenant)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	var out []push
	for _, mp := range mappings {
		conn, ok := conns[mp.ConnectionID]
		if !ok {
			continue
		}
		p, err := s.planOne(ctx, conn, st, now)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

func (s *Service) planOne(ctx context.Context, conn domain.Connection, st domain.SKUState, now time.Time) (*push, error) {
	d, skip := domain.ComputeDesired(conn, st, now)
	if skip != "" {
		return nil, nil
	}
	prev, err := s.Store.GetDesired(ctx, st.Tenant, conn.ID, st.SKU)
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = s.Store.PutDesired(ctx, d)
	case err != nil:
		return nil, fmt.Errorf("read desired %s/%s: %w", conn.ID, st.SKU, err)
	case prev.Rev >= d.Rev || sameTarget(prev, d):
		// Stored state is as new, or asks for the same values: no write, but still check
		// below that it reached the store (a crash may have cut the previous run short).
		d = prev
	default:
		err = s.Store.PutDesired(ctx, d)
	}
	if errors.Is(err, store.ErrStale) {
		return nil, nil // a newer computation won the race and queues its own push
	}
	if err != nil {
		return nil, fmt.Errorf("write desired %s/%s: %w", conn.ID, st.SKU, err)
	}
	pushed, err := s.Store.GetPushed(ctx, st.Tenant, conn.ID, st.SKU)
	var last *domain.PushedState
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("read pushed %s/%s: %w", conn.ID, st.SKU, err)
	default:
		last = &pushed
	}
	if !d.Pending(last).Any() {
		return nil, nil
	}
	body, err := json.Marshal(PushMessage{Tenant: st.Tenant, ConnectionID: conn.ID, SKU: st.SKU, Rev: d.Rev})
	if err != nil {
		return nil, fmt.Errorf("encode push message: %w", err)
	}
	return &push{platform: conn.Platform, msg: queue.OutMessage{Body: body, Group: conn.ID, Key: conn.ID + "|" + st.SKU}}, nil
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
