package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
)

// MessageKindCustomer is the SKUMessage kind of a changed customer.
const MessageKindCustomer = "customer"

// applyCustomers stores customer changes with the same version rules as the SKU inputs
// (newer applies, equal is a duplicate, older is rejected) and queues one fan-out message
// per touched customer.
func (s *Service) applyCustomers(ctx context.Context, tenant string, changes []Change, now time.Time, res *Result) error {
	if len(changes) == 0 {
		return nil
	}
	byID := map[string][]Change{}
	var order []string
	for _, c := range changes {
		if _, ok := byID[c.CustomerID]; !ok {
			order = append(order, c.CustomerID)
		}
		byID[c.CustomerID] = append(byID[c.CustomerID], c)
	}
	touched := map[string]int64{}
	pending := order
	for round := 0; len(pending) > 0; round++ {
		if round == maxConflictRounds {
			return fmt.Errorf("apply customers: %d customers still conflicting after %d rounds", len(pending), round)
		}
		stored, err := s.Store.GetCustomers(ctx, tenant, pending)
		if err != nil {
			return fmt.Errorf("read customers: %w", err)
		}
		var (
			writes   []store.CustomerWrite
			outcomes []skuOutcome
		)
		for _, id := range pending {
			old, exists := stored[id]
			next, out := applyCustomer(old, exists, byID[id])
			if !out.changed {
				res.add(out)
				if out.duplicates > 0 {
					touched[id] = old.Rev // the ERP may be retrying a batch whose fan-out never ran
				}
				continue
			}
			next.Tenant, next.CustomerID = tenant, id
			next.Rev = old.Rev + 1
			next.UpdatedAt = now
			writes = append(writes, store.CustomerWrite{Record: next, ExpectedRev: old.Rev})
			outcomes = append(outcomes, out)
		}
		var retry []string
		if len(writes) > 0 {
			errs, err := s.Store.PutCustomers(ctx, writes)
			if err != nil {
				return fmt.Errorf("write customers: %w", err)
			}
			for i, w := range writes {
				switch {
				case errs[i] == nil:
					res.add(outcomes[i])
					touched[w.Record.CustomerID] = w.Record.Rev
				case errors.Is(errs[i], store.ErrConflict):
					retry = append(retry, w.Record.CustomerID)
				default:
					return fmt.Errorf("write customer %s: %w", w.Record.CustomerID, errs[i])
				}
			}
		}
		pending = retry
	}
	msgs := make([]queue.OutMessage, 0, len(touched))
	for _, id := range order {
		rev, ok := touched[id]
		if !ok {
			continue
		}
		body, err := json.Marshal(SKUMessage{Tenant: tenant, Kind: MessageKindCustomer, Customer: id, Rev: rev})
		if err != nil {
			return fmt.Errorf("encode fan-out message: %w", err)
		}
		msgs = append(msgs, queue.OutMessage{Body: body, Key: tenant + "|C|" + id})
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := s.Changes.Send(ctx, msgs...); err != nil {
		return fmt.Errorf("queue customer fan-out: %w", err)
	}
	return nil
}

// applyCustomer applies one customer's changes in batch order to a copy of its record.
func applyCustomer(old store.CustomerRecord, exists bool, changes []Change) (store.CustomerRecord, skuOutcome) {
	rec := old
	have := exists
	var out skuOutcome
	for _, c := range changes {
		switch {
		case !have || c.Version > rec.Version:
			out.accepted++
			out.changed = true
			rec.Customer = *c.Customer
			rec.Version = c.Version
			have = true
		case c.Version == rec.Version:
			out.accepted++
			out.duplicates++
		default:
			out.rejected = append(out.rejected, Rejection{Index: c.Index, CustomerID: c.CustomerID, Field: "version",
				Error: fmt.Sprintf("version %d is older than the stored version %d; ignored", c.Version, rec.Version)})
		}
	}
	return rec, out
}
