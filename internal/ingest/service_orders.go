package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// OrderStatusApplier applies ERP order_status changes (the orders use case). It returns
// one error per change, in order: nil when applied, store.ErrNotFound for an unknown
// order, an ItemRejection for a change refused on its own merits (stale version, a step
// the order cannot take), anything else when the change could not be stored.
type OrderStatusApplier interface {
	ApplyStatus(ctx context.Context, tenant string, changes []domain.OrderStatusChange) []error
}

// ItemRejection is an applier error that refuses one item, naming the field to blame.
// Ingest cannot import the orders package (an import cycle), so its errors say this way
// that they are the ERP's to fix rather than a reason to fail the batch.
type ItemRejection interface {
	error
	RejectField() string
}

// applyOrderStatuses hands the batch's order_status changes to the orders use case, in
// batch order, and turns its per-item errors into rejections.
func (s *Service) applyOrderStatuses(ctx context.Context, tenant string, changes []Change, now time.Time, res *Result) error {
	if len(changes) == 0 {
		return nil
	}
	reject := func(c Change, field, msg string) {
		res.Rejected = append(res.Rejected, Rejection{Index: c.Index, OrderID: c.OrderStatus.OrderID, Field: field, Error: msg})
	}
	if s.Orders == nil {
		for _, c := range changes {
			reject(c, "type", "orders are not enabled")
		}
		return nil
	}
	list := make([]domain.OrderStatusChange, len(changes))
	for i, c := range changes {
		list[i] = *c.OrderStatus
		if list[i].Update.At.IsZero() {
			list[i].Update.At = now
		}
	}
	errs := s.Orders.ApplyStatus(ctx, tenant, list)
	if len(errs) != len(list) {
		return fmt.Errorf("apply order statuses: %d results for %d changes", len(errs), len(list))
	}
	var rj ItemRejection
	for i, err := range errs {
		c := changes[i]
		switch {
		case err == nil:
			res.Accepted++
		case errors.Is(err, store.ErrNotFound):
			reject(c, "order_id", "unknown order")
		case errors.As(err, &rj):
			reject(c, rj.RejectField(), err.Error())
		default:
			return fmt.Errorf("apply order status of %s: %w", c.OrderStatus.OrderID, err)
		}
	}
	return nil
}
