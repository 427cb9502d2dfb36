package merchantprosim

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Product is a simulated product. Type is "simple" (stock and prices on the product)
// or "multi_variant" (stock and prices on Variants only).
type Product struct {
	ID                         int64
	Type                       string
	SKU, Name, Description     string
	Category, EAN, Status      string
	Stock                      int64
	PriceGross, PriceNet       decimal.Decimal
	OldPriceGross, OldPriceNet decimal.Decimal
	CostGross, CostNet         decimal.Decimal
	Images                     []string
	Variants                   []*Variant
	Modified                   time.Time
}

// Variant is a variant nested in a multi_variant product.
type Variant struct {
	ID                         int64
	SKU, EAN                   string
	Stock                      int64
	PriceGross, PriceNet       decimal.Decimal
	OldPriceGross, OldPriceNet decimal.Decimal
	CostGross, CostNet         decimal.Decimal
	Options                    [][2]string // name, value
}

// Patch is one applied PATCH, as received.
type Patch struct {
	Endpoint string
	ID       string
	Body     []byte
	At       time.Time
}

// CallStats are a store's request counters.
type CallStats struct {
	Total int64
	// RateLimited counts 429s from the store's limit (injected 429s count under Faults).
	RateLimited int64
	Faults      int64
	// Writes counts PATCH /products/{id} requests that were admitted and authenticated.
	Writes     int64
	ByEndpoint map[string]int64
}

type store struct {
	id  string
	cfg StoreConfig

	// mu guards request control state: counters, limit ring, faults, auth.
	mu        sync.Mutex
	ring      []time.Time
	pos       int
	faults    []Fault
	calls     map[string]int64
	total     int64
	throttled int64
	faulted   int64
	writes    int64
	failed    int
	revoked   bool

	// data guards the catalogue and orders.
	data     sync.Mutex
	products map[int64]*Product
	orders   map[int64]map[string]any
	patches  []Patch
}

func newStore(id string, cfg StoreConfig) *store {
	return &store{id: id, cfg: cfg, ring: make([]time.Time, cfg.RateLimit), calls: map[string]int64{},
		products: map[int64]*Product{}, orders: map[int64]map[string]any{}}
}

type verdict struct {
	limited    bool
	retryAfter time.Duration
	fault      *Fault
}

// admit counts a request, applies the rolling-window limit, and takes the next fault.
func (st *store) admit(endpoint string, now time.Time) verdict {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.total++
	st.calls[endpoint]++
	// ring[pos] is the oldest of the last RateLimit admitted requests.
	if oldest := st.ring[st.pos]; !oldest.IsZero() && oldest.After(now.Add(-st.cfg.RateWindow)) {
		st.throttled++
		return verdict{limited: true, retryAfter: oldest.Add(st.cfg.RateWindow).Sub(now)}
	}
	st.ring[st.pos] = now
	st.pos = (st.pos + 1) % len(st.ring)
	if len(st.faults) > 0 {
		f := st.faults[0]
		if st.faults[0].Count--; st.faults[0].Count <= 0 {
			st.faults = st.faults[1:]
		}
		st.faulted++
		return verdict{fault: &f}
	}
	return verdict{}
}

// checkAuth answers 0, 401 or 403 (after maxFailed consecutive bad attempts).
func (st *store) checkAuth(key, secret string, maxFailed int) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	ok := !st.revoked && key != "" &&
		subtle.ConstantTimeCompare([]byte(key), []byte(st.cfg.APIKey)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(st.cfg.APISecret)) == 1
	if ok {
		st.failed = 0
		return 0
	}
	st.failed++
	if st.failed > maxFailed {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

func (st *store) countWrite() {
	st.mu.Lock()
	st.writes++
	st.mu.Unlock()
}

// RevokeCredentials makes every request of the store fail authentication (as when the
// merchant deletes the API user); RestoreCredentials undoes it.
func (s *Server) RevokeCredentials(storeID string) { s.setRevoked(storeID, true) }

// RestoreCredentials re-enables the store's API user and clears failed attempts.
func (s *Server) RestoreCredentials(storeID string) { s.setRevoked(storeID, false) }

func (s *Server) setRevoked(storeID string, v bool) {
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		st.revoked, st.failed = v, 0
		st.mu.Unlock()
	}
}

