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
	"mercos":      {domain.FulfilCancelled: "cancelado"},
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
	for round := 0; round < maxOrderRounds; round++ {
		rec, err := s.Store.GetOrder(ctx, tenant, c.OrderID)
		if err != nil {
			return fmt.Errorf("order %s: %w", c.OrderID, err)
		}
		switch {
		case c.Version < rec.Fulfilment.Version:
			return &rejectError{field: "version", is: ErrStaleStatus,
				msg: fmt.Sprintf("version %d is older than the applied %d", c.Version, rec.Fulfilment.Version)}
		case c.Version == rec.Fulfilment.Version && c.Status == rec.Fulfilment.Status:
			return nil // duplicate
		case rec.State == domain.OrderCancelled && c.Status == domain.FulfilCancelled:
			return nil
		case rec.State != domain.OrderAccepted:
			return transition("order %s is %s; only accepted orders take order_status", c.OrderID, rec.State)
		}
		now := s.now()
		next := rec
		next.History = append([]domain.OrderStep(nil), rec.History...)
		next.Fulfilment = domain.Fulfilment{Status: c.Status, Version: c.Version, Update: c.Update}
		if next.Fulfilment.Update.At.IsZero() {
			next.Fulfilment.Update.At = now
		}
		var acked *time.Time
		switch {
		case c.Status == domain.FulfilCancelled:
			s.cancel(&next, now, "cancelled by the ERP")
		case rec.ERP.State == domain.ERPPending:
			// Invoicing or shipping means the ERP holds the sale even if it never acked.
			next.ERP.State, next.ERP.AckedAt = domain.ERPRegistered, &now
			acked = &now
			next.Note(now, "ERP status "+c.Status+" (registers the order)")
		default:
			next.Note(now, "ERP status "+c.Status)
		}
		want := next.Reserved
		if err := s.converge(ctx, tenant, rec.ConnectionID, rec.ID, rec.Reserved, want, acked); err != nil {
			return err
		}
		if next.State == domain.OrderCancelled {
			if err := s.Store.DeletePurchaseNeeds(ctx, tenant, rec.ID); err != nil {
				return fmt.Errorf("drop purchase needs: %w", err)
			}
		}
		next.UpdatedAt, next.Rev = now, rec.Rev+1
		next.Outbox = append(append([]domain.OrderEvent(nil), rec.Outbox...), eventsFor(next, []string{EventStatusChanged})...)
		err = s.Store.PutOrder(ctx, store.OrderWrite{Record: next, ExpectedRev: rec.Rev})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("save order: %w", err)
		}
		if acked != nil {
			if err := s.scheduleRelease(ctx, next); err != nil {
				return err
			}
		}
		if err := s.send(ctx, message{Kind: kindWriteBack, Tenant: tenant, Connection: rec.ConnectionID, Order: rec.ID,
			Status: c.Status, Rev: next.Rev}, 0); err != nil {
			return err
		}
		if err := s.flush(ctx, next); err != nil {
			s.log().Warn("order events left in the outbox", "order", rec.ID, "err", err)
		}
		return nil
	}
	return fmt.Errorf("order %s kept changing; retry", c.OrderID)
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
	if (m.Status == "received" && rec.Fulfilment.Status != "") || (m.Status != "received" && m.Status != rec.Fulfilment.Status) {
		return nil
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
	if m.Status != "received" {
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
	for round := 0; round < maxOrderRounds; round++ {
		if round > 0 {
			cur, err := s.Store.GetOrder(ctx, rec.Tenant, rec.ID)
			if err != nil {
				return fmt.Errorf("re-read order: %w", err)
			}
			rec = cur
		}
		now := s.now()
		next := rec
		next.History = append([]domain.OrderStep(nil), rec.History...)
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
		next.Rev, next.UpdatedAt = rec.Rev+1, now
		err := s.Store.PutOrder(ctx, store.OrderWrite{Record: next, ExpectedRev: rec.Rev})
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("save order: %w", err)
		}
	}
	return fmt.Errorf("order %s kept changing", rec.ID)
}
