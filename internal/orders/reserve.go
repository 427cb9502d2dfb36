package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

// converge makes the SKU aggregates hold exactly want for this order (nothing for SKUs
// not in want), then queues fan-out for every SKU it changed, so every store's listed
// quantity moves in the same second. Setting the same value twice is a no-op, so a
// repeated attempt after a crash converges to the same state. ackedAt, when set, marks
// the reservations as registered by the ERP (see domain.Reservation.AckedAt).
func (s *Service) converge(ctx context.Context, tenant, connID, orderID string, had, want map[string]int64, ackedAt *time.Time) error {
	skus := make([]string, 0, len(had)+len(want))
	for sku := range had {
		skus = append(skus, sku)
	}
	for sku := range want {
		skus = append(skus, sku)
	}
	skus = uniq(skus)
	if len(skus) == 0 {
		return nil
	}
	// Every SKU with an aggregate is fanned out, changed now or by an earlier attempt
	// that failed before queueing: fan-out recomputes from the newest state anyway.
	touched := map[string]int64{}
	for round := 0; round < maxOrderRounds; round++ {
		states, err := s.Store.GetSKUs(ctx, tenant, skus)
		if err != nil {
			return fmt.Errorf("read SKUs: %w", err)
		}
		var writes []store.SKUWrite
		for _, sku := range skus {
			st, ok := states[sku]
			if !ok {
				continue // no aggregate, nothing listed to hold back
			}
			if _, done := touched[sku]; !done {
				touched[sku] = st.Rev
			}
			cur, has := st.Reservations[orderID]
			qty := want[sku]
			switch {
			case qty <= 0 && !has:
				continue
			case qty > 0 && has && cur.Quantity == qty && sameTime(cur.AckedAt, ackedAt):
				continue
			}
			next := st.Clone()
			if qty <= 0 {
				delete(next.Reservations, orderID)
			} else {
				r := domain.Reservation{OrderKey: orderID, ConnectionID: connID, Quantity: qty, CreatedAt: s.now(), AckedAt: ackedAt}
				if has {
					r.CreatedAt, r.ConnectionID = cur.CreatedAt, cur.ConnectionID
				}
				next.Reservations[orderID] = r
			}
			next.Rev, next.UpdatedAt = st.Rev+1, s.now()
			writes = append(writes, store.SKUWrite{State: next, ExpectedRev: st.Rev})
		}
		if len(writes) == 0 {
			break
		}
		errs, err := s.Store.PutSKUs(ctx, writes)
		if err != nil {
			return fmt.Errorf("write reservations: %w", err)
		}
		conflict := false
		for i, werr := range errs {
			switch {
			case werr == nil:
				touched[writes[i].State.SKU] = writes[i].State.Rev
			case errors.Is(werr, store.ErrConflict):
				conflict = true
			default:
				return fmt.Errorf("write reservation of %s: %w", writes[i].State.SKU, werr)
			}
		}
		if !conflict {
			break
		}
		if round == maxOrderRounds-1 {
			return worker.Retry(0, fmt.Errorf("reservations of order %s kept conflicting", orderID))
		}
	}
	return s.fanout(ctx, tenant, touched)
}

// fanout queues one fan-out message per touched SKU (the same message ingest sends).
func (s *Service) fanout(ctx context.Context, tenant string, touched map[string]int64) error {
	if len(touched) == 0 || s.Changes == nil {
		return nil
	}
	msgs := make([]queue.OutMessage, 0, len(touched))
	for sku, rev := range touched {
		body, err := json.Marshal(ingest.SKUMessage{Tenant: tenant, SKU: sku, Rev: rev})
		if err != nil {
			return fmt.Errorf("encode fan-out message: %w", err)
		}
		msgs = append(msgs, queue.OutMessage{Body: body, Key: tenant + "|" + sku})
	}
	if err := s.Changes.Send(ctx, msgs...); err != nil {
		return fmt.Errorf("queue fan-out: %w", err)
	}
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
