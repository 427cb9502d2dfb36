package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
)

// SKUStore is the part of the Store port ingest needs.
type SKUStore interface {
	GetSKUs(ctx context.Context, tenant string, skus []string) (map[string]domain.SKUState, error)
	PutSKUs(ctx context.Context, writes []store.SKUWrite) ([]error, error)
	GetCustomers(ctx context.Context, tenant string, ids []string) (map[string]store.CustomerRecord, error)
	PutCustomers(ctx context.Context, writes []store.CustomerWrite) ([]error, error)
}

// Sender is the part of the Queue port ingest needs.
type Sender interface {
	Send(ctx context.Context, msgs ...queue.OutMessage) error
}

// Result is the outcome of one batch.
type Result struct {
	Accepted int `json:"accepted"`
	// Duplicates were accepted but already held (same version as stored).
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
}

// SKUMessage is the body of a fan-out message: keys, never values. Rev only makes bodies
// of different work differ (for FIFO de-duplication); the consumer reads the newest state.
// Kind is "" for a SKU and "customer" for a customer (then Customer names it).
type SKUMessage struct {
	Tenant   string `json:"tenant"`
	Kind     string `json:"kind,omitempty"`
	SKU      string `json:"sku,omitempty"`
	Customer string `json:"customer,omitempty"`
	Rev      int64  `json:"rev"`
}

// Service applies ERP changes.
type Service struct {
	Store   SKUStore
	Changes Sender
	// Orders applies order_status changes; nil rejects them ("orders are not enabled").
	Orders OrderStatusApplier
	Now    func() time.Time
}

const maxConflictRounds = 8

// Apply applies validated changes for a tenant. A nil error means every accepted change is
// durably stored and its SKU queued for fan-out.
func (s *Service) Apply(ctx context.Context, tenant string, changes []Change) (Result, error) {
	res := Result{Rejected: []Rejection{}}
	bySKU := map[string][]Change{}
	var order []string
	var customers, statuses []Change
	for _, c := range changes {
		switch c.Kind {
		case KindCustomer:
			customers = append(customers, c)
			continue
		case KindOrderStatus:
			statuses = append(statuses, c)
			continue
		}
		if _, ok := bySKU[c.SKU]; !ok {
			order = append(order, c.SKU)
		}
		bySKU[c.SKU] = append(bySKU[c.SKU], c)
	}
	now := s.Now().UTC()
	touched := map[string]int64{}
	pending := order
	for round := 0; len(pending) > 0; round++ {
		if round == maxConflictRounds {
			return res, fmt.Errorf("apply changes: %d SKUs still conflicting after %d rounds", len(pending), round)
		}
		states, err := s.Store.GetSKUs(ctx, tenant, pending)
		if err != nil {
			return res, fmt.Errorf("read SKUs: %w", err)
		}
		var (
			writes   []store.SKUWrite
			outcomes []skuOutcome
		)
		for _, sku := range pending {
			old, exists := states[sku]
			if !exists {
				old = domain.SKUState{Tenant: tenant, SKU: sku}
			}
			next, out := applySKU(old, bySKU[sku], now)
			if out.changed {
				next.Rev = old.Rev + 1
				next.UpdatedAt = now
				writes = append(writes, store.SKUWrite{State: next, ExpectedRev: old.Rev})
				outcomes = append(outcomes, out)
			} else {
				res.add(out)
				if out.duplicates > 0 {
					// Re-queue on a duplicate: the ERP may be retrying a batch whose fan-out never ran.
					touched[sku] = old.Rev
				}
			}
		}
		var retry []string
		if len(writes) > 0 {
			errs, err := s.Store.PutSKUs(ctx, writes)
			if err != nil {
				return res, fmt.Errorf("write SKUs: %w", err)
			}
			for i, w := range writes {
				switch {
				case errs[i] == nil:
					res.add(outcomes[i])
					touched[w.State.SKU] = w.State.Rev
				case errors.Is(errs[i], store.ErrConflict):
					retry = append(retry, w.State.SKU)
				default:
					return res, fmt.Errorf("write SKU %s: %w", w.State.SKU, errs[i])
				}
			}
		}
		pending = retry
	}
	if err := s.enqueue(ctx, tenant, order, touched); err != nil {
		return res, err
	}
	if err := s.applyCustomers(ctx, tenant, customers, now, &res); err != nil {
		return res, err
	}
	if err := s.applyOrderStatuses(ctx, tenant, statuses, now, &res); err != nil {
		return res, err
	}
	return res, nil
}

