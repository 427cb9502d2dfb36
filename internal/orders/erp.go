package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

// rejectError is a per-item refusal the ERP API reports naming a field; errors.Is
// matches its sentinel (ErrStaleStatus, ErrTransition).
type rejectError struct {
	field, msg string
	is         error
}

func (e *rejectError) Error() string        { return e.msg }
func (e *rejectError) RejectField() string  { return e.field }
func (e *rejectError) Is(target error) bool { return target == e.is }
func transition(format string, args ...any) error {
	return &rejectError{field: "status", msg: fmt.Sprintf(format, args...), is: ErrTransition}
}

const defaultAckGrace = 2 * time.Minute

// ListForERP lists a tenant's orders (the ERP's pull), without their outboxes.
func (s *Service) ListForERP(ctx context.Context, tenant string, f store.OrderFilter, cursor string, limit int) ([]domain.OrderRecord, string, error) {
	limit = min(max(limit, 1), 200)
	out, next, err := s.Store.ListOrders(ctx, tenant, f, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	for i := range out {
		out[i].Outbox = nil
	}
	return out, next, nil
}

// GetOrder reads one of the tenant's orders.
func (s *Service) GetOrder(ctx context.Context, tenant, id string) (domain.OrderRecord, error) {
	r, err := s.Store.GetOrder(ctx, tenant, id)
	if err != nil {
		return domain.OrderRecord{}, fmt.Errorf("order %s: %w", id, err)
	}
	r.Outbox = nil
	return r, nil
}

// PurchaseNeeds lists what accepted orders sold without stock, per supplier.
func (s *Service) PurchaseNeeds(ctx context.Context, tenant, supplier string) ([]domain.PurchaseNeed, error) {
	return s.Store.ListPurchaseNeeds(ctx, tenant, supplier)
}

// AckOrder registers an order pushed to the ERP whose answer was 2xx (internal/notify).
func (s *Service) AckOrder(ctx context.Context, tenant, orderID, erpOrderNumber string) error {
	_, err := s.Ack(ctx, tenant, orderID, Ack{ERPOrderNumber: erpOrderNumber})
	return err
}

// Ack records the ERP's answer for an accepted order. Registered: the reservation stays
// until the ERP's next stock level for the SKU arrives (it includes the sale) or the
// grace period passes, so the listed quantity never rises in between. Refused: the order
// becomes rejected and its reservation is released at once. Repeating the same answer is
// harmless; a different answer is ErrTransition.
func (s *Service) Ack(ctx context.Context, tenant, orderID string, a Ack) (domain.OrderRecord, error) {
	for round := 0; round < maxOrderRounds; round++ {
		rec, err := s.Store.GetOrder(ctx, tenant, orderID)
		if err != nil {
			return domain.OrderRecord{}, fmt.Errorf("order %s: %w", orderID, err)
		}
		now := s.now()
		next := rec
		next.History = append([]domain.OrderStep(nil), rec.History...)
		var events []string
		var acked *time.Time
		switch {
		case a.Rejected && rec.ERP.State == domain.ERPRefused, !a.Rejected && rec.ERP.State == domain.ERPRegistered &&
			(a.ERPOrderNumber == "" || a.ERPOrderNumber == rec.ERP.OrderNumber):
			rec.Outbox = nil
			return rec, nil
		case rec.State != domain.OrderAccepted:
			return rec, transition("order %s is %s, not waiting for the ERP", orderID, rec.State)
		case rec.ERP.State != domain.ERPPending:
			return rec, transition("order %s is already %s by the ERP (number %q)", orderID, rec.ERP.State, rec.ERP.OrderNumber)
		case a.Rejected:
			next.ERP.State, next.ERP.Reason, next.ERP.AckedAt = domain.ERPRefused, a.Reason, &now
			next.State, next.Reserved = domain.OrderRejected, nil
			next.Rejections = append(append([]domain.OrderRejection(nil), rec.Rejections...),
				domain.OrderRejection{Line: -1, Code: domain.RejectERPRefused, Message: "the ERP refused the order: " + a.Reason})
			next.Note(now, "refused by the ERP: "+a.Reason+"; reservation released")
			events = append(events, EventRejected)
		default:
			next.ERP.State, next.ERP.OrderNumber, next.ERP.AckedAt = domain.ERPRegistered, a.ERPOrderNumber, &now
			next.Note(now, fmt.Sprintf("registered by the ERP as %q", a.ERPOrderNumber))
			events = append(events, EventStatusChanged)
			acked = &now
		}
		if err := s.converge(ctx, tenant, rec.ConnectionID, orderID, rec.Reserved, next.Reserved, acked); err != nil {
			return rec, err
		}
		if next.State == domain.OrderRejected {
			if err := s.Store.DeletePurchaseNeeds(ctx, tenant, orderID); err != nil {
				return rec, fmt.Errorf("drop purchase needs: %w", err)
			}
		}
		next.UpdatedAt, next.Rev = now, rec.Rev+1
		next.Outbox = append(append([]domain.OrderEvent(nil), rec.Outbox...), eventsFor(next, events)...)
		err = s.Store.PutOrder(ctx, store.OrderWrite{Record: next, ExpectedRev: rec.Rev})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return rec, fmt.Errorf("save order: %w", err)
		}
		if acked != nil {
			if err := s.scheduleRelease(ctx, next); err != nil {
				return next, err
			}
		}
		if err := s.flush(ctx, next); err != nil {
			s.log().Warn("order events left in the outbox", "order", orderID, "err", err)
		}
		next.Outbox = nil
		return next, nil
	}
	return domain.OrderRecord{}, fmt.Errorf("order %s kept changing; retry", orderID)
}

func (s *Service) scheduleRelease(ctx context.Context, r domain.OrderRecord) error {
	grace := s.AckGrace
	if grace <= 0 {
		grace = defaultAckGrace
	}
	return s.send(ctx, message{Kind: kindRelease, Tenant: r.Tenant, Connection: r.ConnectionID, Order: r.ID, Rev: r.Rev}, grace)
}

// handleRelease ends the reservation of an order the ERP registered (or that is no
// longer accepted) once the grace period has passed.
func (s *Service) handleRelease(ctx context.Context, m message) error {
	for round := 0; round < maxOrderRounds; round++ {
		rec, err := s.Store.GetOrder(ctx, m.Tenant, m.Order)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read order: %w", err)
		}
		if len(rec.Reserved) == 0 || (rec.State == domain.OrderAccepted && rec.ERP.State == domain.ERPPending) {
			return nil
		}
		if err := s.converge(ctx, rec.Tenant, rec.ConnectionID, rec.ID, rec.Reserved, nil, nil); err != nil {
			return err
		}
		next := rec
		next.History = append([]domain.OrderStep(nil), rec.History...)
		next.Reserved, next.Rev, next.UpdatedAt = nil, rec.Rev+1, s.now()
		next.Note(next.UpdatedAt, "reservation released: the ERP registered the sale")
		err = s.Store.PutOrder(ctx, store.OrderWrite{Record: next, ExpectedRev: rec.Rev})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("save order: %w", err)
		}
		return nil
	}
	return worker.Retry(0, fmt.Errorf("order %s kept changing", m.Order))
}
