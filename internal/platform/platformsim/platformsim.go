// Package platformsim declares what every platform simulator offers the demo, the bench
// and end-to-end tests, so they can drive any connector the same way.
package platformsim

import (
	"time"

	"github.com/shopspring/decimal"
)

// Store is what a connection needs to reach one simulated store.
type Store struct {
	// Settings go to domain.Connection.Settings (base URL, store id, limits).
	Settings map[string]string
	// Secrets go to the connection's secret (credentials as the connector reads them).
	Secrets map[string]string
}

// Product names a simulated product (and variant) for the SKU's mapping.
type Product struct {
	ProductID string
	VariantID string
}

// Calls are a store's request counters.
type Calls struct {
	// Writes are requests that write stock, price or product data (a batch request counts once).
	Writes int64
	// Total counts every request, reads and auth included.
	Total int64
	// RateLimited counts 429 answers caused by the simulator's limits.
	RateLimited int64
}

// StockObserver hears every stock value a store applies, when it changes.
type StockObserver func(store string, p Product, stock int64, at time.Time)

// Simulator is one platform's simulator.
type Simulator interface {
	// Platform is the connector's platform name ("tray").
	Platform() string
	// Start listens on addr (loopback; "127.0.0.1:0" picks a port) and returns the base URL.
	Start(addr string) (string, error)
	Close()
	// NewStore creates a store whose rate limit is ratePerMin requests a minute (0: the
	// platform's documented default) and returns how a connection reaches it.
	NewStore(id string, ratePerMin int) (Store, error)
	// NewProduct creates a product for sku holding stock and price.
	NewProduct(store, sku string, stock int64, price decimal.Decimal) (Product, error)
	// Stock is what the store holds now.
	Stock(store string, p Product) (int64, bool)
	// ObserveStock registers the observer (one at a time).
	ObserveStock(o StockObserver)
	Calls(store string) Calls
	// OrderPlacer makes sales happen on a store, as its platform would deliver them.
	OrderPlacer
}