func (s *Service) enqueue(ctx context.Context, tenant string, order []string, touched map[string]int64) error {
	msgs := make([]queue.OutMessage, 0, len(touched))
	for _, sku := range order {
		rev, ok := touched[sku]
		if !ok {
			continue
		}
		body, err := json.Marshal(SKUMessage{Tenant: tenant, SKU: sku, Rev: rev})
		if err != nil {
			return fmt.Errorf("encode fan-out message: %w", err)
		}
		msgs = append(msgs, queue.OutMessage{Body: body, Key: tenant + "|" + sku})
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := s.Changes.Send(ctx, msgs...); err != nil {
		return fmt.Errorf("queue fan-out: %w", err)
	}
	return nil
}

type skuOutcome struct {
	changed    bool
	accepted   int
	duplicates int
	rejected   []Rejection
}

func (r *Result) add(o skuOutcome) {
	r.Accepted += o.accepted
	r.Duplicates += o.duplicates
	r.Rejected = append(r.Rejected, o.rejected...)
}

// applySKU applies one SKU's changes in batch order to a copy of its state. Each input
// (product, price, stock per warehouse) moves only forward in version: an equal version
// is a duplicate, an older one is rejected.
// dropRegistered ends reservations of orders the ERP registered before now: the ERP's
// new stock level already counts those sales, so holding them too would list less than
// there is. Until that level arrives, the reservation keeps the listed quantity down.
func dropRegistered(rs map[string]domain.Reservation, now time.Time) {
	for k, r := range rs {
		if r.AckedAt != nil && !r.AckedAt.After(now) {
			delete(rs, k)
		}
	}
}

func applySKU(old domain.SKUState, changes []Change, now time.Time) (domain.SKUState, skuOutcome) {
	st := old.Clone()
	var out skuOutcome
	verdict := func(c Change, stored domain.Version, have bool) bool {
		switch {
		case !have || c.Version > stored:
			out.accepted++
			out.changed = true
			return true
		case c.Version == stored:
			out.accepted++
			out.duplicates++
		default:
			out.rejected = append(out.rejected, Rejection{Index: c.Index, SKU: c.SKU, Field: "version",
				Error: fmt.Sprintf("version %d is older than the stored version %d; ignored", c.Version, stored)})
		}
		return false
	}
	for _, c := range changes {
		switch c.Kind {
		case KindProduct:
			var stored domain.Version
			if st.Product != nil {
				stored = st.Product.Version
			}
			if verdict(c, stored, st.Product != nil) {
				p := *c.Product
				p.UpdatedAt = now
				st.Product = &p
			}
		case KindStock, KindPrice:
			if st.Product == nil {
				out.rejected = append(out.rejected, Rejection{Index: c.Index, SKU: c.SKU, Field: "sku",
					Error: "unknown SKU: send a product change for it first"})
				continue
			}
			if c.Kind == KindStock {
				cur, have := st.Stock[c.Stock.Warehouse]
				if verdict(c, cur.Version, have) {
					lvl := *c.Stock
					lvl.UpdatedAt = now
					st.Stock[lvl.Warehouse] = lvl
					dropRegistered(st.Reservations, now)
				}
				continue
			}
			var stored domain.Version
			if st.Price != nil {
				stored = st.Price.Version
			}
			if verdict(c, stored, st.Price != nil) {
				p := *c.Price
				p.UpdatedAt = now
				st.Price = &p
			}
		}
	}
	return st, out
}
