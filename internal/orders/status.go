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

// defaultWriteBack is the platform status written for a hub status when the connection's
// status map names none: each connector's documented names (see its WriteOrderStatus).
// "" writes only the invoice or tracking data.
var defaultWriteBack = map[string]map[string]string{
	"tray":        {domain.FulfilShipped: "ENVIADO", domain.FulfilDelivered: "FINALIZADO", domain.FulfilCancelled: "CANCELADO"},
	"shopify":     {domain.FulfilShipped: "fulfilled", domain.FulfilCancelled: "cancelled"},
	"woocommerce": {domain.FulfilShipped: "completed", domain.FulfilDelivered: "completed", domain.FulfilCancelled: "cancelled"},
	"nuvemshop":   {domain.FulfilShipped: "fulfilled", domain.FulfilCancelled: "cancelled"},
	"merchantpro": {domain.FulfilShipped: "shipped", domain.FulfilDelivered: "delivered", domain.FulfilCancelled: "cancelled"},
	"mercos":      {domain.FulfilInvoiced: "faturado", domain.FulfilCancelled: "cancelado"},
}

// ApplyStatus applies ERP order_status changes; errs[i] is nil, a store.ErrNotFound,
// or a field-naming refusal (ErrStaleStatus, ErrTransition); other errors are failures.
func (s *Service) ApplyStatus(ctx context.Context, tenant string, changes []domain.OrderStatusChange) []error {
	errs := make([]error, len(changes))
	for i, c := range changes {
		errs[i] = s.applyStatus(ctx, tenant, c)
	}
	return errs
}

func (s *Service) applyStatus(ctx context.Context, tenant string, c domain.OrderStatusChange) error {
	var acked *time.Time
	next, wrote, err := s.mutate(ctx, tenant, c.OrderID, func(rec domain.OrderRecord, next *domain.OrderRecord) (bool, error) {
		switch {
		case c.Version < rec.Fulfilment.Version:
			return false, &rejectError{field: "version", is: ErrStaleStatus,
				msg: fmt.Sprintf("version %d is older than the applied %d", c.Version, rec.Fulfilment.Version)}
		case c.Version == rec.Fulfilment.Version && c.Status == rec.Fulfilment.Status:
			return false, nil // duplicate
		case rec.State == domain.OrderCancelled && c.Status == domain.FulfilCancelled:
			return false, nil
		case rec.State != domain.OrderAccepted:
			return false, transition("order %s is %s; only accepted orders take order_status", c.OrderID, rec.State)
		}
		now := next.UpdatedAt
		next.Fulfilment = domain.Fulfilment{Status: c.Status, Version: c.Version, Update: c.Update}
		if next.Fulfilment.Update.At.IsZero() {
			next.Fulfilment.Update.At = now
		}
		acked = nil
		switch {
		case c.Status == domain.FulfilCancelled:
			s.cancel(next, now, "cancelled by the ERP")
		case rec.ERP.State == domain.ERPPending:
			// Invoicing or shipping means the ERP holds the sale even if it never acked.
			next.ERP.State, next.ERP.AckedAt = domain.ERPRegistered, &now
			acked = &now
			next.Note(now, "ERP status "+c.Status+" (registers the order)")
		default:
			next.Note(now, "ERP status "+c.Status)
		}
		if err := s.converge(ctx, tenant, rec.ConnectionID, rec.ID, rec.Reserved, next.Reserved, acked); err != nil {
			return false, err
		}
		if next.State == domain.OrderCancelled {
			if err := s.Store.DeletePurchaseNeeds(ctx, tenant, rec.ID); err != nil {
				return false, fmt.Errorf("drop purchase needs: %w", err)
			}
		}
		next.Outbox = append(next.Outbox, eventsFor(*next, []string{EventStatusChanged})...)
		return true, nil
	})
	if err != nil || !wrote {
		return err
	}
	if acked != nil {
		if err := s.scheduleRelease(ctx, next); err != nil {
			return err
		}
	}
	if err := s.send(ctx, message{Kind: kindWriteBack, Tenant: tenant, Connection: next.ConnectionID, Order: next.ID,
		Status: c.Status, Rev: next.Rev}, 0); err != nil {
		return err
	}
	if err := s.flush(ctx, next); err != nil {
		s.log().Warn("order events left in the outbox", "order", next.ID, "err", err)
	}
	return nil
}

// handleWriteBack writes a hub status (and its invoice or tracking data) to the platform
// through the connection's status map, and records the result on the order.
func (s *Service) handleWriteBack(ctx context.Context, m message) error {
	rec, err := s.Store.GetOrder(ctx, m.Tenant, m.Order)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read order: %w", err)
	}
	// A newer status supersedes this one; its own message writes it.
	switch m.Status {
	case "received":
		if rec.Fulfilment.Status != "" || rec.State != domain.OrderAccepted {
			return nil
		}
	case domain.HubRejected:
		if rec.State != domain.OrderRejected {
			return nil
		}
	default:
		if m.Status != rec.Fulfilment.Status {
			return nil
		}
	}
	conn, err := s.Store.GetConnection(ctx, rec.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read connection: %w", err)
	}
	connector, ok := s.Connectors[conn.Platform]
	if !ok {
		return worker.Dead("no connector for platform %q", conn.Platform)
	}
	target := conn.Rules.StatusMap.WriteBackStatus(m.Status)
	if target == "" {
		target = defaultWriteBack[conn.Platform][m.Status]
	}
	var u domain.OrderStatusUpdate
	if m.Status != "received" && m.Status != domain.HubRejected {
		u = rec.Fulfilment.Update
	}
	u.PlatformStatus = target
	if u.At.IsZero() {
		u.At = s.now()
	}
	if target == "" && u.InvoiceNumber == "" && u.InvoiceKey == "" && u.InvoiceURL == "" && u.TrackingCode == "" && u.TrackingURL == "" {
		return s.recordWrite(ctx, rec, m.Status, "", nil, "no platform status is mapped for "+m.Status+"; nothing written back")
	}
	werr := connector.WriteOrderStatus(ctx, conn, rec.PlatformID, u)
	if rerr := s.recordWrite(ctx, rec, m.Status, target, werr, ""); rerr != nil {
		return rerr
	}
	if werr != nil {
		return retryable(fmt.Sprintf("write status %s of order %s back to %s", m.Status, rec.PlatformID, conn.Platform), werr)
	}
	return nil
}

func (s *Service) recordWrite(ctx context.Context, rec domain.OrderRecord, hubStatus, target string, werr error, note string) error {
	_, _, err := s.mutate(ctx, rec.Tenant, rec.ID, func(_ domain.OrderRecord, next *domain.OrderRecord) (bool, error) {
		now := next.UpdatedAt
		switch {
		case note != "":
			next.Note(now, note)
		case werr != nil:
			next.Fulfilment.WriteError = werr.Error()
			next.Note(now, fmt.Sprintf("write-back of %s failed: %v", hubStatus, werr))
		default:
			next.Fulfilment.WrittenStatus, next.Fulfilment.WrittenAt, next.Fulfilment.WriteError = target, &now, ""
			next.Note(now, fmt.Sprintf("platform status set to %q (%s)", target, hubStatus))
		}
		return true, nil
	})
	return err
}
