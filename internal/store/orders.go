package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
)

// Delivery is one raw inbound order notification (a webhook, or an order taken by
// polling), stored before the platform gets its 2xx so nothing acknowledged is lost.
type Delivery struct {
	ConnectionID string `json:"connection_id"`
	// ID identifies the delivery within the connection: the platform's event id when it
	// gives one, else a hash of the body, so a redelivery of the same event has the same
	// ID. A thin notification (ids only) without an event id gets an ID of its own:
	// platforms send identical bodies for different changes of one order.
	ID       string `json:"id"`
	Tenant   string `json:"tenant"`
	Platform string `json:"platform"`
	// Event is the verified, parsed platform.WebhookEvent as JSON.
	Event json.RawMessage `json:"event"`
	// Body is the raw body as received (kept for the operator and for replays).
	Body []byte `json:"body,omitempty"`
	// Header and Query are kept for a delivery whose body did not parse, so it can be
	// verified and parsed again on replay (credentials headers are never kept).
	Header     map[string][]string `json:"header,omitempty"`
	Query      map[string][]string `json:"query,omitempty"`
	ReceivedAt time.Time           `json:"received_at"`
	// ProcessedAt is set once the order worker has handled the delivery; Outcome says how.
	ProcessedAt *time.Time `json:"processed_at,omitempty"`
	Outcome     string     `json:"outcome,omitempty"`
}

// OrderWrite is one optimistic order write: it succeeds only if the stored Rev still
// equals ExpectedRev (0 means "must not exist yet"). Record.Rev must be ExpectedRev+1.
type OrderWrite struct {
	Record      domain.OrderRecord
	ExpectedRev int64
}

// OrderFilter narrows ListOrders. With ERPState set, orders come in the order they were
// offered to the ERP (ERP.OfferedAt, then ID); otherwise by ID. Empty fields match all.
type OrderFilter struct {
	ERPState     domain.ERPState
	State        domain.OrderState
	ConnectionID string
}

// OrderStore is the order part of the port (embedded in Store).
type OrderStore interface {
	// PutDelivery stores d unless (ConnectionID, ID) is already stored; created says which.
	PutDelivery(ctx context.Context, d Delivery) (created bool, err error)
	GetDelivery(ctx context.Context, connectionID, id string) (Delivery, error)
	// MarkDeliveryProcessed sets ProcessedAt and Outcome (idempotent; ErrNotFound when absent).
	MarkDeliveryProcessed(ctx context.Context, connectionID, id, outcome string, at time.Time) error
	// ListUnprocessedDeliveries returns up to limit deliveries received before `before`
	// and not yet processed, oldest first (the sweeper re-queues them after a crash).
	ListUnprocessedDeliveries(ctx context.Context, before time.Time, limit int) ([]Delivery, error)

	GetOrder(ctx context.Context, tenant, id string) (domain.OrderRecord, error)
	// PutOrder applies one optimistic write; ErrConflict when the stored Rev differs.
	PutOrder(ctx context.Context, w OrderWrite) error
	// ListOrders returns up to limit of a tenant's orders matching f after cursor ("" is
	// the start) and the cursor of the next page ("" on the last page).
	ListOrders(ctx context.Context, tenant string, f OrderFilter, cursor string, limit int) (orders []domain.OrderRecord, next string, err error)

	// PutPurchaseNeeds stores needs, replacing any with the same (tenant, order, SKU).
	PutPurchaseNeeds(ctx context.Context, needs []domain.PurchaseNeed) error
	// DeletePurchaseNeeds removes an order's needs (cancelled order).
	DeletePurchaseNeeds(ctx context.Context, tenant, orderID string) error
	// ListPurchaseNeeds returns a tenant's needs, of one supplier when supplier is not
	// "", ordered by supplier, SKU, order id.
	ListPurchaseNeeds(ctx context.Context, tenant, supplier string) ([]domain.PurchaseNeed, error)

	// GetCursor reads a named durable cursor (polling intake); "" when never set.
	GetCursor(ctx context.Context, name string) (string, error)
	PutCursor(ctx context.Context, name, value string) error
}

// ValidateOrderWrite checks the shape every backend requires of an order write.
func ValidateOrderWrite(w OrderWrite) error {
	switch {
	case w.Record.Tenant == "" || w.Record.ID == "":
		return errors.New("order write: tenant and id are required")
	case w.Record.Rev != w.ExpectedRev+1:
		return fmt.Errorf("order %s: rev %d must be expected rev %d + 1", w.Record.ID, w.Record.Rev, w.ExpectedRev)
	}
	return nil
}
