package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// Outgoing event types (Standard Webhooks, delivered by internal/notify).
const (
	EventAccepted      = "order.accepted"
	EventRejected      = "order.rejected"
	EventStatusChanged = "order.status_changed"
)

// eventsFor snapshots the record into events with ids stable per (order, rev, type), so a
// repeated publish after a crash carries the same webhook-id.
func eventsFor(r domain.OrderRecord, types []string) []domain.OrderEvent {
	if len(types) == 0 {
		return nil
	}
	snap := r
	snap.Outbox, snap.History = nil, nil
	data, err := json.Marshal(snap)
	if err != nil {
		// A record always encodes (plain data); keep the event with the id only.
		data = []byte(fmt.Sprintf(`{"id":%q}`, r.ID))
	}
	out := make([]domain.OrderEvent, 0, len(types))
	for _, t := range types {
		out = append(out, domain.OrderEvent{ID: fmt.Sprintf("evt_%s_%d_%s", r.ID, r.Rev, t), Type: t, At: r.UpdatedAt, Data: data})
	}
	return out
}

// flush publishes the record's outbox, then removes what it published from the stored
// record. A failure leaves the events in the outbox and fails the message, so the next
// attempt publishes them again (same ids).
func (s *Service) flush(ctx context.Context, r domain.OrderRecord) error {
	if len(r.Outbox) == 0 {
		return nil
	}
	if s.Events != nil {
		if err := s.Events.Publish(ctx, r.Tenant, r.Outbox); err != nil {
			return fmt.Errorf("publish order events: %w", err)
		}
	}
	sent := map[string]bool{}
	for _, e := range r.Outbox {
		sent[e.ID] = true
	}
	for round := 0; round < maxOrderRounds; round++ {
		if round > 0 {
			cur, err := s.Store.GetOrder(ctx, r.Tenant, r.ID)
			if err != nil {
				return fmt.Errorf("re-read order: %w", err)
			}
			r = cur
		}
		var left []domain.OrderEvent
		for _, e := range r.Outbox {
			if !sent[e.ID] {
				left = append(left, e)
			}
		}
		if len(left) == len(r.Outbox) {
			return nil
		}
		next := r
		next.Outbox, next.Rev = left, r.Rev+1
		err := s.Store.PutOrder(ctx, store.OrderWrite{Record: next, ExpectedRev: r.Rev})
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("clear order outbox: %w", err)
		}
	}
	return nil
}
