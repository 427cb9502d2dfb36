package domain

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"strings"
	"time"
)

// OrderState is where the hub stands on a platform order.
type OrderState string

const (
	// OrderWaiting: the platform status is not importable yet (e.g. awaiting payment); a
	// later delivery with an importable status imports it.
	OrderWaiting OrderState = "waiting"
	// OrderAccepted: imported, stock reserved, offered to the ERP.
	OrderAccepted OrderState = "accepted"
	// OrderRejected: not imported; Rejections say why. A later delivery re-evaluates it.
	OrderRejected OrderState = "rejected"
	// OrderCancelled: cancelled on the platform or by the ERP; reservations released.
	OrderCancelled OrderState = "cancelled"
)

// ERPState tracks the hand-off of an accepted order to the ERP.
type ERPState string

const (
	ERPNone ERPState = ""
	// ERPPending: offered, not yet registered (pull it, or the push is being delivered).
	ERPPending ERPState = "pending"
	// ERPRegistered: the ERP acknowledged it with its own order number.
	ERPRegistered ERPState = "registered"
	// ERPRefused: the ERP rejected it with a reason.
	ERPRefused ERPState = "refused"
	// ERPWithdrawn: cancelled before the ERP took it; no longer offered.
	ERPWithdrawn ERPState = "withdrawn"
)

// HubRejected is the hub status whose write-back tells the platform the order was
// rejected (by the hub's rules or by the ERP); its platform status comes from the
// connection's status map (write_back.rejected), never a default.
const HubRejected = "rejected"

// Fulfilment statuses the ERP reports through order_status changes.
const (
	FulfilInvoiced  = "invoiced"
	FulfilShipped   = "shipped"
	FulfilDelivered = "delivered"
	FulfilCancelled = "cancelled"
)

// Rejection codes, stable for filters and for the ERP.
const (
	RejectUnmappedSKU         = "unmapped_sku"
	RejectUnknownProduct      = "unknown_product"
	RejectStatusNotImportable = "status_not_importable"
	RejectStatusRejected      = "status_rejected"
	RejectMissingAddress      = "missing_address"
	RejectNoStock             = "no_stock"
	RejectNoLines             = "no_lines"
	RejectERPRefused          = "erp_refused"
)

// OrderRejection is one readable reason an order was not imported. Line is the 0-based
// line index, or -1 for the whole order.
type OrderRejection struct {
	Line    int    `json:"line"`
	SKU     string `json:"sku,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ResolvedLine is an order line matched to an ERP SKU.
type ResolvedLine struct {
	Line     int    `json:"line"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	// Shortfall is how much of Quantity had no stock when the order was accepted.
	Shortfall int64  `json:"shortfall,omitempty"`
	Supplier  string `json:"supplier,omitempty"`
}

// ERPHandoff is an order's delivery to the ERP.
type ERPHandoff struct {
	State       ERPState   `json:"state,omitempty"`
	OrderNumber string     `json:"order_number,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	OfferedAt   *time.Time `json:"offered_at,omitempty"`
	AckedAt     *time.Time `json:"acked_at,omitempty"`
}

// Fulfilment is the ERP's latest order_status for an order and its write-back result.
type Fulfilment struct {
	Status  string            `json:"status,omitempty"`
	Version Version           `json:"version,omitempty"`
	Update  OrderStatusUpdate `json:"update"`
	// WrittenStatus is the platform status last written back; WriteError the last failure.
	WrittenStatus string     `json:"written_status,omitempty"`
	WrittenAt     *time.Time `json:"written_at,omitempty"`
	WriteError    string     `json:"write_error,omitempty"`
}

// OrderEvent is an outgoing event waiting in an order's outbox.
type OrderEvent struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// OrderStep is one line of an order's history (the trace the operator reads).
type OrderStep struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// MaxOrderHistory bounds the history kept on a record.
const MaxOrderHistory = 30

// OrderRecord is the hub's one record of a platform order: one per (connection, platform
// order id), whatever the number and order of deliveries.
type OrderRecord struct {
	ID             string     `json:"id"`
	Tenant         string     `json:"tenant"`
	ConnectionID   string     `json:"connection_id"`
	Platform       string     `json:"platform"`
	PlatformID     string     `json:"platform_id"`
	Number         string     `json:"number,omitempty"`
	State          OrderState `json:"state"`
	PlatformStatus string     `json:"platform_status"`
	// PlatformUpdatedAt is the newest platform update applied; older deliveries are ignored.
	PlatformUpdatedAt time.Time `json:"platform_updated_at"`
	// FetchedAt is when the hub began the platform read whose result this record holds
	// (thin notifications): a notification received before it is already reflected.
	FetchedAt  *time.Time       `json:"fetched_at,omitempty"`
	Order      Order            `json:"order"`
	CustomerID string           `json:"customer_id,omitempty"`
	Lines      []ResolvedLine   `json:"lines,omitempty"`
	Rejections []OrderRejection `json:"rejections,omitempty"`
	// Reserved is the quantity this order holds per SKU right now.
	Reserved     map[string]int64 `json:"reserved,omitempty"`
	PaymentTerms string           `json:"payment_terms,omitempty"`
	ERP          ERPHandoff       `json:"erp"`
	Fulfilment   Fulfilment       `json:"fulfilment"`
	// Outbox holds events saved with the record and not yet queued (transactional outbox).
	Outbox    []OrderEvent `json:"outbox,omitempty"`
	History   []OrderStep  `json:"history,omitempty"`
	Rev       int64        `json:"rev"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// Note appends a history step, keeping the newest MaxOrderHistory.
func (r *OrderRecord) Note(at time.Time, what string) {
	r.History = append(r.History, OrderStep{At: at.UTC(), What: what})
	if n := len(r.History) - MaxOrderHistory; n > 0 {
		r.History = append([]OrderStep(nil), r.History[n:]...)
	}
}

// OrderID is the hub's id of a platform order: deterministic, so concurrent deliveries of
// one order meet on one record, and URL-safe whatever the platform id looks like.
func OrderID(connectionID, platformOrderID string) string {
	sum := sha256.Sum256([]byte(connectionID + "\x00" + platformOrderID))
	return "ord_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// PurchaseNeed is stock an accepted order sold without having it (seed 004): one per
// order and SKU, listed per supplier so the merchant knows what to buy.
type PurchaseNeed struct {
	Tenant       string    `json:"tenant"`
	Supplier     string    `json:"supplier"`
	SKU          string    `json:"sku"`
	OrderID      string    `json:"order_id"`
	ConnectionID string    `json:"connection_id"`
	Quantity     int64     `json:"quantity"`
	CreatedAt    time.Time `json:"created_at"`
}

// OrderStatusChange is an ERP order_status change (flow 5): invoiced with invoice data,
// shipped with tracking, delivered, cancelled. Version moves only forward per order.
type OrderStatusChange struct {
	OrderID string            `json:"order_id"`
	Status  string            `json:"status"` // FulfilInvoiced, FulfilShipped, FulfilDelivered, FulfilCancelled
	Version Version           `json:"version"`
	Update  OrderStatusUpdate `json:"update"`
}
