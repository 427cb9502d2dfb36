package merchantprosim

import (
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// Kit adapts the simulator to platformsim.Simulator for the demo and the bench.
type Kit struct {
	platformsim.KitBase
	Server *Server

	mu     sync.Mutex
	orders platformsim.OrderBook
	next   map[string]int64
}

var _ platformsim.Simulator = (*Kit)(nil)

// NewKit builds a simulator with MerchantPro's default limit (4 requests a second).
func NewKit() *Kit {
	k := &Kit{next: map[string]int64{}}
	k.Server = New(Options{OnStockWrite: k.NotifyStock})
	return k
}

// Platform is "merchantpro".
func (k *Kit) Platform() string { return "merchantpro" }

// Start listens on addr.
func (k *Kit) Start(addr string) (string, error) {
	base, err := k.Server.Start(addr)
	k.SetBase(base)
	return base, err
}

// Close stops the listener.
func (k *Kit) Close() { k.Server.Close() }

// NewStore adds a store with generated credentials. ratePerMin > 0 sets a limit of that
// many requests per rolling minute (a multiple of 60 from 600 up is applied as
// ratePerMin/60 per rolling second: never more per minute, and the limiter's slots stay
// small for the bench's huge limits); 0 keeps MerchantPro's default (4 per second). The
// returned settings carry the same limit, so the connector never trips it.
func (k *Kit) NewStore(id string, ratePerMin int) (platformsim.Store, error) {
	base, err := k.Base()
	if err != nil {
		return platformsim.Store{}, err
	}
	cfg := StoreConfig{APIKey: "key-" + id, APISecret: "secret-" + id}
	limit, window := k.Server.opts.RateLimit, k.Server.opts.RateWindow
	switch {
	case ratePerMin >= 600 && ratePerMin%60 == 0:
		limit, window = ratePerMin/60, time.Second
		cfg.RateLimit, cfg.RateWindow = limit, window
	case ratePerMin > 0:
		limit, window = ratePerMin, time.Minute
		cfg.RateLimit, cfg.RateWindow = limit, window
	}
	k.Server.AddStore(id, cfg)
	return platformsim.Store{
		Settings: map[string]string{
			"base_url":       StoreURL(base, id),
			"rate_limit":     strconv.Itoa(limit),
			"rate_window_ms": strconv.FormatInt(window.Milliseconds(), 10),
		},
		Secrets: map[string]string{"api_key": cfg.APIKey, "api_secret": cfg.APISecret,
			"webhook_secret": webhookSecret(id)},
	}, nil
}

// NewProduct adds a simple product (stock and price on the product itself).
func (k *Kit) NewProduct(store, sku string, stock int64, price decimal.Decimal) (platformsim.Product, error) {
	k.mu.Lock()
	k.next[store]++
	id := 1000 + k.next[store]
	k.mu.Unlock()
	err := k.Server.AddProduct(store, Product{ID: id, SKU: sku, Name: "Product " + sku, Stock: stock,
		PriceGross: price, PriceNet: price})
	if err != nil {
		return platformsim.Product{}, err
	}
	return platformsim.Product{ProductID: strconv.FormatInt(id, 10)}, nil
}

// Stock is what the store holds now.
func (k *Kit) Stock(store string, p platformsim.Product) (int64, bool) {
	pid, err := strconv.ParseInt(p.ProductID, 10, 64)
	if err != nil {
		return 0, false
	}
	var vid int64
	if p.VariantID != "" {
		if vid, err = strconv.ParseInt(p.VariantID, 10, 64); err != nil {
			return 0, false
		}
	}
	return k.Server.Stock(store, pid, vid)
}

// Calls counts the store's requests; writes are its authenticated product PATCHes.
func (k *Kit) Calls(store string) platformsim.Calls {
	s := k.Server.Calls(store)
	return platformsim.Calls{Writes: s.Writes, Total: s.Total, RateLimited: s.RateLimited}
}

// webhookSecret is the secret a store's deliveries are signed with (NewStore hands it out).
func webhookSecret(store string) string { return "whsec-" + store }
