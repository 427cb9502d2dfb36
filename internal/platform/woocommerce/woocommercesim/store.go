package woocommercesim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Item is a product or a variation (ParentID set), as the simulator holds it.
type Item struct {
	ID, ParentID  int64
	Type          string // simple, variable, variation
	Name, SKU     string
	Status        string
	Description   string
	GlobalID      string
	Weight        string
	ManageStock   bool
	Stock         int64
	Regular, Sale string // decimal strings, "" unset
	Meta          map[string]string
}

// Price is the active price: the sale price when set below the regular one.
func (it *Item) Price() decimal.Decimal {
	reg, _ := decimal.NewFromString(it.Regular)
	if sale, err := decimal.NewFromString(it.Sale); err == nil && it.Sale != "" && sale.LessThan(reg) {
		return sale
	}
	return reg
}

// Note is an order note.
type Note struct {
	ID       int64
	Note     string
	Customer bool
}

// CallStats are a store's request counters.
type CallStats struct {
	Total       int64
	Writes      int64 // batch and product/variation writes (a batch counts once)
	RateLimited int64 // 429s from the limit (injected 429s count under Faults)
	Faults      int64
	ByEndpoint  map[string]int64
}

type store struct {
	id  string
	cfg StoreConfig

	// mu guards per-request control state: counters, limit, faults, keys.
	mu        sync.Mutex
	ring      []time.Time // arrival times of the last RateLimitPerMin admitted requests
	pos       int
	faults    []Fault
	poison    map[int64]bool
	revoked   bool
	calls     map[string]int64
	total     int64
	writes    int64
	throttled int64
	faulted   int64

	// data guards the catalogue and orders.
	data   sync.Mutex
	items  map[int64]*Item
	orders map[int64]map[string]any
	// raw holds the bytes an order was added with (AddOrder), served verbatim until a
	// write changes the order, so connectors read exactly what a real store sent.
	raw     map[int64][]byte
	notes   map[int64][]Note
	nextID  int64
	batches []int // item counts of accepted batch requests, newest last (capped)
}

func newStore(id string, cfg StoreConfig) *store {
	return &store{id: id, cfg: cfg, ring: make([]time.Time, cfg.RateLimitPerMin), calls: map[string]int64{},
		poison: map[int64]bool{}, items: map[int64]*Item{}, orders: map[int64]map[string]any{},
		raw: map[int64][]byte{}, notes: map[int64][]Note{}, nextID: 1000}
}

type verdict struct {
	limited    bool
	retryAfter time.Duration
	fault      *Fault
}

// admit counts a request, applies the rolling-window limit and takes the next fault.
func (st *store) admit(endpoint string, now time.Time, window time.Duration) verdict {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.total++
	st.calls[endpoint]++
	if oldest := st.ring[st.pos]; !oldest.IsZero() && oldest.After(now.Add(-window)) {
		st.throttled++
		return verdict{limited: true, retryAfter: oldest.Add(window).Sub(now)}
	}
	st.ring[st.pos] = now
	st.pos = (st.pos + 1) % len(st.ring)
	if isWrite(endpoint) {
		st.writes++
	}
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

func isWrite(endpoint string) bool {
	switch endpoint {
	case EpProductsBatch, EpVariationsBatch, EpProductPut, EpVariationPut:
		return true
	}
	return false
}

// authenticate checks the consumer key and secret the way WooCommerce does over HTTPS:
// basic auth, or consumer_key/consumer_secret query parameters.
func (st *store) authenticate(r *http.Request) (code, msg string) {
	key, secret, ok := r.BasicAuth()
	if !ok {
		q := r.URL.Query()
		key, secret = q.Get("consumer_key"), q.Get("consumer_secret")
	}
	if key == "" {
		return "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
	}
	st.mu.Lock()
	revoked := st.revoked
	st.mu.Unlock()
	if revoked || subtle.ConstantTimeCompare([]byte(key), []byte(st.cfg.ConsumerKey)) != 1 {
		return "woocommerce_rest_authentication_error", "Consumer key is invalid."
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(st.cfg.ConsumerSecret)) != 1 {
		return "woocommerce_rest_authentication_error", "Consumer secret is invalid."
	}
	return "", ""
}

// RevokeKeys makes the store's key invalid (the merchant revoked it).
func (s *Server) RevokeKeys(storeID string) {
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		st.revoked = true
		st.mu.Unlock()
	}
}

