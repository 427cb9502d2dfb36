package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// mutate is the read-change-save loop of every step after import (ack, ERP status,
// write-back result, release). It reads the order and hands change a copy to edit, with
// Rev and UpdatedAt already set for the write (events take their ids from them). change
// returns false to leave the order unwritten; its side effects must be safe to repeat,
// because a concurrent write makes mutate read again and call change again. It returns
// the record as saved, or as read when nothing was written.
func (s *Service) mutate(ctx context.Context, tenant, id string,
	change func(rec domain.OrderRecord, next *domain.OrderRecord) (bool, error)) (domain.OrderRecord, bool, error) {
	for round := 0; round < maxOrderRounds; round++ {
		rec, err := s.Store.GetOrder(ctx, tenant, id)
		if err != nil {
			return domain.OrderRecord{}, false, fmt.Errorf("order %s: %w", id, err)
		}
		next := rec
		next.History = append([]domain.OrderStep(nil), rec.History...)
		next.Outbox = append([]domain.OrderEvent(nil), rec.Outbox...)
		next.Rev, next.UpdatedAt = rec.Rev+1, s.now()
		write, err := change(rec, &next)
		if err != nil || !write {
			return rec, false, err
		}
		err = s.Store.PutOrder(ctx, store.OrderWrite{Record: next, ExpectedRev: rec.Rev})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return rec, false, fmt.Errorf("save order: %w", err)
		}
		if s.Metrics != nil && next.State != rec.State {
			// The ERP's refusals and cancels count like the platform's.
			s.Metrics.OrderState(next.Platform, next.State, next.Rejections[min(len(rec.Rejections), len(next.Rejections)):])
		}
		return next, true, nil
	}
	return domain.OrderRecord{}, false, fmt.Errorf("order %s kept changing; retry", id)
}
