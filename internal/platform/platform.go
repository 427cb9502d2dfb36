// Package platform declares the Platform port every store connector implements, the
// error kinds the push path acts on, and the credentials port connectors read secrets from.
// Each platform lives in its own package (tray/, ...) with a simulator for tests and the demo.
package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
)

// Target names a SKU's product (and variant) on the platform, from its mapping.
type Target struct {
	SKU       string `json:"sku"`
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id,omitempty"`
}

// Update is what one SKU's store entry should become. Nil parts are left alone, so one
// Update carries any mix of a stock push, a price push and a product push, and a
// connector can send them in a single call where the platform allows it.
type Update struct {
	Target
	Stock     *int64              `json:"stock,omitempty"`
	Price     *domain.Money       `json:"price,omitempty"`
	Cost      *domain.Money       `json:"cost,omitempty"`
	ListPrice *domain.Money       `json:"list_price,omitempty"`
	Product   *domain.ProductData `json:"product,omitempty"`
}

// Snapshot is what the platform holds now for one target.
type Snapshot struct {
	Target
	Stock  *int64        `json:"stock,omitempty"`
	Price  *domain.Money `json:"price,omitempty"`
	ReadAt time.Time     `json:"read_at"`
}

// WebhookRequest is a raw inbound delivery.
type WebhookRequest struct {
	Header http.Header
	Query  url.Values
	Body   []byte
}

// WebhookEvent is what a verified delivery tells the hub.
type WebhookEvent struct {
	// Topic is the platform's event name, e.g. "order/update" or "orders/create".
	Topic string `json:"topic"`
	// Resource is "order", "product", ...
	Resource string `json:"resource"`
	// ResourceID is the platform id of the affected resource (an order id for orders).
	ResourceID string `json:"resource_id"`
	// EventID de-duplicates deliveries when the platform gives one.
	EventID     string    `json:"event_id,omitempty"`
	TriggeredAt time.Time `json:"triggered_at,omitempty"`
	// Order is set when the delivery carries the full order; otherwise FetchOrder is needed.
	Order *domain.Order `json:"order,omitempty"`
}

// Connector is the Platform port.
type Connector interface {
	// Platform is the platform's name as used in routes and connections ("tray").
	Platform() string
	// Push writes updates; the returned slice has one error (or nil) per update, in order.
	Push(ctx context.Context, conn domain.Connection, updates []Update) []error
	// ReadBack reads stock and price for targets as the platform holds them now.
	ReadBack(ctx context.Context, conn domain.Connection, targets []Target) ([]Snapshot, error)
	// VerifyWebhook checks a delivery's signature (or documented substitute) and parses it.
	VerifyWebhook(ctx context.Context, conn domain.Connection, req WebhookRequest) (WebhookEvent, error)
	// FetchOrder reads a full order and normalises it.
	FetchOrder(ctx context.Context, conn domain.Connection, platformOrderID string) (domain.Order, error)
	// WriteOrderStatus writes an order's status (and invoice/tracking data) back.
	WriteOrderStatus(ctx context.Context, conn domain.Connection, platformOrderID string, u domain.OrderStatusUpdate) error
}

// Secrets is where connectors read credentials and save refreshed tokens.
type Secrets interface {
	GetSecret(ctx context.Context, ref string) (map[string]string, error)
	PutSecret(ctx context.Context, ref string, values map[string]string) error
}

// Kind classifies a platform failure for the push path.
type Kind int

const (
	// Transient failures (5xx, timeouts, garbage bodies) are retried with backoff.
	Transient Kind = iota
	// RateLimited failures are retried after the platform's wait hint.
	RateLimited
	// Auth failures mean the credentials are wrong or the store is blocked; retried slowly, then dead-lettered.
	Auth
	// Permanent failures (validation, unknown product) are dead-lettered at once.
	Permanent
)

func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case RateLimited:
		return "rate_limited"
	case Auth:
		return "auth"
	case Permanent:
		return "permanent"
	}
	return "unknown"
}

// Error is a classified platform failure.
type Error struct {
	Platform   string
	Op         string
	Kind       Kind
	StatusCode int
	// RetryAfter is the platform's wait hint; zero when it gave none.
	RetryAfter time.Duration
	Message    string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %s", e.Platform, e.Op, e.Kind)
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// AsError returns the classified error inside err; unclassified errors count as transient.
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Kind: Transient, Message: err.Error()}
}

// UnparseableError says a delivery passed the platform's signature check (or its
// documented substitute) but its body is not what the connector can read. The hub
// stores such a delivery, answers 2xx (platforms disable hooks that keep failing) and
// sends it to the failure inbox, from where it is replayed once the parser is fixed.
// VerifyWebhook returns it only after the signature is known good.
type UnparseableError struct {
	// Field names what did not parse ("body" when the body is not JSON at all), in the
	// platform's own terms, e.g. "line_items[0].price".
	Field string
	Err   error
}

func (e *UnparseableError) Error() string { return "field " + e.Field + ": " + e.Err.Error() }
func (e *UnparseableError) Unwrap() error { return e.Err }

// MalformedError says a delivery cannot even be checked: it is too large, or the fields
// its signature (or documented substitute) rests on are missing or unreadable. Nothing
// about it is trusted, so it is not stored; the hub answers 413 (TooLarge) or 400 naming
// Field, not 401, because nothing was found forged.
type MalformedError struct {
	Field    string
	TooLarge bool
	Err      error
}

func (e *MalformedError) Error() string { return "field " + e.Field + ": " + e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

// Malformed says a delivery cannot be checked because of field.
func Malformed(field string, format string, args ...any) error {
	return &MalformedError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Unparseable wraps a parse failure of a verified delivery.
func Unparseable(field string, format string, args ...any) error {
	return &UnparseableError{Field: field, Err: fmt.Errorf(format, args...)}
}
