package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// operatorOnly authenticates the operator's key (the admin API and page). A tenant
// without an operator key is run by whoever holds its API key, so that key opens the
// operator's views too; once an operator key is set, only it does: the ERP's
// integration key then never reaches failures, payloads or retries.
func (a *API) operatorOnly(h func(http.ResponseWriter, *http.Request, domain.Tenant)) http.Handler {
	return a.bearer("operator key", a.operatorTenant, h)
}

func (a *API) operatorTenant(ctx context.Context, keyHash string) (domain.Tenant, error) {
	t, err := a.Store.TenantByOperatorKeyHash(ctx, keyHash)
	if !errors.Is(err, store.ErrNotFound) {
		return t, err
	}
	t, err = a.Store.TenantByAPIKeyHash(ctx, keyHash)
	if err != nil {
		return domain.Tenant{}, err
	}
	if t.OperatorKeyHash != "" {
		return domain.Tenant{}, store.ErrNotFound
	}
	return t, nil
}
