package push

import (
	"context"
	"errors"
	"fmt"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

// PushCustomers brings customers on one connection up to their stored versions in one
// CustomerPusher call: created the first time, updated by the remembered platform id
// later. One result per customer id.
func (s *Service) PushCustomers(ctx context.Context, tenant, connID string, ids []string) []error {
	errs := make([]error, len(ids))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	conn, err := s.Store.GetConnection(ctx, connID)
	if errors.Is(err, store.ErrNotFound) {
		return fail(worker.Dead("connection %s no longer exists", connID))
	}
	if err != nil {
		return fail(fmt.Errorf("read connection %s: %w", connID, err))
	}
	if conn.Tenant != tenant {
		return fail(worker.Dead("connection %s does not belong to tenant %s", connID, tenant))
	}
	if !conn.Enabled {
		return errs
	}
	connector, ok := s.Connectors[conn.Platform]
	if !ok {
		return fail(worker.Dead("no connector for platform %q (connection %s)", conn.Platform, connID))
	}
	pusher, ok := connector.(platform.CustomerPusher)
	if !ok {
		return fail(worker.Dead("platform %q does not take customers (connection %s)", conn.Platform, connID))
	}
	recs, err := s.Store.GetCustomers(ctx, tenant, ids)
	if err != nil {
		return fail(fmt.Errorf("read customers: %w", err))
	}
	type pending struct {
		index int
		rec   store.CustomerRecord
	}
	var (
		plans   []pending
		updates []platform.CustomerUpdate
	)
	for i, id := range ids {
		rec, ok := recs[id]
		if !ok {
			continue // nothing stored: nothing to push
		}
		var platformID string
		link, err := s.Store.GetCustomerLink(ctx, tenant, connID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			errs[i] = fmt.Errorf("read customer link %s/%s: %w", connID, id, err)
			continue
		case link.PushedVersion >= rec.Version:
			continue // already there (a duplicate or a late message)
		default:
			platformID = link.PlatformID
		}
		plans = append(plans, pending{index: i, rec: rec})
		updates = append(updates, platform.CustomerUpdate{PlatformID: platformID, Customer: rec.Customer})
	}
	if len(plans) == 0 {
		return errs
	}
	results := pusher.PushCustomers(ctx, conn, updates)
	for j, p := range plans {
		res := platform.CustomerResult{Err: fmt.Errorf("connector returned %d results for %d customers", len(results), len(updates))}
		if j < len(results) {
			res = results[j]
		}
		id := p.rec.CustomerID
		if res.Err != nil {
			pe := platform.AsError(res.Err)
			s.Log.Warn("customer push failed", "tenant", tenant, "connection", connID, "platform", conn.Platform, "customer", id,
				"kind", pe.Kind.String(), "status", pe.StatusCode, "err", res.Err)
			if pe.Kind == platform.Permanent {
				errs[p.index] = worker.Dead("%s push of customer %s on %s refused: %v", conn.Platform, id, connID, res.Err)
			} else {
				errs[p.index] = worker.Retry(pe.RetryAfter, fmt.Errorf("%s push of customer %s on %s: %w", conn.Platform, id, connID, res.Err))
			}
			continue
		}
		if res.PlatformID == "" {
			errs[p.index] = fmt.Errorf("%s push of customer %s on %s: the connector returned no platform id", conn.Platform, id, connID)
			continue
		}
		link := store.CustomerLink{Tenant: tenant, ConnectionID: connID, CustomerID: id, PlatformID: res.PlatformID,
			PushedVersion: p.rec.Version, PushedAt: s.Now().UTC()}
		if err := s.Store.PutCustomerLink(ctx, link); err != nil && !errors.Is(err, store.ErrStale) {
			// The platform has the customer but the hub does not know its id: the retry
			// would create it twice, so say so plainly.
			errs[p.index] = fmt.Errorf("record customer link %s/%s (platform id %s): %w", connID, id, res.PlatformID, err)
		}
	}
	return errs
}
