package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
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
	var acked *time.Time
	next, wrote, err := s.mutate(ctx, tenant, orderID, func(rec domain.OrderRecord, next *domain.OrderRecord) (bool, error) {
		now := next.UpdatedAt
		var events []string
		acked = nil
		switch {
		case a.Rejected && rec.ERP.State == domain.ERPRefused, !a.Rejected && rec.ERP.State == domain.ERPRegistered &&
			(a.ERPOrderNumber == "" || a.ERPOrderNumber == rec.ERP.OrderNumber):
			return false, nil
		case rec.State != domain.OrderAccepted:
			return false, transition("order %s is %s, not waiting for the ERP", orderID, rec.State)
		case rec.ERP.State != domain.ERPPending:
			return false, transition("order %s is already %s by the ERP (number %q)", orderID, rec.ERP.State, rec.ERP.OrderNumber)
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
			return false, err
		}
		if next.State == domain.OrderRejected {
			if err := s.Store.DeletePurchaseNeeds(ctx, tenant, orderID); err != nil {
				return false, fmt.Errorf("drop purchase needs: %w", err)
			}
		}
		next.Outbox = append(next.Outbox, eventsFor(*next, events)...)
		return true, nil
	})
	if err != nil || !wrote {
		next.Outbox = nil
		return next, err
	}
	if acked != nil {
		if err := s.scheduleRelease(ctx, next); err != nil {
			return next, err
		}
	}
	if next.State == domain.OrderRejected {
		if err := s.writeBackRefusal(ctx, next); err != nil {
			return next, err
		}
	}
	if err := s.flush(ctx, next); err != nil {
		s.log().Warn("order events left in the outbox", "order", orderID, "err", err)
	}
	next.Outbox = nil
	return next, nil
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
	_, _, err := s.mutate(ctx, m.Tenant, m.Order, func(rec domain.OrderRecord, next *domain.OrderRecord) (bool, error) {
		if len(rec.Reserved) == 0 || (rec.State == domain.OrderAccepted && rec.ERP.State == domain.ERPPending) {
			return false, nil
		}
		if err := s.converge(ctx, rec.Tenant, rec.ConnectionID, rec.ID, rec.Reserved, nil, nil); err != nil {
			return false, err
		}
		next.Reserved = nil
		next.Note(next.UpdatedAt, "reservation released: the ERP registered the sale")
		return true, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// writeBackRefusal queues the rejected status's write-back after the ERP refused an order.
func (s *Service) writeBackRefusal(ctx context.Context, rec domain.OrderRecord) error {
	conn, err := s.Store.GetConnection(ctx, rec.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read connection: %w", err)
	}
	return s.writeBackRejection(ctx, conn, rec)
}
