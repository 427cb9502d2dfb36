package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/ponte-hub/ponte/internal/domain"
)

// ConnectionLister is the part of the port that walks every tenant's connections.
type ConnectionLister interface {
	ListTenants(ctx context.Context) ([]domain.Tenant, error)
	ListConnections(ctx context.Context, tenant string) ([]domain.Connection, error)
}

// EnabledConnections lists every enabled tenant's enabled connections, for the jobs that
// visit them all (reconciliation, order polling). A tenant whose connections cannot be
// read is skipped and its error joined into the returned one, with the connections that could.
func EnabledConnections(ctx context.Context, s ConnectionLister) ([]domain.Connection, error) {
	tenants, err := s.ListTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out := []domain.Connection{}
	var errs []error
	for _, t := range tenants {
		if t.Disabled {
			continue
		}
		conns, err := s.ListConnections(ctx, t.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("list connections of %s: %w", t.ID, err))
			continue
		}
		for _, c := range conns {
			if c.Enabled {
				out = append(out, c)
			}
		}
	}
	return out, errors.Join(errs...)
}
