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
	PutDesiredMany(ctx context.Context, ds []domain.DesiredState) ([]error, error)
	GetPushed(ctx context.Context, tenant, connectionID, sku string) (domain.PushedState, error)
	GetCustomers(ctx context.Context, tenant string, ids []string) (map[string]store.CustomerRecord, error)
	GetCustomerLink(ctx context.Context, tenant, connectionID, customerID string) (store.CustomerLink, error)
}

// Sender is the part of the Queue port fan-out needs.
type Sender interface {
	Send(ctx context.Context, msgs ...queue.OutMessage) error
}

// PushMessage is the body of a push message: keys only (see ingest.SKUMessage on Rev).
// Kind is "" for a SKU and "customer" for a customer (then Customer names it).
type PushMessage struct {
	Tenant       string `json:"tenant"`
	ConnectionID string `json:"connection"`
	Kind         string `json:"kind,omitempty"`
	SKU          string `json:"sku,omitempty"`
	Customer     string `json:"customer,omitempty"`
	Rev          int64  `json:"rev"`
}

// KindCustomer is the PushMessage kind of a customer push.
const KindCustomer = ingest.MessageKindCustomer

// Metrics records fan-out outcomes; nil records nothing.
type Metrics interface {
	Coalesced(stage, platform string)
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
	// CustomerPlatforms names the platforms whose connectors take customers
	// (platform.CustomerPusher); customers fan out only to their connections.
	CustomerPlatforms map[string]bool
	// Metrics, when set, counts targets that needed no push (internal/metrics).
	Metrics Metrics

	mu    sync.Mutex
	conns map[string]cachedConns
}

type cachedConns struct {
	at    time.Time
	conns map[string]domain.Connection
}

