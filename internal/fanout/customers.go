package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
)

// planCustomer returns the pushes one changed customer needs: one per enabled connection
// of the tenant whose platform takes customers and has not received this version yet.
// Customers have no desired state: the stored record is what every platform gets.
func (s *Service) planCustomer(ctx context.Context, tenant, id string) ([]push, error) {
	recs, err := s.Store.GetCustomers(ctx, tenant, []string{id})
	if err != nil {
		return nil, fmt.Errorf("read customer %s: %w", id, err)
	}
	rec, ok := recs[id]
	if !ok {
		return nil, nil // nothing known yet; a later change will queue it again
	}
	conns, err := s.connections(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var out []push
	for _, conn := range conns {
		if !s.CustomerPlatforms[conn.Platform] {
			continue
		}
		link, err := s.Store.GetCustomerLink(ctx, tenant, conn.ID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("read customer link %s/%s: %w", conn.ID, id, err)
		case link.PushedVersion >= rec.Version:
			continue // the platform has this version already
		}
		body, err := json.Marshal(PushMessage{Tenant: tenant, ConnectionID: conn.ID, Kind: KindCustomer, Customer: id, Rev: rec.Rev})
		if err != nil {
			return nil, fmt.Errorf("encode push message: %w", err)
		}
		out = append(out, push{platform: conn.Platform,
			msg: queue.OutMessage{Body: body, Group: conn.ID, Key: conn.ID + "|C|" + id}})
	}
	return out, nil
}
