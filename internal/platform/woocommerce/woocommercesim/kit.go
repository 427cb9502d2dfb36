package woocommercesim

import (
	"strconv"
	"sync/atomic"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// Kit adapts the simulator to platformsim.Simulator for the demo and the bench.
type Kit struct {
	platformsim.KitBase
	Server *Server

	orders platformsim.OrderBook
	// deliveries numbers X-WC-Webhook-Delivery-ID, as core's action ids do.
	deliveries atomic.Int64
}

var _ platformsim.Simulator = (*Kit)(nil)

// NewKit builds a simulator with the connector's default limit.
func NewKit() *Kit {
	k := &Kit{}
	k.Server = New(Options{OnStockWrite: k.NotifyStock})
	return k
}

// Platform is "woocommerce".
func (k *Kit) Platform() string { return "woocommerce" }

// Start listens on addr.
func (k *Kit) Start(addr string) (string, error) {
	base, err := k.Server.Start(addr)
	k.SetBase(base)
	return base, err
}

// Close stops the listener.
func (k *Kit) Close() { k.Server.Close() }

// NewStore adds a store with generated keys. The simulator speaks plain HTTP on
// loopback, so the settings allow it (insecure_http); real stores need HTTPS.
func (k *Kit) NewStore(id string, ratePerMin int) (platformsim.Store, error) {
	base, err := k.Base()
	if err != nil {
		return platformsim.Store{}, err
	}
	cfg := StoreConfig{ConsumerKey: "ck_" + id, ConsumerSecret: "cs_" + id, RateLimitPerMin: ratePerMin}
	k.Server.AddStore(id, cfg)
	limit := ratePerMin
	if limit <= 0 {
		limit = k.Server.opts.RateLimitPerMin
	}
	return platformsim.Store{
		Settings: map[string]string{"base_url": StoreURL(base, id), "insecure_http": "true",
			"rate_limit_per_min": strconv.Itoa(limit), "batch_size": strconv.Itoa(k.Server.opts.BatchLimit)},
		Secrets: map[string]string{"consumer_key": cfg.ConsumerKey, "consumer_secret": cfg.ConsumerSecret,
			"webhook_secret": webhookSecret(id)},
	}, nil
}

// NewProduct adds a simple product managing its stock.
func (k *Kit) NewProduct(store, sku string, stock int64, price decimal.Decimal) (platformsim.Product, error) {
	id, err := k.Server.AddProduct(store, sku, stock, price)
	if err != nil {
		return platformsim.Product{}, err
	}
	return platformsim.Product{ProductID: strconv.FormatInt(id, 10)}, nil
}

// Stock is what the store holds now.
func (k *Kit) Stock(store string, p platformsim.Product) (int64, bool) {
	idStr := p.ProductID
	if p.VariantID != "" {
		idStr = p.VariantID
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return 0, false
	}
	it, ok := k.Server.Item(store, id)
	return it.Stock, ok
}

// Calls counts the store's requests.
func (k *Kit) Calls(store string) platformsim.Calls {
	s := k.Server.Calls(store)
	return platformsim.Calls{Writes: s.Writes, Total: s.Total, RateLimited: s.RateLimited}
}

// webhookSecret is the secret a store's deliveries are signed with (NewStore hands it out).
func webhookSecret(store string) string { return "whsec-" + store }
