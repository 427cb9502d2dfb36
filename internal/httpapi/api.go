// Package httpapi holds the HTTP handlers shared by the Lambda adapters and the local
// server: the ERP change and order APIs, platform webhooks, health and the operator's views.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/ponte-hub/ponte/internal/adminui"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/secrets/keys"
	"github.com/ponte-hub/ponte/internal/store"
)

// Store is the part of the Store port the API reads directly.
type Store interface {
	TenantByAPIKeyHash(ctx context.Context, keyHash string) (domain.Tenant, error)
	TenantByOperatorKeyHash(ctx context.Context, keyHash string) (domain.Tenant, error)
	GetConnection(ctx context.Context, id string) (domain.Connection, error)
	GetMapping(ctx context.Context, tenant, connectionID, sku string) (domain.Mapping, error)
	GetDesired(ctx context.Context, tenant, connectionID, sku string) (domain.DesiredState, error)
	GetPushed(ctx context.Context, tenant, connectionID, sku string) (domain.PushedState, error)
	ClaimIdempotency(ctx context.Context, key, requestHash string, lease time.Duration) (store.IdempotencyRecord, bool, error)
	RenewIdempotency(ctx context.Context, key, owner string, lease time.Duration) error
	CompleteIdempotency(ctx context.Context, key, owner string, statusCode int, response []byte, ttl time.Duration) error
	ReleaseIdempotency(ctx context.Context, key, owner string) error
}

// Ingester applies decoded ERP changes.
type Ingester interface {
	Apply(ctx context.Context, tenant string, changes []ingest.Change) (ingest.Result, error)
}

// API holds the handlers' dependencies.
type API struct {
	Store      Store
	Ingest     Ingester
	Connectors map[string]platform.Connector
	// Keys hashes presented API and operator keys the way setup stored them; nil hashes
	// them unkeyed (SHA-256), as stores written before the pepper hold them.
	Keys *keys.Hasher
	// Orders serves webhooks and the ERP's order routes; nil answers them 404.
	Orders Orders
	Log    *slog.Logger
	// IdempotencyTTL is how long a batch's Idempotency-Key is remembered (default 24 h).
	IdempotencyTTL time.Duration
	// IdempotencyLease is how long an in-progress key stays claimed without renewal
	// (default 10 s): the request renews it while it runs, so a key cut off by a crash
	// can be retried within one lease.
	IdempotencyLease time.Duration
	// Ops and Queues serve the operator's routes (/v1/admin/...); nil Ops answers them 404.
	Ops OpsStore
	// Catalog serves the operator's catalogue routes (unmapped SKUs, additional codes);
	// nil answers them 404.
	Catalog CatalogStore
	// FirstSync starts and reports first syncs; nil answers its routes 404.
	FirstSync FirstSyncer
	// Queues are every queue by name (changes, push-<platform>, orders, events).
	Queues map[string]queue.Queue
	// Observer, when set, hears every accepted batch (the bench times propagation from it).
	Observer func(tenant string, res ingest.Result, at time.Time)
}

// Handler routes every endpoint.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("POST /v1/erp/changes", a.tenantOnly(a.postChanges))
	mux.Handle("GET /v1/admin/connections/{id}/skus/{sku}", a.operatorOnly(a.getSKUView))
	mux.Handle("GET /v1/admin/connections/{id}/skus/{sku}/trace", a.operatorOnly(a.opsOn(a.getSKUTrace)))
	mux.Handle("POST /v1/admin/connections/{id}/dry-run", a.operatorOnly(a.opsOn(a.postDryRun)))
	mux.Handle("GET /v1/admin/queues", a.operatorOnly(a.opsOn(a.getQueues)))
	mux.Handle("GET /v1/admin/failures", a.operatorOnly(a.opsOn(a.getFailures)))
	mux.Handle("POST /v1/admin/failures/retry", a.operatorOnly(a.opsOn(a.postRetry)))
	mux.Handle("GET /v1/admin/orders", a.operatorOnly(a.opsOn(a.getOrderReport)))
	mux.Handle("GET /v1/admin/reports", a.operatorOnly(a.opsOn(a.getReports)))
	mux.Handle("GET /v1/admin/connections", a.operatorOnly(a.opsOn(a.getConnections)))
	mux.Handle("GET /v1/admin/connections/{id}/unmapped", a.operatorOnly(a.catalogOn(a.getUnmapped)))
	mux.Handle("POST /v1/admin/products/{sku}/codes", a.operatorOnly(a.catalogOn(a.postAdditionalCode)))
	mux.Handle("POST /v1/admin/connections/{id}/first-sync", a.operatorOnly(a.firstSyncOn(a.postFirstSync)))
	mux.Handle("GET /v1/admin/connections/{id}/first-sync", a.operatorOnly(a.firstSyncOn(a.getFirstSync)))
	mux.HandleFunc("POST /v1/webhooks/{platform}/{connection}", a.postWebhook)
	mux.Handle("GET /v1/erp/orders", a.tenantOnly(a.ordersOn(a.listOrders)))
	mux.Handle("GET /v1/erp/orders/{id}", a.tenantOnly(a.ordersOn(a.getOrder)))
	mux.Handle("POST /v1/erp/orders/{id}/ack", a.tenantOnly(a.ordersOn(a.postAck)))
	mux.Handle("GET /v1/erp/purchase-needs", a.tenantOnly(a.ordersOn(a.getPurchaseNeeds)))
	// The operator's page: static files that call the routes above with the operator key.
	mux.Handle("GET /admin/{path...}", http.StripPrefix("/admin", adminui.Handler()))
	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
	return a.withRequestID(mux)
}

type ctxKey int

const (
	tenantKey ctxKey = iota
	loggerKey
)

// withRequestID gives every request a correlation id, echoed back and put in its logs.
func (a *API) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 100 {
			id = newID()
		}
		w.Header().Set("X-Request-Id", id)
		log := a.Log.With("request_id", id, "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loggerKey, log)))
	})
}

func logger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// ErrorBody is every error answer's shape.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, ErrorBody{Error: msg, Field: field})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