// Calls returns a store's counters.
func (s *Server) Calls(storeID string) CallStats {
	st := s.store(storeID)
	if st == nil {
		return CallStats{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := CallStats{Total: st.total, RateLimited: st.throttled, Faults: st.faulted, Writes: st.writes,
		ByEndpoint: make(map[string]int64, len(st.calls))}
	for k, v := range st.calls {
		out.ByEndpoint[k] = v
	}
	return out
}

// AddProduct adds (or replaces) a product. A product with Variants is multi_variant.
func (s *Server) AddProduct(storeID string, p Product) error {
	st := s.store(storeID)
	if st == nil {
		return fmt.Errorf("merchantprosim: no store %q", storeID)
	}
	cp := p
	cp.Variants = make([]*Variant, len(p.Variants))
	for i, v := range p.Variants {
		vv := *v
		cp.Variants[i] = &vv
	}
	if cp.Type == "" {
		cp.Type = "simple"
		if len(cp.Variants) > 0 {
			cp.Type = "multi_variant"
		}
	}
	if cp.Status == "" {
		cp.Status = "active"
	}
	cp.Modified = s.opts.Now().UTC()
	st.data.Lock()
	st.products[cp.ID] = &cp
	st.data.Unlock()
	return nil
}

// Product returns a copy of a product (variants included).
func (s *Server) Product(storeID string, id int64) (Product, bool) {
	st := s.store(storeID)
	if st == nil {
		return Product{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	p, ok := st.products[id]
	if !ok {
		return Product{}, false
	}
	cp := *p
	cp.Variants = make([]*Variant, len(p.Variants))
	for i, v := range p.Variants {
		vv := *v
		cp.Variants[i] = &vv
	}
	return cp, true
}

// Stock returns a product's (variantID 0) or a variant's stock.
func (s *Server) Stock(storeID string, productID, variantID int64) (int64, bool) {
	st := s.store(storeID)
	if st == nil {
		return 0, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	p, ok := st.products[productID]
	if !ok {
		return 0, false
	}
	if variantID == 0 {
		return p.Stock, true
	}
	for _, v := range p.Variants {
		if v.ID == variantID {
			return v.Stock, true
		}
	}
	return 0, false
}

// AddOrder stores an order as the API returns it; it must have a numeric "id".
func (s *Server) AddOrder(storeID string, payload []byte) error {
	st := s.store(storeID)
	if st == nil {
		return fmt.Errorf("merchantprosim: no store %q", storeID)
	}
	var o map[string]any
	dec := json.NewDecoder(bytesReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		return fmt.Errorf("merchantprosim: order is not a JSON object: %w", err)
	}
	id, err := jsonInt(o["id"])
	if err != nil {
		return fmt.Errorf("merchantprosim: order id: %w", err)
	}
	st.data.Lock()
	st.orders[id] = o
	st.data.Unlock()
	return nil
}

// Order returns an order's current fields.
func (s *Server) Order(storeID string, id int64) (map[string]any, bool) {
	st := s.store(storeID)
	if st == nil {
		return nil, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	o, ok := st.orders[id]
	if !ok {
		return nil, false
	}
	cp := make(map[string]any, len(o))
	for k, v := range o {
		cp[k] = v
	}
	return cp, true
}

// Patches returns the PATCH requests applied so far, oldest first.
func (s *Server) Patches(storeID string) []Patch {
	st := s.store(storeID)
	if st == nil {
		return nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	return slices.Clone(st.patches)
}

// productIDs returns the store's product ids in ascending order. Caller holds data.
func (st *store) productIDs() []int64 {
	ids := make([]int64, 0, len(st.products))
	for id := range st.products {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func jsonInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Int64()
	case string:
		return strconv.ParseInt(x, 10, 64)
	case float64:
		return int64(x), nil
	}
	return 0, fmt.Errorf("not an integer: %v", v)
}