// Poison makes every batch containing the item id fail as a whole with HTTP 400, as a
// validating plugin hook does.
func (s *Server) Poison(storeID string, id int64) {
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		st.poison[id] = true
		st.mu.Unlock()
	}
}

func (st *store) poisoned(ids []int64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range ids {
		if st.poison[id] {
			return true
		}
	}
	return false
}

// AddProduct adds a simple product managing its stock, with a fresh id, and returns it.
func (s *Server) AddProduct(storeID, sku string, stock int64, price decimal.Decimal) (int64, error) {
	st := s.store(storeID)
	if st == nil {
		return 0, fmt.Errorf("woocommercesim: no store %q", storeID)
	}
	st.data.Lock()
	defer st.data.Unlock()
	st.nextID++
	it := &Item{ID: st.nextID, Type: "simple", Name: "Product " + sku, SKU: sku, Status: "publish",
		ManageStock: true, Stock: stock, Regular: price.StringFixed(2)}
	st.items[it.ID] = it
	return it.ID, nil
}

// AddVariable adds a variable product with one variation per SKU and returns the
// parent id and the variation ids.
func (s *Server) AddVariable(storeID, name string, skus []string, stock int64, price decimal.Decimal) (int64, []int64, error) {
	st := s.store(storeID)
	if st == nil {
		return 0, nil, fmt.Errorf("woocommercesim: no store %q", storeID)
	}
	st.data.Lock()
	defer st.data.Unlock()
	st.nextID++
	parent := &Item{ID: st.nextID, Type: "variable", Name: name, Status: "publish"}
	st.items[parent.ID] = parent
	var ids []int64
	for _, sku := range skus {
		st.nextID++
		v := &Item{ID: st.nextID, ParentID: parent.ID, Type: "variation", SKU: sku, Status: "publish",
			ManageStock: true, Stock: stock, Regular: price.StringFixed(2)}
		st.items[v.ID] = v
		ids = append(ids, v.ID)
	}
	return parent.ID, ids, nil
}

// Item returns a copy of a product or variation.
func (s *Server) Item(storeID string, id int64) (Item, bool) {
	st := s.store(storeID)
	if st == nil {
		return Item{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	it, ok := st.items[id]
	if !ok {
		return Item{}, false
	}
	c := *it
	return c, true
}

// AddOrder stores an order given as its REST v3 JSON (it needs an "id"). GET orders/{id}
// and the order list serve the payload byte for byte until a write changes the order.
func (s *Server) AddOrder(storeID string, payload []byte) error {
	_, err := s.addOrder(storeID, payload)
	return err
}

func (s *Server) addOrder(storeID string, payload []byte) (int64, error) {
	st := s.store(storeID)
	if st == nil {
		return 0, fmt.Errorf("woocommercesim: no store %q", storeID)
	}
	var o map[string]any
	if err := json.Unmarshal(payload, &o); err != nil {
		return 0, err
	}
	id, ok := o["id"].(float64)
	if !ok || id <= 0 || id != math.Trunc(id) {
		return 0, fmt.Errorf("woocommercesim: order without an id")
	}
	st.data.Lock()
	st.orders[int64(id)] = o
	st.raw[int64(id)] = bytes.Clone(bytes.TrimSpace(payload))
	st.data.Unlock()
	return int64(id), nil
}

// Order returns an order's JSON object (a shallow copy).
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
	c := make(map[string]any, len(o))
	for k, v := range o {
		c[k] = v
	}
	return c, true
}

// Notes returns an order's notes.
func (s *Server) Notes(storeID string, id int64) []Note {
	st := s.store(storeID)
	if st == nil {
		return nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	return append([]Note(nil), st.notes[id]...)
}

// Batches returns the item counts of the batch requests the store accepted.
func (s *Server) Batches(storeID string) []int {
	st := s.store(storeID)
	if st == nil {
		return nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	return append([]int(nil), st.batches...)
}

// Calls returns a store's request counters.
func (s *Server) Calls(storeID string) CallStats {
	st := s.store(storeID)
	if st == nil {
		return CallStats{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := CallStats{Total: st.total, Writes: st.writes, RateLimited: st.throttled, Faults: st.faulted, ByEndpoint: map[string]int64{}}
	for k, v := range st.calls {
		out.ByEndpoint[k] = v
	}
	return out
}
