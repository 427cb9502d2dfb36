package platformsim

import (
	"fmt"
	"sync"
	"time"
)

// KitBase is what every simulator's Kit shares: the base URL once started and the stock
// observer. Kits embed it and hand NotifyStock to their simulator as its write hook.
type KitBase struct {
	mu       sync.Mutex
	base     string
	observer StockObserver
}

// SetBase records the base URL the simulator listens on.
func (k *KitBase) SetBase(base string) {
	k.mu.Lock()
	k.base = base
	k.mu.Unlock()
}

// Base is the simulator's base URL; an error until it was started.
func (k *KitBase) Base() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.base == "" {
		return "", fmt.Errorf("simulator not started: call Start before adding stores")
	}
	return k.base, nil
}

// ObserveStock registers the observer (one at a time).
func (k *KitBase) ObserveStock(o StockObserver) {
	k.mu.Lock()
	k.observer = o
	k.mu.Unlock()
}

// NotifyStock passes a stock write to the observer, if any.
func (k *KitBase) NotifyStock(store, productID, variantID string, stock int64, at time.Time) {
	k.mu.Lock()
	o := k.observer
	k.mu.Unlock()
	if o != nil {
		o(store, Product{ProductID: productID, VariantID: variantID}, stock, at)
	}
}
