package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// tenantOnly authenticates the tenant's API key; the handler sees only its tenant's data.
func (a *API) tenantOnly(h func(http.ResponseWriter, *http.Request, domain.Tenant)) http.Handler {
	return a.bearer("tenant key", a.Store.TenantByAPIKeyHash, h)
}

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

// bearer authenticates the bearer key with lookup and hands the handler its tenant. A
// disabled tenant (one the setup no longer lists) is unknown: its keys answer 401.
func (a *API) bearer(what string, lookup func(context.Context, string) (domain.Tenant, error),
	h func(http.ResponseWriter, *http.Request, domain.Tenant)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, key, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		key = strings.TrimSpace(key)
		if !strings.EqualFold(scheme, "Bearer") || key == "" {
			writeError(w, http.StatusUnauthorized, "authorization", "missing bearer key: send 'Authorization: Bearer <"+what+">'")
			return
		}
		t, err := a.tenantByKey(r.Context(), key, lookup)
		if errors.Is(err, store.ErrNotFound) || (err == nil && t.Disabled) {
			writeError(w, http.StatusUnauthorized, "authorization", "unknown key: not a "+what+" of this hub")
			return
		}
		if err != nil {
			logger(r).Error("tenant lookup failed", "err", err)
			writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), tenantKey, t)), t)
	})
}

// tenantByKey looks the key up in each form it may be stored in, keyed hash first: a key
// still stored as unkeyed SHA-256 (before the pepper) keeps working until the next setup
// apply rewrites it keyed.
func (a *API) tenantByKey(ctx context.Context, key string, lookup func(context.Context, string) (domain.Tenant, error)) (domain.Tenant, error) {
	var err error
	for _, hash := range a.Keys.Candidates(key) {
		var t domain.Tenant
		if t, err = lookup(ctx, hash); !errors.Is(err, store.ErrNotFound) {
			return t, err
		}
	}
	return domain.Tenant{}, err
}
