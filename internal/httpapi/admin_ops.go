package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// OpsStore is the part of the Store port the operator's routes read besides Store.
type OpsStore interface {
	ListConnections(ctx context.Context, tenant string) ([]domain.Connection, error)
	GetSKUs(ctx context.Context, tenant string, skus []string) (map[string]domain.SKUState, error)
	MappingByPlatformID(ctx context.Context, connectionID, productID, variantID string) (domain.Mapping, error)
	ListOrders(ctx context.Context, tenant string, f store.OrderFilter, cursor string, limit int) ([]domain.OrderRecord, string, error)
	ListJobs(ctx context.Context, tenant, kind, connectionID string, limit int) ([]store.Job, error)
	// The dead-letter index: the failure inbox (admin_queues.go).
	store.DeadLetterStore
}

// opsOn answers 404 when the hub runs without the operator's dependencies.
func (a *API) opsOn(h func(http.ResponseWriter, *http.Request, domain.Tenant)) func(http.ResponseWriter, *http.Request, domain.Tenant) {
	return func(w http.ResponseWriter, r *http.Request, t domain.Tenant) {
		if a.Ops == nil {
			writeError(w, http.StatusNotFound, "", "the operator's API is not enabled on this hub")
			return
		}
		h(w, r, t)
	}
}

// queueNames lists the configured queues in a stable order.
func (a *API) queueNames() []string {
	names := make([]string, 0, len(a.Queues))
	for name := range a.Queues {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ownConnection reads a connection of t; another tenant's connection is "not found".
// It writes the error answer and returns false when the caller must stop.
func (a *API) ownConnection(w http.ResponseWriter, r *http.Request, t domain.Tenant, field, id string) (domain.Connection, bool) {
	conn, err := a.Store.GetConnection(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && conn.Tenant != t.ID) {
		writeError(w, http.StatusNotFound, field, fmt.Sprintf("no such connection %q", id))
		return domain.Connection{}, false
	}
	if err != nil {
		logger(r).Error("connection lookup failed", "tenant", t.ID, "connection", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "store unavailable; retry")
		return domain.Connection{}, false
	}
	return conn, true
}

// queryLimit parses ?limit= within 1..max, def when absent.
func queryLimit(w http.ResponseWriter, r *http.Request, def, max int) (int, bool) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		writeError(w, http.StatusBadRequest, "limit", fmt.Sprintf("an integer from 1 to %d", max))
		return 0, false
	}
	return n, true
}
