package nuvemshopsim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
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

// NewKit builds a simulator with Nuvemshop's documented limits as defaults.
func NewKit() *Kit {
	k := &Kit{next: map[string]int{}}
	k.Server = New(Options{KeepWrites: 1, OnStockWrite: k.NotifyStock})
	return k
}

// Platform is "nuvemshop".
func (k *Kit) Platform() string { return "nuvemshop" }

// Start listens on addr.
func (k *Kit) Start(addr string) (string, error) {
	base, err := k.Server.Start(addr)
	k.SetBase(base)
	return base, err
}

// Close stops the listener.
func (k *Kit) Close() { k.Server.Close() }

// NewStore adds a store with generated credentials. Nuvemshop limits with a leaky
// bucket, not per minute: ratePerMin sets the drain rate (ratePerMin/60 a second) with
// the documented bucket of 40; 0 keeps the documented 2 a second. The settings carry
// the same numbers, so the connector's limiter matches the store's.
func (k *Kit) NewStore(id string, ratePerMin int) (platformsim.Store, error) {
	base, err := k.Base()
	if err != nil {
		return platformsim.Store{}, err
	}
	perSec := k.Server.opts.PerSec
	if ratePerMin > 0 {
		perSec = float64(ratePerMin) / 60
	}
	cfg := StoreConfig{AccessToken: randomToken(), AppSecret: "app-secret-" + id, Bucket: k.Server.opts.Bucket, PerSec: perSec}
	k.Server.AddStore(id, cfg)
	return platformsim.Store{
		Settings: map[string]string{
			"base_url": BaseURL(base), "store_id": id, "user_agent": "Ponte demo (ops@ponte.example)",
			"rate_limit_bucket": strconv.Itoa(cfg.Bucket), "rate_limit_per_sec": strconv.FormatFloat(perSec, 'f', -1, 64),
		},
		Secrets: map[string]string{"access_token": cfg.AccessToken, "app_secret": cfg.AppSecret},
	}, nil
}

// NewProduct adds a product with one variant (stock and price live on variants).
func (k *Kit) NewProduct(store, sku string, stock int64, price decimal.Decimal) (platformsim.Product, error) {
	if k.Server.store(store) == nil {
		return platformsim.Product{}, fmt.Errorf("nuvemshopsim: no store %q", store)
	}
	k.mu.Lock()
	k.next[store]++
	n := k.next[store]
	k.mu.Unlock()
	pid, vid := strconv.Itoa(1000+n), strconv.Itoa(500000+n)
	if err := k.Server.AddProduct(store, pid, vid, sku, stock, price); err != nil {
		return platformsim.Product{}, err
	}
	return platformsim.Product{ProductID: pid, VariantID: vid}, nil
}

// Stock is what the store holds now (false when unknown or unlimited).
func (k *Kit) Stock(store string, p platformsim.Product) (int64, bool) {
	v, ok := k.Server.Variant(store, p.VariantID)
	if !ok || v.Stock == nil {
		return 0, false
	}
	return *v.Stock, true
}

// Calls counts the store's requests.
func (k *Kit) Calls(store string) platformsim.Calls {
	s := k.Server.Calls(store)
	return platformsim.Calls{Writes: s.Writes, Total: s.Total, RateLimited: s.RateLimited}
}

func randomToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
