package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/orders"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
)

// MaxWebhookBytes bounds one platform delivery; real order notifications are a few KiB.
const MaxWebhookBytes = 1 << 20

// Orders is the order use case the API calls.
type Orders interface {
	Receive(ctx context.Context, platformName, connectionID string, req platform.WebhookRequest) (orders.Receipt, error)
	ListForERP(ctx context.Context, tenant string, f store.OrderFilter, cursor string, limit int) ([]domain.OrderRecord, string, error)
	GetOrder(ctx context.Context, tenant, id string) (domain.OrderRecord, error)
	Ack(ctx context.Context, tenant, orderID string, a orders.Ack) (domain.OrderRecord, error)
	PurchaseNeeds(ctx context.Context, tenant, supplier string) ([]domain.PurchaseNeed, error)
}

// postWebhook is POST /v1/webhooks/{platform}/{connection}. There is no bearer key: the
// use case checks the platform's signature. The delivery is stored before the 200, and
// any failure to store it is a 503 so the platform delivers it again.
func (a *API) postWebhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	plat, conn := r.PathValue("platform"), r.PathValue("connection")
	log := logger(r).With("platform", plat, "connection", conn)
	size := r.ContentLength
	// refuse logs one line per refusal; never the body, the headers or the error text of
	// a signature check (either may carry a secret).
	refuse := func(status int, field, reason, msg string) {
		log.Info("webhook refused", "reason", reason, "status", status, "remote", r.RemoteAddr, "size", size)
		writeError(w, status, field, msg)
	}
	if a.Orders == nil {
		refuse(http.StatusNotFound, "connection", "orders not enabled", "orders are not enabled on this hub")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			refuse(http.StatusRequestEntityTooLarge, "body", "too large", "delivery exceeds 1 MiB")
			return
		}
		refuse(http.StatusBadRequest, "body", "unreadable body", "could not read body")
		return
	}
	size = int64(len(body))
	rec, err := a.Orders.Receive(r.Context(), plat, conn, platform.WebhookRequest{Header: r.Header, Query: r.URL.Query(), Body: body})
	var malformed *platform.MalformedError
	switch {
	case errors.As(err, &malformed) && malformed.TooLarge:
		refuse(http.StatusRequestEntityTooLarge, malformed.Field, "too large", malformed.Error())
	case errors.As(err, &malformed):
		// The delivery cannot be checked at all: the error names the field, never a value.
		refuse(http.StatusBadRequest, malformed.Field, "malformed", malformed.Error())
	case errors.Is(err, orders.ErrUnknownConnection):
		refuse(http.StatusNotFound, "connection", "unknown connection", "no such connection for this platform")
	case errors.Is(err, orders.ErrTooManyUnverified):
		// Unsigned platforms only (Tray): the store's next notification or the order poll
		// brings a real change in.
		w.Header().Set("Retry-After", "60")
		refuse(http.StatusTooManyRequests, "connection", "too many unverifiable", "too many notifications for this connection; retry later")
	case errors.Is(err, orders.ErrBadSignature):
		refuse(http.StatusUnauthorized, "signature", "bad signature", "signature check failed")
	case err != nil:
		log.Error("webhook not stored", "reason", "store failed", "err", err, "remote", r.RemoteAddr, "size", size)
		writeError(w, http.StatusServiceUnavailable, "", "could not store the delivery; retry")
	default:
		writeJSON(w, http.StatusOK, rec)
		log.Debug("webhook stored", "delivery_id", rec.DeliveryID, "duplicate", rec.Duplicate,
			"ack_ms", float64(time.Since(start).Microseconds())/1000)
	}
}