// HandleBatch fans out a batch of changed SKUs: their desired states are written in one
// store call and their pushes queued in one send per platform, far fewer writes than one
// per (connection, SKU).
func (s *Service) HandleBatch(ctx context.Context, msgs []queue.Message) []error {
	errs := make([]error, len(msgs))
	planned := make([][]target, len(msgs))
	customerPushes := make([][]push, len(msgs))
	// SKUs are independent: read and compute them side by side (reads run in parallel).
	sem := make(chan struct{}, planConcurrency)
	var wg sync.WaitGroup
	for i, msg := range msgs {
		var m ingest.SKUMessage
		if err := json.Unmarshal(msg.Body, &m); err != nil || m.Tenant == "" {
			errs[i] = worker.Dead("fan-out message is not {tenant, sku}: %q", truncate(msg.Body))
			continue
		}
		switch {
		case m.Kind == "" && m.SKU != "":
		case m.Kind == ingest.MessageKindCustomer && m.Customer != "":
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				customerPushes[i], errs[i] = s.planCustomer(ctx, m.Tenant, m.Customer)
			}()
			continue
		default:
			errs[i] = worker.Dead("fan-out message is not {tenant, sku} nor {tenant, kind: customer, customer}: %q", truncate(msg.Body))
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
	var all []*target
	owner := map[*target]int{}
	for i := range msgs {
		for j := range planned[i] {
			t := &planned[i][j]
			all = append(all, t)
			owner[t] = i
		}
	}
	pushes, err := s.commit(ctx, all)
	if err == nil {
		for i := range msgs {
			if errs[i] == nil {
				pushes = append(pushes, customerPushes[i]...)
			}
		}
		err = s.send(ctx, pushes)
	}
	if err != nil {
		for _, t := range all {
			if errs[owner[t]] == nil {
				errs[owner[t]] = err
			}
		}
		for i, cp := range customerPushes {
			if len(cp) > 0 && errs[i] == nil {
				errs[i] = err
			}
		}
	}
	return errs
}

// planConcurrency bounds the SKUs of one batch read at once.
const planConcurrency = 8

// Handle processes one fan-out message.
func (s *Service) Handle(ctx context.Context, msg queue.Message) error {
	return s.HandleBatch(ctx, []queue.Message{msg})[0]
}

// FanOut recomputes one SKU's desired state on every connection that sells it and queues
// the pushes it needs.
func (s *Service) FanOut(ctx context.Context, tenant, sku string) error {
	targets, err := s.plan(ctx, tenant, sku)
	if err != nil {
		return err
	}
	all := make([]*target, len(targets))
	for i := range targets {
		all[i] = &targets[i]
	}
	pushes, err := s.commit(ctx, all)
	if err != nil {
		return err
	}
	return s.send(ctx, pushes)
}

// target is one connection's computed state for a SKU, with what the store last got.
type target struct {
	conn    domain.Connection
	desired domain.DesiredState
	write   bool // desired is new and must be stored
	last    *domain.PushedState
}

// commit stores the new desired states and returns the pushes still needed. A state that
// lost a race to a newer one (ErrStale) needs no push: the newer one queues its own.
func (s *Service) commit(ctx context.Context, targets []*target) ([]push, error) {
	var writes []domain.DesiredState
	var written []*target
	for _, t := range targets {
		if t.write {
			writes = append(writes, t.desired)
			written = append(written, t)
		}
	}
	stale := map[*target]bool{}
	if len(writes) > 0 {
		errs, err := s.Store.PutDesiredMany(ctx, writes)
		if err != nil {
			return nil, fmt.Errorf("write %d desired states: %w", len(writes), err)
		}
		for i, werr := range errs {
			switch {
			case errors.Is(werr, store.ErrStale):
				stale[written[i]] = true
			case werr != nil:
				return nil, fmt.Errorf("write desired %s/%s: %w", written[i].conn.ID, written[i].desired.SKU, werr)
			}
		}
	}
	var out []push
	for _, t := range targets {
		if stale[t] || !t.desired.Pending(t.last).Any() {
			if s.Metrics != nil {
				s.Metrics.Coalesced("fanout", t.conn.Platform) // already pushed, or superseded
			}
			continue
		}
		body, err := json.Marshal(PushMessage{Tenant: t.desired.Tenant, ConnectionID: t.conn.ID, SKU: t.desired.SKU, Rev: t.desired.Rev})
		if err != nil {
			return nil, fmt.Errorf("encode push message: %w", err)
		}
		out = append(out, push{platform: t.conn.Platform,
			msg: queue.OutMessage{Body: body, Group: t.conn.ID, Key: t.conn.ID + "|" + t.desired.SKU}})
	}
	return out, nil
}

// push is a push message bound for a platform's queue.
type push struct {
	platform string
	msg      queue.OutMessage
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

// plan reads one SKU and computes its state on every connection that sells it.
func (s *Service) plan(ctx context.Context, tenant, sku string) ([]target, error) {
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
	var out []target
	for _, mp := range mappings {
		conn, ok := conns[mp.ConnectionID]
		if !ok {
			continue
		}
		t, err := s.planOne(ctx, conn, st, now)
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, *t)
		}
	}
	return out, nil
}

func (s *Service) planOne(ctx context.Context, conn domain.Connection, st domain.SKUState, now time.Time) (*target, error) {
	d, skip := domain.ComputeDesired(conn, st, now)
	if skip != "" {
		return nil, nil
	}
	t := &target{conn: conn, desired: d, write: true}
	prev, err := s.Store.GetDesired(ctx, st.Tenant, conn.ID, st.SKU)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("read desired %s/%s: %w", conn.ID, st.SKU, err)
	case prev.Rev >= d.Rev || sameTarget(prev, d):
		// Stored state is as new, or asks for the same values: no write, but still check
		// that it reached the store (a crash may have cut the previous run short).
		t.desired, t.write = prev, false
	}
	pushed, err := s.Store.GetPushed(ctx, st.Tenant, conn.ID, st.SKU)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("read pushed %s/%s: %w", conn.ID, st.SKU, err)
	default:
		t.last = &pushed
	}
	return t, nil
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
