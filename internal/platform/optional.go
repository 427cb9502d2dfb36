package platform

import (
	"context"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
)

// Optional capabilities. A connector implements those its platform supports; callers
// check with a type assertion.

// OrderPoller takes orders by polling, for platforms without order webhooks (Mercos).
// The cursor is opaque to the caller, stored durably between polls; "" starts from the
// connection's configured start (or the beginning).
type OrderPoller interface {
	PollOrders(ctx context.Context, conn domain.Connection, cursor string) (page OrderPage, err error)
}

// OrderPage is one poll's result. Orders are full and normalised. More says another page
// is ready now (poll again at once with Next). Failed lists orders the page named but the
// connector could not read: the poll passes over them (one bad order must not stop
// intake) and the hub reads each one again through FetchOrder, so a lasting failure
// reaches the failure inbox with its reason and can be replayed.
type OrderPage struct {
	Orders []domain.Order
	Failed []FailedOrder
	Next   string
	More   bool
}

// FailedOrder is an order a poll could not read, by platform id, with the reason.
type FailedOrder struct {
	PlatformID string
	Reason     string
}

// CustomerPusher writes customers from the ERP to the platform (Mercos clientes). The
// result has one entry per customer: the platform id on success, or the error.
type CustomerPusher interface {
	PushCustomers(ctx context.Context, conn domain.Connection, customers []CustomerUpdate) []CustomerResult
}

// CustomerUpdate is a customer to create (PlatformID empty) or update.
type CustomerUpdate struct {
	PlatformID string
	Customer   domain.Customer
}

// CustomerResult is one customer's outcome.
type CustomerResult struct {
	PlatformID string
	Err        error
}

// CatalogReader pages through the platform's catalogue: for reconciliation (read stock and
// price of everything) and the first sync (match existing products to ERP SKUs).
type CatalogReader interface {
	ListCatalog(ctx context.Context, conn domain.Connection, cursor string) (CatalogPage, error)
}

// CatalogPage is one page of the catalogue. Next is "" on the last page.
type CatalogPage struct {
	Items []CatalogItem
	Next  string
}

// CatalogItem is one sellable item (a product without variants, or one variant).
type CatalogItem struct {
	Target
	Name        string            `json:"name"`
	EAN         string            `json:"ean,omitempty"`
	Stock       *int64            `json:"stock,omitempty"`
	Price       *domain.Money     `json:"price,omitempty"`
	Description string            `json:"description,omitempty"`
	Category    string            `json:"category,omitempty"`
	Images      []string          `json:"images,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

// CustomerLister pages through the platform's customers, so the first sync can link them
// to ERP customers instead of creating duplicates (Mercos clientes).
type CustomerLister interface {
	ListCustomers(ctx context.Context, conn domain.Connection, cursor string) (CustomerPage, error)
}

// CustomerPage is one page of customers. Next is "" on the last page.
type CustomerPage struct {
	Customers []PlatformCustomer
	Next      string
}

// PlatformCustomer is one customer as the platform holds it, with its platform id.
type PlatformCustomer struct {
	PlatformID string
	Customer   domain.Customer
}

// OrderPollPacer gives the connector's default pace for order polling when the
// connection's order_poll_interval setting is unset. Platforms whose orders come only by
// polling (Mercos) answer 0: every scheduler tick. Connectors that do not implement it
// are polled as a safety net for lost webhooks, every DefaultOrderPollInterval.
type OrderPollPacer interface {
	DefaultOrderPollInterval() time.Duration
}

// DefaultOrderPollInterval is the safety-net pace for platforms that also send webhooks:
// a missed or disabled webhook is caught within minutes.
const DefaultOrderPollInterval = 5 * time.Minute

// TargetNormaliser puts a mapping's platform ids into the one form the connector's orders
// and catalogue use, accepting every form the platform documents (Shopify: "632910392"
// and "gid://shopify/Product/632910392"). Setup and mapping writes call it, so an order
// line always finds its mapping whichever form the operator typed.
type TargetNormaliser interface {
	NormaliseTarget(t Target) (Target, error)
}

// UnsignedWebhooks is implemented by connectors whose platform signs nothing (Tray: the
// store id in the body is the only check), so anyone who knows a connection's URL can
// post notifications. The hub caps such deliveries per connection and remembers order
// ids the platform said do not exist, so a forged flood cannot turn into platform calls.
type UnsignedWebhooks interface {
	UnsignedWebhooks() bool
}
