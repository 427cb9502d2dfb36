package mercossim

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// Kit adapts the simulator to platformsim.Simulator for the demo and the bench.
type Kit struct {
	platformsim.KitBase
	Server *Server

	orders platformsim.OrderBook
}

var _ platformsim.Simulator = (*Kit)(nil)

// NewKit builds a simulator with Mercos' documented defaults.
func NewKit() *Kit {
	k := &Kit{}
	k.Server = New(Options{OnStockWrite: k.NotifyStock})
	return k
}

// Platform is "mercos".
func (k *Kit) Platform() string { return "mercos" }

// Start listens on addr.
func (k *Kit) Start(addr string) (string, error) {
	base, err := k.Server.Start(addr)
	k.SetBase(base)
	return base, err
}

// Close stops the listener.
func (k *Kit) Close() { k.Server.Close() }

// NewStore adds a company with generated tokens; its limit is ratePerMin per minute.
func (k *Kit) NewStore(id string, ratePerMin int) (platformsim.Store, error) {
	base, err := k.Base()
	if err != nil {
		return platformsim.Store{}, err
	}
	cfg := StoreConfig{ApplicationToken: "app-" + id, CompanyToken: "company-" + id, RateLimitPerMin: ratePerMin}
	k.Server.AddStore(id, cfg)
	limit := ratePerMin
	if limit <= 0 {
		limit = k.Server.opts.RateLimitPerMin
	}
	return platformsim.Store{
		Settings: map[string]string{"base_url": APIBase(base), "rate_limit_per_min": strconv.Itoa(limit),
			"rate_window_ms": strconv.FormatInt(k.Server.opts.RateWindow.Milliseconds(), 10)},
		Secrets: map[string]string{"application_token": cfg.ApplicationToken, "company_token": cfg.CompanyToken},
	}, nil
}

// NewProduct adds a simple product (stock lives on it) coded sku.
func (k *Kit) NewProduct(store, sku string, stock int64, price decimal.Decimal) (platformsim.Product, error) {
	if k.Server.store(store) == nil {
		return platformsim.Product{}, fmt.Errorf("mercossim: no store %q", store)
	}
	id := k.Server.AddProduct(store, sku, sku, stock, price)
	return platformsim.Product{ProductID: strconv.FormatInt(id, 10)}, nil
}

// Stock is what the store holds now (the grid child's when VariantID is set).
func (k *Kit) Stock(store string, p platformsim.Product) (int64, bool) {
	idStr := p.ProductID
	if p.VariantID != "" {
		idStr = p.VariantID
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return 0, false
	}
	pr, ok := k.Server.Product(store, id)
	if !ok || pr.Stock == nil {
		return 0, ok
	}
	return pr.Stock.IntPart(), true
}

// Calls counts the store's requests.
func (k *Kit) Calls(store string) platformsim.Calls {
	c := k.Server.Calls(store)
	return platformsim.Calls{Writes: c.Writes, Total: c.Total, RateLimited: c.RateLimited}
}
