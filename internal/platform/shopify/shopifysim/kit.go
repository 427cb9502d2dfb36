package shopifysim

import (
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

// NewKit builds a simulator with Shopify's Standard-plan cost limits.
func NewKit() *Kit {
	k := &Kit{}
	k.Server = New(Options{OnStockWrite: k.NotifyStock})
	return k
}

// Platform is "shopify".
func (k *Kit) Platform() string { return "shopify" }

// Start listens on addr.
func (k *Kit) Start(addr string) (string, error) {
	base, err := k.Server.Start(addr)
	k.SetBase(base)
	return base, err
}

// Close stops the listener.
func (k *Kit) Close() { k.Server.Close() }

// NewStore adds a shop. Shopify limits by query cost, not requests: ratePerMin > 0 sets
// the restore rate to ratePerMin*10/60 points a second (one 10-point mutation per
// request) with a bucket of ten seconds' worth; 0 keeps the Standard plan (2000, 100/s).
// The settings carry the same numbers, so the connector's bucket matches the shop's.
func (k *Kit) NewStore(id string, ratePerMin int) (platformsim.Store, error) {
	base, err := k.Base()
	if err != nil {
		return platformsim.Store{}, err
	}
	cfg := StoreConfig{Token: "shpat_sim" + id}
	if ratePerMin > 0 {
		cfg.RestoreRate = max(float64(ratePerMin)*10/60, 1)
		cfg.BucketSize = max(cfg.RestoreRate*10, 1000) // room for one full Variants or Catalog read
	}
	k.Server.AddStore(id, cfg)
	size, rate := cfg.BucketSize, cfg.RestoreRate
	if size <= 0 {
		size = k.Server.opts.BucketSize
	}
	if rate <= 0 {
		rate = k.Server.opts.RestoreRate
	}
	return platformsim.Store{
		Settings: map[string]string{
			"base_url": BaseURL(base, id), "location_id": Location,
			"cost_bucket_size": strconv.Itoa(int(size)), "cost_restore_rate": strconv.Itoa(int(rate)),
		},
		Secrets: map[string]string{"access_token": cfg.Token, "webhook_secret": webhookSecret(id)},
	}, nil
}

// NewProduct adds a product with one variant; stock lives on the variant.
func (k *Kit) NewProduct(store, sku string, stock int64, price decimal.Decimal) (platformsim.Product, error) {
	p, v, err := k.Server.AddProduct(store, sku, stock, price)
	if err != nil {
		return platformsim.Product{}, err
	}
	return platformsim.Product{ProductID: p, VariantID: v}, nil
}

// Stock is what the store holds now.
func (k *Kit) Stock(store string, p platformsim.Product) (int64, bool) {
	return k.Server.Stock(store, p.VariantID)
}

// Calls counts the store's requests.
func (k *Kit) Calls(store string) platformsim.Calls {
	s := k.Server.Calls(store)
	return platformsim.Calls{Writes: s.Writes, Total: s.Total, RateLimited: s.Throttled}
}

// webhookSecret is the secret a store's deliveries are signed with (NewStore hands it out).
func webhookSecret(shop string) string { return "whsec-" + shop }
