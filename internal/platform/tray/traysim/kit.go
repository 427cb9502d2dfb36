package traysim

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// Kit adapts the simulator to platformsim.Simulator for the demo and the bench.
type Kit struct {
	platformsim.KitBase
	Server *Server

	mu     sync.Mutex
	orders platformsim.OrderBook
	next   map[string]int
}

var _ platformsim.Simulator = (*Kit)(nil)

// NewKit builds a simulator with Tray's documented limits as defaults.
func NewKit() *Kit {
	k := &Kit{next: map[string]int{}}
	k.Server = New(Options{DailyLimit: 1 << 30, KeepPuts: 1, OnStockWrite: k.NotifyStock})
	return k
}

// Platform is "tray".
func (k *Kit) Platform() string { return "tray" }

// Start listens on addr.
func (k *Kit) Start(addr string) (string, error) {
	base, err := k.Server.Start(addr)
	k.SetBase(base)
	return base, err
}

// Close stops the listener.
func (k *Kit) Close() { k.Server.Close() }

// NewStore adds a store with generated credentials.
func (k *Kit) NewStore(id string, ratePerMin int) (platformsim.Store, error) {
	base, err := k.Base()
	if err != nil {
		return platformsim.Store{}, err
	}
	cfg := StoreConfig{ConsumerKey: "ck-" + id, ConsumerSecret: "cs-" + id, Code: "code-" + id, RateLimitPerMin: ratePerMin}
	k.Server.AddStore(id, cfg)
	limit := ratePerMin
	if limit <= 0 {
		limit = k.Server.opts.RateLimitPerMin
	}
	return platformsim.Store{
		Settings: map[string]string{"api_address": APIAddress(base, id), "store_id": strings.TrimPrefix(id, "store"),
			"rate_limit_per_min": strconv.Itoa(limit), "daily_limit": strconv.Itoa(k.Server.opts.DailyLimit)},
		Secrets: map[string]string{"consumer_key": cfg.ConsumerKey, "consumer_secret": cfg.ConsumerSecret, "code": cfg.Code},
	}, nil
}

// NewProduct adds a simple product (no variants) with the next id of the store.
func (k *Kit) NewProduct(store, _ string, stock int64, price decimal.Decimal) (platformsim.Product, error) {
	if k.Server.store(store) == nil {
		return platformsim.Product{}, fmt.Errorf("traysim: no store %q", store)
	}
	k.mu.Lock()
	k.next[store]++
	id := strconv.Itoa(100 + k.next[store])
	k.mu.Unlock()
	k.Server.AddProduct(store, id, stock, price)
	return platformsim.Product{ProductID: id}, nil
}

// Stock is what the store holds now.
func (k *Kit) Stock(store string, p platformsim.Product) (int64, bool) {
	if p.VariantID != "" {
		v, ok := k.Server.Variant(store, p.VariantID)
		return v.Stock, ok
	}
	pr, ok := k.Server.Product(store, p.ProductID)
	return pr.Stock, ok
}

// Calls counts the store's requests; writes are its PUTs.
func (k *Kit) Calls(store string) platformsim.Calls {
	s := k.Server.Calls(store)
	c := platformsim.Calls{Total: s.Total, RateLimited: s.RateLimited}
	for ep, n := range s.ByEndpoint {
		if strings.HasPrefix(ep, "PUT") {
			c.Writes += n
		}
	}
	return c
}
